/** MatMul, Gelu and the reductions. */
import { attrBool, attrStr } from "../../graph/attrs";
import { ConstTensor } from "../../graph/graph";
import { numel } from "../../graph/ops/util";
import { WriteCtx, asI64, attr } from "./context";

/** The last two axes of a constant swapped (MatMul transpose of constant weights). */
export function transposedLast(t: ConstTensor): ConstTensor {
  const s = t.shape;
  const rows = s[s.length - 2];
  const cols = s[s.length - 1];
  const data = t.data instanceof Float32Array ? new Float32Array(t.data.length) : new Float64Array(t.data.length);
  const mat = rows * cols;
  for (let b = 0; b < t.data.length; b += mat)
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[b + j * rows + i] = t.data[b + i * cols + j];
  return { dtype: t.dtype, shape: [...s.slice(0, -2), cols, rows], data };
}

export function matmul(c: WriteCtx): void {
  const ra = c.shape(0).length;
  const rb = c.shape(1).length;
  const ta = ra > 1 && attrBool(c.n.attrs, "transpose_a", false);
  const tb = rb > 1 && attrBool(c.n.attrs, "transpose_b", false);
  if (ra === 2 && rb === 2) {
    c.emit("Gemm", [c.in(0), c.in(1)], [attr.int("transA", ta ? 1 : 0), attr.int("transB", tb ? 1 : 0)]);
    return;
  }
  const swap = (i: number, rank: number): string => {
    const v = c.c(i);
    if (v) return c.w.constant(`${c.n.name}/${i === 0 ? "a" : "b"}_t`, transposedLast(v));
    const perm = Array.from({ length: rank }, (_, k) => k);
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    return c.step("Transpose", [c.in(i)], i === 0 ? "a_t" : "b_t", [attr.ints("perm", perm)]);
  };
  c.emit("MatMul", [ta ? swap(0, ra) : c.in(0), tb ? swap(1, rb) : c.in(1)]);
}

/** x·0.5·(1 + erf(x/√2)), or the tanh approximation. */
export function gelu(c: WriteCtx): void {
  const x = c.in(0);
  let inner: string;
  if (attrStr(c.n.attrs, "approximation_mode", "erf").toLowerCase() === "tanh") {
    const x3 = c.step("Mul", [c.step("Mul", [x, x], "x2"), x], "x3");
    const poly = c.step("Add", [x, c.step("Mul", [x3, c.scalar("k", 0.044715)], "kx3")], "poly");
    inner = c.step("Tanh", [c.step("Mul", [poly, c.scalar("c", Math.sqrt(2 / Math.PI))], "scaled")], "tanh");
  } else {
    inner = c.step("Erf", [c.step("Div", [x, c.scalar("sqrt2", Math.SQRT2)], "scaled")], "erf");
  }
  const onePlus = c.step("Add", [inner, c.scalar("one", 1)], "one_plus");
  c.emit("Mul", [c.step("Mul", [x, onePlus], "x_times"), c.scalar("half", 0.5)]);
}

export function reduce(c: WriteCtx, type: string): void {
  const keep = attrBool(c.n.attrs, "keep_dims", false);
  const rank = c.shape(0).length;
  const axes = c.c(1);
  if (axes && keep && rank >= 3 && (type === "ReduceMean" || type === "ReduceMax")) {
    const sorted = Array.from(axes.data, (a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
    // Over every spatial axis this is global pooling, which ORT runs as one kernel.
    if (sorted.length === rank - 2 && sorted.every((a, i) => a === i + 2)) {
      c.emit(type === "ReduceMean" ? "GlobalAveragePool" : "GlobalMaxPool", [c.in(0)]);
      return;
    }
  }
  const axesName = axes ? c.i64("axes", Array.from(axes.data), [numel(axes.shape)]) : asI64(c, 1, "axes");
  c.emit(type, [c.in(0), axesName], [attr.int("keepdims", keep ? 1 : 0)]);
}
