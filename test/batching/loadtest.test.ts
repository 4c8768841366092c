/**
 * loadTest, poissonArrivals and streamArrivals: the Poisson stream is a function of its seed with
 * the statistics of a Poisson process, video streams replay per-frame counts at hand-worked times; reports have a consistent structure for each target (batcher, plain
 * requests, padded static batch). No assertion on how fast anything ran.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, IECore, loadTest, LoadReport, poissonArrivals, streamArrivals } from "../../kernel";
import { irPath } from "../helpers/models";

const LANDMARKS = irPath("landmarks-regression-retail-0009");

async function load(batch: number, dynamic: boolean) {
  const ie = new IECore();
  const net = await ie.readNetwork(LANDMARKS);
  net.batchSize = batch;
  return ie.loadNetwork(net, "CPU", dynamic ? { DYN_BATCH_ENABLED: "YES" } : {});
}

/** What every report must satisfy, whatever the timings. */
function consistent(r: LoadReport): void {
  assert.equal(r.completed + Object.values(r.errors).reduce((a, b) => a + b, 0), r.offered);
  assert.ok(r.completed > 0);
  assert.ok(r.latencyMs.p50 <= r.latencyMs.p90 && r.latencyMs.p90 <= r.latencyMs.p99, JSON.stringify(r.latencyMs));
  assert.ok(r.latencyMs.p50 > 0);
  assert.ok(r.elapsedMs > 0);
  assert.ok(Math.abs(r.throughput - (r.completed * 1000) / r.elapsedMs) < 1e-9);
  const computed = Object.entries(r.histogram).reduce((sum, [n, count]) => sum + Number(n) * count, 0);
  assert.equal(computed, r.completed, "every answered sample ran in exactly one batch");
}

test("poissonArrivals: the same seed gives the same times; exponential gaps of mean 1/rate", () => {
  const a = poissonArrivals(1000, 100_000, 7);
  assert.deepEqual(poissonArrivals(1000, 100_000, 7), a);
  assert.notDeepEqual(poissonArrivals(1000, 100_000, 8).slice(0, 10), a.slice(0, 10));
  assert.ok(a.every((t, i) => t >= 0 && t < 100_000 && (i === 0 || t >= a[i - 1])));
  const gaps = a.map((t, i) => t - (i ? a[i - 1] : 0));
  const mean = gaps.reduce((x, y) => x + y, 0) / gaps.length;
  const sd = Math.sqrt(gaps.reduce((x, g) => x + (g - mean) ** 2, 0) / gaps.length);
  // An exponential distribution of mean 1 ms: standard deviation 1 ms, P(gap > mean) = 1/e.
  assert.ok(Math.abs(mean - 1) < 0.02, `mean gap ${mean} ms`);
  assert.ok(Math.abs(sd - 1) < 0.03, `standard deviation ${sd} ms`);
  const above = gaps.filter((g) => g > 1).length / gaps.length;
  assert.ok(Math.abs(above - Math.exp(-1)) < 0.01, `P(gap > 1 ms) = ${above}`);
  assert.deepEqual(poissonArrivals(10, 0, 1), []);
  for (const [rate, d] of [
    [0, 10],
    [NaN, 10],
    [10, -1],
  ])
    assert.throws(() => poissonArrivals(rate, d, 1), ConfigError);
});

test("loadTest on a batcher, closed arrivals: a consistent report whose histogram counts this test only", async () => {
  const exec = await load(8, true);
  const batcher = exec.createBatcher({ maxDelayUs: 500 });
  const first = await loadTest(batcher, { arrivals: "closed", concurrency: 8, durationMs: 150 });
  consistent(first);
  assert.equal(first.target, "batcher");
  assert.equal(first.concurrency, 8);
  assert.equal(first.paddedSamples, 0);
  const second = await loadTest(batcher, { arrivals: "closed", concurrency: 3, durationMs: 100 });
  consistent(second);
  assert.equal(batcher.stats().completed, first.completed + second.completed);
  await batcher.close();
});

test("loadTest with Poisson arrivals offers exactly poissonArrivals(rate, durationMs, seed)", async () => {
  const exec = await load(1, false);
  const runs = [];
  for (let i = 0; i < 2; i++)
    runs.push(await loadTest(exec, { arrivals: "poisson", rate: 400, durationMs: 200, seed: 3, requests: 2 }));
  for (const r of runs) {
    consistent(r);
    assert.equal(r.offered, poissonArrivals(400, 200, 3).length);
    assert.equal(r.target, "requests");
    assert.equal(r.requests, 2);
    assert.equal(r.rate, 400);
    assert.deepEqual(Object.keys(r.histogram), ["1"]);
    assert.equal(r.paddedSamples, 0);
  }
  const other = await loadTest(exec, { arrivals: "poisson", rate: 400, durationMs: 200, seed: 4 });
  assert.equal(other.offered, poissonArrivals(400, 200, 4).length);
});

test("a static batch: plain requests pad every sample; a batcher pads only what its batches lack", async () => {
  const exec = await load(4, false);
  const plain = await loadTest(exec, { arrivals: "closed", concurrency: 2, durationMs: 100, requests: 2 });
  consistent(plain);
  assert.equal(plain.paddedSamples, 3 * plain.completed);
  const batcher = exec.createBatcher({ maxDelayUs: 1000 });
  const coalesced = await loadTest(batcher, { arrivals: "poisson", rate: 2000, durationMs: 100, seed: 5 });
  consistent(coalesced);
  const batches = Object.values(coalesced.histogram).reduce((a, b) => a + b, 0);
  assert.equal(coalesced.paddedSamples, 4 * batches - coalesced.completed);
  await batcher.close();
});

test("refused samples are counted by error code, not timed", async () => {
  const exec = await load(2, true);
  // One sample at a time fits: every other simultaneous arrival finds the queue full.
  const batcher = exec.createBatcher({ maxDelayUs: 100_000, maxQueue: 1, maxBatch: 2 });
  const r = await loadTest(batcher, { arrivals: "poisson", rate: 100_000, durationMs: 5, seed: 2 });
  consistent(r);
  assert.ok(r.errors.QUEUE_FULL > 0, JSON.stringify(r.errors));
  await batcher.close();
});

test("bad loadTest options are ConfigErrors naming the option", async () => {
  const exec = await load(1, false);
  const batcher = exec.createBatcher();
  const bad: [unknown, unknown, RegExp][] = [
    [exec, { arrivals: "uniform", durationMs: 10 }, /arrivals must be "poisson" or "closed"/],
    [exec, { arrivals: "poisson", durationMs: 10 }, /rate must be a positive number/],
    [exec, { arrivals: "closed", concurrency: 0, durationMs: 10 }, /concurrency must be a positive integer/],
    [exec, { arrivals: "closed", concurrency: 1, durationMs: 0 }, /durationMs/],
    [exec, { arrivals: "closed", concurrency: 1, durationMs: 10, seed: 0.5 }, /seed/],
    [exec, { arrivals: "closed", concurrency: 1, durationMs: 10, speed: 2 }, /unknown option 'speed'/],
    [batcher, { arrivals: "closed", concurrency: 1, durationMs: 10, requests: 2 }, /requests applies to an ExecutableNetwork/],
    [{}, { arrivals: "closed", concurrency: 1, durationMs: 10 }, /target must be a Batcher or an ExecutableNetwork/],
  ];
  for (const [target, opts, message] of bad)
    await assert.rejects(
      loadTest(target as never, opts as never),
      (e: unknown) => e instanceof ConfigError && message.test(e.message),
      String(message),
    );
  await batcher.close();
});

test("streamArrivals: staggered streams replay per-frame counts from spread-out starting frames", () => {
  // Stream 0 plays frames 0, 1 at 0 and 100 ms; stream 1 starts at frame 2, half a period later.
  assert.deepEqual(streamArrivals([1, 0, 2, 3], { streams: 2, fps: 10, durationMs: 200 }), [0, 50, 50, 150, 150, 150]);
  // Wrapping: one stream longer than the recording plays it again.
  assert.deepEqual(streamArrivals([2, 1], { streams: 1, fps: 1000, durationMs: 4 }), [0, 0, 1, 2, 2, 3]);
  const bad: [unknown, unknown][] = [
    [[], { streams: 1, fps: 25, durationMs: 10 }],
    [[1, -1], { streams: 1, fps: 25, durationMs: 10 }],
    [[1], { streams: 0, fps: 25, durationMs: 10 }],
    [[1], { streams: 1, fps: 0, durationMs: 10 }],
    [[1], { streams: 1, fps: 25, durationMs: -1 }],
  ];
  for (const [counts, opts] of bad) assert.throws(() => streamArrivals(counts as never, opts as never), ConfigError);
});
