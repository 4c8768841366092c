import { test } from "node:test";
import assert from "node:assert/strict";
import { readModel } from "../../kernel/readers/index";
import { readIR } from "../../kernel/readers/ir";
import { readONNX } from "../../kernel/readers/onnx";
import { irPath, OPEN_CLOSED_EYE_ONNX } from "../helpers/models";
import {
  FLOAT,
  FLOAT16,
  assertTopological,
  build,
  byName,
  float,
  floatTensor,
  int,
  int64Tensor,
  ints,
  node,
  producer,
  str,
  valueInfo,
} from "../helpers/onnx_spec";

test("ONNX open-closed-eye: nodes, names and attributes", () => {
  const g = readModel(OPEN_CLOSED_EYE_ONNX);
  assert.equal(g.format, "onnx");
  assertTopological(g);
  assert.deepEqual(
    g.nodes.map((n) => n.type),
    [
      "Parameter",
      "Const",
      "Convolution",
      "Const",
      "Add",
      "MaxPool",
      "ReLU",
      "Const",
      "Convolution",
      "Const",
      "Add",
      "MaxPool",
      "ReLU",
      "Const",
      "Convolution",
      "Const",
      "Add",
      "Const",
      "Convolution",
      "MaxPool",
      "Exp",
      "Const",
      "ReduceSum",
      "Divide",
      "Result",
    ],
  );
  const p = g.nodes[0];
  assert.equal(p.name, "input.1");
  assert.deepEqual(p.outputs, [{ names: ["input.1"], dtype: "f32", shape: [1, 3, 32, 32] }]);
  // Same layer names and attributes as the IR converted from this model.
  const conv = byName(g, "8/WithoutBiases");
  assert.deepEqual(
    { ...conv.attrs },
    { strides: "1,1", dilations: "1,1", pads_begin: "0,0", pads_end: "0,0", auto_pad: "explicit" },
  );
  assert.deepEqual(byName(g, "8").outputs[0].names, ["8"]);
  const pool = byName(g, "16");
  assert.equal(pool.attrs.kernel, "4,4");
  assert.equal(pool.attrs.strides, "4,4");
  assert.equal(pool.attrs.rounding_type, "floor");
  const rs = byName(g, "18");
  assert.equal(rs.attrs.keep_dims, "true");
  assert.deepEqual(Array.from(producer(g, rs, 1).value!.data), [1]);
  const result = g.nodes[g.nodes.length - 1];
  assert.equal(result.name, "19/sink_port_0");
  assert.equal(producer(g, result, 0).name, "19");
  assert.deepEqual(producer(g, result, 0).outputs[0].names, ["19"]);
  assert.deepEqual(producer(g, result, 0).outputs[0].shape, [1, 2, 1, 1]);
});

test("ONNX initializers equal the FP32 IR weights of the same model", () => {
  const g = readONNX(OPEN_CLOSED_EYE_ONNX);
  const ir = readIR(irPath("open-closed-eye-0001", "FP32"));
  for (const name of ["conv2.weight", "conv3.weight", "conv4.weight"]) {
    assert.deepEqual(byName(g, name).value, byName(ir, name).value, name);
  }
  // The IR's first conv takes pixels scaled by 1/255 (Model Optimizer folded the scale into the weights).
  const w1 = byName(g, "conv1.weight").value!;
  const ir1 = byName(ir, "Constant_1129").value!;
  assert.deepEqual(w1.shape, ir1.shape);
  for (let i = 0; i < w1.data.length; i++) {
    assert.ok(Math.abs(w1.data[i] / 255 - ir1.data[i]) <= 1e-6 * Math.abs(ir1.data[i]) + 1e-12, `conv1.weight[${i}]`);
  }
  // Biases become [1, C, 1, 1] constants, like the IR's Reshape_* constants.
  for (const [onnx, irName] of [
    ["8/bias", "Reshape_28"],
    ["11/bias", "Reshape_78"],
    ["14/bias", "Reshape_128"],
  ]) {
    assert.deepEqual(byName(g, onnx).value, byName(ir, irName).value, onnx);
  }
});

test("Gemm folds alpha/beta into constants; symbolic dims are -1", () => {
  const g = build({
    nodes: [node("Gemm", ["x", "B", "C"], ["y"], [float("alpha", 2), float("beta", 0.5), int("transB", 1)], "fc")],
    inits: [floatTensor("B", [3, 2], [1, 2, 3, 4, 5, 6]), floatTensor("C", [3], [2, 4, 6])],
    inputs: [valueInfo("x", ["batch", 2])],
    outputs: [valueInfo("y", ["batch", 3])],
  });
  assert.deepEqual(g.nodes[0].outputs[0].shape, [-1, 2]);
  const mm = byName(g, "fc/MatMul");
  assert.equal(mm.type, "MatMul");
  assert.equal(mm.attrs.transpose_a, "false");
  assert.equal(mm.attrs.transpose_b, "true");
  assert.deepEqual(Array.from(producer(g, mm, 1).value!.data), [2, 4, 6, 8, 10, 12]);
  const add = byName(g, "fc");
  assert.equal(add.type, "Add");
  assert.deepEqual(Array.from(producer(g, add, 1).value!.data), [1, 2, 3]);
  // The unscaled initializers are not left behind as dead constants.
  assert.equal(g.nodes.filter((n) => n.type === "Const").length, 2);
});

test("grouped Conv reshapes weights to [G, O/G, I/G, kh, kw] and adds a [1,C,1,1] bias", () => {
  const w = Array.from({ length: 4 * 1 * 3 * 3 }, (_, i) => i);
  const g = build({
    nodes: [node("Conv", ["x", "W", "b"], ["y"], [int("group", 2), ints("pads", [1, 1, 1, 1]), ints("strides", [2, 2])], "dw")],
    inits: [floatTensor("W", [4, 1, 3, 3], w), floatTensor("b", [4], [1, 2, 3, 4])],
    inputs: [valueInfo("x", [1, 2, 8, 8])],
    outputs: [valueInfo("y", [1, 4, 4, 4])],
  });
  const conv = byName(g, "dw/WithoutBiases");
  assert.equal(conv.type, "GroupConvolution");
  assert.equal(conv.attrs.pads_begin, "1,1");
  assert.equal(conv.attrs.pads_end, "1,1");
  assert.equal(conv.attrs.strides, "2,2");
  const wc = producer(g, conv, 1).value!;
  assert.deepEqual(wc.shape, [2, 2, 1, 3, 3]);
  assert.deepEqual(Array.from(wc.data), w);
  const bias = producer(g, byName(g, "dw"), 1).value!;
  assert.deepEqual(bias.shape, [1, 4, 1, 1]);
  assert.deepEqual(byName(g, "dw").outputs[0].shape, [1, 4, 4, 4]);
});

test("activations, Clip, LeakyRelu, HardSigmoid", () => {
  const g = build({
    nodes: [
      node("Clip", ["x", "lo", "hi"], ["a"], [], "clip"),
      node("LeakyRelu", ["a"], ["b"], [float("alpha", 0.25)], "leaky"),
      node("HardSigmoid", ["b"], ["c"], [float("alpha", 1 / 6), float("beta", 0.5)], "hs"),
      node("Neg", ["c"], ["d"], [], "neg"),
      node("Identity", ["d"], ["e"], [], "id"),
    ],
    inits: [floatTensor("lo", [], [0]), floatTensor("hi", [], [6])],
    inputs: [valueInfo("x", [1, 4])],
    outputs: [valueInfo("e", [1, 4])],
  });
  const clip = byName(g, "clip");
  assert.equal(clip.type, "Clamp");
  assert.deepEqual({ min: clip.attrs.min, max: clip.attrs.max }, { min: "0", max: "6" });
  const leaky = byName(g, "leaky");
  assert.equal(leaky.type, "PReLU");
  assert.deepEqual(Array.from(producer(g, leaky, 1).value!.data), [0.25]);
  assert.equal(byName(g, "hs").type, "HSigmoid");
  const neg = byName(g, "neg");
  assert.equal(neg.type, "Negative");
  // Identity is rewired: the Result reads Negative, whose port carries both names.
  assert.deepEqual(neg.outputs[0].names, ["d", "e"]);
  assert.equal(producer(g, g.nodes[g.nodes.length - 1], 0).name, "neg");
  // min/max initializers were read as attributes, so they are not nodes.
  assert.deepEqual(
    g.nodes.map((n) => n.type),
    ["Parameter", "Clamp", "Const", "PReLU", "HSigmoid", "Negative", "Result"],
  );
});

test("opset-11 Softmax over a middle axis is Reshape (merge the trailing axes) + SoftMax + Reshape back", () => {
  const g = build({
    nodes: [node("Softmax", ["x"], ["y"], [int("axis", 1)], "sm")],
    inputs: [valueInfo("x", [2, 3, 4])],
    outputs: [valueInfo("y", [2, 3, 4])],
    opset: 11,
  });
  assert.deepEqual(
    g.nodes.map((n) => n.type),
    ["Parameter", "Const", "Reshape", "SoftMax", "ShapeOf", "Reshape", "Result"],
  );
  assert.deepEqual(Array.from(producer(g, byName(g, "sm/merge"), 1).value!.data), [0, -1]);
  assert.equal(byName(g, "sm/softmax").attrs.axis, "1");
  const g2 = build({
    nodes: [node("Softmax", ["x"], ["y"], [int("axis", 2)], "sm")],
    inputs: [valueInfo("x", [2, 3, 4])],
    outputs: [valueInfo("y", [2, 3, 4])],
    opset: 11,
  });
  assert.deepEqual(
    g2.nodes.map((n) => n.type),
    ["Parameter", "SoftMax", "Result"],
  );
  assert.equal(byName(g2, "sm").attrs.axis, "2");
});

test("pooling, global pooling, BatchNormalization", () => {
  const g = build({
    nodes: [
      node("AveragePool", ["x"], ["a"], [ints("kernel_shape", [3, 3]), ints("pads", [0, 0, 1, 1]), int("ceil_mode", 1)], "avg"),
      node("BatchNormalization", ["a", "s", "bb", "m", "v"], ["b"], [float("epsilon", 0.001)], "bn"),
      node("GlobalAveragePool", ["b"], ["c"], [], "gap"),
      node("Flatten", ["c"], ["d"], [], "flat"),
    ],
    inits: ["s", "bb", "m", "v"].map((n) => floatTensor(n, [2], [1, 2])),
    inputs: [valueInfo("x", [1, 2, 6, 6])],
    outputs: [valueInfo("d", [1, 2])],
  });
  const avg = byName(g, "avg");
  assert.equal(avg.type, "AvgPool");
  assert.deepEqual(
    {
      k: avg.attrs.kernel,
      pb: avg.attrs.pads_begin,
      pe: avg.attrs.pads_end,
      r: avg.attrs.rounding_type,
      ex: avg.attrs["exclude-pad"],
    },
    { k: "3,3", pb: "0,0", pe: "1,1", r: "ceil_torch", ex: "true" },
  );
  const bn = byName(g, "bn");
  assert.equal(bn.type, "BatchNormInference");
  assert.equal(bn.inputs.length, 5);
  assert.ok(Math.abs(Number(bn.attrs.epsilon) - 0.001) < 1e-9);
  const gap = byName(g, "gap");
  assert.equal(gap.type, "ReduceMean");
  assert.equal(gap.attrs.keep_dims, "true");
  assert.deepEqual(Array.from(producer(g, gap, 1).value!.data), [2, 3]);
  assert.equal(byName(g, "flat").type, "Flatten");
  assert.equal(byName(g, "flat").attrs.axis, "1");
});

test("Pad, Transpose, Squeeze/Unsqueeze, Reshape, Slice, Split, Concat, Gather", () => {
  const g = build({
    nodes: [
      node("Pad", ["x", "pads"], ["p"], [str("mode", "reflect")], "pad"),
      node("Transpose", ["p"], ["t"], [], "tr"),
      node("Unsqueeze", ["t", "ax0"], ["u"], [], "unsq"),
      node("Squeeze", ["u", "ax0"], ["s"], [], "sq"),
      node("Reshape", ["s", "shape"], ["r"], [], "rs"),
      node("Slice", ["r", "st", "en"], ["sl"], [], "slice"),
      node("Split", ["sl"], ["s1", "s2"], [int("axis", 1)], "split"),
      node("Concat", ["s2", "s1"], ["cc"], [int("axis", 1)], "cat"),
      node("Gather", ["cc", "idx"], ["gg"], [int("axis", 0)], "gather"),
    ],
    inits: [
      int64Tensor("pads", [0, 1, 0, 2]),
      int64Tensor("ax0", [0]),
      int64Tensor("shape", [0, -1]),
      int64Tensor("st", [0]),
      int64Tensor("en", [2]),
      int64Tensor("idx", [1, 0]),
    ],
    inputs: [valueInfo("x", [2, 3])],
    outputs: [valueInfo("gg", ["n", "m"])],
  });
  const pad = byName(g, "pad");
  assert.equal(pad.attrs.pad_mode, "reflect");
  assert.deepEqual(Array.from(producer(g, pad, 1).value!.data), [0, 1]);
  assert.deepEqual(Array.from(producer(g, pad, 2).value!.data), [0, 2]);
  assert.equal(pad.inputs.length, 3);
  // Rank 2 is known from the input, so the default permutation is spelled out.
  assert.deepEqual(Array.from(producer(g, byName(g, "tr"), 1).value!.data), [1, 0]);
  assert.equal(byName(g, "unsq").type, "Unsqueeze");
  assert.equal(byName(g, "rs").attrs.special_zero, "true");
  const slice = byName(g, "slice");
  assert.equal(slice.type, "Slice");
  assert.equal(slice.inputs.length, 4);
  assert.deepEqual(Array.from(producer(g, slice, 3).value!.data), [1]);
  const split = byName(g, "split");
  assert.equal(split.type, "Split");
  assert.equal(split.attrs.num_splits, "2");
  assert.deepEqual(
    split.outputs.map((o) => o.names),
    [["s1"], ["s2"]],
  );
  const cat = byName(g, "cat");
  assert.deepEqual(cat.inputs, [
    { node: split.id, port: 1 },
    { node: split.id, port: 0 },
  ]);
  const gather = byName(g, "gather");
  assert.equal(gather.attrs.batch_dims, "0");
  assert.deepEqual(producer(g, gather, 2).value!.shape, []);
  assert.deepEqual(g.nodes[g.nodes.length - 1].inputs, [{ node: gather.id, port: 0 }]);
  assert.deepEqual(gather.outputs[0].shape, [-1, -1]);
});

test("Resize with scales → Interpolate-4; FP16 initializer bits decoded", () => {
  const g = build({
    nodes: [
      node(
        "Resize",
        ["x", "", "scales"],
        ["y"],
        [str("mode", "nearest"), str("coordinate_transformation_mode", "asymmetric"), str("nearest_mode", "floor")],
        "up",
      ),
    ],
    inits: [{ name: "scales", dims: [4], data_type: FLOAT16, int32_data: [0x3c00, 0x3c00, 0x4000, 0x4000] }],
    inputs: [valueInfo("x", [1, 1, 2, 2])],
    outputs: [valueInfo("y", [1, 1, 4, 4])],
  });
  const up = byName(g, "up");
  assert.equal(up.type, "Interpolate");
  assert.equal(up.attrs.shape_calculation_mode, "scales");
  assert.equal(up.attrs.coordinate_transformation_mode, "asymmetric");
  assert.equal(up.attrs.nearest_mode, "floor");
  assert.equal(up.inputs.length, 4);
  assert.deepEqual(Array.from(producer(g, up, 2).value!.data), [1, 1, 2, 2]);
  assert.deepEqual(Array.from(producer(g, up, 3).value!.data), [0, 1, 2, 3]);
});

test("Constant, Shape, Cast, Expand, ConstantOfShape", () => {
  const g = build({
    nodes: [
      node("Constant", [], ["k"], [{ name: "value", type: 4, t: floatTensor("", [1], [3]) }], "kc"),
      node("Mul", ["x", "k"], ["m"], [], "mul"),
      node("Shape", ["m"], ["sh"], [], "shape"),
      node("Cast", ["sh"], ["shf"], [int("to", FLOAT)], "cast"),
      node("ConstantOfShape", ["sh"], ["z"], [{ name: "value", type: 4, t: floatTensor("", [1], [7]) }], "cos"),
      node("Expand", ["m", "sh"], ["ex"], [], "expand"),
    ],
    inputs: [valueInfo("x", [2, 2])],
    outputs: [valueInfo("shf", [2]), valueInfo("z", [2, 2]), valueInfo("ex", [2, 2])],
  });
  assert.deepEqual(Array.from(byName(g, "kc").value!.data), [3]);
  assert.equal(byName(g, "mul").type, "Multiply");
  assert.equal(byName(g, "mul").attrs.auto_broadcast, "numpy");
  assert.equal(byName(g, "shape").type, "ShapeOf");
  assert.equal(byName(g, "shape").outputs[0].dtype, "i64");
  assert.equal(byName(g, "cast").attrs.destination_type, "f32");
  const cos = byName(g, "cos");
  assert.equal(cos.type, "Broadcast");
  assert.deepEqual(producer(g, cos, 0).value!.shape, []);
  assert.deepEqual(Array.from(producer(g, cos, 0).value!.data), [7]);
  assert.equal(byName(g, "expand").type, "Broadcast");
  assert.equal(g.nodes.filter((n) => n.type === "Result").length, 3);
});

test("ConvTranspose with groups, output_padding and FP16 raw weights", () => {
  // 0x3c00 = 1, 0xc000 = -2 as little-endian FP16 raw_data.
  const raw = Buffer.alloc(4 * 1 * 2 * 2 * 2);
  for (let i = 0; i < 16; i++) raw.writeUInt16LE(i % 2 ? 0xc000 : 0x3c00, 2 * i);
  const g = build({
    nodes: [
      node("Cast", ["x"], ["x16"], [int("to", FLOAT16)], "to16"),
      node(
        "ConvTranspose",
        ["x16", "W"],
        ["y"],
        [int("group", 2), ints("strides", [2, 2]), ints("output_padding", [1, 1]), ints("pads", [0, 0, 0, 0])],
        "up",
      ),
    ],
    inits: [{ name: "W", dims: [4, 1, 2, 2], data_type: FLOAT16, raw_data: raw }],
    inputs: [valueInfo("x", [1, 4, 3, 3])],
    outputs: [valueInfo("y", [1, 2, 7, 7], FLOAT16)],
  });
  const up = byName(g, "up");
  assert.equal(up.type, "GroupConvolutionBackpropData");
  assert.equal(up.attrs.strides, "2,2");
  assert.equal(up.attrs.output_padding, "1,1");
  const w = producer(g, up, 1).value!;
  assert.deepEqual(w.shape, [2, 2, 1, 2, 2]);
  assert.ok(w.data instanceof Float32Array);
  assert.deepEqual(Array.from(w.data.slice(0, 4)), [1, -2, 1, -2]);
  assert.equal(byName(g, "to16").attrs.destination_type, "f16");
});

test("opset-18 reduce axes input, noop_with_empty_axes, runtime Clip bounds, VariadicSplit", () => {
  const g = build({
    nodes: [
      node("ReduceMean", ["x", "axes"], ["m"], [int("keepdims", 0)], "mean"),
      node("ReduceMax", ["x"], ["same"], [int("noop_with_empty_axes", 1)], "noop"),
      node("ReduceSum", ["x"], ["all"], [], "all"),
      node("Clip", ["same", "lo"], ["c"], [], "clip"),
      node("Split", ["c", "sizes"], ["c1", "c2"], [int("axis", 1)], "split"),
      node("Softmax", ["c1"], ["sm"], [], "sm"),
    ],
    inits: [int64Tensor("axes", [1]), int64Tensor("sizes", [1, 2])],
    inputs: [valueInfo("x", [2, 3]), valueInfo("lo", [])],
    outputs: [valueInfo("m", [2]), valueInfo("all", [1, 1]), valueInfo("sm", [2, 1]), valueInfo("c2", [2, 2])],
    opset: 18,
  });
  const mean = byName(g, "mean");
  assert.equal(mean.attrs.keep_dims, "false");
  assert.deepEqual(Array.from(producer(g, mean, 1).value!.data), [1]);
  assert.ok(!g.nodes.some((n) => n.name === "noop"), "noop reduce is a pass-through");
  assert.deepEqual(Array.from(producer(g, byName(g, "all"), 1).value!.data), [0, 1]);
  const clip = byName(g, "clip");
  assert.equal(clip.type, "Maximum");
  assert.equal(producer(g, clip, 0).type, "Parameter");
  assert.equal(producer(g, clip, 1).name, "lo");
  const split = byName(g, "split");
  assert.equal(split.type, "VariadicSplit");
  assert.deepEqual(Array.from(producer(g, split, 2).value!.data), [1, 2]);
  assert.equal(byName(g, "sm").type, "SoftMax");
  assert.equal(byName(g, "sm").attrs.axis, "-1");
});

test("nodes listed out of order are sorted", () => {
  const g = build({
    nodes: [node("Relu", ["a"], ["b"], [], "second"), node("Exp", ["x"], ["a"], [], "first")],
    inputs: [valueInfo("x", [2])],
    outputs: [valueInfo("b", [2])],
  });
  assert.deepEqual(
    g.nodes.map((n) => n.name),
    ["x", "first", "second", "b/sink_port_0"],
  );
  assertTopological(g);
});
