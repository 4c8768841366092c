import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ModelError, UnsupportedError } from "../../kernel/errors";
import { Graph } from "../../kernel/graph/graph";
import { readIR, splitNames } from "../../kernel/readers/ir";
import { readModel } from "../../kernel/readers/index";
import { halfToFloat } from "../../kernel/readers/tensor";
import { IECore } from "../../kernel/runtime/core";
import { irPath } from "../helpers/models";

/** Layer counts per type, counted with `grep -o 'type="[A-Za-z]*" version' <xml> | sort | uniq -c`. */
const EXPECTED: Record<string, Record<string, number>> = {
  "face-detection-adas-0001": {
    Add: 67,
    Concat: 3,
    Const: 213,
    Convert: 134,
    Convolution: 49,
    DetectionOutput: 1,
    GroupConvolution: 17,
    Multiply: 1,
    Parameter: 1,
    PriorBox: 7,
    ReLU: 52,
    Reshape: 16,
    Result: 1,
    ShapeOf: 7,
    SoftMax: 1,
    StridedSlice: 14,
    Transpose: 14,
    Unsqueeze: 7,
  },
  "head-pose-estimation-adas-0001": {
    Add: 22,
    Const: 47,
    Convert: 44,
    Convolution: 11,
    MatMul: 3,
    MaxPool: 2,
    Multiply: 8,
    Parameter: 1,
    ReLU: 8,
    Reshape: 3,
    Result: 3,
  },
  "landmarks-regression-retail-0009": {
    Add: 17,
    Const: 42,
    Convert: 42,
    Convolution: 8,
    GroupConvolution: 1,
    MaxPool: 3,
    Multiply: 8,
    PReLU: 8,
    Parameter: 1,
    Result: 1,
    Sigmoid: 1,
  },
  "open-closed-eye-0001": {
    Add: 3,
    Const: 9,
    Convert: 8,
    Convolution: 4,
    Divide: 1,
    Exp: 1,
    MaxPool: 3,
    Parameter: 1,
    ReLU: 2,
    ReduceSum: 1,
    Result: 1,
    Subtract: 1,
  },
};

function counts(g: Graph): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of g.nodes) c[n.type] = (c[n.type] ?? 0) + 1;
  return c;
}

function assertTopological(g: Graph): void {
  const seen = new Set<number>();
  for (const n of g.nodes) {
    for (const r of n.inputs) {
      assert.ok(seen.has(r.node), `${n.name}: input from node ${r.node} comes later`);
    }
    seen.add(n.id);
  }
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-ir-"));
}

const EYE32 = irPath("open-closed-eye-0001", "FP32");
const EYE32_XML = fs.readFileSync(EYE32, "utf8");
const EYE32_BIN = fs.readFileSync(EYE32.replace(/\.xml$/, ".bin"));

/** Writes a modified copy of the FP32 open-closed-eye IR; returns the xml path. */
function variant(xml: string, bin: Buffer | null = EYE32_BIN): string {
  const dir = tmpDir();
  const x = path.join(dir, "m.xml");
  fs.writeFileSync(x, xml);
  if (bin) fs.writeFileSync(path.join(dir, "m.bin"), bin);
  return x;
}

for (const [model, expected] of Object.entries(EXPECTED)) {
  test(`IR ${model}: layer counts per type, topological order`, () => {
    const g = readIR(irPath(model, "FP16"));
    assert.equal(g.format, "ir11");
    assert.deepEqual(counts(g), expected);
    assertTopological(g);
    for (const n of g.nodes.filter((x) => x.type === "Const")) {
      assert.ok(n.value, `${n.name} has a value`);
      assert.equal(
        n.value.data.length,
        n.value.shape.reduce((a, b) => a * b, 1),
      );
    }
  });
}

test("IR open-closed-eye FP32: structure, ports, attrs and weights", () => {
  const g = readIR(EYE32);
  assert.equal(g.name, "torch-jit-export");
  const { Convert: _fp16Only, ...fp32Counts } = EXPECTED["open-closed-eye-0001"];
  assert.deepEqual(counts(g), fp32Counts);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const p = byName.get("input.1")!;
  assert.deepEqual(p.outputs, [{ names: ["input.1"], dtype: "f32", shape: [1, 3, 32, 32] }]);
  // Mean values written in the xml's Const (offset 0, three f32 127s as the model's preprocessing).
  assert.deepEqual(Array.from(byName.get("Constant_165")!.value!.data), [127, 127, 127]);
  const conv = byName.get("8/WithoutBiases")!;
  assert.deepEqual(conv.attrs, {
    strides: "1, 1",
    dilations: "1, 1",
    pads_begin: "0, 0",
    pads_end: "0, 0",
    auto_pad: "explicit",
  });
  assert.deepEqual(conv.outputs[0].shape, [1, 10, 30, 30]);
  // MaxPool-8 has two outputs (ports 1, 2); its consumer reads output index 0.
  const pool = byName.get("9")!;
  assert.equal(pool.outputs.length, 2);
  assert.deepEqual(pool.outputs[1], { names: [], dtype: "i64", shape: [1, 10, 15, 15] });
  assert.deepEqual(byName.get("10")!.inputs, [{ node: pool.id, port: 0 }]);
  const axes = byName.get("Constant_160")!;
  assert.equal(axes.value!.dtype, "i64");
  assert.ok(axes.value!.data instanceof Float64Array);
  assert.deepEqual(Array.from(axes.value!.data), [1]);
  // Divide reads Exp (input 0) and ReduceSum (input 1).
  const div = byName.get("19")!;
  assert.deepEqual(div.inputs, [
    { node: byName.get("17")!.id, port: 0 },
    { node: byName.get("18")!.id, port: 0 },
  ]);
  const w = byName.get("conv4.weight")!.value!;
  assert.deepEqual(w.shape, [2, 50, 1, 1]);
  // conv4.weight sits at byte 44612 of the .bin as little-endian f32.
  assert.equal(w.data[0], EYE32_BIN.readFloatLE(44612));
  assert.equal(w.data[99], EYE32_BIN.readFloatLE(44612 + 99 * 4));
});

test("readModel dispatches on the extension", () => {
  assert.equal(readModel(EYE32).format, "ir11");
  assert.throws(
    () => readModel("/x/model.pb"),
    (e: unknown) => e instanceof UnsupportedError && /unsupported model format/.test(e.message),
  );
});

test("FP16 weights equal the FP32 IR weights within FP16 precision", () => {
  const g16 = readIR(irPath("open-closed-eye-0001", "FP16"));
  const g32 = readIR(EYE32);
  const w32 = new Map(g32.nodes.filter((n) => n.type === "Const").map((n) => [n.name, n.value!]));
  let compared = 0;
  for (const n of g16.nodes.filter((x) => x.type === "Const" && x.value!.dtype === "f16")) {
    const ref = w32.get(n.name.replace(/_compressed$/, ""));
    assert.ok(ref, `FP32 twin of ${n.name}`);
    assert.deepEqual(n.value!.shape, ref.shape);
    assert.ok(n.value!.data instanceof Float32Array);
    for (let i = 0; i < ref.data.length; i++) {
      const a = n.value!.data[i];
      const b = ref.data[i];
      // Round-to-nearest binary16: relative error <= 2^-11 for normals, absolute <= 2^-25 for subnormals.
      assert.ok(Math.abs(a - b) <= Math.max(Math.abs(b) * 2 ** -11, 2 ** -25), `${n.name}[${i}]: ${a} vs ${b}`);
      compared++;
    }
  }
  assert.equal(compared, 3 + 270 + 10 + 1800 + 20 + 9000 + 50 + 100);
});

test("halfToFloat on known bit patterns", () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.ok(Math.abs(halfToFloat(0x0001) - 5.96e-8) < 1e-10);
  assert.equal(halfToFloat(0x03ff), 1023 * 2 ** -24);
  assert.equal(halfToFloat(0x0400), 2 ** -14);
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.equal(halfToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.ok(Number.isNaN(halfToFloat(0x7c01)));
  assert.ok(Object.is(halfToFloat(0x8000), -0));
});

test("v11 names split on commas, escaped commas kept", () => {
  assert.deepEqual(splitNames("a\\,b,c"), ["a,b", "c"]);
  assert.deepEqual(splitNames("x, y"), ["x", "y"]);
  const xml = EYE32_XML.replace('names="input.1"', 'names="input.1,in\\,put"');
  const g = readIR(variant(xml));
  assert.deepEqual(g.nodes[0].outputs[0].names, ["input.1", "in,put"]);
});

test("IR v10 and dynamic dims", () => {
  const xml = EYE32_XML.replace('version="11"', 'version="10"')
    .replace('shape="1,3,32,32"', 'shape="?,3,32,32"')
    .replace("<dim>30</dim>", "<dim>-1</dim>")
    .replace("<dim>30</dim>", "<dim>?</dim>");
  const g = readIR(variant(xml));
  assert.equal(g.format, "ir10");
  assert.deepEqual(g.nodes[0].outputs[0].shape, [-1, 3, 32, 32]);
  // The first two "30" dims are the Subtract-fed Convolution's output port (1, 10, 30, 30).
  assert.deepEqual(g.nodes.find((n) => n.name === "8/WithoutBiases")!.outputs[0].shape, [1, 10, -1, -1]);
});

test("layers out of order are sorted topologically", () => {
  const start = EYE32_XML.indexOf("<layers>") + "<layers>".length;
  const end = EYE32_XML.indexOf("</layers>");
  const layers = EYE32_XML.slice(start, end)
    .split(/(?=<layer )/)
    .filter((s) => s.includes("<layer "));
  const xml = EYE32_XML.slice(0, start) + "\n" + layers.reverse().join("") + EYE32_XML.slice(end);
  const g = readIR(variant(xml));
  assert.equal(g.nodes.length, 27);
  assertTopological(g);
  assert.equal(g.nodes[g.nodes.length - 1].type, "Result");
});

function throwsModel(fn: () => unknown, cls: typeof ModelError, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    for (const p of patterns) assert.match((e as Error).message, p);
    return true;
  });
}

test("malformed XML names the file and line", () => {
  const lines = EYE32_XML.split("\n");
  lines[20] = lines[20].replace("<layer ", "<layer <");
  const x = variant(lines.join("\n"));
  throwsModel(() => readIR(x), ModelError, new RegExp(x.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")), /line 21/);
  const y = variant(EYE32_XML.slice(0, 5000));
  throwsModel(() => readIR(y), ModelError, /malformed XML/);
});

test("unsupported IR version", () => {
  const x = variant(EYE32_XML.replace('<net name="torch-jit-export" version="11">', '<net name="torch-jit-export" version="7">'));
  throwsModel(() => readIR(x), UnsupportedError, /IR version 7 is not supported \(10, 11 are\)/);
});

test("missing .bin", () => {
  const x = variant(EYE32_XML, null);
  throwsModel(() => readIR(x), ModelError, /m\.bin/, /cannot read the weights file/, /Constant_165/);
});

test("truncated .bin names the layer and the numbers", () => {
  const x = variant(EYE32_XML, EYE32_BIN.subarray(0, 1000));
  throwsModel(() => readIR(x), ModelError, /m\.bin/, /layer 'Constant_1129'/, /\[12, 1092\)/, /1000 bytes/);
});

test("Const offset past the end of the .bin", () => {
  const x = variant(EYE32_XML.replace('offset="44612" size="400"', 'offset="99999" size="400"'));
  throwsModel(() => readIR(x), ModelError, /layer 'conv4\.weight'/, /\[99999, 100399\)/, /45020 bytes/);
});

test("Const size that does not match its shape", () => {
  const x = variant(EYE32_XML.replace('offset="44612" size="400"', 'offset="44612" size="396"'));
  throwsModel(() => readIR(x), ModelError, /layer 'conv4\.weight'/, /size 396 bytes/, /400 bytes/);
});

test("u1 Const is unsupported", () => {
  const x = variant(EYE32_XML.replace('element_type="f32" shape="2, 50, 1, 1"', 'element_type="u1" shape="2, 50, 1, 1"'));
  throwsModel(() => readIR(x), UnsupportedError, /conv4\.weight/, /u1/);
});

test("element types and precisions named like Object.prototype members are unsupported", () => {
  for (const t of ["constructor", "toString", "__proto__"]) {
    const x = variant(
      EYE32_XML.replace('<data shape="1,3,32,32" element_type="f32"/>', `<data shape="1,3,32,32" element_type="${t}"/>`),
    );
    throwsModel(() => readIR(x), UnsupportedError, /layer 'input\.1'/, new RegExp(`element_type '${t}'`));
  }
});

test("edge to a missing port", () => {
  const x = variant(
    EYE32_XML.replace(
      '<edge from-layer="25" from-port="2" to-layer="26" to-port="0"/>',
      '<edge from-layer="25" from-port="7" to-layer="26" to-port="0"/>',
    ),
  );
  throwsModel(() => readIR(x), ModelError, /no output port 7/);
});

/** readNetwork prepares the network (shape inference and the attribute check) before it returns. */
async function rejectsModel(x: string, code: string, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(new IECore().readNetwork(x), (e: unknown) => {
    assert.ok(e instanceof ModelError, `expected a ModelError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.file, x);
    for (const p of [new RegExp(x.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")), ...patterns]) assert.match(e.message, p);
    return true;
  });
}

test("missing or malformed attributes are BAD_MODEL at read, naming the file and the layer", async () => {
  const conv = '<data strides="1, 1" dilations="1, 1" pads_begin="0, 0" pads_end="0, 0" auto_pad="explicit"/>';
  const pool = '<data strides="4, 4" dilations="1, 1" pads_begin="0, 0" pads_end="0, 0" kernel="4, 4"';
  // Shape inference reads strides with no default; the CPU plugin used to be the first to notice.
  await rejectsModel(
    variant(EYE32_XML.replace(conv, conv.replace('strides="1, 1" ', ""))),
    "BAD_MODEL",
    /layer '8\/WithoutBiases'/,
    /missing attribute 'strides'/,
  );
  await rejectsModel(
    variant(EYE32_XML.replace(pool, pool.replace('strides="4, 4" ', ""))),
    "BAD_MODEL",
    /layer '16'/,
    /missing attribute 'strides'/,
  );
  await rejectsModel(
    variant(EYE32_XML.replace(pool, pool.replace('kernel="4, 4"', 'kernel="4, x"'))),
    "BAD_MODEL",
    /layer '16'/,
    /'kernel' is not a list of integers/,
  );
  await rejectsModel(
    variant(EYE32_XML.replace(conv, conv.replace('strides="1, 1"', 'strides="1.5, 1"'))),
    "BAD_MODEL",
    /layer '8\/WithoutBiases'/,
    /strides/,
  );
  await rejectsModel(
    variant(EYE32_XML.replace('<data keep_dims="true"/>', '<data keep_dims="maybe"/>')),
    "BAD_MODEL",
    /'keep_dims' is not a boolean/,
  );
  // Attributes only the plugins read (here ReduceSum's keep_dims, Clamp's bounds) are checked at read too.
  await rejectsModel(
    variant(EYE32_XML.replace('type="ReLU" version="opset1">', 'type="Clamp" version="opset1">\n\t\t\t<data min="0"/>')),
    "BAD_MODEL",
    /missing attribute 'max'/,
  );
});

/** Replaces the `n`-th (0-based) occurrence of `from`. */
function replaceNth(text: string, from: string, to: string, n: number): string {
  let at = -1;
  for (let i = 0; i <= n; i++) at = text.indexOf(from, at + 1);
  assert.ok(at >= 0, `occurrence ${n} of ${from}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

test("port dims that contradict the shape attribute, the producer or shape inference are BAD_MODEL naming both shapes", async () => {
  const param = EYE32_XML.indexOf("<dim>32</dim>");
  const paramXml = (dim: string) =>
    EYE32_XML.slice(0, param) + `<dim>${dim}</dim>` + EYE32_XML.slice(param + "<dim>32</dim>".length);
  // The case: a negative port dim that is not -1 was taken for a dynamic one.
  throwsModel(() => readIR(variant(paramXml("-32"))), ModelError, /layer 'input\.1'/, /'1,3,-32,32'/);
  throwsModel(
    () => readIR(variant(paramXml("31"))),
    ModelError,
    /layer 'input\.1'/,
    /shape \[1,3,32,32\] contradicts its output port dims \[1,3,31,32\]/,
  );
  throwsModel(
    () => readIR(variant(EYE32_XML.replace('shape="1,3,32,32"', 'shape="1,3,-32,32"'))),
    ModelError,
    /layer 'input\.1'/,
    /'1,3,-32,32'/,
  );
  // The Convolution's output port (its 1st and 2nd "30") against the Add input port that reads it.
  throwsModel(
    () => readIR(variant(replaceNth(EYE32_XML, "<dim>30</dim>", "<dim>29</dim>", 0))),
    ModelError,
    /layer '8'/,
    /input port 0 dims \[1,10,30,30\] disagree with \[1,10,29,30\] of output port 2 of '8\/WithoutBiases'/,
  );
  // Both sides say 29; shape inference says 30.
  const both = replaceNth(replaceNth(EYE32_XML, "<dim>30</dim>", "<dim>29</dim>", 0), "<dim>30</dim>", "<dim>29</dim>", 1);
  await rejectsModel(
    variant(both),
    "BAD_MODEL",
    /layer '8\/WithoutBiases'/,
    /declares dims \[1,10,29,30\] but shape inference gives \[1,10,30,30\]/,
  );
  // Dynamic dims (-1, ?, ranges) agree with any size, as in OpenVINO.
  const dynamic = replaceNth(
    replaceNth(EYE32_XML, "<dim>30</dim>", "<dim>?</dim>", 0),
    "<dim>30</dim>",
    "<dim>1..64</dim>",
    1,
  ).replace('shape="1,3,32,32"', 'shape="-1,3,32,32"');
  const net = await new IECore().readNetwork(variant(dynamic));
  assert.deepEqual(net.inputs["input.1"].shape, [1, 3, 32, 32]);
});
