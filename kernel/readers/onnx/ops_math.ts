/** Arithmetic, activations, reductions, constants and casts. */
import { ModelError } from "../../errors";
import { PortRef } from "../../graph/graph";
import { isFloat, numel } from "../../graph/ops/util";
import { makeConst } from "../tensor";
import { Converter, NUMPY, ReadCtx, axesOf } from "./context";
import { bool, fmt } from "./format";
import { DTYPE_OF_ONNX } from "./op_table";

/** The largest float32: the bound of a Clip that gives none (the ONNX default). */
const FLOAT_MAX = 3.4028234663852886e38;

/** Multiplies by a scalar, folding it into a constant operand when there is one. */
export function scaled(c: ReadCtx, i: number, k: number, role: string): PortRef {
  if (k === 1) return c.input(i, role);
  const v = c.peek(i);
  if (v && isFloat(v.dtype)) return c.b.constant(`${c.name}/${role}`, { ...v, data: v.data.map((x) => x * k) });
  return c.op("Multiply", [c.input(i, role), c.f32(`${role}_scale`, [k], [])], NUMPY, `${role}_scaled`);
}

export function gemm(c: ReadCtx): PortRef[] {
  const alpha = c.float("alpha", 1);
  const beta = c.float("beta", 1);
  const ta = c.int("transA", 0) !== 0;
  const tb = c.int("transB", 0) !== 0;
  const hasC = !!c.onnx.input[2];
  const b = scaled(c, 1, alpha, "B");
  const attrs = { transpose_a: bool(ta), transpose_b: bool(tb) };
  const mm = c.op("MatMul", [c.input(0, "A"), b], attrs, hasC ? "MatMul" : "");
  if (!hasC) return [mm];
  return [c.op("Add", [mm, scaled(c, 2, beta, "C")], NUMPY)];
}

export function clip(c: ReadCtx): PortRef[] {
  const x = c.input(0, "input");
  let lo = -FLOAT_MAX;
  let hi = FLOAT_MAX;
  if (c.opset < 11) {
    lo = c.float("min", lo);
    hi = c.float("max", hi);
    return [c.op("Clamp", [x], { min: fmt(lo), max: fmt(hi) })];
  }
  const hasMin = !!c.onnx.input[1];
  const hasMax = !!c.onnx.input[2];
  const minC = c.peek(1);
  const maxC = c.peek(2);
  if ((!hasMin || minC) && (!hasMax || maxC)) {
    if (minC) lo = minC.data[0];
    if (maxC) hi = maxC.data[0];
    return [c.op("Clamp", [x], { min: fmt(lo), max: fmt(hi) })];
  }
  // Runtime bounds: Clamp needs attribute values, so use Maximum/Minimum instead.
  let y = x;
  if (hasMin) y = c.op("Maximum", [y, c.input(1, "min")], NUMPY, hasMax ? "min" : "");
  if (hasMax) y = c.op("Minimum", [y, c.input(2, "max")], NUMPY);
  return [y];
}

export function softmax(c: ReadCtx, type: string): PortRef[] {
  const x = c.input(0, "input");
  const legacy = c.opset < 13;
  const axis = c.int("axis", legacy ? 1 : -1);
  const rank = c.rank(0);
  const last = axis === -1 || (rank !== undefined && (axis + rank) % rank === rank - 1);
  if (!legacy || last) return [c.op(type, [x], { axis: fmt(axis) })];
  // Opset < 13 normalizes over all axes from `axis` on: merge them into one, normalize, restore the shape.
  // The leading axes stay as they are (not coerced to 2-D), so the batch is never folded into axis 0.
  const a = axis < 0 ? axis + c.requireRank(0, "a negative softmax axis") : axis;
  const merge = c.i64("merged_shape", [...new Array<number>(a).fill(0), -1]);
  const merged = c.op("Reshape", [x, merge], { special_zero: "true" }, "merge");
  const sm = c.op(type, [merged], { axis: fmt(a) }, "softmax");
  const shape = c.op("ShapeOf", [x], { output_type: "i64" }, "shape", "i64");
  return [c.op("Reshape", [sm, shape], { special_zero: "false" })];
}

export function reduce(c: ReadCtx, type: string): PortRef[] {
  const x = c.input(0, "data");
  const keep = c.int("keepdims", 1) !== 0;
  let axes = axesOf(c, 1);
  const axesC = c.b.constOf(axes);
  if (!axes || (axesC && numel(axesC.shape) === 0)) {
    if (c.int("noop_with_empty_axes", 0) !== 0) return [x];
    const r = c.requireRank(0, "reducing over all axes");
    axes = c.i64(
      "axes",
      Array.from({ length: r }, (_, i) => i),
    );
  }
  return [c.op(type, [x, axes], { keep_dims: bool(keep) })];
}

export function constantNode(c: ReadCtx): PortRef[] {
  let v = c.tensor("value");
  if (!v) {
    if (c.has("value_float")) v = makeConst("f32", [], [c.float("value_float")]);
    else if (c.has("value_floats")) v = makeConst("f32", [c.floats("value_floats").length], c.floats("value_floats"));
    else if (c.has("value_int")) v = makeConst("i64", [], [c.int("value_int")]);
    else if (c.has("value_ints")) v = makeConst("i64", [c.ints("value_ints").length], c.ints("value_ints"));
    else throw c.unsupported("only value, value_float(s) and value_int(s) constants are supported");
  }
  return [c.b.constant(c.name, v)];
}

export function cast(c: ReadCtx): PortRef[] {
  const to = DTYPE_OF_ONNX[c.int("to")];
  if (!to) throw c.unsupported(`cast to ONNX data type ${c.int("to")} is not supported`);
  return [c.op("Convert", [c.input(0, "input")], { destination_type: to }, "", to)];
}

export function unary(type: string): Converter {
  return (c) => [c.op(type, [c.input(0, "X")])];
}

/** Variadic ONNX ops (Max, Min, Sum) become a chain of binary ops; only the last keeps the node name. */
export function binary(type: string): Converter {
  return (c) => {
    const xs = c.all();
    if (xs.length === 0) throw new ModelError(c.file, `${c.onnx.op_type} has no inputs`, c.name);
    let y = xs[0];
    for (let i = 1; i < xs.length; i++) y = c.op(type, [y, xs[i]], NUMPY, i === xs.length - 1 ? "" : `${i}`);
    return [y];
  };
}
