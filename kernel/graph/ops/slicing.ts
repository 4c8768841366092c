import { attrInts, attrNum } from "../attrs";
import { ConstTensor } from "../graph";
import type { InferCtx, OpDef } from "./types";
import { constInts, expectInputs, fail, makeTensor, normAxis, numel, stridedGather } from "./util";

/** A resolved slice: per input axis (begin, step, count), and the output shape after new/shrunk axes. */
interface SlicePlan {
  begin: number[];
  step: number[];
  count: number[];
  outShape: number[];
}

/** Clamps begin/end of one axis like numpy (negative values count from the end) and returns begin and count. */
function resolveAxis(
  d: number,
  b: number,
  e: number,
  s: number,
  ignoreBegin: boolean,
  ignoreEnd: boolean,
): { begin: number; count: number } {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  if (s > 0) {
    const begin = ignoreBegin ? 0 : clamp(b < 0 ? b + d : b, 0, d);
    const end = ignoreEnd ? d : clamp(e < 0 ? e + d : e, 0, d);
    return { begin, count: Math.max(0, Math.ceil((end - begin) / s)) };
  }
  const begin = ignoreBegin ? d - 1 : clamp(b < 0 ? b + d : b, -1, d - 1);
  const end = ignoreEnd ? -1 : clamp(e < 0 ? e + d : e, -1, d - 1);
  const count = Math.max(0, Math.ceil((begin - end) / -s));
  return { begin: count > 0 ? begin : 0, count };
}

function maskBits(ctx: InferCtx, key: string, n: number): boolean[] {
  const m = attrInts(ctx.node.attrs, key, []);
  return Array.from({ length: n }, (_, i) => (m[i] ?? 0) !== 0);
}

/** Begin, step and count over every input axis, and the output shape with new axes added and shrunk ones dropped. */
export function stridedSlicePlan(ctx: InferCtx): SlicePlan {
  const x = ctx.shapes[0];
  const begins = constInts(ctx, 1, "begin");
  const ends = constInts(ctx, 2, "end");
  const n = begins.length;
  if (ends.length !== n) fail(ctx, `begin [${begins}] and end [${ends}] differ in length`);
  const strides = ctx.node.inputs.length > 3 ? constInts(ctx, 3, "stride") : new Array<number>(n).fill(1);
  if (strides.length !== n) fail(ctx, `stride [${strides}] and begin [${begins}] differ in length`);
  if (strides.some((s) => s === 0)) fail(ctx, "stride must not be 0");
  const beginMask = maskBits(ctx, "begin_mask", n);
  const endMask = maskBits(ctx, "end_mask", n);
  const newAxis = maskBits(ctx, "new_axis_mask", n);
  const shrink = maskBits(ctx, "shrink_axis_mask", n);
  const ellipsis = maskBits(ctx, "ellipsis_mask", n);
  if (ellipsis.filter(Boolean).length > 1) fail(ctx, "more than one ellipsis in ellipsis_mask");

  const plan: SlicePlan = { begin: [], step: [], count: [], outShape: [] };
  const full = (ax: number) => {
    plan.begin.push(0);
    plan.step.push(1);
    plan.count.push(x[ax]);
    plan.outShape.push(x[ax]);
  };
  let ax = 0;
  for (let i = 0; i < n; i++) {
    if (ellipsis[i]) {
      // The ellipsis covers every input axis not consumed by the remaining (non-new-axis) entries.
      let after = 0;
      for (let j = i + 1; j < n; j++) if (!newAxis[j]) after++;
      const cover = x.length - ax - after;
      if (cover < 0) fail(ctx, `slice spec has more axes than input [${x}]`);
      for (let k = 0; k < cover; k++) full(ax++);
      continue;
    }
    if (newAxis[i]) {
      plan.outShape.push(1);
      continue;
    }
    if (ax >= x.length) fail(ctx, `slice spec has more axes than input [${x}]`);
    const d = x[ax];
    if (shrink[i]) {
      const idx = begins[i] < 0 ? begins[i] + d : begins[i];
      if (idx < 0 || idx >= d) fail(ctx, `shrink index ${begins[i]} is out of range for axis ${ax} of size ${d}`);
      plan.begin.push(idx);
      plan.step.push(1);
      plan.count.push(1);
    } else {
      const r = resolveAxis(d, begins[i], ends[i], strides[i], beginMask[i], endMask[i]);
      plan.begin.push(r.begin);
      plan.step.push(strides[i]);
      plan.count.push(r.count);
      plan.outShape.push(r.count);
    }
    ax++;
  }
  while (ax < x.length) full(ax++);
  return plan;
}

function sliceFold(ctx: InferCtx, plan: SlicePlan): ConstTensor[] {
  return [stridedGather(ctx.consts[0]!, plan.begin, plan.step, plan.count, plan.outShape)];
}

const stridedSlice: OpDef = {
  type: "StridedSlice",
  infer(ctx) {
    expectInputs(ctx, 3, 4);
    return [{ shape: stridedSlicePlan(ctx).outShape, dtype: ctx.dtypes[0] }];
  },
  fold: (ctx) => sliceFold(ctx, stridedSlicePlan(ctx)),
};

/** Slice-8: start/stop/step per listed axis (all axes in order when `axes` is absent). */
function slicePlan(ctx: InferCtx): SlicePlan {
  const x = ctx.shapes[0];
  const start = constInts(ctx, 1, "start");
  const stop = constInts(ctx, 2, "stop");
  const step = constInts(ctx, 3, "step");
  const axes =
    ctx.node.inputs.length > 4 ? constInts(ctx, 4, "axes").map((a) => normAxis(ctx, a, x.length)) : start.map((_, i) => i);
  if ([stop, step, axes].some((v) => v.length !== start.length)) {
    fail(ctx, `start [${start}], stop [${stop}], step [${step}] and axes [${axes}] differ in length`);
  }
  if (new Set(axes).size !== axes.length) fail(ctx, `repeated axes [${axes}]`);
  if (step.some((s) => s === 0)) fail(ctx, "step must not be 0");
  const plan: SlicePlan = { begin: x.map(() => 0), step: x.map(() => 1), count: [...x], outShape: [...x] };
  axes.forEach((ax, i) => {
    const r = resolveAxis(x[ax], start[i], stop[i], step[i], false, false);
    plan.begin[ax] = r.begin;
    plan.step[ax] = step[i];
    plan.count[ax] = r.count;
    plan.outShape[ax] = r.count;
  });
  return plan;
}

const slice: OpDef = {
  type: "Slice",
  infer(ctx) {
    expectInputs(ctx, 4, 5);
    return [{ shape: slicePlan(ctx).outShape, dtype: ctx.dtypes[0] }];
  },
  fold: (ctx) => sliceFold(ctx, slicePlan(ctx)),
};

/** Gather-1/7/8: out = data[:axis] + indices[batch_dims:] + data[axis+1:]. */
function gatherParams(ctx: InferCtx): { axis: number; batchDims: number } {
  const data = ctx.shapes[0];
  const idx = ctx.shapes[1];
  const a = constInts(ctx, 2, "axis");
  if (a.length !== 1) fail(ctx, "Gather axis must be a scalar");
  const axis = normAxis(ctx, a[0], data.length);
  let batchDims = attrNum(ctx.node.attrs, "batch_dims", 0);
  if (batchDims < 0) batchDims += idx.length;
  if (batchDims < 0 || batchDims > idx.length || batchDims > axis) {
    fail(ctx, `batch_dims ${attrNum(ctx.node.attrs, "batch_dims", 0)} is invalid for axis ${axis} and indices [${idx}]`);
  }
  for (let i = 0; i < batchDims; i++) {
    if (data[i] !== idx[i]) fail(ctx, `data [${data}] and indices [${idx}] differ in batch dimension ${i}`);
  }
  return { axis, batchDims };
}

const gather: OpDef = {
  type: "Gather",
  infer(ctx) {
    expectInputs(ctx, 3);
    const { axis, batchDims } = gatherParams(ctx);
    const data = ctx.shapes[0];
    const shape = [...data.slice(0, axis), ...ctx.shapes[1].slice(batchDims), ...data.slice(axis + 1)];
    return [{ shape, dtype: ctx.dtypes[0] }];
  },
  fold(ctx) {
    const { axis, batchDims } = gatherParams(ctx);
    const [o] = gather.infer(ctx);
    const data = ctx.consts[0]!;
    const indices = ctx.consts[1]!;
    const B = numel(data.shape.slice(0, batchDims));
    const O = numel(data.shape.slice(batchDims, axis));
    const I = numel(indices.shape.slice(batchDims));
    const R = numel(data.shape.slice(axis + 1));
    const dim = data.shape[axis];
    const out: number[] = [];
    for (let b = 0; b < B; b++)
      for (let oo = 0; oo < O; oo++)
        for (let i = 0; i < I; i++) {
          let k = indices.data[b * I + i];
          if (k < 0) k += dim;
          if (k < 0 || k >= dim) fail(ctx, `index ${indices.data[b * I + i]} is out of range for axis size ${dim}`);
          for (let r = 0; r < R; r++) out.push(data.data[((b * O + oo) * dim + k) * R + r]);
        }
    return [makeTensor(o.dtype, o.shape, out)];
  },
};

export const sliceOps: OpDef[] = [stridedSlice, slice, gather];
