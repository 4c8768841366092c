/** Ops that move data without arithmetic: Transpose, Concat, Split, Gather, slices and Pad. */
import { Node } from "../../graph/graph";
import { attrInts, attrNum, attrStr } from "../../graph/attrs";
import { UnsupportedError } from "../../errors";
import { Lowering, LowerFn, normAxis } from "./lowering";
import { stridedSlicePlan } from "../../graph/ops/slicing";

/** A slice's first index on an axis of `dim` elements, clamped the way a walk with `step` starts. */
function clampIndex(v: number, dim: number, step: number): number {
  const idx = v < 0 ? v + dim : v;
  return step > 0 ? Math.min(Math.max(idx, 0), dim) : Math.min(Math.max(idx, -1), dim - 1);
}

function transpose(L: Lowering, n: Node): void {
  const rank = L.inShape(n, 0).length;
  const perm = L.constInts(n, 1, "permutation");
  const resolved = perm.length ? perm : [...Array(rank).keys()].reverse();
  L.emit(n, "transpose", [L.tensor(n.inputs[0])], [L.out(n)], { perm: resolved });
}

function concat(L: Lowering, n: Node): void {
  L.emit(
    n,
    "concat",
    n.inputs.map((r) => L.tensor(r)),
    [L.out(n)],
    { axis: normAxis(attrNum(n.attrs, "axis"), L.inShape(n, 0).length) },
  );
}

function split(L: Lowering, n: Node): void {
  L.emit(
    n,
    "split",
    [L.tensor(n.inputs[0])],
    n.outputs.map((_, i) => L.out(n, i)),
    { axis: normAxis(L.constInts(n, 1, "axis")[0], L.inShape(n, 0).length) },
  );
}

function gather(L: Lowering, n: Node): void {
  const xs = L.inShape(n, 0);
  const idx = L.requireConst(n, 1, "indices");
  const axis = normAxis(L.constInts(n, 2, "axis")[0], xs.length);
  if (attrNum(n.attrs, "batch_dims", 0) !== 0)
    throw new UnsupportedError(L.file, "Gather with batch_dims is not implemented", n.name);
  const indices = Array.from(idx.data, (v) => (v < 0 ? v + xs[axis] : v));
  L.emit(n, "gather", [L.tensor(n.inputs[0])], [L.out(n)], {
    axis,
    indices,
    indicesShape: idx.shape,
  });
}

/**
 * With new-axis, shrink or ellipsis masks: the op's own shape rule gives begin, step and count over
 * every input axis; the slice keeps the input's rank and a copy gives it the output's shape, since
 * new and shrunk axes are size-1 axes of the same data.
 */
function maskedStridedSlice(L: Lowering, n: Node): void {
  const plan = stridedSlicePlan({
    node: n,
    shapes: n.inputs.map((r) => L.shapeOf(r)),
    dtypes: n.inputs.map(() => "i64"),
    consts: n.inputs.map((_, i) => (i === 0 ? undefined : L.requireConst(n, i, ["data", "begin", "end", "strides"][i]))),
    file: L.file,
  });
  const sliced = L.activation(plan.count, L.isBatched({ node: n.id, port: 0 }));
  L.emit(n, "slice", [L.tensor(n.inputs[0])], [sliced], { begin: plan.begin, step: plan.step });
  L.emit({ ...n, name: `${n.name}/reshape` }, "copy", [sliced], [L.out(n)], {});
}

function stridedSlice(L: Lowering, n: Node): void {
  const xs = L.inShape(n, 0);
  const masks = ["new_axis_mask", "shrink_axis_mask", "ellipsis_mask"].map((k) => attrInts(n.attrs, k, []));
  if (masks.some((m) => m.some((v) => v !== 0))) return maskedStridedSlice(L, n);
  // The element count per axis is already in the inferred output shape: only starts and steps matter.
  const b = L.constInts(n, 1, "begin");
  const s = n.inputs.length > 3 ? L.constInts(n, 3, "strides") : b.map(() => 1);
  const bm = attrInts(n.attrs, "begin_mask", []);
  const starts: number[] = [];
  const steps: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const step = i < s.length ? s[i] : 1;
    const dim = xs[i];
    let start: number;
    if (i >= b.length || bm[i] === 1) start = step > 0 ? 0 : dim - 1;
    else start = clampIndex(b[i], dim, step);
    starts.push(start);
    steps.push(step);
  }
  L.emit(n, "slice", [L.tensor(n.inputs[0])], [L.out(n)], { begin: starts, step: steps });
}

function slice(L: Lowering, n: Node): void {
  const xs = L.inShape(n, 0);
  const start = L.constInts(n, 1, "start");
  const step = L.constInts(n, 3, "step");
  const axes = n.inputs.length > 4 ? L.constInts(n, 4, "axes").map((a) => normAxis(a, xs.length)) : start.map((_, i) => i);
  const starts = xs.map(() => 0);
  const steps = xs.map(() => 1);
  axes.forEach((ax, i) => {
    steps[ax] = step[i];
    starts[ax] = clampIndex(start[i], xs[ax], step[i]);
  });
  L.emit(n, "slice", [L.tensor(n.inputs[0])], [L.out(n)], { begin: starts, step: steps });
}

function pad(L: Lowering, n: Node): void {
  const padsBegin = L.constInts(n, 1, "pads_begin");
  const padsEnd = L.constInts(n, 2, "pads_end");
  const value = n.inputs.length > 3 ? L.requireConst(n, 3, "pad value").data[0] : 0;
  L.emit(n, "pad", [L.tensor(n.inputs[0])], [L.out(n)], {
    padsBegin,
    padsEnd,
    mode: attrStr(n.attrs, "pad_mode", "constant").toLowerCase(),
    value,
  });
}

export const LAYOUT: Record<string, LowerFn> = {
  Transpose: transpose,
  Concat: concat,
  Split: split,
  VariadicSplit: split,
  Gather: gather,
  StridedSlice: stridedSlice,
  Slice: slice,
  Pad: pad,
};
