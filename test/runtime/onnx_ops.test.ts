/**
 * ONNX path end to end, op by op: tiny models with a symbolic batch "N" and random weights, run by
 * onnxruntime-node (the oracle) and by dynbatch compiled for batch 4, at batch 4 and at setBatch(3).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { IECore } from "../../kernel";
import { maxRelDiff, numel, randomData } from "../helpers/models";
import { AttrValue, f, OnnxBuilder } from "../helpers/onnx_builder";

const TOLERANCE = 1e-4;
const MAX_BATCH = 4;
const ie = new IECore();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-onnx-ops-"));

interface Options {
  /** Value range of each input, by name; [-2, 2) when not given. */
  ranges?: Record<string, [number, number]>;
}

/** Runs the model on both engines at batch 4 and 3; asserts shapes and values; returns the worst error. */
async function check(b: OnnxBuilder, opts: Options = {}): Promise<number> {
  const file = b.save(dir);
  const session = await ort.InferenceSession.create(file);
  const net = await ie.readNetwork(file);
  net.batchSize = MAX_BATCH;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const req = exec.createInferRequest();
  let worst = 0;
  for (const n of [MAX_BATCH, 3]) {
    if (n !== MAX_BATCH) req.setBatch(n);
    const feeds: Record<string, ort.Tensor> = {};
    let seed = 17 + n;
    for (const [name, sample] of Object.entries(b.inputShapes)) {
      const [lo, hi] = opts.ranges?.[name] ?? [-2, 2];
      const data = randomData(n * numel(sample), seed++, lo, hi);
      req.setInput(name, data);
      feeds[name] = new ort.Tensor("float32", data, [n, ...sample]);
    }
    await req.infer();
    const ref = await session.run(feeds);
    for (const out of b.outputNames) {
      const ours = req.getBlob(out);
      assert.deepEqual(ours.shape, ref[out].dims.map(Number), `${out} shape at batch ${n}`);
      const err = maxRelDiff(ours.data, ref[out].data as Float32Array);
      assert.ok(err <= TOLERANCE, `${out} at batch ${n}: max error ${err} > ${TOLERANCE}`);
      worst = Math.max(worst, err);
    }
  }
  return worst;
}

/** One test per op family; the worst error is reported as a diagnostic. */
function opTest(name: string, build: () => OnnxBuilder, opts: Options = {}): void {
  test(name, async (t) => {
    t.diagnostic(`max error ${await check(build(), opts)}`);
  });
}

opTest("Conv: bias, stride 2, pads, dilation, group=2, depthwise, auto_pad", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [4, 9, 9]);
  const k = [3, 3];
  b.output(
    b.op1("Conv", [x, b.weight([6, 4, 3, 3]), b.weight([6])], { kernel_shape: k, strides: [2, 2], pads: [1, 1, 1, 1] }),
    b.op1("Conv", [x, b.weight([5, 4, 3, 3])], { kernel_shape: k, dilations: [2, 2], pads: [2, 1, 0, 2] }),
    b.op1("Conv", [x, b.weight([6, 2, 3, 3]), b.weight([6])], { kernel_shape: k, group: 2, pads: [1, 1, 1, 1] }),
    b.op1("Conv", [x, b.weight([4, 1, 3, 3]), b.weight([4])], { kernel_shape: k, group: 4, pads: [1, 1, 1, 1] }),
    b.op1("Conv", [x, b.weight([3, 4, 1, 1])], {}),
    b.op1("Conv", [x, b.weight([4, 4, 3, 1])], { kernel_shape: [3, 1], strides: [2, 1], auto_pad: "SAME_UPPER" }),
    b.op1("Conv", [x, b.weight([4, 4, 2, 2])], { kernel_shape: [2, 2], strides: [2, 2], auto_pad: "SAME_LOWER" }),
    b.op1("Conv", [x, b.weight([4, 4, 3, 3])], { kernel_shape: k, strides: [3, 2], auto_pad: "VALID" }),
  );
  return b;
});

opTest("ConvTranspose: stride 2, pads, output_padding, group, dilations, output_shape, auto_pad", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [4, 5, 5]);
  const k = [3, 3];
  b.output(
    b.op1("ConvTranspose", [x, b.weight([4, 3, 3, 3]), b.weight([3])], {
      kernel_shape: k,
      strides: [2, 2],
      pads: [1, 1, 1, 1],
      output_padding: [1, 1],
    }),
    b.op1("ConvTranspose", [x, b.weight([4, 2, 3, 3])], { kernel_shape: k, strides: [2, 2], group: 2 }),
    b.op1("ConvTranspose", [x, b.weight([4, 3, 2, 2])], { strides: [2, 2] }),
    b.op1("ConvTranspose", [x, b.weight([4, 2, 3, 3])], { kernel_shape: k, strides: [2, 2], dilations: [2, 1] }),
    b.op1("ConvTranspose", [x, b.weight([4, 2, 3, 3])], { kernel_shape: k, strides: [2, 2], output_shape: [12, 11] }),
    b.op1("ConvTranspose", [x, b.weight([4, 2, 3, 3])], { kernel_shape: k, strides: [2, 2], auto_pad: "SAME_UPPER" }),
  );
  return b;
});

opTest("Gemm (transB=1, alpha, beta) after Flatten; MatMul with constant weights", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [3, 4, 4]);
  const flat = b.op1("Flatten", [x], { axis: 1 });
  b.output(
    b.op1("Gemm", [flat, b.weight([10, 48]), b.weight([10])], { transB: 1, alpha: f(0.5), beta: f(2) }),
    b.op1("Gemm", [flat, b.weight([48, 7])], {}),
    b.op1("MatMul", [flat, b.weight([48, 6])]),
    b.op1("MatMul", [x, b.weight([4, 5])]),
  );
  return b;
});

opTest("Activations: Relu, LeakyRelu, PRelu, Sigmoid, Tanh, Elu, Clip, HardSwish, HardSigmoid, Exp, Swish", () => {
  const b = new OnnxBuilder(14);
  const x = b.input("x", [3, 5, 5]);
  b.output(
    b.op1("Relu", [x]),
    b.op1("LeakyRelu", [x], { alpha: f(0.2) }),
    b.op1("PRelu", [x, b.weight([3, 1, 1])]),
    b.op1("Sigmoid", [x]),
    b.op1("Tanh", [x]),
    b.op1("Elu", [x], { alpha: f(0.7) }),
    b.op1("Clip", [x, b.weight([], 0, 0, [-0.5]), b.weight([], 0, 0, [1.25])]),
    b.op1("Clip", [x, "", b.weight([], 0, 0, [0.3])]),
    b.op1("HardSwish", [x]),
    b.op1("HardSigmoid", [x], { alpha: f(0.3), beta: f(0.4) }),
    b.op1("HardSigmoid", [x]),
    b.op1("HardSigmoid", [x], { alpha: f(1 / 6) }),
    b.op1("Exp", [x]),
    b.op1("Mul", [x, b.op1("Sigmoid", [x])]),
  );
  return b;
});

opTest(
  "Add/Sub/Mul/Div/Sum/Max/Min with broadcast constants and between two tensors",
  () => {
    const b = new OnnxBuilder();
    const x = b.input("x", [3, 4, 5]);
    const y = b.input("y", [3, 4, 5]);
    const z = b.input("z", [1, 4, 1]);
    b.output(
      b.op1("Add", [x, b.weight([3, 1, 1])]),
      b.op1("Sub", [b.weight([5]), x]),
      b.op1("Mul", [x, b.weight([1, 4, 5])]),
      b.op1("Div", [x, b.weight([3, 1, 1], 0.5, 2)]),
      b.op1("Add", [x, b.weight([], 0, 0, [0.75])]),
      b.op1("Add", [x, y]),
      b.op1("Sub", [x, y]),
      b.op1("Mul", [x, y]),
      b.op1("Div", [x, y]),
      b.op1("Mul", [x, z]),
      b.op1("Sum", [x, y, z]),
      b.op1("Max", [x, b.weight([5])]),
      b.op1("Min", [x, b.weight([3, 1, 1])]),
    );
    return b;
  },
  { ranges: { y: [0.5, 2] } },
);

// 9 rows and 10 columns: ceil_mode differs from floor on one axis, and with pads 1 a last window
// would start in the end padding on the other (ONNX drops it, like PyTorch).
opTest("MaxPool: ceil_mode 0/1, pads, auto_pad SAME_UPPER/SAME_LOWER, dilations", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [3, 9, 10]);
  const k = [3, 3];
  const s = [2, 2];
  b.output(
    b.op1("MaxPool", [x], { kernel_shape: [2, 2], strides: s }),
    b.op1("MaxPool", [x], { kernel_shape: k, strides: s, ceil_mode: 0 }),
    b.op1("MaxPool", [x], { kernel_shape: k, strides: s, ceil_mode: 1 }),
    b.op1("MaxPool", [x], { kernel_shape: k, strides: s, pads: [1, 1, 1, 1], ceil_mode: 1 }),
    b.op1("MaxPool", [x], { kernel_shape: k, strides: s, pads: [1, 0, 0, 1] }),
    b.op1("MaxPool", [x], { kernel_shape: k, strides: s, auto_pad: "SAME_UPPER" }),
    b.op1("MaxPool", [x], { kernel_shape: k, strides: s, auto_pad: "SAME_LOWER" }),
    b.op1("MaxPool", [x], { kernel_shape: [2, 2], strides: s, pads: [1, 1, 1, 1], ceil_mode: 1 }),
    b.op1("MaxPool", [x], { kernel_shape: k, strides: [3, 3], pads: [1, 1, 1, 1], ceil_mode: 1 }),
    b.op1("MaxPool", [x], { kernel_shape: k, dilations: [2, 2] }),
  );
  return b;
});

// With ceil_mode the windows reaching past the model's pads average only the input and those pads.
opTest("AveragePool count_include_pad 0/1, ceil_mode 0/1; GlobalAveragePool; GlobalMaxPool", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [3, 9, 10]);
  const k = [3, 3];
  const s = [2, 2];
  for (const count_include_pad of [0, 1]) {
    b.output(
      b.op1("AveragePool", [x], { kernel_shape: k, strides: s, pads: [1, 1, 1, 1], count_include_pad }),
      b.op1("AveragePool", [x], { kernel_shape: k, strides: s, pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad }),
      b.op1("AveragePool", [x], { kernel_shape: k, strides: s, pads: [1, 0, 0, 1], ceil_mode: 1, count_include_pad }),
      b.op1("AveragePool", [x], { kernel_shape: [2, 2], strides: s, ceil_mode: 1, count_include_pad }),
      b.op1("AveragePool", [x], { kernel_shape: k, strides: s, auto_pad: "SAME_UPPER", count_include_pad }),
    );
  }
  b.output(
    b.op1("AveragePool", [x], { kernel_shape: [2, 2], strides: [2, 2] }),
    b.op1("GlobalAveragePool", [x]),
    b.op1("GlobalMaxPool", [x]),
  );
  return b;
});

opTest("BatchNormalization and LRN", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [5, 4, 4]);
  const c = [5];
  b.output(
    b.op1("BatchNormalization", [x, b.weight(c), b.weight(c), b.weight(c), b.weight(c, 0.5, 2)], { epsilon: f(1e-3) }),
    b.op1("LRN", [x], { size: 3, alpha: f(0.5), beta: f(0.75), bias: f(1.5) }),
    b.op1("LRN", [x], { size: 5 }),
  );
  return b;
});

opTest("Softmax opset 13 axis=1", () => {
  const b = new OnnxBuilder(13);
  const x = b.input("x", [5, 3, 3]);
  b.output(b.op1("Softmax", [x], { axis: 1 }), b.op1("Softmax", [x], { axis: -1 }));
  return b;
});

opTest("Softmax opset 11 on a 4-D input: axis=1 and 2 (normalize over all later axes), default, last", () => {
  const b = new OnnxBuilder(11);
  const x = b.input("x", [5, 3, 3]);
  b.output(
    b.op1("Softmax", [x], { axis: 1 }),
    b.op1("Softmax", [x], { axis: 2 }),
    b.op1("Softmax", [x], { axis: -2 }),
    b.op1("Softmax", [x]),
    b.op1("Softmax", [x], { axis: 3 }),
  );
  return b;
});

opTest("Concat axis 1; Split equal and uneven", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [6, 4, 4]);
  const y = b.input("y", [2, 4, 4]);
  b.output(b.op1("Concat", [x, b.op1("Relu", [y]), y], { axis: 1 }));
  b.output(...b.op("Split", [x], { axis: 1 }, 3));
  b.output(...b.op("Split", [x, b.int64([1, 2, 3])], { axis: 1 }, 3));
  b.output(...b.op("Split", [x, b.int64([1, 3])], { axis: -1 }, 2));
  return b;
});

opTest("Slice: steps, negative starts, axes 1-3", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [6, 8, 8]);
  const sl = (starts: number[], ends: number[], axes: number[], steps?: number[]) =>
    b.op1("Slice", [x, b.int64(starts), b.int64(ends), b.int64(axes), ...(steps ? [b.int64(steps)] : [])]);
  b.output(
    sl([1, -6, 0], [5, 8, 8], [1, 2, 3], [2, 1, 3]),
    sl([-3], [1000], [3]),
    sl([0, 2], [-1, -2], [-3, -1]),
    sl([-1, 6], [-100, 0], [2, 3], [-2, -3]),
  );
  return b;
});

opTest("Squeeze/Unsqueeze; Reshape [0,-1]; Transpose (0,2,3,1)", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [3, 1, 5]);
  const sq = b.op1("Squeeze", [x, b.int64([2])]);
  b.output(
    sq,
    b.op1("Unsqueeze", [sq, b.int64([1, 3])]),
    b.op1("Reshape", [x, b.int64([0, -1])]),
    b.op1("Reshape", [x, b.int64([0, 5, -1])]),
    b.op1("Transpose", [x], { perm: [0, 2, 3, 1] }),
    b.op1("Transpose", [x], { perm: [0, 3, 1, 2] }),
  );
  return b;
});

opTest("Pad: constant, edge, reflect", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [3, 5, 6]);
  const pads = [0, 0, 1, 2, 0, 1, 2, 1];
  b.output(
    b.op1("Pad", [x, b.int64(pads), b.weight([], 0, 0, [0.5])], { mode: "constant" }),
    b.op1("Pad", [x, b.int64(pads)]),
    b.op1("Pad", [x, b.int64(pads)], { mode: "edge" }),
    b.op1("Pad", [x, b.int64(pads)], { mode: "reflect" }),
    b.op1("Pad", [x, b.int64([0, 1, -1, 2, 0, 0, 1, -2])]),
  );
  return b;
});

opTest("ReduceMean/ReduceSum/ReduceMax over axes [2,3], keepdims 0/1", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [3, 4, 5]);
  for (const keepdims of [0, 1]) {
    b.output(
      b.op1("ReduceMean", [x], { axes: [2, 3], keepdims }),
      b.op1("ReduceSum", [x, b.int64([2, 3])], { keepdims }),
      b.op1("ReduceMax", [x], { axes: [-1, -2], keepdims }),
      b.op1("ReduceMean", [x], { axes: [1], keepdims }),
    );
  }
  return b;
});

function resizeAttrs(mode: string, coord: string, nearest: string): Record<string, string> {
  return { mode, coordinate_transformation_mode: coord, nearest_mode: nearest };
}

opTest("Resize nearest and linear with scales", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [3, 4, 5]);
  const resize = (scales: number[], mode: string, coord: string, nearest = "round_prefer_floor") =>
    b.op1("Resize", [x, "", b.weight([4], 0, 0, scales)], resizeAttrs(mode, coord, nearest));
  b.output(
    resize([1, 1, 2, 2], "nearest", "asymmetric", "floor"),
    resize([1, 1, 1.5, 2.5], "nearest", "half_pixel", "round_prefer_floor"),
    resize([1, 1, 2, 2], "linear", "half_pixel"),
    resize([1, 1, 0.5, 1.6], "linear", "half_pixel"),
    resize([1, 1, 2, 3], "linear", "align_corners"),
    resize([1, 1, 0.6, 0.5], "linear", "pytorch_half_pixel"),
    resize([1, 1, 1.5, 1.5], "linear", "asymmetric"),
    resize([1, 1, 1.7, 2], "nearest", "pytorch_half_pixel", "ceil"),
    resize([1, 1, 1.7, 2], "nearest", "tf_half_pixel_for_nn", "round_prefer_ceil"),
  );
  return b;
});

opTest("Resize nearest and linear with sizes from Shape (batch kept)", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [3, 4, 5]);
  const nc = b.op1("Slice", [b.op1("Shape", [x]), b.int64([0]), b.int64([2])]);
  const sizes = (hw: number[]) => b.op1("Concat", [nc, b.int64(hw)], { axis: 0 });
  const resize = (hw: number[], mode: string, coord: string, nearest = "round_prefer_floor") =>
    b.op1("Resize", [x, "", "", sizes(hw)], resizeAttrs(mode, coord, nearest));
  b.output(
    resize([8, 10], "nearest", "asymmetric", "floor"),
    resize([7, 9], "nearest", "half_pixel", "round_prefer_floor"),
    resize([6, 3], "linear", "half_pixel"),
    resize([7, 11], "linear", "align_corners"),
  );
  return b;
});

opTest("Gather on axis 1 with constant indices", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [5, 4, 3]);
  b.output(
    b.op1("Gather", [x, b.int64([2, 0, 4, 2])], { axis: 1 }),
    b.op1("Gather", [x, b.int64([3], [])], { axis: 1 }),
    b.op1("Gather", [x, b.int64([-1, 1])], { axis: 2 }),
    b.op1("Gather", [x, b.int64([0, 2, 1, 1], [2, 2])], { axis: 2 }),
  );
  return b;
});

opTest("Opset 9 forms: Upsample, Clip, Slice and Split with attributes", () => {
  const b = new OnnxBuilder(9);
  const x = b.input("x", [6, 5, 7]);
  b.output(
    b.op1("Upsample", [x, b.weight([4], 0, 0, [1, 1, 2, 3])], { mode: "nearest" }),
    b.op1("Upsample", [x, b.weight([4], 0, 0, [1, 1, 2, 2])], { mode: "linear" }),
    b.op1("Clip", [x], { min: f(-0.5), max: f(0.5) }),
    b.op1("Slice", [x], { starts: [1, -5], ends: [4, 100], axes: [1, 3] }),
    b.op1("Squeeze", [b.op1("ReduceMean", [x], { axes: [2] })], { axes: [2] }),
  );
  b.output(...b.op("Split", [x], { axis: 2, split: [2, 3] }, 2));
  return b;
});

/** Conv (no bias) + BatchNormalization with random statistics. */
function convBn(b: OnnxBuilder, x: string, cin: number, cout: number, k: number, group = 1): string {
  const y = b.op1("Conv", [x, b.weight([cout, cin / group, k, k], -0.5, 0.5)], {
    kernel_shape: [k, k],
    pads: Array(4).fill((k - 1) / 2),
    group,
  });
  const c = [cout];
  return b.op1("BatchNormalization", [y, b.weight(c, 0.5, 1.5), b.weight(c), b.weight(c), b.weight(c, 0.5, 2)]);
}

opTest("ResNet-like block: conv-bn-relu-conv-bn + skip add + relu", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [8, 8, 8]);
  const h = b.op1("Relu", [convBn(b, x, 8, 8, 3)]);
  b.output(b.op1("Relu", [b.op1("Add", [convBn(b, h, 8, 8, 3), x])]));
  return b;
});

opTest("MobileNetV2-like inverted residual: 1x1 expand, depthwise 3x3, 1x1 project, residual", () => {
  const b = new OnnxBuilder();
  const x = b.input("x", [8, 8, 8]);
  const relu6 = (t: string) => b.op1("Clip", [t, b.weight([], 0, 0, [0]), b.weight([], 0, 0, [6])]);
  const e = relu6(convBn(b, x, 8, 24, 1));
  const d = relu6(convBn(b, e, 24, 24, 3, 24));
  b.output(b.op1("Add", [x, convBn(b, d, 24, 8, 1)]));
  return b;
});

opTest("LayerNormalization (opset 17): axis -1 with bias, axis 1 over two axes without; InstanceNormalization", () => {
  const b = new OnnxBuilder(17);
  const x = b.input("x", [6, 8]);
  const img = b.input("img", [5, 4, 3]);
  b.output(
    b.op1("LayerNormalization", [x, b.weight([8], 0.5, 1.5), b.weight([8])]),
    b.op1("LayerNormalization", [x, b.weight([6, 8], 0.5, 1.5)], { axis: 1, epsilon: f(1e-3) }),
    b.op1("InstanceNormalization", [img, b.weight([5], 0.5, 1.5), b.weight([5])], { epsilon: f(1e-3) }),
  );
  return b;
});

opTest(
  "Erf, and GELU as PyTorch exports it: x * 0.5 * (1 + Erf(x / sqrt 2))",
  () => {
    const b = new OnnxBuilder(13);
    const x = b.input("x", [4, 6]);
    const erf = b.op1("Erf", [b.op1("Div", [x, b.weight([], 0, 0, [Math.SQRT2])])]);
    const gelu = b.op1("Mul", [b.op1("Mul", [x, b.op1("Add", [erf, b.weight([], 0, 0, [1])])]), b.weight([], 0, 0, [0.5])]);
    b.output(b.op1("Erf", [x]), gelu);
    return b;
  },
  { ranges: { x: [-4, 4] } },
);

opTest("Opset 18 axes: Resize of the last two axes only (sizes and scales), Pad of the last axis (opset 21 model)", () => {
  const b = new OnnxBuilder(21);
  const x = b.input("x", [3, 4, 5]);
  b.output(
    b.op1("Resize", [x, "", "", b.int64([8, 3])], { axes: [2, 3], mode: "linear" }),
    b.op1("Resize", [x, "", b.weight([2], 0, 0, [2, 1.5])], { axes: [-2, -1], mode: "nearest" }),
    b.op1("Pad", [x, b.int64([1, 2]), b.weight([], 0, 0, [0.5]), b.int64([-1])], { mode: "constant" }),
    b.op1("Pad", [x, b.int64([0, 1, 2, 0]), "", b.int64([1, 2])], { mode: "edge" }),
  );
  return b;
});

opTest("Einsum: batched matmul, attention, linear layers, outer product, transpose and sum, three operands", () => {
  const b = new OnnxBuilder(12);
  const q = b.input("q", [2, 3, 4]);
  const k = b.input("k", [2, 5, 4]);
  const v = b.input("v", [2, 5, 4]);
  const scores = b.op1("Einsum", [q, k], { equation: "bhid,bhjd->bhij" });
  b.output(
    scores,
    b.op1("Einsum", [scores, v], { equation: "bhij,bhjd->bhid" }),
    b.op1("Einsum", [q, b.weight([4, 6])], { equation: "bhid,de->bhie" }),
    b.op1("Einsum", [q, b.weight([4])], { equation: "bhid,d->bhi" }),
    b.op1("Einsum", [q, k], { equation: "bhid,bhjd->bij" }),
    b.op1("Einsum", [b.op1("ReduceSum", [q], { axes: [2, 3], keepdims: 0 }), b.weight([5])], { equation: "bh,j->bhj" }),
    b.op1("Einsum", [q], { equation: "bhid->bdhi" }),
    b.op1("Einsum", [q], { equation: "bhid->bd" }),
    b.op1("Einsum", [q, k, v], { equation: "bhid,bhjd,bhje->bhie" }),
    b.op1("Einsum", [q, b.weight([4, 6]), b.weight([6, 2])], { equation: "bhid,de,ef->bhif" }),
  );
  return b;
});

opTest("1-D windows: Conv (pads, stride, dilation, group, auto_pad), ConvTranspose, MaxPool and AveragePool (ceil, pads)", () => {
  const b = new OnnxBuilder(13);
  const x = b.input("x", [4, 11]);
  b.output(
    b.op1("Conv", [x, b.weight([6, 4, 3]), b.weight([6])], { kernel_shape: [3], pads: [1, 2], strides: [2] }),
    b.op1("Conv", [x, b.weight([4, 2, 3])], { kernel_shape: [3], dilations: [2], group: 2 }),
    b.op1("Conv", [x, b.weight([3, 4, 4])], { kernel_shape: [4], auto_pad: "SAME_UPPER" }),
    b.op1("ConvTranspose", [x, b.weight([4, 3, 3]), b.weight([3])], {
      kernel_shape: [3],
      strides: [2],
      pads: [1, 0],
      output_padding: [1],
    }),
    b.op1("MaxPool", [x], { kernel_shape: [3], strides: [2], pads: [1, 1], ceil_mode: 1 }),
    b.op1("AveragePool", [x], { kernel_shape: [3], strides: [2], pads: [1, 1], count_include_pad: 1, ceil_mode: 1 }),
    b.op1("AveragePool", [x], { kernel_shape: [2], strides: [3] }),
    b.op1("GlobalAveragePool", [x]),
  );
  return b;
});

opTest("Resize cubic (opset 18): sizes of the last two axes and scales, up and down, coordinate modes, cubic_coeff_a", () => {
  const b = new OnnxBuilder(18);
  const x = b.input("x", [3, 5, 6]);
  const sizes = (h: number, w: number) => b.int64([h, w]);
  const cubic = (extra: Record<string, AttrValue>, scalesOrSizes: [string, string]) =>
    b.op1("Resize", [x, "", ...scalesOrSizes], { mode: "cubic", ...(scalesOrSizes[1] ? { axes: [2, 3] } : {}), ...extra });
  b.output(
    cubic({}, ["", sizes(9, 11)]),
    cubic({ coordinate_transformation_mode: "align_corners" }, ["", sizes(3, 13)]),
    cubic({ coordinate_transformation_mode: "asymmetric", cubic_coeff_a: f(-0.5) }, [b.weight([4], 0, 0, [1, 1, 2, 1.5]), ""]),
    cubic({ coordinate_transformation_mode: "pytorch_half_pixel" }, ["", sizes(5, 4)]),
  );
  return b;
});

opTest("3-D windows (CPU): Conv with pads, stride and group, ConvTranspose, MaxPool (ceil), AveragePool", () => {
  const b = new OnnxBuilder(13);
  const x = b.input("x", [4, 5, 6, 7]);
  b.output(
    b.op1("Conv", [x, b.weight([6, 4, 3, 3, 3]), b.weight([6])], {
      kernel_shape: [3, 3, 3],
      pads: [1, 1, 0, 1, 1, 2],
      strides: [1, 2, 2],
    }),
    b.op1("Conv", [x, b.weight([4, 2, 2, 3, 1])], { kernel_shape: [2, 3, 1], group: 2, dilations: [2, 1, 1] }),
    b.op1("ConvTranspose", [x, b.weight([4, 3, 2, 2, 2])], { kernel_shape: [2, 2, 2], strides: [2, 2, 2] }),
    b.op1("MaxPool", [x], { kernel_shape: [2, 2, 2], strides: [2, 2, 2], ceil_mode: 1 }),
    b.op1("AveragePool", [x], { kernel_shape: [3, 3, 3], strides: [1, 2, 2], pads: [1, 1, 1, 1, 1, 1] }),
  );
  return b;
});
