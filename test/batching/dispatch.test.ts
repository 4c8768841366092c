/**
 * The work-conserving dispatch beside the deadline one: ArrivalRate's leave time worked by hand,
 * the Batcher on a ManualClock (a lone sample after a silence leaves at once; dense arrivals wait,
 * but not past the deadline; a batch computing keeps the deadline rule), and simulateBatching
 * replaying the same rule. Outputs are checked against a batch-1 run of each sample.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, LatencyPoint, LatencyReport, simulateBatching } from "../../kernel";
import { ArrivalRate, dueAt } from "../../kernel/batching/dispatch";
import { randomData } from "../helpers/models";
import { ManualClock } from "../helpers/manual_clock";
import { checkAgainstBatch1, landmarks } from "../helpers/batch1_check";

test("ArrivalRate.leaveFrom: no rate before two arrivals; then when rate × time left reaches one sample", () => {
  const rate = new ArrivalRate();
  assert.equal(rate.leaveFrom(1000), -Infinity, "no arrival");
  rate.note(0);
  assert.equal(rate.leaveFrom(1000), -Infinity, "one arrival: no rate");
  rate.note(2000);
  // One gap over [0, t]: rate 1 / t; (1 / t) · (3000 − t) ≤ 1 from t = 1500.
  assert.equal(rate.leaveFrom(3000), 1500);
  for (let t = 2100; t <= 2700; t += 100) rate.note(t);
  // The last 8 arrivals: 2000, 2100, …, 2700; 7 gaps: (7 / (t − 2000)) · (3000 − t) ≤ 1 from t = 2875.
  assert.equal(rate.leaveFrom(3000), 2875);
  assert.equal(dueAt("deadline", 3000, false, rate), 3000, "deadline: the deadline");
  assert.equal(dueAt("work-conserving", 3000, true, rate), 3000, "a batch computing: the deadline");
  assert.equal(dueAt("work-conserving", 3000, false, rate), 2875);
  // An oldest sample older than the window: its deadline, 1000, comes before (7 · 1000 + 2000) / 8.
  assert.equal(dueAt("work-conserving", 1000, false, rate), 1000, "never past the deadline");
});

const LIMIT = 8;

test("work-conserving: a lone sample after a silence leaves at once, where the deadline policy holds it maxDelay", async () => {
  const { exec, input, size } = await landmarks(LIMIT);
  for (const dispatch of ["deadline", "work-conserving"] as const) {
    const clock = new ManualClock();
    const batcher = exec.createBatcher({ maxDelayUs: 1000, dispatch, clock });
    const samples = [randomData(size, 1), randomData(size, 2)];
    for (const [k, sample] of samples.entries()) {
      const out = batcher.infer({ [input]: sample });
      if (dispatch === "deadline") {
        assert.deepEqual(clock.armed(), [{ due: 10_000 * k + 1000, poll: true }], "deadline: held until its deadline");
        clock.advance(1000);
      } else assert.equal(clock.pending, 0, `work-conserving, sample ${k}: sent at once, no timer`);
      assert.equal(batcher.stats().batches, k + 1);
      await checkAgainstBatch1(exec, input, sample, await out);
      // 10 ms of silence: the rate over the two arrivals, 1 per 10 ms, expects < 1 sample in 1 ms.
      clock.advance(10_000 - (dispatch === "deadline" ? 1000 : 0));
    }
    assert.deepEqual(batcher.stats().queueWaitUs, dispatch === "deadline" ? { p50: 1000, p99: 1000 } : { p50: 0, p99: 0 });
    await batcher.close();
  }
});

test("work-conserving: dense arrivals wait for more samples, but leave before the deadline once the rate says few will come; a batch computing keeps the deadline rule", async () => {
  const { exec, input, size } = await landmarks(LIMIT);
  const clock = new ManualClock();
  const batcher = exec.createBatcher({ maxDelayUs: 1000, dispatch: "work-conserving", clock });
  const samples = Array.from({ length: 8 }, (_, k) => randomData(size, 10 + k));
  const outs = [];
  for (const [k, sample] of samples.entries()) {
    outs.push(batcher.infer({ [input]: sample }));
    if (k === 0) assert.deepEqual(batcher.stats().histogram, { 1: 1 }, "no rate yet: the first leaves at once");
    else assert.equal(clock.pending, 0, "a batch computes: only its completion sends, as under the deadline policy");
    if (k < 7) clock.advance(100);
  }
  await checkAgainstBatch1(exec, input, samples[0], await outs[0]);
  // At 700 µs, no batch computing, 7 waiting since 100 µs: deadline 1100. Arrivals 0..700, 7 gaps:
  // (7 / t) · (1100 − t) ≤ 1 from t = 962.5, before the deadline.
  assert.deepEqual(clock.armed(), [{ due: 962.5, poll: true }]);
  clock.advance(262.4);
  assert.equal(batcher.stats().batches, 1, "962.4 µs: more samples still expected");
  clock.advance(0.1);
  assert.deepEqual(batcher.stats().histogram, { 1: 1, 7: 1 });
  for (let k = 1; k < 8; k++) await checkAgainstBatch1(exec, input, samples[k], await outs[k]);
  await batcher.close();
});

test("createBatcher refuses an unknown dispatch policy", async () => {
  const { exec } = await landmarks(LIMIT);
  assert.throws(() => exec.createBatcher({ dispatch: "eager" as "deadline" }), ConfigError);
});

function point(batch: number, ms: number): LatencyPoint {
  return { batch, mode: "dynamic", latencyMs: { p50: ms, p90: ms, min: ms, max: ms }, throughput: (batch / ms) * 1000 };
}

/** A batch of n costs 1 + n ms. */
const COST: LatencyReport = { model: "synthetic", device: "CPU", limit: 8, points: [1, 2, 4, 8].map((n) => point(n, 1 + n)) };

test("simulateBatching: work-conserving sends sparse samples at once and holds dense ones as the Batcher does", () => {
  const sparse = [0, 10, 20, 30];
  const wc = simulateBatching({ cost: COST, arrivals: sparse, policy: { maxDelayUs: 1000, dispatch: "work-conserving" } });
  const dl = simulateBatching({ cost: COST, arrivals: sparse, policy: { maxDelayUs: 1000 } });
  assert.equal(wc.latencyMs.p50, 2, "a batch of 1, sent at arrival");
  assert.equal(dl.latencyMs.p50, 3, "the deadline policy adds maxDelay");
  // The Batcher test's sequence in ms: the first leaves at once (done at 2), seven more arrive by
  // 0.7 and wait; at 2 the rate (7 gaps over [0, t]) gives t = 0.9625 < 2: they leave at 2.
  const dense = simulateBatching({
    cost: COST,
    arrivals: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
    policy: { maxDelayUs: 1000, dispatch: "work-conserving" },
  });
  assert.deepEqual(dense.histogram, { 1: 1, 7: 1 });
  assert.throws(
    () => simulateBatching({ cost: COST, arrivals: sparse, policy: { dispatch: "eager" as "deadline" } }),
    ConfigError,
  );
});
