// A custom layer on the GPU plugin: the native segments run on the device, the callback on the
// host between them; the result equals the CPU plugin's at every batch.
import { GPU_SKIP } from "./env";
import { test } from "node:test";
import assert from "node:assert/strict";
import { IECore } from "../../kernel";
import { maxRelDiff, numel, randomData } from "../helpers/models";
import { SAMPLE, model, myNorm } from "../helpers/extension_models";

test("a batch-independent custom layer runs on GPU by copy to host and back, equal to CPU", { skip: GPU_SKIP }, async () => {
  const file = model(false);
  const run = async (device: string) => {
    const ie = new IECore();
    const seen: number[] = [];
    ie.addExtension(myNorm(seen));
    const net = await ie.readNetwork(file);
    net.batchSize = 3;
    const req = (await ie.loadNetwork(net, device, { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    const out = Object.keys(net.outputs)[0];
    const results: Float32Array[] = [];
    for (const n of [1, 3]) {
      req.setBatch(n);
      req.setInput("x", randomData(n * numel(SAMPLE), 90 + n, -2, 2));
      req.getBlob(out).data.fill(NaN);
      await req.infer();
      results.push(Float32Array.from(req.getBlob(out).data));
    }
    assert.equal(req.getPerformanceCounts()[net.layers.find((l) => l.type === "MyNorm")!.name].execType, "custom");
    assert.deepEqual(seen, [1, 3]);
    return results;
  };
  const [cpu, gpu] = [await run("CPU"), await run("GPU")];
  cpu.forEach((c, i) => assert.ok(maxRelDiff(gpu[i], c) <= 1e-4, `run ${i}: ${maxRelDiff(gpu[i], c)}`));
});
