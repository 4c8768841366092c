/**
 * simulateBatching on synthetic cost curves, against answers worked out by hand: a batch of n
 * costs 1 + n ms ("dynamic" points at 1, 2, 4, 8; n = 3 falls between them), a padded batch
 * costs the "static" point at the batch. Ten arrivals 0.1 ms apart unless said otherwise.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, LatencyPoint, LatencyReport, poissonArrivals, simulateBatching, SimulationReport } from "../../kernel";

function point(mode: "dynamic" | "static", batch: number, ms: number): LatencyPoint {
  return { batch, mode, latencyMs: { p50: ms, p90: ms, min: ms, max: ms }, throughput: (batch / ms) * 1000 };
}

const COST: LatencyReport = {
  model: "synthetic",
  device: "CPU",
  limit: 8,
  points: [...[1, 2, 4, 8].map((n) => point("dynamic", n, 1 + n)), point("static", 1, 3), point("static", 4, 7)],
};

const TENTHS = Array.from({ length: 10 }, (_, k) => k / 10);

function near(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a}, expected ${b}`);
}

function latencies(r: SimulationReport, p50: number, p90: number, p99: number): void {
  near(r.latencyMs.p50, p50, "p50");
  near(r.latencyMs.p90, p90, "p90");
  near(r.latencyMs.p99, p99, "p99");
}

test("no batching (maxBatch 1): a queue grows behind a 2 ms service; sample k waits k ms", () => {
  const arrivals = Array.from({ length: 10 }, (_, k) => k);
  const r = simulateBatching({ cost: COST, arrivals, policy: { maxDelayUs: 0, maxBatch: 1 } });
  // Sample k starts at 2k and ends at 2k + 2: latency k + 2, for k = 0..9.
  latencies(r, 6.5, 10.1, 10.91);
  assert.deepEqual(r.histogram, { 1: 10 });
  near(r.elapsedMs, 20, "elapsed");
  near(r.throughput, 500, "throughput");
  assert.equal(r.completed, 10);
  assert.deepEqual(r.errors, {});
});

test("maxDelay 250 µs, maxBatch 4, one request: batches of 3, 4 and 3", () => {
  const r = simulateBatching({ cost: COST, arrivals: TENTHS, policy: { maxDelayUs: 250, maxBatch: 4 } });
  // 0.25: samples 0-2 leave (cost 4, done 4.25); 3-9 queue behind; 4.25: 3-6 (cost 5, done 9.25);
  // 9.25: 7-9 (done 13.25). Latencies 4.25 4.15 4.05 | 8.95 8.85 8.75 8.65 | 12.55 12.45 12.35.
  assert.deepEqual(r.histogram, { 3: 2, 4: 1 });
  latencies(r, 8.8, 12.46, 12.541);
  near(r.elapsedMs, 13.25, "elapsed");
  near(r.throughput, 10_000 / 13.25, "throughput");
});

test("a steady stream in closed form: one arrival per ms, batches of 4 leave full and take 5 ms", () => {
  // maxDelay 10 ms never ends first, and a batch of 4 costs 5 ms, longer than the 4 ms it takes to
  // fill: batch k leaves when the request frees, at 5k + 3, and is done at 5k + 8. Sample t (of
  // batch floor(t / 4)) arrived at t, so it waits 5·floor(t / 4) + 8 − t: a queue growing 1 ms a batch.
  const arrivals = Array.from({ length: 40 }, (_, i) => i);
  const r = simulateBatching({ cost: COST, arrivals, policy: { maxDelayUs: 10_000, maxBatch: 4 } });
  const expected = arrivals.map((t) => 5 * Math.floor(t / 4) + 8 - t).sort((a, b) => a - b);
  assert.deepEqual(r.histogram, { 4: 10 });
  const at = (q: number) => {
    const rank = (q / 100) * (expected.length - 1);
    const lo = Math.floor(rank);
    return expected[lo] + (expected[Math.ceil(rank)] - expected[lo]) * (rank - lo);
  };
  latencies(r, at(50), at(90), at(99));
  near(r.elapsedMs, 5 * 9 + 8, "elapsed");
  near(r.throughput, 40_000 / 53, "throughput");
});

test("a fixed overhead per batch: the steady stream's batches take 5 + 1 ms; a lone sample waits delay + cost + overhead", () => {
  // As above with every batch 1 ms longer: batch k leaves at 6k + 3 and is done at 6k + 9.
  const arrivals = Array.from({ length: 40 }, (_, i) => i);
  const r = simulateBatching({ cost: COST, arrivals, policy: { maxDelayUs: 10_000, maxBatch: 4, overheadMs: 1 } });
  const expected = arrivals.map((t) => 6 * Math.floor(t / 4) + 9 - t).sort((a, b) => a - b);
  assert.deepEqual(r.histogram, { 4: 10 });
  near(r.latencyMs.p50, (expected[19] + expected[20]) / 2, "p50");
  near(r.elapsedMs, 6 * 9 + 9, "elapsed");
  near(r.throughput, 40_000 / 63, "throughput");
  // One sample at 5 ms: maxDelay 0.5 ms, a batch of 1 costs 2 ms, the overhead 0.3 ms.
  const lone = simulateBatching({ cost: COST, arrivals: [5], policy: { maxDelayUs: 500, overheadMs: 0.3 } });
  latencies(lone, 2.8, 2.8, 2.8);
  // A lone sample's own overhead (0.1 ms) for a batch of 1; a batch of 3 of 8 pays 0.1 + (2/7)·(0.8 − 0.1) = 0.3 ms.
  const mixed = { maxDelayUs: 500, overheadMs: 0.8, loneOverheadMs: 0.1 };
  latencies(simulateBatching({ cost: COST, arrivals: [5], policy: mixed }), 2.6, 2.6, 2.6);
  // Three at 0, 0.1 and 0.2: sent at 0.5 ms, a batch of 3 costs 4 ms, done at 4.8 ms.
  latencies(simulateBatching({ cost: COST, arrivals: [0, 0.1, 0.2], policy: mixed }), 4.7, 4.78, 4.798);
});

test("two requests: the second takes the next batch once its delay ends", () => {
  const r = simulateBatching({ cost: COST, arrivals: TENTHS, policy: { maxDelayUs: 250, maxBatch: 4, requests: 2 } });
  // 0.25: 0-2 on request 0 (done 4.25); 0.55: 3-5 on request 1 (done 4.55); 4.25: 6-9 (done 9.25).
  // Latencies 4.25 4.15 4.05 | 4.25 4.15 4.05 | 8.65 8.55 8.45 8.35.
  assert.deepEqual(r.histogram, { 3: 2, 4: 1 });
  latencies(r, 4.25, 8.56, 8.641);
  near(r.elapsedMs, 9.25, "elapsed");
});

test("a timeout drops the samples still waiting at their deadline; a full queue refuses at once", () => {
  const timed = simulateBatching({ cost: COST, arrivals: TENTHS, policy: { maxDelayUs: 250, maxBatch: 4, timeoutUs: 5000 } });
  // Samples 7-9 would wait until 9.25; they expire at 5.7, 5.8 and 5.9.
  assert.deepEqual(timed.errors, { REQUEST_TIMEOUT: 3 });
  assert.equal(timed.completed, 7);
  assert.deepEqual(timed.histogram, { 3: 1, 4: 1 });
  near(timed.elapsedMs, 9.25, "elapsed");
  const full = simulateBatching({ cost: COST, arrivals: TENTHS, policy: { maxDelayUs: 250, maxBatch: 4, maxQueue: 4 } });
  // Samples 3-6 fill the queue behind the first batch; 7, 8 and 9 find it full.
  assert.deepEqual(full.errors, { QUEUE_FULL: 3 });
  assert.deepEqual(full.histogram, { 3: 1, 4: 1 });
  assert.equal(full.offered, 10);
});

test("padding to a static batch: every batch costs the static point, the missing rows are counted", () => {
  const r = simulateBatching({ cost: COST, arrivals: TENTHS, policy: { maxDelayUs: 250, maxBatch: 4, pad: true } });
  // Each batch costs 7 ms: done at 7.25, 14.25, 21.25; batches of 3, 4, 3 pad 1 + 0 + 1 rows.
  assert.deepEqual(r.histogram, { 3: 2, 4: 1 });
  assert.equal(r.paddedSamples, 2);
  near(r.latencyMs.p50, 13.8, "p50");
  near(r.elapsedMs, 21.25, "elapsed");
});

test("Poisson arrivals: deterministic, every sample answered once", () => {
  const arrivals = poissonArrivals(2000, 500, 9);
  const a = simulateBatching({ cost: COST, arrivals, policy: { maxDelayUs: 500 } });
  assert.deepEqual(simulateBatching({ cost: COST, arrivals, policy: { maxDelayUs: 500 } }), a);
  assert.equal(a.completed, arrivals.length);
  const computed = Object.entries(a.histogram).reduce((s, [n, c]) => s + Number(n) * c, 0);
  assert.equal(computed, arrivals.length);
  assert.deepEqual(simulateBatching({ cost: COST, arrivals: [], policy: {} }).completed, 0);
});

test("bad input is a ConfigError naming what is wrong", () => {
  const bad: [unknown, RegExp][] = [
    [{ cost: COST, arrivals: TENTHS, policy: { maxDelayUs: -1 } }, /policy.maxDelayUs must be a finite number ≥ 0/],
    [{ cost: COST, arrivals: TENTHS, policy: { maxBatch: 0 } }, /policy.maxBatch/],
    [{ cost: COST, arrivals: TENTHS, policy: { requests: 1.5 } }, /policy.requests must be an integer/],
    [{ cost: COST, arrivals: TENTHS, policy: { overheadMs: -0.1 } }, /policy.overheadMs must be a finite number ≥ 0/],
    [{ cost: COST, arrivals: TENTHS, policy: { loneOverheadMs: NaN } }, /policy.loneOverheadMs must be a finite number/],
    [
      { cost: COST, arrivals: TENTHS, policy: { maxBatch: 16 } },
      /"dynamic" points from batch 1 to 16; synthetic has \[1,2,4,8\]/,
    ],
    [{ cost: COST, arrivals: TENTHS, policy: { maxBatch: 8, pad: true } }, /"static" points from batch 1 to 8/],
    [{ cost: COST, arrivals: [2, 1], policy: {} }, /arrivals must be finite times in ms, ascending/],
    [{ cost: {}, arrivals: TENTHS, policy: {} }, /cost must be a LatencyReport/],
    [{ cost: COST, arrivals: TENTHS, policy: null }, /policy must be an object/],
  ];
  for (const [opts, message] of bad)
    assert.throws(
      () => simulateBatching(opts as never),
      (e: unknown) => e instanceof ConfigError && message.test(e.message),
      String(message),
    );
});

test("wakeMs: a batch that finds its request idle pays it, one queued behind the previous batch does not", () => {
  const policy = { maxDelayUs: 0, maxBatch: 1, wakeMs: 0.5 };
  // Apart: each finds the request idle, 2 ms + 0.5 ms.
  const apart = simulateBatching({ cost: COST, arrivals: [0, 10], policy });
  latencies(apart, 2.5, 2.5, 2.5);
  // 0.1 ms apart: the first wakes (done 2.5), the second starts as it ends (done 4.5): 2.5 and 4.4.
  const close = simulateBatching({ cost: COST, arrivals: [0, 0.1], policy });
  near(close.latencyMs.p50, 3.45, "p50");
  near(close.elapsedMs, 4.5, "elapsed");
  assert.throws(
    () => simulateBatching({ cost: COST, arrivals: [0], policy: { wakeMs: -1 } }),
    /policy.wakeMs must be a finite number ≥ 0/,
  );
});
