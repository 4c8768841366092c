/** Every user-caused failure is a typed error with a message naming file, layer and reason. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DynamicBatchError, DynbatchError, IECore } from "../../kernel";
import { irPath, randomData } from "../helpers/models";

const EYE_XML = irPath("open-closed-eye-0001", "FP32");
const EYE_BIN = EYE_XML.replace(/\.xml$/, ".bin");

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-err-"));
}

/** Writes a copy of the FP32 eye model with its xml and bin transformed. */
function variant(edit: { xml?: (s: string) => string; bin?: (b: Buffer) => Buffer | null }): string {
  const dir = tmpDir();
  const xml = path.join(dir, "m.xml");
  fs.writeFileSync(xml, (edit.xml ?? ((s) => s))(fs.readFileSync(EYE_XML, "utf8")));
  const bin = (edit.bin ?? ((b) => b))(fs.readFileSync(EYE_BIN));
  if (bin) fs.writeFileSync(path.join(dir, "m.bin"), bin);
  return xml;
}

async function load(xml: string, config: Record<string, string> = {}) {
  const ie = new IECore();
  const net = await ie.readNetwork(xml);
  return ie.loadNetwork(net, "CPU", config);
}

test("malformed XML names the file", async () => {
  const xml = variant({ xml: (s) => s.replace("</layers>", "</layerz>") });
  await assert.rejects(load(xml), (e: DynbatchError) => e.code === "BAD_MODEL" && e.message.includes(xml));
});

test("missing .bin is a BAD_MODEL error", async () => {
  const xml = variant({ bin: () => null });
  await assert.rejects(load(xml), (e: DynbatchError) => e.code === "BAD_MODEL" && /\.bin/.test(e.message));
});

test("truncated .bin names the layer whose data is missing", async () => {
  const xml = variant({ bin: (b) => b.subarray(0, 1000) });
  await assert.rejects(load(xml), (e: DynbatchError) => e.code === "BAD_MODEL" && /layer '[^']+'/.test(e.message));
});

test("Const offset past the end of the .bin", async () => {
  const xml = variant({ xml: (s) => s.replace('offset="12" size="1080"', 'offset="99999999" size="1080"') });
  await assert.rejects(load(xml), (e: DynbatchError) => e.code === "BAD_MODEL" && /Constant_1129/.test(e.message));
});

test("unknown operation is UNSUPPORTED_OP naming layer and type", async () => {
  const xml = variant({ xml: (s) => s.replace('type="Exp"', 'type="MyCustomExp"') });
  await assert.rejects(load(xml), (e: DynbatchError) => e.code === "UNSUPPORTED_OP" && /MyCustomExp/.test(e.message));
});

test("unsupported IR version", async () => {
  const xml = variant({ xml: (s) => s.replace('version="11"', 'version="7"') });
  await assert.rejects(load(xml), (e: DynbatchError) => e.code === "UNSUPPORTED_OP" && /version/.test(e.message));
});

test("missing model file", async () => {
  await assert.rejects(new IECore().readNetwork("/nonexistent/model.xml"), { code: "BAD_MODEL" });
});

test("wrong input length names input, expected size and batch", async () => {
  const exec = await load(EYE_XML);
  const req = exec.createInferRequest();
  assert.throws(() => req.setInput("input.1", new Float32Array(10)), {
    code: "BAD_INPUT",
    message: /got 10 values, expected 3072 for shape \[1,3,32,32\]/,
  });
  assert.throws(() => req.getBlob("nope"), { code: "NOT_FOUND", message: /available: input\.1, 19/ });
  // BigInt values cannot be copied into float memory: BAD_INPUT, not a TypeError from the copy.
  const bigints = new BigInt64Array(3072) as unknown as Float32Array; // what a JavaScript caller can pass
  assert.throws(() => req.setInput("input.1", bigints), { code: "BAD_INPUT", message: /expected a Float32Array/ });
});

test("unknown device", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(EYE_XML);
  await assert.rejects(ie.loadNetwork(net, "TPU"), {
    code: "UNKNOWN_DEVICE",
    message: /Device 'TPU' is not registered; available devices: CPU/,
  });
  assert.throws(() => ie.setConfig({ DYN_BATCH_ENABLED: "YES" }, "FPGA"), { code: "UNKNOWN_DEVICE" });
});

test("bad config keys and values", () => {
  const ie = new IECore();
  assert.throws(() => ie.setConfig({ NOT_A_KEY: "1" }, "CPU"), { code: "BAD_CONFIG", message: /NOT_A_KEY/ });
  assert.throws(() => ie.setConfig({ DYN_BATCH_ENABLED: "maybe" }, "CPU"), { code: "BAD_CONFIG" });
  assert.throws(() => ie.setConfig({ CPU_THREADS_NUM: "-1" }, "CPU"), { code: "BAD_CONFIG" });
  // A thread count that would end the process inside libgomp is refused, never passed on.
  assert.throws(() => ie.setConfig({ CPU_THREADS_NUM: "100000" }, "CPU"), { code: "BAD_CONFIG", message: /at most 256/ });
  // An empty value is not "0" (no cap, all threads): it is refused.
  assert.throws(() => ie.setConfig({ DYN_BATCH_LIMIT: "" }, "CPU"), { code: "BAD_CONFIG" });
  assert.throws(() => ie.setConfig({ CPU_THREADS_NUM: " " }, "CPU"), { code: "BAD_CONFIG" });
  ie.setConfig({ KEY_DYN_BATCH_ENABLED: "YES", CPU_THREADS_NUM: "1" }, "CPU");
  assert.equal(ie.getConfig("CPU", "DYN_BATCH_ENABLED"), "YES");
  assert.equal(ie.getConfig("CPU", "KEY_CPU_THREADS_NUM"), "1");
  assert.match(ie.getConfig("CPU", "FULL_DEVICE_NAME"), /oneDNN/);
});

test("batch out of range uses the Inference Engine's wording", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(EYE_XML);
  net.batchSize = 32;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const req = exec.createInferRequest();
  for (const n of [0, 33, 2.5, NaN])
    assert.throws(() => req.setBatch(n), {
      code: "BATCH_OUT_OF_RANGE",
      message: `Invalid dynamic batch size ${n} for this request. Expected value in range [1;32]`,
    });
});

test("face-detection with DYN_BATCH_ENABLED throws DynamicBatchError listing DetectionOutput", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("face-detection-adas-0001"));
  net.batchSize = 4;
  await assert.rejects(ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" }), (e: unknown) => {
    assert.ok(e instanceof DynamicBatchError);
    assert.equal(e.code, "DYN_BATCH_UNSUPPORTED_TOPOLOGY");
    assert.match(e.message, /such topology cannot be compiled for dynamic batch/);
    assert.ok(e.layers.some((l) => l.type === "DetectionOutput" && l.name === "detection_out"));
    for (const l of e.layers) assert.ok(l.reason.length > 0 && l.legacyType.length > 0);
    return true;
  });
  await assert.rejects(
    ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES", DYN_BATCH_ANALYSIS: "strict" }),
    (e: DynamicBatchError) => ["PriorBox", "DetectionOutput", "Reshape"].every((t) => e.layers.some((l) => l.legacyType === t)),
  );
});

test("strict analysis rejects head-pose (Reshape) while shape-aware accepts it", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("head-pose-estimation-adas-0001"));
  net.batchSize = 2;
  await assert.rejects(
    ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES", DYN_BATCH_ANALYSIS: "strict" }),
    (e: DynamicBatchError) => e.layers.every((l) => l.legacyType === "Reshape"),
  );
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const req = exec.createInferRequest();
  req.setBatch(1);
  req.setInput("data", randomData(3 * 60 * 60));
  await req.infer();
  assert.deepEqual(req.getBlob("fc_y").shape, [1, 1]);
});

test("a request busy with an inference refuses changes", async () => {
  const exec = await load(EYE_XML, { DYN_BATCH_ENABLED: "YES" });
  const req = exec.createInferRequest();
  req.startAsync();
  assert.throws(() => req.setBatch(1), { code: "REQUEST_BUSY" });
  assert.throws(() => req.startAsync(), { code: "REQUEST_BUSY" });
  // infer() is async: it reports the busy request through its promise, never by throwing.
  let result: Promise<void> | undefined;
  assert.doesNotThrow(() => (result = req.infer()));
  await assert.rejects(result!, { code: "REQUEST_BUSY" });
  await req.wait();
  req.setBatch(1);
});

test("an IR batch of 0 is BAD_MODEL at read, naming the file and the input", async () => {
  // A whole IR with batch 0, consistent in every port: Parameter [0,3] → ReLU → Result.
  const port = (id: number, names = "") => `<port id="${id}" precision="FP32"${names}><dim>0</dim><dim>3</dim></port>`;
  const xml = path.join(tmpDir(), "zero.xml");
  fs.writeFileSync(
    xml,
    `<?xml version="1.0"?><net name="zero" version="11"><layers>
<layer id="0" name="x" type="Parameter" version="opset1"><data shape="0,3" element_type="f32"/><output>${port(0, ' names="x"')}</output></layer>
<layer id="1" name="relu" type="ReLU" version="opset1"><input>${port(0)}</input><output>${port(1)}</output></layer>
<layer id="2" name="out" type="Result" version="opset1"><input>${port(0)}</input></layer>
</layers><edges><edge from-layer="0" from-port="0" to-layer="1" to-port="0"/><edge from-layer="1" from-port="1" to-layer="2" to-port="0"/></edges></net>`,
  );
  await assert.rejects(new IECore().readNetwork(xml), (e: unknown) => {
    assert.ok(e instanceof DynbatchError);
    assert.equal(e.code, "BAD_MODEL");
    assert.match(e.message, new RegExp(xml.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")));
    assert.match(e.message, /layer 'x'/);
    assert.match(e.message, /batch 0/);
    return true;
  });
});

test("a batchSize no device could allocate is refused by the setter, saying the limit", async () => {
  const net = await new IECore().readNetwork(EYE_XML);
  assert.throws(
    () => {
      net.batchSize = 1e9;
    },
    (e: unknown) => {
      assert.ok(e instanceof DynbatchError);
      assert.equal(e.code, "BATCH_OUT_OF_RANGE");
      // The input alone is 1e9 · 3·32·32 floats; the message names it, the budget and the batch that fits.
      assert.match(e.message, /batchSize 1000000000 needs [\d.]+ GiB for output 0 of layer '[^']+'/);
      assert.match(e.message, /tensor budget of [\d.]+ GiB; at most batch \d+ fits/);
      return true;
    },
  );
  // The network keeps its batch.
  assert.equal(net.batchSize, 1);
});

test("MAX_TENSOR_BYTES: a tensor above it is BAD_CONFIG at load naming the layer, the size, the limit and the key", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(EYE_XML);
  // The largest activation at batch 8 is the first Convolution's output [8,10,30,30]: 288000 bytes.
  net.batchSize = 8;
  ie.setConfig({ MAX_TENSOR_BYTES: "100000" }, "CPU");
  assert.equal(ie.getConfig("CPU", "MAX_TENSOR_BYTES"), "100000");
  await assert.rejects(ie.loadNetwork(net, "CPU"), (e: unknown) => {
    assert.ok(e instanceof DynbatchError);
    assert.equal(e.code, "BAD_CONFIG");
    assert.match(e.message, /output 0 of layer '8\/WithoutBiases' \[8,10,30,30\] needs [\d.]+ GiB \(288000 bytes\)/);
    assert.match(e.message, /above MAX_TENSOR_BYTES = 100000/);
    assert.match(e.message, /ie\.setConfig\(\{ MAX_TENSOR_BYTES: "288000" \}, "CPU"\)/);
    return true;
  });
  await assert.rejects(ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" }), {
    code: "BAD_CONFIG",
    message: /MAX_TENSOR_BYTES/,
  });
  // Raised (with the legacy prefix), the same network loads and runs.
  const exec = await ie.loadNetwork(net, "CPU", { KEY_MAX_TENSOR_BYTES: "288000" });
  const req = exec.createInferRequest();
  req.setInput("input.1", randomData(8 * 3 * 32 * 32));
  await req.infer();
  // The default fits a notebook: 1 GiB.
  assert.equal(new IECore().getConfig("CPU", "MAX_TENSOR_BYTES"), String(2 ** 30));
});

test("MAX_TENSOR_BYTES: bad values are BAD_CONFIG", () => {
  const ie = new IECore();
  for (const v of ["", " ", "-1", "0", "abc", "1.5", String(64 * 2 ** 30)]) {
    assert.throws(
      () => ie.setConfig({ MAX_TENSOR_BYTES: v }, "CPU"),
      { code: "BAD_CONFIG", message: /MAX_TENSOR_BYTES/ },
      `value "${v}"`,
    );
  }
  assert.throws(() => ie.setConfig({ MAX_TENSOR_BYTES: String(64 * 2 ** 30) }, "CPU"), {
    message: /tensor budget of this machine/,
  });
});
