/**
 * Free input dims (ONNX dim_param or missing, IR ? and 1..10) stay free at read, refuse analysis
 * and loadNetwork with UnboundShapeError until reshape or readNetwork's `shapes` binds them, then
 * run like any model: checked against onnxruntime on the same file at dynamic batches 1..4.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { IECore, CNNNetwork, InputError, NotFoundError, UnboundShapeError } from "../../kernel";
import { irToOnnx } from "../helpers/ir_to_onnx";
import { irPath, maxRelDiff, numel, randomData } from "../helpers/models";
import { OnnxBuilder } from "../helpers/onnx_builder";

const ie = new IECore();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-symbolic-"));

/** Conv → Relu → MaxPool 2×2 → global mean: a 2×2 window fails at the old default of H = W = 1. */
function spatialModel(dims: (number | string)[]): string {
  const b = new OnnxBuilder(13);
  const x = b.inputDims("x", dims);
  const conv = b.op1("Relu", [
    b.op1("Conv", [x, b.weight([4, 3, 3, 3]), b.weight([4])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
  ]);
  const pool = b.op1("MaxPool", [conv], { kernel_shape: [2, 2], strides: [2, 2] });
  b.output(pool, b.op1("ReduceMean", [pool], { axes: [2, 3], keepdims: 0 }));
  return b.save(dir);
}

const unbound = (axes: number[], dims: (number | string)[]) => (e: unknown) =>
  e instanceof UnboundShapeError &&
  e.code === "UNBOUND_SHAPE" &&
  e.inputs.length === 1 &&
  e.inputs[0].input === "x" &&
  assert.deepEqual(e.inputs[0].axes, axes) === undefined &&
  assert.deepEqual(e.inputs[0].dims, dims) === undefined &&
  /net\.reshape\(\{ "x": \[\.\.\.\] \}\)/.test(e.message);

/** Runs `net` at its bound shape on CPU with a dynamic batch and compares each n = 1..4 with onnxruntime on `oracle`. */
async function equalsOnnxruntime(
  net: CNNNetwork,
  oracle: Uint8Array,
  input: string,
  outputs: string[],
  tolerance: number,
): Promise<number> {
  const session = await ort.InferenceSession.create(oracle);
  const sample = net.inputs[input].shape.slice(1);
  net.batchSize = 4;
  const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  let worst = 0;
  for (const n of [1, 2, 3, 4]) {
    req.setBatch(n);
    // A different sample in every row, so a row computed from another one shows.
    const data = randomData(n * numel(sample), 40 + n, -2, 2);
    req.setInput(input, data);
    for (const o of outputs) req.getBlob(o).data.fill(NaN);
    await req.infer();
    const want = await session.run({ [input]: new ort.Tensor("float32", data, [n, ...sample]) });
    for (const o of outputs) {
      const got = req.getBlob(o);
      assert.deepEqual(got.shape, want[o].dims.map(Number), `${o} shape at n=${n}`);
      const err = maxRelDiff(got.data, want[o].data as Float32Array);
      assert.ok(err <= tolerance, `${o} at n=${n}: max error ${err} > ${tolerance}`);
      worst = Math.max(worst, err);
    }
  }
  return worst;
}

test("ONNX dim_param H and W stay free; analyze and loadNetwork name them; reshape binds; equals onnxruntime", async (t) => {
  const file = spatialModel(["N", 3, "H", "W"]);
  const net = await ie.readNetwork(file);
  assert.deepEqual(net.inputs.x.shape, [-1, 3, -1, -1]);
  assert.deepEqual(net.inputs.x.dims, [
    { declared: -1, name: "N" },
    { declared: 3 },
    { declared: -1, name: "H" },
    { declared: -1, name: "W" },
  ]);
  assert.equal(net.batchSize, -1);
  // Shape-aware analysis sets its own batches on axis 0; strict analysis judges the network at its own batch.
  assert.throws(() => net.analyze(), unbound([2, 3], ["N", 3, "H", "W"]));
  assert.throws(() => net.analyze({ mode: "strict" }), unbound([0, 2, 3], ["N", 3, "H", "W"]));
  await assert.rejects(ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" }), unbound([0, 2, 3], ["N", 3, "H", "W"]));
  // batchSize alone binds axis 0 and leaves the rest free.
  net.batchSize = 2;
  assert.deepEqual(net.inputs.x.shape, [2, 3, -1, -1]);
  assert.throws(() => net.analyze(), unbound([2, 3], [2, 3, "H", "W"]));

  net.reshape({ x: [4, 3, 12, 10] });
  assert.deepEqual(net.inputs.x.shape, [4, 3, 12, 10]);
  assert.deepEqual(net.outputs[Object.keys(net.outputs)[0]].shape, [4, 4, 6, 5]);
  assert.equal(net.analyze().supported, true);
  // The seed's strict rule has no legacy type for ReduceMean; it judges the layers, not the shapes.
  assert.deepEqual(net.analyze({ mode: "strict" }).summary.blocking.length, 1);
  const outputs = Object.keys(net.outputs);
  t.diagnostic(`max error ${await equalsOnnxruntime(net, fs.readFileSync(file), "x", outputs, 1e-5)}`);

  const atRead = await ie.readNetwork(file, { shapes: { x: [1, 3, 9, 7] } });
  assert.deepEqual(atRead.inputs.x.shape, [1, 3, 9, 7]);
  t.diagnostic(`bound at read: max error ${await equalsOnnxruntime(atRead, fs.readFileSync(file), "x", outputs, 1e-5)}`);
});

test("a free batch alone starts at 1 as before; a missing dim is free like a named one", async () => {
  const batchOnly = await ie.readNetwork(spatialModel(["N", 3, 8, 8]));
  assert.deepEqual(batchOnly.inputs.x.shape, [1, 3, 8, 8]);
  assert.equal(batchOnly.inputs.x.dims![0].name, "N");
  assert.equal(batchOnly.analyze().supported, true);

  const missing = await ie.readNetwork(spatialModel([1, 3, "", 8]));
  assert.deepEqual(missing.inputs.x.shape, [1, 3, -1, 8]);
  assert.deepEqual(missing.inputs.x.dims![2], { declared: -1 });
  assert.throws(() => missing.analyze(), unbound([2], [1, 3, "?", 8]));
  missing.reshape({ x: [1, 3, 6, 8] });
  assert.equal(missing.analyze().supported, true);
});

test("bad binds: wrong rank, unknown input, non-positive dims are typed errors naming the input", async () => {
  const file = spatialModel(["N", 3, "H", "W"]);
  const net = await ie.readNetwork(file);
  assert.throws(
    () => net.reshape({ x: [1, 3, 8] }),
    (e: unknown) => e instanceof InputError && /input 'x'.*rank 3.*\[N,3,H,W\] has rank 4/.test(e.message),
  );
  assert.throws(
    () => net.reshape({ y: [1, 3, 8, 8] }),
    (e: unknown) => e instanceof NotFoundError && /'y'; inputs: x/.test(e.message),
  );
  assert.throws(
    () => net.reshape({ x: [1, 3, 0, 8] }),
    (e: unknown) => e instanceof InputError && /input 'x'/.test(e.message),
  );
  assert.throws(
    () => net.reshape({ x: [1, 3, -1, 8] }),
    (e: unknown) => e instanceof InputError && /input 'x'/.test(e.message),
  );
  await assert.rejects(ie.readNetwork(file, { shapes: { x: [1, 3] } }), InputError);
  // A failed bind leaves the network as it was.
  assert.deepEqual(net.inputs.x.shape, [-1, 3, -1, -1]);
});

/** landmarks-regression-retail-0009 with its input declared "?,3,16..64,16..64" (an IR v10 and a v11). */
function boundedIr(version: 10 | 11): string {
  const xmlPath = irPath("landmarks-regression-retail-0009");
  const xml = fs
    .readFileSync(xmlPath, "utf8")
    .replace('version="11"', `version="${version}"`)
    .replace('shape="1,3,48,48"', 'shape="?,3,16..64,16..64"')
    .replace(
      /<dim>1<\/dim>\s*<dim>3<\/dim>\s*<dim>48<\/dim>\s*<dim>48<\/dim>/,
      "<dim>?</dim><dim>3</dim><dim>16..64</dim><dim>16..64</dim>",
    );
  assert.ok(xml.includes("<dim>16..64</dim>"), "the Parameter's port dims were rewritten");
  const out = path.join(dir, `bounded-v${version}.xml`);
  fs.writeFileSync(out, xml);
  fs.copyFileSync(xmlPath.replace(/\.xml$/, ".bin"), out.replace(/\.xml$/, ".bin"));
  return out;
}

for (const version of [10, 11] as const) {
  test(`IR v${version} ? and 16..64 dims stay free, bounds are checked, and the bound model equals onnxruntime`, async (t) => {
    const xml = boundedIr(version);
    const net = await ie.readNetwork(xml);
    const input = Object.keys(net.inputs)[0];
    assert.deepEqual(net.inputs[input].shape, [-1, 3, -1, -1]);
    assert.deepEqual(net.inputs[input].dims, [
      { declared: -1 },
      { declared: 3 },
      { declared: -1, min: 16, max: 64 },
      { declared: -1, min: 16, max: 64 },
    ]);
    assert.throws(
      () => net.analyze(),
      (e: unknown) =>
        e instanceof UnboundShapeError && /'0' \[\?,3,16\.\.64,16\.\.64\] axes 2 \(16\.\.64\), 3 \(16\.\.64\)/.test(e.message),
    );
    await assert.rejects(ie.loadNetwork(net, "CPU"), UnboundShapeError);
    for (const bad of [8, 65])
      assert.throws(
        () => net.reshape({ [input]: [1, 3, bad, 48] }),
        (e: unknown) =>
          e instanceof InputError && new RegExp(`input '0': axis 2 .* within 16\\.\\.64, got ${bad}`).test(e.message),
      );
    net.reshape({ [input]: [1, 3, 48, 48] });
    assert.equal(net.analyze().supported, true);
    // The oracle converts the untouched IR (48×48, the size the weights were trained for).
    const ref = irToOnnx(irPath("landmarks-regression-retail-0009"));
    t.diagnostic(`max error ${await equalsOnnxruntime(net, ref.onnx, ref.input, ref.outputs, 1e-6)}`);
  });
}
