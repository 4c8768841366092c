/**
 * Int8 execution on the CPU: after fusion, a `fake_quantize` (one set of limits, ≤ 256 levels,
 * zero on the output grid) feeding a 2-D `conv` whose every output channel's weights lie on a
 * symmetric int8 grid becomes one `qconv` (native/src/ops/dnnl_qconv.cc): u8 activations × s8
 * weights → s32, scaled to f32 with the conv's bias and post-ops. Likewise a `matmul` with
 * constant weights (a fully connected layer; the FakeQuantize may sit before a Reshape/Flatten)
 * becomes one `qmatmul` (native/src/ops/dnnl_qmatmul.cc). The FakeQuantize's levels are
 * computed by the same formula, so the result equals the FP32 FakeQuantize network up to the
 * summation order. What does not match stays FP32 after an exact FakeQuantize; the
 * performance counters say which (precision "U8" or "FP32").
 */
import { NativeOpSpec } from "../native";
import { FusedProgram, ProgramEdit } from "./program_edit";

/** How far (in grid steps) a value may sit from its grid point and still count as on it (float rounding of folded weights). */
const ON_GRID = 1e-3;

/** max |w| over the scale, per symmetric int8 grid: 8 bits (255 or 256 levels), 7 bits (129 or 128, the overflow fix for CPUs without VNNI); smallest integers first. */
const DIVISORS = [63, 64, 127, 128];

/** The activation grid of a FakeQuantize op as qconv's srcGrid [input_low, input_high, levels, step, zero], or undefined when u8 cannot hold it. */
export function activationGrid(limits: Float32Array, levels: number): number[] | undefined {
  if (limits.length !== 4 || levels < 2 || levels > 256) return undefined;
  const [il, ih, ol, oh] = limits;
  if (!(ih > il) || !(oh > ol)) return undefined;
  const step = (oh - ol) / (levels - 1);
  const zero = -ol / step;
  const z = Math.round(zero);
  if (Math.abs(zero - z) > ON_GRID || z < 0 || z > levels - 1) return undefined;
  return [il, ih, levels, step, z + 0]; // + 0: -0 → 0
}

/**
 * One scale per output channel (rows of `w`, `count` of them) under which every weight is an
 * integer in -128..127, or undefined. Tried: each channel's max |w| over DIVISORS (symmetric
 * per-channel quantizers), then one scale for all channels (per-tensor ones).
 */
export function weightScales(w: Float32Array, count: number): Float32Array | undefined {
  const per = w.length / count;
  const max = new Float64Array(count);
  for (let o = 0; o < count; o++) for (let k = o * per; k < (o + 1) * per; k++) max[o] = Math.max(max[o], Math.abs(w[k]));
  const fits = (o: number, s: number) => {
    for (let k = o * per; k < (o + 1) * per; k++) {
      const v = w[k] / s;
      const r = Math.round(v);
      if (Math.abs(v - r) > ON_GRID || r < -128 || r > 127) return false;
    }
    return true;
  };
  const perChannel = new Float32Array(count);
  let ok = true;
  for (let o = 0; o < count && ok; o++) {
    if (max[o] === 0) perChannel[o] = 1;
    else {
      const s = DIVISORS.map((d) => Math.fround(max[o] / d)).find((c) => fits(o, c));
      if (s === undefined) ok = false;
      else perChannel[o] = s;
    }
  }
  if (ok) return perChannel;
  const all = Math.max(...max);
  if (all === 0) return undefined;
  for (const d of DIVISORS) {
    const s = Math.fround(all / d);
    let each = true;
    for (let o = 0; o < count && each; o++) each = fits(o, s);
    if (each) return new Float32Array(count).fill(s);
  }
  return undefined;
}

/** The qconv attributes for conv `op` fed by FakeQuantize `fq`, or undefined when either grid does not fit int8. */
function qconvAttrs(p: FusedProgram, op: NativeOpSpec, fq: NativeOpSpec): NativeOpSpec["attrs"] | undefined {
  const t = p.spec.tensors;
  const x = t[op.inputs[0]].shape;
  const w = t[op.inputs[1]];
  if (x.length !== 4 || w.shape.length !== 4 || !w.data) return undefined;
  const lim = t[fq.inputs[1]].data;
  if (!lim || t[fq.inputs[1]].shape[1] !== 1) return undefined;
  const grid = activationGrid(lim, fq.attrs.levels as number);
  const scales = grid && weightScales(w.data, w.shape[0]);
  if (!grid || !scales) return undefined;
  return { ...op.attrs, srcGrid: grid, wScales: Array.from(scales) };
}

/** The FakeQuantize feeding tensor `t`, directly or through reshapes (`copy` ops, which move no data), and those copies. */
function quantizedSource(ops: readonly (NativeOpSpec | null)[], producer: Map<number, number>, t: number) {
  const copies: number[] = [];
  for (let j = producer.get(t); j !== undefined; j = producer.get(ops[j]!.inputs[0])) {
    if (ops[j]!.type === "fake_quantize") return { fq: j, copies };
    if (ops[j]!.type !== "copy") return undefined;
    copies.push(j);
  }
  return undefined;
}

/** The qmatmul attributes for a matmul with constant weights read after FakeQuantize `fq`, or undefined when it cannot run in int8. */
function qmatmulAttrs(p: FusedProgram, op: NativeOpSpec, fq: NativeOpSpec): NativeOpSpec["attrs"] | undefined {
  const t = p.spec.tensors;
  const w = t[op.inputs[1]];
  const lim = t[fq.inputs[1]].data;
  if (op.attrs.transposeA || !w.data || !lim || t[fq.inputs[1]].shape[1] !== 1) return undefined;
  const r = w.shape.length;
  if (r < 2 || w.shape.slice(0, r - 2).some((d) => d !== 1)) return undefined;
  const grid = activationGrid(lim, fq.attrs.levels as number);
  // weightScales takes channel-major rows: B [K, N] is transposed to [N, K] for it.
  const [K, N] = op.attrs.transposeB ? [w.shape[r - 1], w.shape[r - 2]] : [w.shape[r - 2], w.shape[r - 1]];
  const rows = op.attrs.transposeB
    ? w.data
    : Float32Array.from({ length: K * N }, (_, i) => w.data![(i % K) * N + Math.floor(i / K)]);
  const scales = grid && weightScales(rows, N);
  if (!grid || !scales) return undefined;
  return { ...op.attrs, srcGrid: grid, wScales: Array.from(scales) };
}

/**
 * Rewrites FakeQuantize → conv pairs of a fused program into qconv ops (see the file comment);
 * layers named in `exclude` stay FP32 (the native side refused their int8 form). A FakeQuantize
 * left with no reader is listed as fused into the first qconv that absorbed it.
 */
export function int8Program(p: FusedProgram, exclude: ReadonlySet<string> = new Set()): FusedProgram {
  const edit = new ProgramEdit({ ...p, spec: { ...p.spec, ops: p.spec.ops.map((o) => ({ ...o })) } });
  const ops = edit.ops;
  const producer = new Map<number, number>();
  ops.forEach((o, i) => o!.outputs.forEach((t) => producer.set(t, i)));
  const absorbedBy = new Map<number, number>();
  const absorb = (j: number, i: number) => absorbedBy.has(j) || absorbedBy.set(j, i);
  ops.forEach((op, i) => {
    if (op!.type !== "matmul" || exclude.has(op!.name)) return;
    const src = quantizedSource(ops, producer, op!.inputs[0]);
    const attrs = src && qmatmulAttrs(p, op!, ops[src.fq]!);
    if (!attrs) return;
    ops[i] = { ...op!, type: "qmatmul", inputs: [ops[src!.fq]!.inputs[0], ...op!.inputs.slice(1)], attrs };
    [src!.fq, ...src!.copies].forEach((j) => absorb(j, i));
  });
  ops.forEach((op, i) => {
    if (op!.type !== "conv" || exclude.has(op!.name)) return;
    const j = producer.get(op!.inputs[0]);
    const fq = j === undefined ? undefined : ops[j];
    if (!fq || fq.type !== "fake_quantize") return;
    const attrs = qconvAttrs(p, op!, fq);
    if (!attrs) return;
    ops[i] = { ...op!, type: "qconv", inputs: [fq.inputs[0], ...op!.inputs.slice(1)], attrs };
    absorb(j!, i);
  });
  // Latest first: a reshape between a FakeQuantize and a qmatmul goes before the FakeQuantize it reads.
  for (const [j, i] of [...absorbedBy].sort((a, b) => b[0] - a[0])) {
    const t = ops[j]!.outputs[0];
    if (!edit.outputs.has(t) && !edit.consumers(t).length) edit.moveLayers(i, j);
  }
  chain(ops, edit.outputs);
  return edit.result();
}

/**
 * A qconv whose output only qconvs read (their FakeQuantize absorbed, so all on one grid) writes
 * their u8 levels itself (`dstGrid`), and they read bytes (`srcU8`): no float tensor between
 * consecutive int8 layers. The same for qmatmuls read only by qmatmuls (row-major on both sides;
 * a qconv's u8 tensor is nhwc). A sum post-op (a float residual in the output) keeps floats.
 */
function chain(ops: (NativeOpSpec | null)[], outputs: ReadonlySet<number>): void {
  ops.forEach((op, i) => {
    if (
      !op ||
      (op.type !== "qconv" && op.type !== "qmatmul") ||
      (op.attrs.post as string | undefined)?.split(";").includes("sum")
    )
      return;
    const t = op.outputs[0];
    if (outputs.has(t)) return;
    const readers = ops.filter((o): o is NativeOpSpec => o !== null && o.inputs.includes(t));
    const grid = readers[0]?.attrs.srcGrid as number[] | undefined;
    const same = (g: unknown) => Array.isArray(g) && grid !== undefined && g.every((v, k) => v === grid[k]);
    if (!grid || !readers.every((r) => r.type === op.type && r.inputs.lastIndexOf(t) === 0 && same(r.attrs.srcGrid))) return;
    ops[i] = { ...op, attrs: { ...op.attrs, dstGrid: grid } };
    for (const r of readers) r.attrs = { ...r.attrs, srcU8: 1 };
  });
}

/** The layer a native "int8 convolution/matmul unavailable" error names, for int8Program's `exclude`. */
export function refusedInt8Layer(e: unknown): string | undefined {
  const m = /layer '(.*)': int8 (?:convolution|matmul) unavailable/.exec(e instanceof Error ? e.message : String(e));
  return m ? m[1] : undefined;
}
