/**
 * CNNNetwork.serialize(".onnx"): onnxruntime on the exported model equals dynbatch on the
 * original (bundled IR models, hand-built opset graphs) and onnxruntime on the original (ONNX
 * models through dynbatch's reader and writer), at two batches of one export (batch axis "N").
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { CNNNetwork, IECore, UnsupportedError } from "../../kernel";
import { ModelProtoType, OnnxModel, toNum } from "../../kernel/readers/onnx/proto";
import { Graph } from "../../kernel/graph/graph";
import { irPath, maxRelDiff, numel, OPEN_CLOSED_EYE_ONNX, randomData } from "../helpers/models";
import { f, OnnxBuilder } from "../helpers/onnx_builder";
import { GraphBuilder } from "../helpers/graph_builder";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-serialize-"));
const ie = new IECore();
let files = 0;

function decode(file: string): OnnxModel {
  return ModelProtoType.decode(fs.readFileSync(file)) as unknown as OnnxModel;
}

/** dynbatch's outputs for `net` compiled statically at batch n, by output name. */
async function runOurs(net: CNNNetwork, n: number, feeds: Record<string, Float32Array>): Promise<Record<string, Float32Array>> {
  net.batchSize = n;
  const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  for (const [name, data] of Object.entries(feeds)) req.setInput(name, data);
  await req.infer();
  return Object.fromEntries(Object.keys(net.outputs).map((o) => [o, Float32Array.from(req.getBlob(o).data)]));
}

async function runOrt(
  session: ort.InferenceSession,
  n: number,
  feeds: Record<string, Float32Array>,
  samples: Record<string, number[]>,
) {
  const inputs = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor("float32", v, [n, ...samples[k]])]));
  const out = await session.run(inputs);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

/** Exports `net`, then compares ORT on the export with `reference` at batches 1 and 3; returns the worst error. */
async function checkExport(
  net: CNNNetwork,
  reference: (n: number, feeds: Record<string, Float32Array>) => Promise<Record<string, ArrayLike<number>>>,
  range: [number, number] = [0, 255],
  tolerance = 1e-4,
): Promise<number> {
  const file = path.join(dir, `export${files++}.onnx`);
  net.serialize(file);
  const session = await ort.InferenceSession.create(file);
  const samples = Object.fromEntries(Object.entries(net.inputs).map(([k, p]) => [k, p.shape.slice(1)]));
  let worst = 0;
  for (const n of [1, 3]) {
    let seed = 11 + n;
    const feeds = Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, randomData(n * numel(s), seed++, ...range)]));
    const ref = await reference(n, feeds);
    const got = await runOrt(session, n, feeds, samples);
    for (const [name, expected] of Object.entries(ref)) {
      assert.ok(got[name], `ORT output '${name}' missing; has ${Object.keys(got).join(", ")}`);
      const err = maxRelDiff(got[name], expected);
      assert.ok(err <= tolerance, `${name} at batch ${n}: max error ${err} > ${tolerance}`);
      worst = Math.max(worst, err);
    }
  }
  return worst;
}

for (const model of ["landmarks-regression-retail-0009", "head-pose-estimation-adas-0001", "open-closed-eye-0001"]) {
  test(`${model}: ORT on the exported ONNX equals dynbatch on the IR, batch 1 and 3 of one export`, async (t) => {
    const net = await ie.readNetwork(irPath(model));
    const ours = await ie.readNetwork(irPath(model));
    const err = await checkExport(net, (n, feeds) => runOurs(ours, n, feeds));
    t.diagnostic(`max error ${err}`);
  });
}

test("the exported ONNX has a symbolic batch, FP32 initializers for FP16 weights and opset 18", async () => {
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  const file = path.join(dir, "landmarks.onnx");
  net.serialize(file);
  const m = decode(file);
  assert.deepEqual(
    m.opset_import.map((o) => [o.domain, toNum(o.version)]),
    [["", 18]],
  );
  const input = m.graph!.input[0];
  assert.equal(input.name, "0");
  const dims = input.type!.tensor_type!.shape!.dim;
  assert.equal(dims[0].dim_param, "N");
  assert.deepEqual(
    dims.slice(1).map((d) => toNum(d.dim_value)),
    [3, 48, 48],
  );
  assert.equal(m.graph!.output[0].name, "95");
  // Every FP16 weight of the IR is a FLOAT initializer with 4 bytes per value; Convert nodes are gone.
  assert.ok(m.graph!.initializer.length > 0);
  for (const t of m.graph!.initializer.filter((x) => x.data_type !== 7)) {
    assert.equal(t.data_type, 1, t.name);
    assert.equal(t.raw_data.length, 4 * numel(t.dims.map(toNum)), t.name);
  }
  assert.ok(m.graph!.node.every((n) => n.op_type !== "Cast"));
  // Conv + per-channel Add is written as one Conv with a bias, as exporters do.
  const convs = m.graph!.node.filter((n) => n.op_type === "Conv");
  assert.equal(convs.length, 9);
  assert.ok(convs.every((n) => n.input.length === 3));
});

test("face-detection: DetectionOutput has no ONNX equivalent — UnsupportedError, no file written", async () => {
  const net = await ie.readNetwork(irPath("face-detection-adas-0001"));
  const file = path.join(dir, "face.onnx");
  assert.throws(
    () => net.serialize(file),
    (e: unknown) =>
      e instanceof UnsupportedError &&
      e.code === "UNSUPPORTED_OP" &&
      /DetectionOutput/.test(e.message) &&
      e.layer === "detection_out",
  );
  assert.equal(fs.existsSync(file), false);
});

test("serialize rejects an unknown extension with UnsupportedError", async () => {
  const net = await ie.readNetwork(irPath("open-closed-eye-0001"));
  assert.throws(() => net.serialize(path.join(dir, "x.pb")), UnsupportedError);
});

test("open-closed-eye ONNX original → dynbatch → ONNX: ORT on the export equals ORT on the original", async (t) => {
  // The original has a fixed batch of 1: run it sample by sample.
  const original = await ort.InferenceSession.create(OPEN_CLOSED_EYE_ONNX);
  const net = await ie.readNetwork(OPEN_CLOSED_EYE_ONNX);
  const err = await checkExport(
    net,
    async (n, feeds) => {
      const x = feeds["input.1"];
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await original.run({ "input.1": new ort.Tensor("float32", x.slice(i * 3072, (i + 1) * 3072), [1, 3, 32, 32]) });
        out.push(...(r["19"].data as Float32Array));
      }
      return { "19": out };
    },
    [0, 1],
    1e-5,
  );
  t.diagnostic(`max error ${err}`);
});

/** Builds an ONNX model, reads it with dynbatch, exports it, and compares ORT on both files. */
async function roundTrip(b: OnnxBuilder): Promise<number> {
  const file = b.save(dir);
  // ORT warns about its own shape inference of the original (ceil-mode pools); the values are checked.
  const original = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  const net = await ie.readNetwork(file);
  return checkExport(net, (n, feeds) => runOrt(original, n, feeds, b.inputShapes), [-2, 2], 1e-5);
}

test("ONNX conv family through reader and writer: Conv (bias, groups, depthwise, SAME), ConvTranspose, pooling, Gemm, Softmax", async (t) => {
  const b = new OnnxBuilder(13);
  const x = b.input("x", [4, 9, 9]);
  const k = [3, 3];
  const c1 = b.op1("Conv", [x, b.weight([6, 4, 3, 3]), b.weight([6])], { kernel_shape: k, strides: [2, 2], pads: [1, 1, 1, 1] });
  b.output(
    c1,
    b.op1("Conv", [x, b.weight([6, 2, 3, 3]), b.weight([6])], { kernel_shape: k, group: 2, pads: [1, 0, 1, 2] }),
    b.op1("Conv", [x, b.weight([4, 1, 3, 3]), b.weight([4])], {
      kernel_shape: k,
      group: 4,
      dilations: [2, 2],
      pads: [2, 2, 2, 2],
    }),
    b.op1("Conv", [x, b.weight([4, 4, 2, 2])], { kernel_shape: [2, 2], strides: [2, 2], auto_pad: "SAME_LOWER" }),
    b.op1("ConvTranspose", [x, b.weight([4, 3, 3, 3]), b.weight([3])], {
      kernel_shape: k,
      strides: [2, 2],
      pads: [1, 1, 1, 1],
      output_padding: [1, 1],
    }),
    b.op1("ConvTranspose", [x, b.weight([4, 2, 3, 3])], { kernel_shape: k, strides: [2, 2], group: 2, output_shape: [18, 17] }),
    b.op1("MaxPool", [x], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
    b.op1("MaxPool", [x], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0] }),
    b.op1("AveragePool", [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1, ceil_mode: 1 }),
    b.op1("AveragePool", [x], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }),
    b.op1("GlobalMaxPool", [x]),
  );
  const flat = b.op1("Flatten", [b.op1("GlobalAveragePool", [c1])], { axis: 1 });
  b.output(
    b.op1("Softmax", [b.op1("Gemm", [flat, b.weight([10, 6]), b.weight([10])], { transB: 1, alpha: f(0.5), beta: f(2) })], {
      axis: 1,
    }),
  );
  b.output(b.op1("MatMul", [x, b.weight([9, 5])]));
  t.diagnostic(`max error ${await roundTrip(b)}`);
});

test("ONNX activations and arithmetic through reader and writer", async (t) => {
  const b = new OnnxBuilder(14);
  const x = b.input("x", [3, 5, 5]);
  const y = b.input("y", [3, 5, 5]);
  b.output(
    b.op1("LeakyRelu", [x], { alpha: f(0.2) }),
    b.op1("PRelu", [x, b.weight([3, 1, 1])]),
    b.op1("Sigmoid", [x]),
    b.op1("Tanh", [x]),
    b.op1("Elu", [x], { alpha: f(0.7) }),
    b.op1("Clip", [x, b.weight([], 0, 0, [-0.5]), b.weight([], 0, 0, [1.25])]),
    b.op1("HardSwish", [x]),
    b.op1("HardSigmoid", [x], { alpha: f(0.3), beta: f(0.4) }),
    b.op1("HardSigmoid", [x]),
    b.op1("Exp", [x]),
    b.op1("Softplus", [x]),
    b.op1("Sqrt", [b.op1("Abs", [x])]),
    b.op1("Neg", [b.op1("Erf", [x])]),
    b.op1("Sub", [b.weight([5]), x]),
    b.op1("Div", [x, b.op1("Add", [b.op1("Abs", [y]), b.weight([], 0, 0, [0.5])])]),
    b.op1("Max", [x, y]),
    b.op1("Min", [x, b.weight([3, 1, 1])]),
    b.op1("Mul", [x, y]),
    b.op1("Pow", [b.op1("Abs", [x]), b.weight([], 0, 0, [1.5])]),
  );
  t.diagnostic(`max error ${await roundTrip(b)}`);
});

test("ONNX shape ops through reader and writer: batch-dependent Reshape from Shape, Slice, Split, Pad, Resize, Reduce, BN, LRN", async (t) => {
  const b = new OnnxBuilder(13);
  const x = b.input("x", [4, 6, 8]);
  // Shape → Gather(0) → Unsqueeze → Concat(-1) → Reshape: the target depends on the batch.
  const n = b.op1("Unsqueeze", [b.op1("Gather", [b.op1("Shape", [x]), b.int64([0], [])], { axis: 0 }), b.int64([0])]);
  const target = b.op1("Concat", [n, b.int64([-1])], { axis: 0 });
  const nc = b.op1("Slice", [b.op1("Shape", [x]), b.int64([0]), b.int64([2])]);
  const [s1, s2] = b.op("Split", [x, b.int64([1, 3])], { axis: 1 }, 2);
  b.output(
    b.op1("Reshape", [x, target]),
    b.op1("Transpose", [x], { perm: [0, 2, 3, 1] }),
    b.op1("Slice", [x, b.int64([1, -6, 7]), b.int64([4, 8, 0]), b.int64([1, 2, 3]), b.int64([2, 1, -3])]),
    s1,
    b.op1("Concat", [s2, x], { axis: 1 }),
    b.op1("Squeeze", [b.op1("Unsqueeze", [x, b.int64([2])]), b.int64([2])]),
    b.op1("Pad", [x, b.int64([0, 0, 1, 2, 0, 1, 2, 1]), b.weight([], 0, 0, [0.5])], { mode: "constant" }),
    b.op1("Pad", [x, b.int64([0, 0, 1, 2, 0, 0, 1, 1])], { mode: "edge" }),
    b.op1("Pad", [x, b.int64([0, 0, 2, 1, 0, 0, 1, 2])], { mode: "reflect" }),
    b.op1("Resize", [x, "", b.weight([4], 0, 0, [1, 1, 2, 1.5])], {
      mode: "nearest",
      coordinate_transformation_mode: "asymmetric",
      nearest_mode: "floor",
    }),
    b.op1("Resize", [x, "", "", b.op1("Concat", [nc, b.int64([9, 5])], { axis: 0 })], {
      mode: "linear",
      coordinate_transformation_mode: "half_pixel",
    }),
    b.op1("ReduceMean", [x], { axes: [1], keepdims: 0 }),
    b.op1("ReduceSum", [x, b.int64([2, 3])], { keepdims: 1 }),
    b.op1("ReduceMax", [x], { axes: [-1, -2], keepdims: 1 }),
    b.op1("BatchNormalization", [x, b.weight([4], 0.5, 1.5), b.weight([4]), b.weight([4]), b.weight([4], 0.5, 2)], {
      epsilon: f(1e-3),
    }),
    b.op1("LRN", [x], { size: 3, alpha: f(1e-2), beta: f(0.75), bias: f(1) }),
    b.op1("Gather", [x, b.int64([3, 0, 1])], { axis: 1 }),
    b.op1("MatMul", [x, b.weight([4, 8, 3])]),
  );
  t.diagnostic(`max error ${await roundTrip(b)}`);
});

/**
 * Hand-built opset graphs: dynbatch on `reference` (the same graph, or one equivalent to it in
 * ops dynbatch runs) is the reference for ORT on the export of `g`.
 */
async function checkGraph(g: Graph, reference: Graph = g, tolerance = 1e-4): Promise<number> {
  const ref = new CNNNetwork(reference);
  const net = new CNNNetwork(g);
  // Outputs pair up by position: the graphs name their layers differently.
  const names = Object.keys(net.outputs);
  return checkExport(
    net,
    async (n, feeds) => Object.fromEntries(Object.values(await runOurs(ref, n, feeds)).map((v, i) => [names[i], v])),
    [-2, 2],
    tolerance,
  );
}

/** IR-only ops; with `squeezed` the shrinking StridedSlice is spelled as a slice and a Squeeze (what dynbatch runs). */
function irOps(squeezed: boolean): Graph {
  const b = new GraphBuilder();
  const x = b.param("x", [1, 4, 6, 6]);
  const ss = (begin: number[], end: number[], stride: number[], masks: Record<string, number[]>) =>
    b.op("StridedSlice", [x, b.ints(begin), b.ints(end), b.ints(stride)], masks);
  const scale = b.constant(randomData(4, 5, 0.5, 1.5), [1, 4, 1, 1], "f32");
  const shrunk = squeezed
    ? b.op("Squeeze", [ss([0, 2, 1], [0, 3, 5], [1, 1, 1], { begin_mask: [1, 0, 0], end_mask: [1, 0, 0] }), b.ints([1])])
    : ss([0, 2, 1], [0, 0, 5], [1, 1, 1], { begin_mask: [1, 0, 0], end_mask: [1, 0, 0], shrink_axis_mask: [0, 1, 0] });
  for (const out of [
    shrunk,
    ss([0, 1, 0, 5], [0, 3, -1, 0], [1, 1, 2, -2], { begin_mask: [1, 0, 1, 0], end_mask: [1, 0, 0, 1] }),
    ss([0, 0, 0, 0], [0, 0, 0, 0], [1, -1, 1, 1], { begin_mask: [1, 1, 1, 1], end_mask: [1, 1, 1, 1] }),
    b.op("HSigmoid", [x], {}, { version: "opset5" }),
    b.op("Swish", [x, b.constant([0.75], [], "f32")], {}, { version: "opset4" }),
    b.op("Gelu", [x], { approximation_mode: "ERF" }, { version: "opset7" }),
    b.op("Gelu", [x], { approximation_mode: "TANH" }, { version: "opset7" }),
    b.op("SquaredDifference", [x, scale], { auto_broadcast: "numpy" }),
    b.op("Clamp", [x], { min: -0.25, max: 0.5 }),
    b.op(
      "Interpolate",
      [x, b.ints([9, 12]), b.constant([1.5, 2], [2], "f32"), b.ints([2, 3])],
      {
        mode: "nearest",
        shape_calculation_mode: "sizes",
        coordinate_transformation_mode: "half_pixel",
        nearest_mode: "round_prefer_ceil",
        antialias: false,
        pads_begin: [0, 0, 0, 0],
        pads_end: [0, 0, 0, 0],
        cube_coeff: -0.75,
      },
      { version: "opset4" },
    ),
    b.op(
      "Interpolate",
      [x, b.ints([12, 9]), b.constant([2, 1.5], [2], "f32"), b.ints([2, 3])],
      {
        mode: "linear_onnx",
        shape_calculation_mode: "scales",
        coordinate_transformation_mode: "align_corners",
        nearest_mode: "floor",
        antialias: false,
        pads_begin: [0, 0, 0, 0],
        pads_end: [0, 0, 0, 0],
        cube_coeff: -0.75,
      },
      { version: "opset4" },
    ),
    b.op("SoftMax", [x], { axis: 1 }),
    b.op("GroupConvolutionBackpropData", [x, b.constant(randomData(2 * 2 * 3 * 3 * 3, 9, -1, 1), [2, 2, 3, 3, 3], "f32")], {
      strides: [2, 2],
      dilations: [1, 1],
      pads_begin: [1, 0],
      pads_end: [0, 1],
      output_padding: [1, 0],
      auto_pad: "explicit",
    }),
  ])
    b.result(out);
  return b.build();
}

test("IR-only ops through the writer: StridedSlice masks, HSigmoid, Swish, Gelu, SquaredDifference, Clamp, Interpolate-4, SoftMax-1, grouped deconvolution", async (t) => {
  t.diagnostic(`max error ${await checkGraph(irOps(false), irOps(true))}`);
});
