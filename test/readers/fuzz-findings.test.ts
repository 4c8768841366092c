/**
 * Regression tests for what `npm run fuzz` found in the readers, each minimized to one edit of
 * the FP32 eye IR, the eye ONNX or (for DetectionOutput) the face-detection IR.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DynbatchError, IECore } from "../../kernel";
import { ModelProtoType, OnnxModel } from "../../kernel/readers/onnx/proto";
import { irPath, OPEN_CLOSED_EYE_ONNX } from "../helpers/models";

const XML = irPath("open-closed-eye-0001", "FP32");
const BIN = XML.replace(/\.xml$/, ".bin");

/** Reads and loads `bytes` as a model file named `name` (weights from `bin`); resolves with the error it must throw. */
async function failureOfFile(name: string, bytes: Buffer | string, bin?: string): Promise<DynbatchError> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-fuzz-finding-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  try {
    const ie = new IECore();
    const net = await ie.readNetwork(file, bin);
    await ie.loadNetwork(net, "CPU");
  } catch (e) {
    assert.ok(e instanceof DynbatchError, `untyped: ${(e as Error).stack}`);
    return e;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.fail("the edited model was accepted");
}

/** Reads and loads the IR `xml` (the eye IR by default) with `edit` applied once to its text. */
async function failureOf(edit: [string | RegExp, string], xml = XML): Promise<DynbatchError> {
  const src = fs.readFileSync(xml, "utf8");
  const text = src.replace(edit[0], edit[1]);
  assert.notEqual(text, src, `edit ${edit[0]} matched nothing`);
  return failureOfFile("case.xml", text, xml === XML ? BIN : xml.replace(/\.xml$/, ".bin"));
}

/** Reads and loads the eye ONNX after `edit` changed its decoded model. */
async function onnxFailureOf(edit: (m: OnnxModel) => void): Promise<DynbatchError> {
  const m = ModelProtoType.decode(fs.readFileSync(OPEN_CLOSED_EYE_ONNX)) as unknown as OnnxModel;
  edit(m);
  return failureOfFile("case.onnx", Buffer.from(ModelProtoType.encode(m as never).finish()));
}

test("fuzz ir-attribute: a Convolution without strides is BAD_MODEL naming the layer and the attribute when read", async () => {
  const e = await failureOf([
    /(<layer id="4" name="8\/WithoutBiases" type="Convolution" version="opset1">\s*<data) strides="1, 1"/,
    "$1",
  ]);
  assert.equal(e.code, "BAD_MODEL");
  assert.match(e.message, /8\/WithoutBiases/);
  assert.match(e.message, /strides/);
});

test("fuzz ir-bin-offset: a Const without offset is BAD_MODEL that names the missing attribute instead of printing 'undefined'", async () => {
  const e = await failureOf([' offset="12" size="1080"', ' size="1080"']);
  assert.equal(e.code, "BAD_MODEL");
  assert.match(e.message, /offset/);
  assert.doesNotMatch(e.message, /undefined/);
});

test("fuzz ir-edge-dangling: an edge without to-port or from-layer is BAD_MODEL that names the missing attribute instead of printing 'undefined'", async () => {
  for (const edit of [
    ['<edge from-layer="1" from-port="0" to-layer="2" to-port="1"/>', '<edge from-layer="1" from-port="0" to-layer="2"/>'],
    ['<edge from-layer="1" from-port="0" to-layer="2" to-port="1"/>', '<edge from-port="0" to-layer="2" to-port="1"/>'],
  ] as [string, string][]) {
    const e = await failureOf(edit);
    assert.equal(e.code, "BAD_MODEL");
    assert.doesNotMatch(e.message, /undefined/);
  }
});

test('fuzz ir-edge-dangling: an edge with from-layer="" is BAD_MODEL, not an edge from layer 0', async () => {
  // Layer 1 is the mean constant; read as layer 0 the image is subtracted from itself and the model loads.
  const e = await failureOf([
    '<edge from-layer="1" from-port="0" to-layer="2" to-port="1"/>',
    '<edge from-layer="" from-port="0" to-layer="2" to-port="1"/>',
  ]);
  assert.equal(e.code, "BAD_MODEL");
  assert.match(e.message, /from-layer/);
});

test("fuzz ir-dim: a Parameter port <dim> that contradicts its shape attribute is BAD_MODEL naming the layer and both shapes", async () => {
  // The first <dim>32</dim> of the file is the input's height: [1,3,32,32] becomes [1,3,48,32] on the port.
  const e = await failureOf(["<dim>32</dim>", "<dim>48</dim>"]);
  assert.equal(e.code, "BAD_MODEL");
  assert.match(e.message, /input\.1/);
  assert.match(e.message, /48/);
});

for (const [attr, value] of [
  ["dilations", "1.5, 1"],
  ["pads_begin", "-1, 0"],
]) {
  test(`fuzz ir-attribute: a Convolution with ${attr}="${value}" is BAD_MODEL naming the layer and the attribute when read, not NATIVE`, async () => {
    const e = await failureOf([
      new RegExp(`(<layer id="4" name="8/WithoutBiases" type="Convolution" version="opset1">\\s*<data[^>]*) ${attr}="[^"]*"`),
      `$1 ${attr}="${value}"`,
    ]);
    assert.equal(e.code, "BAD_MODEL");
    assert.match(e.message, /8\/WithoutBiases/);
    assert.match(e.message, new RegExp(attr));
  });
}

for (const [what, edit] of [
  ['a Parameter shape "x,3,32,32"', ['shape="1,3,32,32"', 'shape="x,3,32,32"']],
  ['a Parameter shape "1,,32,32"', ['shape="1,3,32,32"', 'shape="1,,32,32"']],
  [
    'a MaxPool pads_begin "1.5, 0"',
    [/(<layer id="7" name="9" type="MaxPool" version="opset8">\s*<data[^>]*) pads_begin="0, 0"/, '$1 pads_begin="1.5, 0"'],
  ],
  [
    'a MaxPool axis "same_upper"',
    [/(<layer id="7" name="9" type="MaxPool" version="opset8">\s*<data[^>]*) axis="0"/, '$1 axis="same_upper"'],
  ],
] as [string, [string | RegExp, string]][]) {
  test(`fuzz accepted-malformed: ${what} is BAD_MODEL when read, not read leniently`, async () => {
    const e = await failureOf(edit);
    assert.equal(e.code, "BAD_MODEL");
  });
}

test("fuzz ir-attribute: a DetectionOutput confidence_threshold that is not a number is BAD_MODEL naming the layer when read", async () => {
  const e = await failureOf([/confidence_threshold="[^"]*"/, 'confidence_threshold="valid"'], irPath("face-detection-adas-0001"));
  assert.equal(e.code, "BAD_MODEL");
  assert.match(e.message, /detection_out/);
  assert.match(e.message, /confidence_threshold/);
});

test("fuzz onnx-attribute: a Conv with dilations -1 is BAD_MODEL naming the node when read, not NATIVE", async () => {
  const e = await onnxFailureOf((m) => {
    const conv = m.graph!.node.find((n) => n.op_type === "Conv")!;
    conv.attribute.find((a) => a.name === "dilations")!.ints[0] = -1;
  });
  assert.equal(e.code, "BAD_MODEL");
  assert.match(e.message, /dilations/);
});

test("fuzz onnx-node-io: an input named after no tensor is BAD_MODEL naming it", async () => {
  const e = await onnxFailureOf((m) => m.graph!.node.find((n) => n.op_type === "Relu")!.input.push("no_such_tensor"));
  assert.equal(e.code, "BAD_MODEL");
  assert.match(e.message, /no_such_tensor/);
});

for (const v of [0, -1, 99]) {
  test(`fuzz onnx-opset: ir_version ${v} is refused when read`, async () => {
    const e = await onnxFailureOf((m) => (m.ir_version = v));
    assert.ok(e.code === "BAD_MODEL" || e.code === "UNSUPPORTED_OP", e.code);
    assert.match(e.message, /ir_version|IR version/i);
  });
}

test("fuzz onnx-dtype: an int32 graph input is refused (UNSUPPORTED_OP or BAD_MODEL), not fed floats", async () => {
  const e = await onnxFailureOf((m) => (m.graph!.input[0].type!.tensor_type!.elem_type = 6));
  assert.ok(e.code === "BAD_MODEL" || e.code === "UNSUPPORTED_OP", e.code);
});

test("fuzz onnx-dtype: float Conv weights relabelled int32 are refused, not read as other numbers", async () => {
  const e = await onnxFailureOf((m) => {
    const weight = m.graph!.node.find((n) => n.op_type === "Conv")!.input[1];
    m.graph!.initializer.find((t) => t.name === weight)!.data_type = 6;
  });
  assert.ok(e.code === "BAD_MODEL" || e.code === "UNSUPPORTED_OP", e.code);
});

test("fuzz ir-element-type: a ReduceSum axes constant typed f64 is refused, not read as the float bits of the integer", async () => {
  // Constant_160 is ReduceSum's axes [1]; as f64 its 8 bytes are a denormal that rounds to axis 0 (the batch).
  const e = await failureOf([
    '<data element_type="i64" shape="1" offset="45012" size="8"/>',
    '<data element_type="f64" shape="1" offset="45012" size="8"/>',
  ]);
  assert.ok(e.code === "BAD_MODEL" || e.code === "SHAPE_INFERENCE", `${e.code}: ${e.message}`);
});

test('fuzz ir-dim (seed 3): a Const port whose only <dim> is removed (a scalar) contradicts shape="1" and is BAD_MODEL', async () => {
  const e = await failureOf(
    [/(<layer id="31" name="Constant_160"[\s\S]*?<port id="0" precision="I64">)\s*<dim>1<\/dim>/, "$1"],
    irPath("open-closed-eye-0001"),
  );
  assert.equal(e.code, "BAD_MODEL");
  assert.match(e.message, /Constant_160/);
});

test("fuzz onnx-dims (seed 3): a dim no single sample fits in memory is BAD_MODEL naming the layer, not a batch out of range", async () => {
  const m = ModelProtoType.decode(fs.readFileSync(OPEN_CLOSED_EYE_ONNX)) as unknown as OnnxModel;
  m.graph!.input[0].type!.tensor_type!.shape!.dim[3].dim_value = 2147483647;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-fuzz-finding-"));
  try {
    const file = path.join(dir, "case.onnx");
    fs.writeFileSync(file, Buffer.from(ModelProtoType.encode(m as never).finish()));
    const net = await new IECore().readNetwork(file);
    assert.throws(
      () => (net.batchSize = 1),
      (e: unknown) =>
        e instanceof DynbatchError && e.code === "BAD_MODEL" && /no batch fits/.test(e.message) && /layer '/.test(e.message),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("fuzz onnx-dtype (seed 3): a float Conv bias relabelled int32 is refused, not read as other numbers", async () => {
  const e = await onnxFailureOf((m) => {
    const bias = m.graph!.node.find((n) => n.op_type === "Conv" && n.input.length > 2)!.input[2];
    m.graph!.initializer.find((t) => t.name === bias)!.data_type = 6;
  });
  assert.equal(e.code, "BAD_MODEL");
  assert.match(e.message, /operands must have one element type, got f32 and i32/);
});

test("fuzz onnx-dims (CI): an input dim_value below -1 is BAD_MODEL; -1, as exporters write an unknown size, is a free dim", async () => {
  const e = await onnxFailureOf((m) => (m.graph!.input[0].type!.tensor_type!.shape!.dim[2].dim_value = -3));
  assert.equal(e.code, "BAD_MODEL");
  assert.match(e.message, /dim -3 is not a size/);
  const free = await onnxFailureOf((m) => (m.graph!.input[0].type!.tensor_type!.shape!.dim[2].dim_value = -1));
  assert.equal(free.code, "UNBOUND_SHAPE");
});
