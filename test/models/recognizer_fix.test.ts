/**
 * fixForDynamicBatch() on the PP-OCRv4 recognizer: its two attention blocks split q, k and v with a
 * Transpose that moves the batch to axis 1 (test/models/attention_split.test.ts rewrites the file by
 * hand). The rewrite "transpose-keep-batch" must find both, prove the whole model, and the fixed
 * network with setBatch(n), and its Triton export in onnxruntime, must equal onnxruntime on the
 * original file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { IECore } from "../../kernel";
import { makeInput, REC_NORM } from "./inputs";
import { MODEL_TABLE, modelPath } from "./table";

const REC = MODEL_TABLE.find((m) => /recognizer/.test(m.id))!;

test("PP-OCRv4 recognizer: fixForDynamicBatch() keeps the batch first in both q/k/v splits; setBatch(n) equals onnxruntime", async (t) => {
  const ie = new IECore();
  const shape = REC.shape;
  const net = await ie.readNetwork(modelPath(REC), { shapes: { x: shape } });
  assert.equal(net.analyze().supported, false);
  const { network, changes } = await net.fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.kind, c.type, c.applied, c.before, c.after]),
    Array.from({ length: 2 }, () => [
      "transpose-keep-batch",
      "Transpose",
      true,
      "Transpose [2,0,3,1,4] → [3,1,8,40,15] (batch on axis 1); Slice×3, Squeeze×3 on axis 0",
      "Transpose [0,2,3,1,4] → [1,3,8,40,15] (batch on axis 0); Slice×3, Squeeze×3 on axis 1",
    ]),
  );
  for (const c of changes) {
    assert.match(c.blocked, /moves the batch to axis 1/);
    assert.match(c.proof!.analysis, /\[N,40,3,8,15\] → \[N,3,8,40,15\]/);
    assert.ok(c.proof!.numeric.every((x) => x.maxAbsError <= 1e-5));
  }
  const report = network.analyze();
  assert.equal(report.supported, true, report.summary.blocking.join(", "));
  // The original is untouched.
  assert.equal(net.analyze().supported, false);

  network.reshape({ x: [3, ...shape.slice(1)] });
  const req = (await ie.loadNetwork(network, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const session = await ort.InferenceSession.create(modelPath(REC));
  // Deployed: the original is refused by exportTriton, the fixed network exported; Triton's
  // onnxruntime backend would run that model.onnx at batch n, and onnxruntime here does.
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-rec-fix-"));
  await assert.rejects(net.exportTriton(path.join(repo, "before"), { name: "rec", maxBatch: 8 }), {
    code: "DYN_BATCH_UNSUPPORTED_TOPOLOGY",
  });
  await network.exportTriton(repo, { name: "rec", maxBatch: 8 });
  assert.match(fs.readFileSync(path.join(repo, "rec", "config.pbtxt"), "utf8"), /max_batch_size: 8/);
  const fixedSession = await ort.InferenceSession.create(path.join(repo, "rec", "1", "model.onnx"));
  const out = Object.keys(network.outputs)[0];
  for (const n of [1, 2, 3]) {
    req.setBatch(n);
    const data = makeInput(REC_NORM, n, shape.slice(1), 3000 + n);
    req.setInput("x", data);
    req.getBlob(out).data.fill(NaN);
    await req.infer();
    const want = (await session.run({ x: new ort.Tensor("float32", data, [n, ...shape.slice(1)]) }))[out].data as Float32Array;
    const got = req.getBlob(out).data.subarray(0, want.length);
    assert.ok(!got.some(Number.isNaN), `n=${n}: a row was not written`);
    const fixedOut = await fixedSession.run({ x: new ort.Tensor("float32", data, [n, ...shape.slice(1)]) });
    const exported = fixedOut[fixedSession.outputNames[0]].data as Float32Array;
    const range = want.reduce((a, v) => Math.max(a, v), -Infinity) - want.reduce((a, v) => Math.min(a, v), Infinity);
    for (const [what, values] of [
      ["setBatch", got],
      ["onnxruntime on the exported model.onnx", exported],
    ] as const) {
      let maxAbs = 0;
      for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i] - want[i]));
      assert.ok(values.length >= want.length, `${what}: ${values.length} values`);
      assert.ok(maxAbs <= 1e-4 * range, `n=${n}, ${what}: max abs error ${maxAbs}, output range ${range}`);
      t.diagnostic(`n=${n}, ${what}: max abs error ${maxAbs.toExponential(2)} (output range ${range.toFixed(3)})`);
    }
  }
});
