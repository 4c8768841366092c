/**
 * CPU_PARALLEL: a run split by samples (each thread takes whole samples through the whole network)
 * computes what a run split by layers computes, at every batch, in any order of batches, for
 * dynamic and static networks; AUTO measures the strategies and keeps computing the same values.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { ConfigError, IECore, InferRequest } from "../../kernel";
import { loadAddon } from "../../kernel/plugins/native";
import { allowedCpus } from "../helpers/cpus";
import { DYNAMIC_MODELS, irPath, maxRelDiff, numel, randomData } from "../helpers/models";
import { samplesAgainstLayers } from "../helpers/samples_vs_layers";

const LIMIT = 6;
const MODES = ["LAYERS", "SAMPLES", "AUTO"] as const;

async function outputsAt(req: InferRequest, input: string, data: Float32Array, names: string[]): Promise<Float32Array[]> {
  req.setInput(input, data);
  await req.infer();
  return names.map((o) => Float32Array.from(req.getBlob(o).data));
}

for (const model of DYNAMIC_MODELS) {
  test(`${model}: split by samples, by layers and measured (AUTO) give the same outputs at every batch, any order`, async () => {
    const ie = new IECore();
    const net = await ie.readNetwork(irPath(model));
    net.batchSize = LIMIT;
    const input = Object.keys(net.inputs)[0];
    const sample = numel(net.inputs[input].shape.slice(1));
    const data = randomData(LIMIT * sample, 11);
    const reqs = await Promise.all(
      MODES.map(async (mode) => {
        const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES", CPU_THREADS_NUM: 2, CPU_PARALLEL: mode });
        return exec.createInferRequest();
      }),
    );
    const names = Object.keys(net.outputs);
    // AUTO tries every strategy on its first runs at a batch: repeat each n past that.
    for (const n of [1, 2, 5, 3, 6, 1, 4, 2]) {
      const slice = data.subarray(0, n * sample);
      reqs.forEach((r) => r.setBatch(n));
      const [byLayers, bySamples] = [
        await outputsAt(reqs[0], input, slice, names),
        await outputsAt(reqs[1], input, slice, names),
      ];
      names.forEach((o, k) => {
        const err = maxRelDiff(bySamples[k], byLayers[k]);
        assert.ok(err <= 1e-6, `${model} ${o} n=${n}: samples vs layers ${err}`);
      });
      for (let run = 0; run < 6; run++) {
        const auto = await outputsAt(reqs[2], input, slice, names);
        names.forEach((o, k) => {
          const err = maxRelDiff(auto[k], byLayers[k]);
          assert.ok(err <= 1e-6, `${model} ${o} n=${n} AUTO run ${run}: ${err}`);
        });
      }
    }
  });
}

test("a static batch proven sample-independent splits by samples with the same outputs", async () => {
  const { err, samples } = await samplesAgainstLayers();
  assert.ok(err <= 1e-6, `samples vs layers ${err}`);
  // Not a copy of one sample: the five samples differ.
  assert.notDeepEqual(Array.from(samples.subarray(0, 10)), Array.from(samples.subarray(10, 20)));
});

test("the helpers of a run split by samples are kept off the CPU its caller runs on", async (t) => {
  if (os.availableParallelism() < 2) return t.skip("one CPU: nothing to keep the helpers off");
  const { err, helpers, keptOff } = await samplesAgainstLayers();
  assert.ok(err <= 1e-6, `samples vs layers ${err}`);
  assert.ok(keptOff >= 0, "the caller's CPU is known");
  assert.ok(helpers.length >= 1 && !helpers.includes(keptOff), `helpers on ${helpers}, kept off ${keptOff}`);
});

test("on a single CPU a run split by samples computes the same and leaves its helpers on that CPU", () => {
  // The first CPU this process may use; the child runs on it alone.
  const allowed = String(allowedCpus()[0]);
  const helper = path.resolve(__dirname, "../helpers/samples_vs_layers.js");
  const script = `require(${JSON.stringify(helper)}).samplesAgainstLayers().then(({ err, helpers, keptOff }) => console.log(JSON.stringify({ err, helpers, keptOff })))`;
  const out = execFileSync("taskset", ["-c", allowed, process.execPath, "-e", script], { encoding: "utf8" });
  const { err, helpers, keptOff } = JSON.parse(out.trim().split("\n").pop()!);
  assert.ok(err <= 1e-6, `samples vs layers on one CPU: ${err}`);
  assert.equal(keptOff, -1);
  assert.deepEqual(helpers, [Number(allowed)]);
});

test("setInput wakes sleeping sample helpers ahead of a run split by samples, not ahead of one split by layers", async (t) => {
  if (os.availableParallelism() < 2) return t.skip("one CPU: runs split by samples have no helpers");
  const addon = loadAddon();
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = 4;
  const data = randomData(4 * 3 * 48 * 48, 15);
  const request = async (mode: string) =>
    (await ie.loadNetwork(net, "CPU", { CPU_THREADS_NUM: 2, CPU_PARALLEL: mode })).createInferRequest();
  const [samples, layers] = [await request("SAMPLES"), await request("LAYERS")];
  const expected = (await outputsAt(layers, "0", data, ["95"]))[0];
  await outputsAt(samples, "0", data, ["95"]);
  const asleep = () => new Promise((resolve) => setTimeout(resolve, 50)); // helpers spin 50 µs after a run
  await asleep();
  const before = addon.sampleTeamState().prewakes;
  layers.setInput("0", data);
  assert.equal(addon.sampleTeamState().prewakes, before, "a layer-parallel run has no helpers to wake");
  samples.setInput("0", data);
  assert.equal(addon.sampleTeamState().prewakes, before + 1);
  await samples.infer();
  assert.ok(maxRelDiff(samples.getBlob("95").data, expected) <= 1e-6);
});

test("setInput wakes the inference thread ahead of a layer-parallel run; runs after it, prepared or not, compute the same", async () => {
  const addon = loadAddon();
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("head-pose-estimation-adas-0001"));
  net.batchSize = 3;
  const data = randomData(3 * 3 * 60 * 60, 16);
  const names = Object.keys(net.outputs);
  const request = async (threads: number) =>
    (await ie.loadNetwork(net, "CPU", { CPU_THREADS_NUM: threads, CPU_PARALLEL: "LAYERS" })).createInferRequest();
  const expected = await outputsAt(await request(1), "data", data, names);
  const [a, b] = [await request(2), await request(2)];
  const same = (got: Float32Array[], what: string) =>
    names.forEach((o, k) =>
      assert.ok(maxRelDiff(got[k], expected[k]) <= 1e-5, `${what} ${o}: ${maxRelDiff(got[k], expected[k])}`),
    );
  same(await outputsAt(a, "data", data, names), "first run");
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  await pause(50); // the inference thread sleeps between requests
  const before = addon.runnerWarmUps();
  a.setInput("data", data);
  assert.equal(addon.runnerWarmUps(), before + 1);
  // The run comes after the warmed thread has given up waiting for it...
  await pause(20);
  await a.infer();
  same(
    names.map((o) => Float32Array.from(a.getBlob(o).data)),
    "late run",
  );
  // ...right away, and for two requests at once (the second waits for the cores).
  b.setInput("data", data);
  a.setInput("data", data);
  await Promise.all([a.infer(), b.infer()]);
  same(
    names.map((o) => Float32Array.from(a.getBlob(o).data)),
    "request a",
  );
  same(
    names.map((o) => Float32Array.from(b.getBlob(o).data)),
    "request b",
  );
});

test("CPU_PARALLEL accepts AUTO, LAYERS and SAMPLES (any case) and refuses anything else", async () => {
  const ie = new IECore();
  assert.equal(ie.getConfig("CPU", "CPU_PARALLEL"), "AUTO");
  ie.setConfig({ KEY_CPU_PARALLEL: "samples" }, "CPU");
  assert.equal(ie.getConfig("CPU", "CPU_PARALLEL"), "SAMPLES");
  assert.throws(
    () => ie.setConfig({ CPU_PARALLEL: "STREAMS" }, "CPU"),
    (e: unknown) => e instanceof ConfigError && /CPU_PARALLEL/.test(e.message),
  );
});
