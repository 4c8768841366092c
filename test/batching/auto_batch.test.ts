/**
 * The BATCH meta device: ie.loadNetwork(net, "BATCH:CPU(n)", { AUTO_BATCH_TIMEOUT }) gives a
 * batch-1 network whose requests are coalesced; each request's outputs equal a plain batch-1 run
 * of its own sample; malformed device strings and timeouts are typed errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { batcherOf, ConfigError, IECore, UnknownDeviceError } from "../../kernel";
import { irPath, maxRelDiff, numel, randomData } from "../helpers/models";

const LANDMARKS = irPath("landmarks-regression-retail-0009");
const HEAD_POSE = irPath("head-pose-estimation-adas-0001");

async function coalesced(device: string, config: Record<string, string>, calls: number, model = LANDMARKS) {
  const ie = new IECore();
  const net = await ie.readNetwork(model);
  const input = Object.keys(net.inputs)[0];
  const size = numel(net.inputs[input].shape.slice(1));
  const exec = await ie.loadNetwork(net, device, config);
  assert.equal(net.batchSize, 1, "the user's network keeps its batch");
  const plain = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  const samples = Array.from({ length: calls }, (_, i) => randomData(size, 70 + i));
  const requests = samples.map((x) => {
    const req = exec.createInferRequest();
    req.setInput(input, x);
    return req;
  });
  // Started together, as independent callers would: the batcher gathers them.
  await Promise.all(requests.map((r) => r.infer()));
  for (const [i, req] of requests.entries()) {
    plain.setInput(input, samples[i]);
    await plain.infer();
    for (const name of Object.keys(exec.outputs)) {
      assert.deepEqual(req.getBlob(name).shape, plain.getBlob(name).shape);
      const err = maxRelDiff(req.getBlob(name).data, plain.getBlob(name).data);
      assert.ok(err <= 1e-5, `request ${i} ${name}: error ${err} against a plain batch-1 run`);
    }
  }
  return { exec, batcher: batcherOf(exec)! };
}

test('"BATCH:CPU(8)" coalesces batch-1 requests into batches of up to 8; each request gets its own outputs', async () => {
  // A timeout far beyond the test: batches leave only because they are full.
  const { exec, batcher } = await coalesced("BATCH:CPU(8)", { AUTO_BATCH_TIMEOUT: "60000" }, 16);
  assert.equal(exec.device, "BATCH:CPU(8)");
  assert.equal(exec.batchLimit, 1);
  assert.equal(exec.dynamicBatch, false);
  assert.deepEqual(exec.inputs[Object.keys(exec.inputs)[0]].shape, [1, 3, 48, 48]);
  // 16 requests started in one turn of the event loop: two full batches.
  assert.deepEqual(batcher.stats().histogram, { 8: 2 });
  assert.equal(batcher.stats().paddedSamples, 0);
  assert.ok(exec.analysis?.supported, "loaded with a dynamic batch");
});

test('"BATCH:CPU(4)" with DYN_BATCH_ENABLED NO pads to the static batch', async () => {
  const { batcher } = await coalesced("BATCH:CPU(4)", { AUTO_BATCH_TIMEOUT: "0", DYN_BATCH_ENABLED: "NO" }, 6);
  const st = batcher.stats();
  assert.equal(st.computedSamples, 6);
  assert.equal(st.paddedSamples, st.batches * 4 - 6);
});

test('"BATCH:CPU(4)" on a topology the analysis refuses falls back to padding the static batch', async () => {
  // Strict analysis refuses head-pose's Reshape (test/runtime/errors.test.ts).
  const { exec, batcher } = await coalesced(
    "BATCH:CPU(4)",
    { AUTO_BATCH_TIMEOUT: "0", DYN_BATCH_ANALYSIS: "strict" },
    5,
    HEAD_POSE,
  );
  assert.equal(exec.analysis, undefined, "loaded without a dynamic batch");
  assert.equal(batcher.stats().paddedSamples, batcher.stats().batches * 4 - 5);
});

test("batcherOf is undefined for a network on a plain device", async () => {
  const ie = new IECore();
  const exec = await ie.loadNetwork(await ie.readNetwork(LANDMARKS), "CPU");
  assert.equal(batcherOf(exec), undefined);
});

test("malformed BATCH device strings and AUTO_BATCH_TIMEOUT values are typed errors", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(LANDMARKS);
  const bad: [string, Record<string, string>, (e: unknown) => boolean][] = [
    [
      "BATCH:CPU(x)",
      {},
      (e) => e instanceof ConfigError && /batch in BATCH:CPU\(<batch>\) must be a positive integer, got 'x'/.test(e.message),
    ],
    ["BATCH:CPU(0)", {}, (e) => e instanceof ConfigError && /got '0'/.test(e.message)],
    ["BATCH:CPU", {}, (e) => e instanceof ConfigError && /expected BATCH:<device>\(<batch>\)/.test(e.message)],
    ["BATCH:", {}, (e) => e instanceof ConfigError && /'BATCH:'/.test(e.message)],
    [
      "BATCH:FOO(4)",
      {},
      (e) => e instanceof UnknownDeviceError && e.device === "BATCH:FOO(4)" && /available devices: CPU/.test(e.message),
    ],
    ["BATCH:CPU(4)", { AUTO_BATCH_TIMEOUT: "-1" }, (e) => e instanceof ConfigError && /AUTO_BATCH_TIMEOUT.*"-1"/.test(e.message)],
    ["BATCH:CPU(4)", { AUTO_BATCH_TIMEOUT: "soon" }, (e) => e instanceof ConfigError && /AUTO_BATCH_TIMEOUT/.test(e.message)],
    ["BATCH:CPU(4)", { NOT_A_KEY: "1" }, (e) => e instanceof ConfigError && /Unsupported config key 'NOT_A_KEY'/.test(e.message)],
  ];
  for (const [device, config, check] of bad)
    await assert.rejects(ie.loadNetwork(net, device, config), check, `${device} ${JSON.stringify(config)}`);
});
