import { attrBool, attrNum, attrStr } from "../attrs";
import { ConstTensor } from "../graph";
import { UnsupportedError } from "../../errors";
import type { InferCtx, OpDef, OutputInfo } from "./types";
import {
  broadcastIndex,
  broadcastShapes,
  constInput,
  constInts,
  expectInputs,
  fail,
  makeTensor,
  normAxis,
  numel,
  parseDType,
  rowMajorStrides,
  stridedGather,
} from "./util";

/** Fold for ops that only reinterpret the shape: the data is shared, not copied. */
function foldView(def: OpDef): (ctx: InferCtx) => ConstTensor[] {
  return (ctx) => {
    const [o] = def.infer(ctx);
    const t = ctx.consts[0]!;
    return [{ dtype: t.dtype, shape: o.shape, data: t.data }];
  };
}

function single(ctx: InferCtx, shape: number[], dataIndex = 0): OutputInfo[] {
  return [{ shape, dtype: ctx.dtypes[dataIndex] }];
}

const reshape: OpDef = {
  type: "Reshape",
  infer(ctx) {
    expectInputs(ctx, 2);
    const x = ctx.shapes[0];
    const target = constInts(ctx, 1, "target shape");
    const specialZero = attrBool(ctx.node.attrs, "special_zero", false);
    const out = target.map((d, i) => {
      if (d === 0 && specialZero) {
        if (i >= x.length) fail(ctx, `special_zero copies axis ${i}, but input [${x}] has rank ${x.length}`);
        return x[i];
      }
      return d;
    });
    const minus = out.filter((d) => d === -1).length;
    if (minus > 1) fail(ctx, `target shape [${target}] has more than one -1`);
    if (out.some((d) => d < -1)) fail(ctx, `target shape [${target}] has a negative dimension`);
    const total = numel(x);
    if (minus === 1) {
      const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
      if (known === 0 || total % known !== 0) {
        fail(ctx, `cannot reshape [${x}] (${total} elements) to [${target}]`);
      }
      out[out.indexOf(-1)] = total / known;
    }
    if (numel(out) !== total) fail(ctx, `cannot reshape [${x}] (${total} elements) to [${out}]`);
    return single(ctx, out);
  },
};
reshape.fold = foldView(reshape);

/** Flatten (dynbatch-internal, ONNX semantics): [prod(d[:axis]), prod(d[axis:])]. */
const flatten: OpDef = {
  type: "Flatten",
  infer(ctx) {
    expectInputs(ctx, 1);
    const x = ctx.shapes[0];
    let axis = attrNum(ctx.node.attrs, "axis", 1);
    if (axis < 0) axis += x.length;
    if (axis < 0 || axis > x.length) fail(ctx, `axis ${attrNum(ctx.node.attrs, "axis", 1)} is out of range for [${x}]`);
    return single(ctx, [numel(x.slice(0, axis)), numel(x.slice(axis))]);
  },
};
flatten.fold = foldView(flatten);

const squeeze: OpDef = {
  type: "Squeeze",
  infer(ctx) {
    expectInputs(ctx, 1, 2);
    const x = ctx.shapes[0];
    if (ctx.node.inputs.length === 1)
      return single(
        ctx,
        x.filter((d) => d !== 1),
      );
    const axes = new Set(constInts(ctx, 1, "axes").map((a) => normAxis(ctx, a, x.length)));
    for (const a of axes) if (x[a] !== 1) fail(ctx, `cannot squeeze axis ${a} of size ${x[a]} in [${x}]`);
    return single(
      ctx,
      x.filter((_, i) => !axes.has(i)),
    );
  },
};
squeeze.fold = foldView(squeeze);

const unsqueeze: OpDef = {
  type: "Unsqueeze",
  infer(ctx) {
    expectInputs(ctx, 2);
    const x = ctx.shapes[0];
    const raw = constInts(ctx, 1, "axes");
    const rank = x.length + raw.length;
    const axes = raw.map((a) => normAxis(ctx, a, rank));
    if (new Set(axes).size !== axes.length) fail(ctx, `repeated axes [${raw}]`);
    const out: number[] = [];
    let src = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x[src++]);
    return single(ctx, out);
  },
};
unsqueeze.fold = foldView(unsqueeze);

function transposePerm(ctx: InferCtx): number[] {
  const rank = ctx.shapes[0].length;
  const perm = constInts(ctx, 1, "permutation");
  if (perm.length === 0) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank) fail(ctx, `permutation [${perm}] does not match rank ${rank}`);
  const norm = perm.map((p) => normAxis(ctx, p, rank, "permutation axis"));
  if (new Set(norm).size !== rank) fail(ctx, `[${perm}] is not a permutation`);
  return norm;
}

const transpose: OpDef = {
  type: "Transpose",
  infer(ctx) {
    expectInputs(ctx, 2);
    const x = ctx.shapes[0];
    return single(
      ctx,
      transposePerm(ctx).map((p) => x[p]),
    );
  },
  fold(ctx) {
    const t = ctx.consts[0]!;
    const perm = transposePerm(ctx);
    const inStrides = rowMajorStrides(t.shape);
    const outShape = perm.map((p) => t.shape[p]);
    return [gatherPermuted(t, perm, outShape, inStrides)];
  },
};

/** Walks the output in order, reading the input through permuted strides. */
function gatherPermuted(t: ConstTensor, perm: number[], outShape: number[], inStrides: number[]): ConstTensor {
  const n = numel(outShape);
  const out = new Array<number>(n);
  const coord = new Array<number>(perm.length).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let ax = 0; ax < perm.length; ax++) off += coord[ax] * inStrides[perm[ax]];
    out[k] = t.data[off];
    for (let ax = perm.length - 1; ax >= 0; ax--) {
      if (++coord[ax] < outShape[ax]) break;
      coord[ax] = 0;
    }
  }
  return makeTensor(t.dtype, outShape, out);
}

function concatAxis(ctx: InferCtx): number {
  return normAxis(ctx, attrNum(ctx.node.attrs, "axis"), ctx.shapes[0].length);
}

const concat: OpDef = {
  type: "Concat",
  infer(ctx) {
    if (ctx.shapes.length === 0) fail(ctx, "Concat needs at least one input");
    const first = ctx.shapes[0];
    const axis = concatAxis(ctx);
    const out = [...first];
    out[axis] = 0;
    for (const s of ctx.shapes) {
      if (s.length !== first.length || s.some((d, i) => i !== axis && d !== first[i])) {
        fail(ctx, `inputs [${first}] and [${s}] differ outside concat axis ${axis}`);
      }
      out[axis] += s[axis];
    }
    return single(ctx, out);
  },
  fold(ctx) {
    const [o] = concat.infer(ctx);
    const axis = concatAxis(ctx);
    const outer = numel(o.shape.slice(0, axis));
    const vals: number[] = [];
    for (let b = 0; b < outer; b++) {
      for (const t of ctx.consts as ConstTensor[]) {
        const chunk = numel(t.shape.slice(axis));
        for (let i = 0; i < chunk; i++) vals.push(t.data[b * chunk + i]);
      }
    }
    return [makeTensor(o.dtype, o.shape, vals)];
  },
};

/** Splits `x` along `axis` into pieces of the given lengths. */
function splitOutputs(ctx: InferCtx, axis: number, lengths: number[]): OutputInfo[] {
  const x = ctx.shapes[0];
  return lengths.map((len) => {
    const s = [...x];
    s[axis] = len;
    return { shape: s, dtype: ctx.dtypes[0] };
  });
}

function foldSplit(ctx: InferCtx, axis: number, outs: OutputInfo[]): ConstTensor[] {
  const t = ctx.consts[0]!;
  let start = 0;
  return outs.map((o) => {
    const begin = t.shape.map((_, i) => (i === axis ? start : 0));
    start += o.shape[axis];
    return stridedGather(
      t,
      begin,
      t.shape.map(() => 1),
      o.shape,
      o.shape,
    );
  });
}

function splitAxis(ctx: InferCtx): number {
  const a = constInts(ctx, 1, "axis");
  if (a.length !== 1) fail(ctx, "split axis must be a scalar");
  return normAxis(ctx, a[0], ctx.shapes[0].length);
}

const split: OpDef = {
  type: "Split",
  infer(ctx) {
    expectInputs(ctx, 2);
    const axis = splitAxis(ctx);
    const n = attrNum(ctx.node.attrs, "num_splits");
    const d = ctx.shapes[0][axis];
    if (n <= 0 || d % n !== 0) fail(ctx, `axis ${axis} of size ${d} cannot be split into ${n} equal parts`);
    return splitOutputs(ctx, axis, new Array<number>(n).fill(d / n));
  },
  fold: (ctx) => foldSplit(ctx, splitAxis(ctx), split.infer(ctx)),
};

const variadicSplit: OpDef = {
  type: "VariadicSplit",
  infer(ctx) {
    expectInputs(ctx, 3);
    const axis = splitAxis(ctx);
    const d = ctx.shapes[0][axis];
    const lengths = constInts(ctx, 2, "split_lengths");
    const minus = lengths.filter((l) => l === -1).length;
    if (minus > 1) fail(ctx, `split_lengths [${lengths}] has more than one -1`);
    const known = lengths.reduce((s, l) => (l === -1 ? s : s + l), 0);
    const resolved = lengths.map((l) => (l === -1 ? d - known : l));
    if (resolved.some((l) => l < 0) || resolved.reduce((s, l) => s + l, 0) !== d) {
      fail(ctx, `split_lengths [${lengths}] do not sum to axis size ${d}`);
    }
    return splitOutputs(ctx, axis, resolved);
  },
  fold: (ctx) => foldSplit(ctx, splitAxis(ctx), variadicSplit.infer(ctx)),
};

/** ShapeOf folds from the input shape alone; its input need not be constant. */
const shapeOf: OpDef = {
  type: "ShapeOf",
  infer(ctx) {
    expectInputs(ctx, 1);
    return [{ shape: [ctx.shapes[0].length], dtype: parseDType(ctx, attrStr(ctx.node.attrs, "output_type", "i64")) }];
  },
  fold(ctx) {
    const [o] = shapeOf.infer(ctx);
    return [makeTensor(o.dtype, o.shape, ctx.shapes[0])];
  },
};

const pad: OpDef = {
  type: "Pad",
  infer(ctx) {
    expectInputs(ctx, 3, 4);
    const x = ctx.shapes[0];
    const pb = constInts(ctx, 1, "pads_begin");
    const pe = constInts(ctx, 2, "pads_end");
    if (pb.length !== x.length || pe.length !== x.length) {
      fail(ctx, `pads [${pb}] / [${pe}] must have one value per axis of [${x}]`);
    }
    const mode = attrStr(ctx.node.attrs, "pad_mode", "constant").toLowerCase();
    if (!["constant", "edge", "reflect", "symmetric"].includes(mode)) {
      throw new UnsupportedError(ctx.file, `pad_mode '${mode}' is not supported`, ctx.node.name);
    }
    const out = x.map((d, i) => d + pb[i] + pe[i]);
    if (out.some((d) => d < 0)) fail(ctx, `padded shape [${out}] is negative`);
    return single(ctx, out);
  },
};

/** Broadcast target shape plus, for "explicit" mode, the data shape re-laid onto the target rank. */
function broadcastPlan(ctx: InferCtx): { out: number[]; dataAs: number[] } {
  const x = ctx.shapes[0];
  const target = constInts(ctx, 1, "target_shape");
  const mode = attrStr(ctx.node.attrs, "mode", "numpy").toLowerCase();
  if (mode === "numpy" || mode === "pdpd") {
    const b = broadcastShapes(ctx, x, target);
    if (b.length !== target.length || b.some((d, i) => d !== target[i])) {
      fail(ctx, `data [${x}] cannot be broadcast to [${target}]`);
    }
    return { out: target, dataAs: x };
  }
  if (mode === "bidirectional") return { out: broadcastShapes(ctx, x, target), dataAs: x };
  if (mode === "explicit") {
    const mapping = constInts(ctx, 2, "axes_mapping");
    if (mapping.length !== x.length) fail(ctx, `axes_mapping [${mapping}] must have one axis per data axis [${x}]`);
    const dataAs = new Array<number>(target.length).fill(1);
    mapping.forEach((ax, i) => {
      if (ax < 0 || ax >= target.length || (x[i] !== 1 && x[i] !== target[ax])) {
        fail(ctx, `data axis ${i} (${x[i]}) does not map onto target axis ${ax} of [${target}]`);
      }
      dataAs[ax] = x[i];
    });
    return { out: target, dataAs };
  }
  throw new UnsupportedError(ctx.file, `Broadcast mode '${mode}' is not supported`, ctx.node.name);
}

const broadcast: OpDef = {
  type: "Broadcast",
  infer(ctx) {
    expectInputs(ctx, 2, 3);
    return single(ctx, broadcastPlan(ctx).out);
  },
  fold(ctx) {
    const { out, dataAs } = broadcastPlan(ctx);
    const t = ctx.consts[0]!;
    const idx = broadcastIndex(dataAs, out);
    return [
      makeTensor(
        t.dtype,
        out,
        Array.from(idx, (i) => t.data[i]),
      ),
    ];
  },
};

const tile: OpDef = {
  type: "Tile",
  infer(ctx) {
    expectInputs(ctx, 2);
    const x = ctx.shapes[0];
    const reps = constInts(ctx, 1, "repeats");
    const r = Math.max(x.length, reps.length);
    const xs = [...new Array<number>(r - x.length).fill(1), ...x];
    const rs = [...new Array<number>(r - reps.length).fill(1), ...reps];
    if (rs.some((v) => v < 0)) fail(ctx, `repeats [${reps}] must be non-negative`);
    return single(
      ctx,
      xs.map((d, i) => d * rs[i]),
    );
  },
};

function rangeParams(ctx: InferCtx): { start: number; step: number; len: number } {
  const [start, stop, step] = [0, 1, 2].map((i) => {
    const t = constInput(ctx, i, ["start", "stop", "step"][i]);
    if (t.data.length !== 1) fail(ctx, `Range ${["start", "stop", "step"][i]} must be a scalar`);
    return t.data[0];
  });
  if (step === 0) fail(ctx, "Range step is 0");
  return { start, step, len: Math.max(0, Math.ceil((stop - start) / step)) };
}

const range: OpDef = {
  type: "Range",
  infer(ctx) {
    expectInputs(ctx, 3);
    const dtype = ctx.node.attrs.output_type ? parseDType(ctx, ctx.node.attrs.output_type) : ctx.dtypes[0];
    return [{ shape: [rangeParams(ctx).len], dtype }];
  },
  fold(ctx) {
    const [o] = range.infer(ctx);
    const { start, step, len } = rangeParams(ctx);
    return [
      makeTensor(
        o.dtype,
        o.shape,
        Array.from({ length: len }, (_, i) => start + i * step),
      ),
    ];
  },
};

/** DepthToSpace/SpaceToDepth with block_size: pure shape arithmetic. */
const depthToSpace: OpDef = {
  type: "DepthToSpace",
  infer(ctx) {
    expectInputs(ctx, 1);
    const x = ctx.shapes[0];
    const b = attrNum(ctx.node.attrs, "block_size", 1);
    const ns = x.length - 2;
    const f = b ** ns;
    if (ns < 1 || x[1] % f !== 0) fail(ctx, `channels ${x[1]} not divisible by block_size^${ns} = ${f}`);
    return single(ctx, [x[0], x[1] / f, ...x.slice(2).map((d) => d * b)]);
  },
};

export const shapeOps: OpDef[] = [
  reshape,
  flatten,
  squeeze,
  unsqueeze,
  transpose,
  concat,
  split,
  variadicSplit,
  shapeOf,
  pad,
  broadcast,
  tile,
  range,
  depthToSpace,
  { type: "Identity", infer: (ctx) => single(ctx, [...ctx.shapes[0]]), fold: (ctx) => [ctx.consts[0]!] },
];
