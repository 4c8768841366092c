// Every native op on the GPU backend against the same op on the CPU backend (the oracle, itself
// tested against references in test/native), on random inputs, at the maximum batch and at a
// smaller batch of the same compiled program.
import { GPU_SKIP } from "./env";
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../helpers/models";
import { loadAddon, loadGpuAddon, NativeAttr, NativeProgramSpec } from "../../kernel/plugins/native";
import { gpuDevices } from "../../kernel/plugins/gpu/plugin";
import { numel } from "../../kernel/graph/ops/util";

const MAX = 3;

interface In {
  /** Shape at the maximum batch. */
  shape: number[];
  batched?: boolean;
  constant?: boolean;
  /** Value range of the random data (default [-2, 2]), or fixed data. */
  range?: [number, number];
  data?: Float32Array;
}

interface Case {
  type: string;
  attrs: Record<string, NativeAttr>;
  inputs: In[];
  /** Output shapes at the maximum batch; batched like the first input unless `outBatched` says otherwise. */
  outputs: number[][];
  outBatched?: boolean;
}

function random(count: number, seed: number, [lo, hi]: [number, number]): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (s / 2 ** 32) * (hi - lo);
  }
  return out;
}

let seed = 1;

/**
 * Runs `c` on CPU and GPU at n = MAX and n = 2 and compares every output (≤ 1e-4 relative). Every run
 * gets fresh inputs and NaN-poisoned outputs, so a run that writes nothing cannot pass on the previous result.
 */
async function check(c: Case): Promise<void> {
  const outBatched = c.outBatched ?? !!c.inputs[0].batched;
  const fresh = () => c.inputs.map((t) => t.data ?? random(numel(t.shape), seed++, t.range ?? [-2, 2]));
  const constants = fresh();
  const spec: NativeProgramSpec = {
    maxBatch: MAX,
    threads: 2,
    tensors: [
      ...c.inputs.map((t, i) => ({ shape: t.shape, batched: !!t.batched, data: t.constant ? constants[i] : undefined })),
      ...c.outputs.map((s) => ({ shape: s, batched: outBatched })),
    ],
    ops: [
      {
        type: c.type,
        name: `${c.type}_layer`,
        inputs: c.inputs.map((_, i) => i),
        outputs: c.outputs.map((_, i) => c.inputs.length + i),
        attrs: c.attrs,
      },
    ],
    inputs: c.inputs.map((t, i) => (t.constant ? -1 : i)).filter((i) => i >= 0),
    outputs: c.outputs.map((_, i) => c.inputs.length + i),
  };
  const cpu = new (loadAddon().Program)(spec).createRequest();
  const gpu = new (loadGpuAddon().GpuProgram)(spec, gpuDevices()[0].index).createRequest();
  for (const n of [MAX, 2]) {
    const data = fresh();
    for (const req of [cpu, gpu]) {
      spec.inputs.forEach((id) => new Float32Array(req.buffer(id)).set(data[id]));
      spec.outputs.forEach((id) => new Float32Array(req.buffer(id)).fill(NaN));
    }
    await Promise.all([cpu.run(n), gpu.run(n)]);
    spec.outputs.forEach((id, k) => {
      const size = numel(outBatched ? [n, ...c.outputs[k].slice(1)] : c.outputs[k]);
      const want = new Float32Array(cpu.buffer(id)).subarray(0, size);
      const got = new Float32Array(gpu.buffer(id)).subarray(0, size);
      assert.ok(want.some(Number.isFinite), `${c.type} ${JSON.stringify(c.attrs)} n=${n} output ${k}: the CPU wrote nothing`);
      for (let i = 0; i < size; i++) {
        const ok =
          Math.abs(got[i] - want[i]) <= 1e-4 * Math.max(1, Math.abs(want[i])) || (Number.isNaN(want[i]) && Number.isNaN(got[i]));
        if (!ok) assert.fail(`${c.type} ${JSON.stringify(c.attrs)} n=${n} output ${k}[${i}]: GPU ${got[i]}, CPU ${want[i]}`);
      }
    });
  }
}

const opts = { skip: GPU_SKIP };
const x = (shape: number[], range?: [number, number]): In => ({ shape, batched: true, range });
const w = (shape: number[], range?: [number, number]): In => ({ shape, constant: true, range });

test("the GPU backend implements every op of native/OPS.md", opts, () => {
  const table = fs.readFileSync(path.join(ROOT, "native", "OPS.md"), "utf8");
  const documented = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  assert.ok(documented.length >= 20, `found ${documented.length} ops in OPS.md`);
  const gpuTypes = loadGpuAddon().gpuOpTypes();
  for (const t of documented) assert.ok(gpuTypes.includes(t), `GPU lacks '${t}'`);
});

test("an attribute the GPU op does not know (e.g. a fused post-op) fails the build, naming it", opts, () => {
  const spec: NativeProgramSpec = {
    maxBatch: 1,
    threads: 1,
    tensors: [
      { shape: [1, 2, 3, 3], batched: true },
      { shape: [2, 2, 1, 1], batched: false, data: new Float32Array(4) },
      { shape: [1, 2, 3, 3], batched: true },
    ],
    ops: [
      {
        type: "conv",
        name: "fused",
        inputs: [0, 1],
        outputs: [2],
        attrs: { strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], group: 1, postOps: "relu" },
      },
    ],
    inputs: [0],
    outputs: [2],
  };
  assert.throws(() => new (loadGpuAddon().GpuProgram)(spec, gpuDevices()[0].index), {
    code: "NATIVE",
    message: /layer 'fused': conv: attribute 'postOps' is not supported on GPU/,
  });
});

test("detection_output: the GPU refuses what the CPU refuses, with the same message", opts, () => {
  const spec = (attrs: Record<string, NativeAttr>, confWidth: number): NativeProgramSpec => ({
    maxBatch: 1,
    threads: 1,
    tensors: [
      { shape: [1, 8], batched: true },
      { shape: [1, confWidth], batched: true },
      { shape: [1, 2, 8], batched: false, data: new Float32Array(16) },
      { shape: [1, 1, 20, 7], batched: false },
    ],
    ops: [{ type: "detection_output", name: "det", inputs: [0, 1, 2], outputs: [3], attrs }],
    inputs: [0, 1],
    outputs: [3],
  });
  const good = { numClasses: 2, backgroundLabelId: 0, nmsThreshold: 0.45, keepTopK: [10], topK: 10 };
  const bad: [NativeProgramSpec, RegExp][] = [
    [spec({ ...good, codeType: "caffe.PriorBoxParameter.OTHER" }, 4), /unknown codeType 'caffe\.PriorBoxParameter\.OTHER'/],
    [spec({ ...good, topK: 0 }, 4), /topK must be positive or -1/],
    [spec(good, 6), /conf holds 6 scores per image, expected priors \(2\) × classes \(2\)/],
  ];
  for (const [s, reason] of bad) {
    const messages = [() => new (loadAddon().Program)(s), () => new (loadGpuAddon().GpuProgram)(s, gpuDevices()[0].index)].map(
      (make) => {
        try {
          make();
        } catch (e) {
          return (e as Error).message;
        }
        return "created";
      },
    );
    assert.match(messages[0], reason);
    assert.equal(messages[1], messages[0]);
  }
});

test("conv: im2col + GEMM, pointwise, strided/dilated/asymmetric, grouped and depthwise", opts, async () => {
  const conv = (strides: number[], dilations: number[], padsBegin: number[], padsEnd: number[], group: number) => ({
    strides,
    dilations,
    padsBegin,
    padsEnd,
    group,
  });
  await check({
    type: "conv",
    attrs: conv([1, 1], [1, 1], [1, 1], [1, 1], 1),
    inputs: [x([3, 4, 7, 6]), w([8, 4, 3, 3]), w([8])],
    outputs: [[3, 8, 7, 6]],
  });
  await check({
    type: "conv",
    attrs: conv([1, 1], [1, 1], [0, 0], [0, 0], 1),
    inputs: [x([3, 16, 5, 5]), w([12, 16, 1, 1]), w([12])],
    outputs: [[3, 12, 5, 5]],
  });
  await check({
    type: "conv",
    attrs: conv([2, 1], [2, 2], [1, 0], [2, 1], 1),
    inputs: [x([3, 3, 9, 8]), w([5, 3, 3, 2])],
    outputs: [[3, 5, 4, 7]],
  });
  await check({
    type: "conv",
    attrs: conv([1, 1], [1, 1], [1, 1], [1, 1], 6),
    inputs: [x([3, 6, 6, 6]), w([6, 1, 3, 3]), w([6])],
    outputs: [[3, 6, 6, 6]],
  });
  await check({
    type: "conv",
    attrs: conv([1, 1], [1, 1], [1, 1], [1, 1], 2),
    inputs: [x([3, 32, 4, 4]), w([32, 16, 3, 3]), w([32])],
    outputs: [[3, 32, 4, 4]],
  });
  await check({
    type: "conv",
    attrs: conv([2, 2], [1, 1], [0, 0], [1, 1], 2),
    inputs: [x([3, 8, 5, 5]), w([4, 4, 3, 3])],
    outputs: [[3, 4, 2, 2]],
  });
});

test("deconv: strided with pads and bias, grouped", opts, async () => {
  const attrs = (strides: number[], padsBegin: number[], padsEnd: number[], group: number) => ({
    strides,
    dilations: [1, 1],
    padsBegin,
    padsEnd,
    group,
  });
  await check({
    type: "deconv",
    attrs: attrs([2, 2], [1, 1], [1, 1], 1),
    inputs: [x([3, 4, 3, 4]), w([4, 3, 3, 3]), w([3])],
    outputs: [[3, 3, 5, 7]],
  });
  await check({
    type: "deconv",
    attrs: attrs([2, 2], [0, 0], [0, 0], 2),
    inputs: [x([3, 4, 3, 3]), w([4, 2, 2, 2])],
    outputs: [[3, 4, 6, 6]],
  });
});

test("matmul: FC, transposed constants and activations, stacked, batched and broadcast operands", opts, async () => {
  const mm = (transposeA: number, transposeB: number) => ({ transposeA, transposeB });
  await check({ type: "matmul", attrs: mm(0, 0), inputs: [x([3, 5]), w([5, 4])], outputs: [[3, 4]] });
  await check({ type: "matmul", attrs: mm(0, 1), inputs: [x([3, 5]), w([4, 5])], outputs: [[3, 4]] });
  await check({ type: "matmul", attrs: mm(0, 0), inputs: [x([3, 2, 3, 5]), w([5, 4])], outputs: [[3, 2, 3, 4]] });
  await check({ type: "matmul", attrs: mm(0, 0), inputs: [x([3, 3, 5]), x([3, 5, 2])], outputs: [[3, 3, 2]] });
  await check({ type: "matmul", attrs: mm(1, 1), inputs: [x([3, 5, 2]), x([3, 4, 5])], outputs: [[3, 2, 4]] });
  await check({ type: "matmul", attrs: mm(0, 0), inputs: [w([4, 6]), x([3, 6, 2])], outputs: [[3, 4, 2]], outBatched: true });
  await check({
    type: "matmul",
    attrs: mm(0, 0),
    inputs: [{ shape: [2, 1, 3, 4] }, { shape: [1, 3, 4, 2] }],
    outputs: [[2, 3, 3, 2]],
  });
});

test("pool: max with pads, average excluding and including pads, ceil extension, dilation", opts, async () => {
  const pool = (
    kind: string,
    kernel: number[],
    strides: number[],
    padsBegin: number[],
    padsEnd: number[],
    excludePad: number,
    dilations = [1, 1],
  ) => ({
    kind,
    kernel,
    strides,
    dilations,
    padsBegin,
    padsEnd,
    excludePad,
  });
  await check({
    type: "pool",
    attrs: pool("max", [3, 3], [2, 2], [1, 1], [1, 1], 0),
    inputs: [x([3, 4, 9, 9])],
    outputs: [[3, 4, 5, 5]],
  });
  await check({
    type: "pool",
    attrs: pool("avg", [2, 2], [2, 2], [0, 0], [1, 1], 1),
    inputs: [x([3, 2, 7, 7])],
    outputs: [[3, 2, 4, 4]],
  });
  await check({
    type: "pool",
    attrs: pool("avg", [3, 3], [1, 1], [1, 1], [1, 1], 0),
    inputs: [x([3, 2, 5, 5])],
    outputs: [[3, 2, 5, 5]],
  });
  await check({
    type: "pool",
    attrs: pool("max", [2, 2], [1, 1], [0, 0], [0, 0], 0, [2, 2]),
    inputs: [x([3, 2, 9, 9])],
    outputs: [[3, 2, 7, 7]],
  });
});

test("unary: every activation", opts, async () => {
  const ops: [string, Record<string, NativeAttr>, [number, number]?][] = [
    ["relu", {}],
    ["leakyrelu", { alpha: 0.1 }],
    ["sigmoid", {}],
    ["tanh", {}],
    ["exp", {}],
    ["log", {}, [0.05, 4]],
    ["abs", {}],
    ["sqrt", {}, [0, 4]],
    ["neg", {}],
    ["elu", { alpha: 0.7 }],
    ["clamp", { min: -0.5, max: 1.2 }],
    ["hswish", {}, [-5, 5]],
    ["hsigmoid", {}, [-5, 5]],
    ["hardsigmoid", { alpha: 0.2, beta: 0.5 }, [-5, 5]],
    ["swish", { beta: 1.3 }],
    ["gelu", { approximation: "erf" }],
    ["gelu", { approximation: "tanh" }],
    ["softplus", {}, [-30, 30]],
    ["mish", {}, [-6, 6]],
    ["floor", {}],
    ["ceil", {}],
    ["erf", {}, [-4, 4]],
  ];
  for (const [op, extra, range] of ops)
    await check({ type: "unary", attrs: { op, ...extra }, inputs: [x([3, 7, 9], range)], outputs: [[3, 7, 9]] });
});

test("binary: every op, numpy broadcasting of either operand; prelu slopes", opts, async () => {
  for (const op of ["add", "sub", "mul", "div", "max", "min", "pow", "sqdiff"]) {
    const base: [number, number] | undefined = op === "pow" ? [0.1, 3] : undefined;
    await check({
      type: "binary",
      attrs: { op },
      inputs: [x([3, 4, 5], base), x([3, 4, 5], op === "div" ? [0.5, 2] : undefined)],
      outputs: [[3, 4, 5]],
    });
  }
  await check({ type: "binary", attrs: { op: "sub" }, inputs: [x([3, 4, 5, 6]), w([4, 1, 1])], outputs: [[3, 4, 5, 6]] });
  await check({
    type: "binary",
    attrs: { op: "div" },
    inputs: [w([1, 5, 1]), x([3, 4, 5, 6], [0.5, 2])],
    outputs: [[3, 4, 5, 6]],
    outBatched: true,
  });
  await check({ type: "binary", attrs: { op: "mul" }, inputs: [x([3, 4, 1, 6]), w([1])], outputs: [[3, 4, 1, 6]] });
  await check({ type: "binary", attrs: { op: "add" }, inputs: [x([3, 4, 1]), w([1, 5])], outputs: [[3, 4, 5]] });
  await check({ type: "prelu", attrs: {}, inputs: [x([3, 4, 5, 5]), w([4])], outputs: [[3, 4, 5, 5]] });
  await check({ type: "prelu", attrs: {}, inputs: [x([3, 4, 5, 5]), w([1])], outputs: [[3, 4, 5, 5]] });
  await check({ type: "prelu", attrs: {}, inputs: [x([3, 4, 5, 3]), w([5, 3])], outputs: [[3, 4, 5, 3]] });
});

test("lrn, softmax, batchnorm", opts, async () => {
  for (const [region, size] of [
    ["across", 5],
    ["within", 3],
    ["across", 4],
  ] as const)
    await check({
      type: "lrn",
      attrs: { alpha: 1e-3, beta: 0.75, bias: 1, size, region },
      inputs: [x([3, 8, 4, 5])],
      outputs: [[3, 8, 4, 5]],
    });
  await check({ type: "softmax", attrs: { axis: 1, log: 0 }, inputs: [x([3, 5, 4])], outputs: [[3, 5, 4]] });
  await check({ type: "softmax", attrs: { axis: 2, log: 1 }, inputs: [x([3, 5, 4])], outputs: [[3, 5, 4]] });
  await check({ type: "softmax", attrs: { axis: 1, log: 0 }, inputs: [x([3, 10], [-20, 20])], outputs: [[3, 10]] });
  await check({
    type: "batchnorm",
    attrs: { epsilon: 1e-5 },
    inputs: [x([3, 4, 3, 3]), w([4]), w([4]), w([4]), w([4], [0.1, 2])],
    outputs: [[3, 4, 3, 3]],
  });
});

test("reduce: every op over inner, outer and several axes, with and without keepDims", opts, async () => {
  const cases: [string, number[], number, number[], [number, number]?][] = [
    ["sum", [1], 0, [3, 5, 6]],
    ["mean", [2, 3], 1, [3, 4, 1, 1]],
    ["max", [1, 3], 0, [3, 5]],
    ["min", [3], 1, [3, 4, 5, 1]],
    ["prod", [2], 0, [3, 4, 6], [0.8, 1.25]],
    ["l1", [1, 2, 3], 0, [3]],
    ["l2", [3], 0, [3, 4, 5]],
    ["sumsquare", [1], 1, [3, 1, 5, 6]],
    ["logsumexp", [2, 3], 0, [3, 4]],
  ];
  for (const [op, axes, keepDims, out, range] of cases)
    await check({ type: "reduce", attrs: { op, axes, keepDims }, inputs: [x([3, 4, 5, 6], range)], outputs: [out] });
});

test("copy, transpose, slice, concat, split, gather", opts, async () => {
  await check({ type: "copy", attrs: {}, inputs: [x([3, 4, 5])], outputs: [[3, 20]] });
  await check({ type: "transpose", attrs: { perm: [0, 2, 3, 1] }, inputs: [x([3, 4, 5, 6])], outputs: [[3, 5, 6, 4]] });
  await check({ type: "transpose", attrs: { perm: [2, 0, 1] }, inputs: [{ shape: [3, 4, 5] }], outputs: [[5, 3, 4]] });
  await check({ type: "slice", attrs: { begin: [0, 5, 1], step: [1, -2, 3] }, inputs: [x([3, 6, 7])], outputs: [[3, 3, 2]] });
  await check({ type: "concat", attrs: { axis: 1 }, inputs: [x([3, 2, 4]), x([3, 3, 4]), x([3, 1, 4])], outputs: [[3, 6, 4]] });
  await check({ type: "concat", attrs: { axis: 2 }, inputs: [x([3, 2, 4]), x([3, 2, 1])], outputs: [[3, 2, 5]] });
  await check({
    type: "split",
    attrs: { axis: 1 },
    inputs: [x([3, 6, 4])],
    outputs: [
      [3, 2, 4],
      [3, 4, 4],
    ],
  });
  await check({
    type: "gather",
    attrs: { axis: 1, indices: [4, 0, 2, 2], indicesShape: [2, 2] },
    inputs: [x([3, 5, 4])],
    outputs: [[3, 2, 2, 4]],
  });
});

test("fake_quantize: per-tensor limits, and limits per channel with an inner period", opts, async () => {
  const perTensor = new Float32Array([-1, 1, -1, 1]);
  await check({
    type: "fake_quantize",
    attrs: { levels: 256, inner: 1 },
    inputs: [x([3, 4, 5]), { shape: [4, 1], constant: true, data: perTensor }],
    outputs: [[3, 4, 5]],
  });
  // rows: input_low, input_high, output_low, output_high for 4 channels of 5 elements each.
  const perChannel = new Float32Array([-2, -1, -0.5, 0, 0.5, 1, 2, 1.5, -1, -2, 0, 0, 1, 2, 3, 4]);
  await check({
    type: "fake_quantize",
    attrs: { levels: 5, inner: 5 },
    inputs: [x([3, 4, 5]), { shape: [4, 4], constant: true, data: perChannel }],
    outputs: [[3, 4, 5]],
  });
});

test("pad: constant (with cropping), edge, reflect, symmetric", opts, async () => {
  const cases: [string, number[], number[], number[]][] = [
    ["constant", [0, 1, 2], [0, 2, -1], [3, 6, 5]],
    ["edge", [0, 2, 0], [0, 1, 3], [3, 6, 7]],
    ["reflect", [0, 2, 1], [0, 1, 3], [3, 6, 8]],
    ["symmetric", [0, 3, 4], [0, 1, 2], [3, 7, 10]],
  ];
  for (const [mode, padsBegin, padsEnd, out] of cases)
    await check({ type: "pad", attrs: { mode, padsBegin, padsEnd, value: 1.5 }, inputs: [x([3, 3, 4])], outputs: [out] });
});

test("interpolate: nearest and linear, every coordinate mode, up and down", opts, async () => {
  const cases: [string, string, string, number[], number[]][] = [
    ["nearest", "asymmetric", "floor", [1, 1, 2, 1.6], [3, 2, 8, 8]],
    ["nearest", "tf_half_pixel_for_nn", "round_prefer_ceil", [1, 1, 1.5, 0.6], [3, 2, 6, 3]],
    ["nearest", "half_pixel", "round_prefer_floor", [1, 1, 2, 2], [3, 2, 8, 10]],
    ["linear", "half_pixel", "round_prefer_floor", [1, 1, 1.75, 1.8], [3, 2, 7, 9]],
    ["linear", "align_corners", "round_prefer_floor", [1, 1, 2, 2], [3, 2, 8, 10]],
    ["linear", "pytorch_half_pixel", "round_prefer_floor", [1, 1, 0.75, 0.6], [3, 2, 3, 3]],
  ];
  for (const [mode, coord, nearest, scales, out] of cases)
    await check({ type: "interpolate", attrs: { mode, coord, nearest, scales }, inputs: [x([3, 2, 4, 5])], outputs: [out] });
});

/** Normalized prior boxes [1, 2, P·4]: boxes then variances. */
function priors(P: number): Float32Array {
  const boxes = random(P * 2, 99, [0.05, 0.7]);
  const out = new Float32Array(P * 8);
  for (let p = 0; p < P; p++) {
    const [x0, y0] = [boxes[2 * p], boxes[2 * p + 1]];
    out.set([x0, y0, x0 + 0.25, y0 + 0.3], p * 4);
    out.set([0.1, 0.1, 0.2, 0.2], P * 4 + p * 4);
  }
  return out;
}

test("detection_output: Caffe (per class) and MXNet (decreaseLabelId) styles, clipping, code types", opts, async () => {
  const P = 24;
  const C = 3;
  const common = { numClasses: C, backgroundLabelId: 0, nmsThreshold: 0.45, normalized: 1, varianceEncodedInTarget: 0 };
  await check({
    type: "detection_output",
    attrs: {
      ...common,
      topK: 10,
      keepTopK: [8],
      confidenceThreshold: 0.05,
      shareLocation: 1,
      codeType: "caffe.PriorBoxParameter.CENTER_SIZE",
    },
    inputs: [x([3, P * 4], [-0.5, 0.5]), x([3, P * C], [0, 1]), { shape: [1, 2, P * 4], constant: true, data: priors(P) }],
    outputs: [[1, 1, 3 * 8, 7]],
    outBatched: false,
  });
  await check({
    type: "detection_output",
    attrs: {
      ...common,
      topK: -1,
      keepTopK: [12],
      confidenceThreshold: 0.2,
      shareLocation: 0,
      decreaseLabelId: 1,
      clipAfterNms: 1,
      clipBeforeNms: 1,
      codeType: "caffe.PriorBoxParameter.CORNER",
    },
    inputs: [x([3, P * C * 4], [-0.3, 0.3]), x([3, P * C], [0, 1]), { shape: [1, 2, P * 4], constant: true, data: priors(P) }],
    outputs: [[1, 1, 3 * 12, 7]],
    outBatched: false,
  });
});
