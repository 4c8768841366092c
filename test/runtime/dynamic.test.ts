/** Dynamic batch n equals n separate batch-1 runs, in any order of n (no stale state). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IECore, InferRequest } from "../../kernel";
import { DYNAMIC_MODELS, irPath, maxAbsDiff, maxRelDiff, numel, randomData } from "../helpers/models";

const LIMIT = 8;

/** Runs `data` after poisoning every output with NaN, so a run that writes nothing cannot pass on a previous result. */
async function runAll(req: InferRequest, inputName: string, data: Float32Array, outputs: string[]) {
  req.setInput(inputName, data);
  for (const o of outputs) req.getBlob(o).data.fill(NaN);
  await req.infer();
  return outputs.map((o) => Float32Array.from(req.getBlob(o).data));
}

for (const model of DYNAMIC_MODELS) {
  test(`${model}: setBatch(n) equals n batch-1 runs for n = 1..${LIMIT}, any order`, async () => {
    const ie = new IECore();
    ie.setConfig({ DYN_BATCH_ENABLED: "YES" }, "CPU");
    const net = await ie.readNetwork(irPath(model));
    const inputName = Object.keys(net.inputs)[0];
    const sample = numel(net.inputs[inputName].shape.slice(1));
    net.batchSize = LIMIT;
    const exec = await ie.loadNetwork(net, "CPU");
    assert.equal(exec.batchLimit, LIMIT);
    const outputs = Object.keys(exec.outputs);
    const req = exec.createInferRequest();
    // The reference: every sample alone at batch 1 on a second request.
    const single = exec.createInferRequest();
    single.setBatch(1);

    // Fresh samples for every run: a revisited batch size must not find its answer left in the buffers.
    for (const [run, n] of [1, 2, 3, 4, 5, 6, 7, 8, 3, 8, 1, 6].entries()) {
      const data = randomData(n * sample, 100 + run);
      req.setBatch(n);
      const got = await runAll(req, inputName, data, outputs);
      const refs: Float32Array[][] = [];
      for (let i = 0; i < n; i++)
        refs.push(await runAll(single, inputName, data.subarray(i * sample, (i + 1) * sample), outputs));
      outputs.forEach((o, k) => {
        const blob = req.getBlob(o);
        assert.equal(blob.shape[0], n, `${o} axis 0 at batch ${n}`);
        const per = got[k].length / n;
        for (let i = 0; i < n; i++) {
          const err = maxRelDiff(got[k].subarray(i * per, (i + 1) * per), refs[i][k]);
          assert.ok(err <= 1e-5, `${model} ${o} run ${run} batch ${n} sample ${i}: max error ${err}`);
        }
      });
    }
  });
}

test("the seed example: landmarks with limit 32 and setBatch(5) gives [5,10,1,1]", async () => {
  const ie = new IECore();
  ie.setConfig({ DYN_BATCH_ENABLED: "YES" }, "CPU");
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = 32;
  const exec = await ie.loadNetwork(net, "CPU");
  const req = exec.createInferRequest();
  req.setBatch(5);
  req.setInput("0", randomData(5 * 3 * 48 * 48));
  await req.infer();
  assert.deepEqual(req.getBlob("95").shape, [5, 10, 1, 1]);
  const pc = req.getPerformanceCounts();
  const conv = Object.values(pc).filter((p) => p.layerType === "Convolution");
  assert.ok(conv.length > 0 && conv.every((p) => p.status === "EXECUTED" && p.realTimeUs > 0));
});

test("head-pose outputs resolve by tensor name and have shape [n,1]", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("head-pose-estimation-adas-0001"));
  net.batchSize = 4;
  const exec = await ie.loadNetwork(net, "CPU", { KEY_DYN_BATCH_ENABLED: "YES" });
  const req = exec.createInferRequest();
  req.setBatch(2);
  req.setInput("data", randomData(2 * 3 * 60 * 60));
  await req.infer();
  for (const name of ["fc_y", "fc_p", "fc_r"]) assert.deepEqual(req.getBlob(name).shape, [2, 1]);
});

test("several requests of one network run concurrently and stay independent", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = 4;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const reqs = [0, 1, 2].map(() => exec.createInferRequest());
  const inputs = reqs.map((_, i) => randomData(4 * 3 * 48 * 48, 11 + i));
  reqs.forEach((r, i) => r.setInput("0", inputs[i]));
  await Promise.all(reqs.map((r) => r.infer()));
  const concurrent = reqs.map((r) => Float32Array.from(r.getBlob("95").data));
  for (let i = 0; i < reqs.length; i++) {
    reqs[0].setInput("0", inputs[i]);
    await reqs[0].infer();
    assert.ok(maxAbsDiff(reqs[0].getBlob("95").data, concurrent[i]) <= 1e-6);
  }
});

test("static network (no DYN_BATCH_ENABLED) runs at its batch and rejects setBatch", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = 2;
  const exec = await ie.loadNetwork(net, "CPU");
  const req = exec.createInferRequest();
  req.setInput("0", randomData(2 * 3 * 48 * 48));
  await req.infer();
  assert.deepEqual(req.getBlob("95").shape, [2, 10, 1, 1]);
  assert.throws(() => req.setBatch(1), { code: "DYN_BATCH_NOT_ENABLED", message: /Dynamic batch is not enabled\./ });
});

test("DYN_BATCH_LIMIT caps the maximum batch", async () => {
  const ie = new IECore();
  ie.setConfig({ DYN_BATCH_ENABLED: "YES", DYN_BATCH_LIMIT: "4" }, "CPU");
  assert.equal(ie.getConfig("CPU", "DYN_BATCH_LIMIT"), "4");
  const net = await ie.readNetwork(irPath("open-closed-eye-0001"));
  net.batchSize = 16;
  const exec = await ie.loadNetwork(net, "CPU");
  assert.equal(exec.batchLimit, 4);
  const req = exec.createInferRequest();
  assert.throws(() => req.setBatch(5), {
    code: "BATCH_OUT_OF_RANGE",
    message: "Invalid dynamic batch size 5 for this request. Expected value in range [1;4]",
  });
});
