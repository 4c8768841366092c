// The batcher on the GPU plugin (pocl when there is no GPU): concurrent callers each get their
// own sample's outputs, compared with the CPU plugin's batch-1 run of the same sample.
import { GPU_SKIP } from "./env";
import { test } from "node:test";
import assert from "node:assert/strict";
import { batcherOf, Blob, IECore } from "../../kernel";
import { irPath, maxRelDiff, numel, randomData } from "../helpers/models";

const LANDMARKS = irPath("landmarks-regression-retail-0009");

for (const dynamic of [true, false])
  test(
    `GPU batcher (${dynamic ? "dynamic batch" : "static batch, padded"}): each caller gets its own sample's outputs`,
    { skip: GPU_SKIP },
    async () => {
      const ie = new IECore();
      const net = await ie.readNetwork(LANDMARKS);
      const input = Object.keys(net.inputs)[0];
      const size = numel(net.inputs[input].shape.slice(1));
      const cpu = (await ie.loadNetwork(net, "CPU")).createInferRequest();
      net.batchSize = 4;
      const exec = await ie.loadNetwork(net, "GPU", dynamic ? { DYN_BATCH_ENABLED: "YES" } : {});
      const batcher = exec.createBatcher({ maxDelayUs: 2000, requests: 2 });
      const samples = Array.from({ length: 11 }, (_, i) => randomData(size, 40 + i));
      const got: Record<string, Blob>[] = await Promise.all(samples.map((x) => batcher.infer({ [input]: x })));
      await batcher.close();
      for (const [i, sample] of samples.entries()) {
        cpu.setInput(input, sample);
        await cpu.infer();
        for (const [name, blob] of Object.entries(got[i])) {
          assert.deepEqual(blob.shape, [1, ...exec.outputs[name].shape.slice(1)]);
          const err = maxRelDiff(blob.data, cpu.getBlob(name).data);
          assert.ok(err <= 1e-4, `sample ${i} ${name}: GPU batcher differs from the CPU's batch-1 run by ${err}`);
        }
      }
      const st = batcher.stats();
      assert.equal(st.completed, samples.length);
      assert.equal(st.computedSamples, samples.length);
      if (!dynamic) assert.equal(st.paddedSamples, st.batches * 4 - samples.length);
    },
  );

test('"BATCH:GPU(4)": coalesced batch-1 requests on the GPU each get their own outputs', { skip: GPU_SKIP }, async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(LANDMARKS);
  const input = Object.keys(net.inputs)[0];
  const size = numel(net.inputs[input].shape.slice(1));
  const cpu = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  // A timeout far beyond the test: batches leave only because they are full.
  const exec = await ie.loadNetwork(net, "BATCH:GPU(4)", { AUTO_BATCH_TIMEOUT: "60000" });
  const samples = Array.from({ length: 8 }, (_, i) => randomData(size, 60 + i));
  const requests = samples.map((x) => {
    const req = exec.createInferRequest();
    req.setInput(input, x);
    return req;
  });
  await Promise.all(requests.map((r) => r.infer()));
  for (const [i, req] of requests.entries()) {
    cpu.setInput(input, samples[i]);
    await cpu.infer();
    for (const name of Object.keys(exec.outputs)) {
      const err = maxRelDiff(req.getBlob(name).data, cpu.getBlob(name).data);
      assert.ok(err <= 1e-4, `request ${i} ${name}: BATCH:GPU differs from the CPU's batch-1 run by ${err}`);
    }
  }
  assert.deepEqual(batcherOf(exec)!.stats().histogram, { 4: 2 });
});
