/**
 * frontier(), frontierTargets() and simulationErrors(): a short real run on landmarks has a valid
 * report with one series per policy, every policy offered the very same arrivals, and the
 * simulator's prediction on each point; the targets and errors are checked on hand-made reports
 * whose verdicts are worked out by hand. No assertion on how fast anything ran.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConfigError,
  frontier,
  FrontierPoint,
  FrontierReport,
  frontierTargets,
  bestDispatch,
  IECore,
  LatencyPoint,
  LatencyReport,
  meanBatch,
  poissonArrivals,
  simulateBatching,
  simulationErrors,
  keptUp,
  sustainedOf,
  verdict,
} from "../../kernel";
import { validateFrontierReport } from "../display/validate";
import { irPath } from "../helpers/models";

async function landmarks(batch: number) {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = batch;
  return ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
}

function point(batch: number, ms: number): LatencyPoint {
  return { batch, mode: "dynamic", latencyMs: { p50: ms, p90: ms, min: ms, max: ms }, throughput: (batch / ms) * 1000 };
}

/** A batch of n costs 1 + n/4 ms. */
const COST: LatencyReport = { model: "synthetic", device: "CPU", limit: 4, points: [1, 2, 4].map((n) => point(n, 1 + n / 4)) };

test("frontier on landmarks: one series per policy, the same arrivals for each, a prediction per point", async () => {
  const exec = await landmarks(4);
  const rates = [200, 50];
  const r = await frontier(exec, {
    name: "landmarks",
    policies: [{ kind: "batcher", maxDelayUs: 500 }, { kind: "requests" }],
    rates,
    durationMs: 60,
    seed: 3,
    cost: COST,
  });
  assert.deepEqual(validateFrontierReport(r), []);
  assert.deepEqual(
    r.series.map((s) => [s.policy, s.kind, s.points.map((p) => p.rate)]),
    [
      ["maxDelay 0.5 ms", "batcher", [50, 200]],
      ["no batching (2 requests)", "requests", [50, 200]],
    ],
  );
  assert.equal(r.batchLatencyMs, 2);
  assert.equal(r.saturation, undefined);
  assert.ok(r.batchOverheadMs! >= 0, "the batcher's overhead per full batch, measured in a closed loop");
  assert.ok(r.loneOverheadMs! >= 0, "and for a lone sample");
  assert.ok(r.wakeMs! >= 0 && r.plainWakeMs! >= 0, "and what a lone sample adds after a silence, batcher and plain");
  assert.equal(r.plainOverheadMs, undefined, "given rates: no saturation to take the plain period from");
  for (const s of r.series) assert.deepEqual(s.sustained, sustainedOf(r, s));
  for (const [i, rate] of [50, 200].entries()) {
    const arrivals = poissonArrivals(rate, 60, 3);
    for (const s of r.series) {
      const p = s.points[i];
      assert.equal(p.offered, arrivals.length, "every policy is offered the seeded arrivals");
      const ran = Object.entries(p.histogram).reduce((a, [n, c]) => a + Number(n) * c, 0);
      assert.equal(ran, p.completed, "each answered sample ran in one batch");
      // The prediction is the simulator's on the same arrivals: recompute it independently.
      const policy =
        s.kind === "batcher"
          ? {
              maxDelayUs: 500,
              maxBatch: 4,
              overheadMs: r.batchOverheadMs,
              loneOverheadMs: r.loneOverheadMs,
              wakeMs: r.wakeMs,
            }
          : { maxBatch: 1, wakeMs: r.plainWakeMs };
      assert.deepEqual(p.simulated?.latencyMs, simulateBatching({ cost: COST, arrivals, policy }).latencyMs);
    }
    assert.deepEqual(Object.keys(r.series[1].points[i].histogram), ["1"], "no batching runs batches of 1");
  }
});

test("frontier on a static network: batches padded to its batch, the padding counted per point", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = 4;
  const exec = await ie.loadNetwork(net, "CPU");
  const r = await frontier(exec, {
    policies: [{ kind: "batcher", maxDelayUs: 500 }, { kind: "requests" }],
    rates: [300],
    durationMs: 40,
  });
  assert.deepEqual(validateFrontierReport(r), []);
  assert.equal(r.dynamic, false);
  for (const s of r.series) {
    const p = s.points[0];
    const rows = Object.entries(p.histogram).reduce((a, [n, c]) => a + (4 - Number(n)) * c, 0);
    assert.equal(p.paddedSamples, rows, `${s.policy}: every batch filled to 4`);
    assert.equal(p.simulated, undefined, "no cost curve, no prediction");
  }
});

test("frontier measures saturation first when given loads, and rejects bad options", async () => {
  const exec = await landmarks(2);
  const r = await frontier(exec, { policies: [{ kind: "requests" }], loads: [0.5], durationMs: 40, requests: 1 });
  assert.deepEqual(validateFrontierReport(r), []);
  assert.ok(r.saturation! > 0);
  assert.ok(Math.abs(r.series[0].points[0].rate - r.saturation! / 2) < 1e-9);
  assert.equal(r.series[0].points[0].load, 0.5);
  for (const bad of [
    { durationMs: 10, rates: [] },
    { durationMs: 10, loads: [0] },
    { durationMs: 10, policies: [{ kind: "batcher", maxDelayUs: -1 }] },
    { durationMs: 10, rates: [1], colour: "red" },
  ])
    await assert.rejects(frontier(exec, bad as never), ConfigError);
});

function pt(
  rate: number,
  throughput: number,
  p50: number,
  p99: number,
  histogram: Record<string, number> = { 1: 1 },
): FrontierPoint {
  // The reports below run 100 ms per test: `rate` offers rate / 10 samples.
  const offered = Math.max(1, Math.round(rate / 10));
  return {
    rate,
    offered,
    completed: offered,
    errors: {},
    throughput,
    latencyMs: { p50, p90: p99, p99 },
    histogram,
    paddedSamples: 0,
  };
}

/** Saturation 1000/s, a batch of 8 takes 3 ms: the p99 bound at maxDelay 1 ms is 1 + 2·3 = 7 ms. */
function report(batcher: FrontierPoint[], plain: FrontierPoint[]): FrontierReport {
  return {
    model: "m",
    device: "CPU",
    limit: 8,
    dynamic: true,
    durationMs: 100,
    seed: 1,
    saturation: 1000,
    batchLatencyMs: 3,
    series: [
      { policy: "maxDelay 1 ms", kind: "batcher", maxDelayUs: 1000, requests: 2, points: batcher },
      { policy: "no batching (2 requests)", kind: "requests", requests: 2, points: plain },
    ],
  };
}

test("sustainedOf: the highest rate below the first one a policy fails (throughput, p99 bound, every sample answered)", () => {
  const plain = [pt(100, 100, 1, 2), pt(1000, 990, 3, 6), pt(2000, 950, 400, 900)];
  const batcher = [pt(100, 100, 1.9, 3), pt(1500, 1500, 2, 5), pt(2000, 1900, 4, 7), pt(2500, 2100, 30, 50)];
  const r = report(batcher, plain);
  // maxDelay 1 ms: bound 1 + 2·3 = 7 ms; 2000/s answered at 1900/s = 95%, p99 7 ms: kept up.
  assert.deepEqual(sustainedOf(r, r.series[0]), { rate: 2000, throughput: 1900, boundMs: 7, everyRate: false });
  // No batching: bound 2·3 = 6 ms, kept up at 1000/s (p99 6), not at 2000/s.
  assert.deepEqual(sustainedOf(r, r.series[1]), { rate: 1000, throughput: 990, boundMs: 6, everyRate: false });
  const all = report(batcher.slice(0, 3), plain);
  assert.deepEqual(sustainedOf(all, all.series[0]), { rate: 2000, throughput: 1900, boundMs: 7, everyRate: true });
  // Failing the lowest rate (p99 over the bound) sustains nothing, even if a higher rate passed.
  const none = report([pt(100, 100, 1, 7.5), pt(1500, 1500, 2, 5)], plain);
  assert.deepEqual(sustainedOf(none, none.series[0]), { rate: 0, throughput: 0, boundMs: 7, everyRate: false });
  // A refused sample is not keeping up.
  const refused = pt(100, 100, 1, 2);
  refused.completed -= 1;
  refused.errors = { QUEUE_FULL: 1 };
  assert.equal(keptUp(refused, 100, 7), false);
  assert.equal(sustainedOf({ ...r, batchLatencyMs: undefined }, r.series[0]), undefined);
});

test("frontierTargets: sustained ≥ 2× saturation, p50 at light load, worked by hand", () => {
  const plain = [pt(100, 100, 1, 2), pt(2000, 950, 400, 900)];
  const beyond = pt(2500, 2100, 30, 50);
  const met = frontierTargets(report([pt(100, 100, 1.9, 3), pt(2000, 1900, 4, 7), beyond], plain));
  assert.deepEqual(met.map(verdict), ["met", "met"]);
  assert.match(met[0].detail, /sustains 2000\/s = 2\.00× saturation 1000\/s \(p99 bound 7\.00 ms/);
  assert.match(met[0].detail, /at 2500\/s \(2\.50×\): throughput 2100\/s, p99 50\.00 ms/);
  assert.match(met[0].detail, /the best policy, maxDelay 1 ms, sustains 2\.00×$/);
  // 1899/s < 95% of 2000/s; p50 2.01 > 1 + 1.
  const missed = frontierTargets(report([pt(100, 100, 2.01, 3), pt(2000, 1899, 4, 7), beyond], plain));
  assert.deepEqual(missed.map(verdict), ["missed", "missed"]);
  assert.match(missed[0].detail, /sustains 100\/s = 0\.10× saturation/);
  // p99 7.01 ms > 7 ms at 2× saturation.
  assert.equal(verdict(frontierTargets(report([pt(100, 100, 1, 3), pt(2000, 1900, 4, 7.01)], plain))[0]), "missed");
  // Rates that do not reach 2× saturation, or start above 10% of it, cannot judge.
  const narrow = frontierTargets(report([pt(500, 500, 1, 2), pt(1500, 1500, 2, 3)], [pt(500, 500, 1, 2), pt(1500, 950, 9, 99)]));
  assert.deepEqual(narrow.map(verdict), ["n/a", "n/a"]);
  assert.deepEqual(frontierTargets(report([pt(100, 100, 1, 2)], plain), 2000).map(verdict), ["n/a", "n/a"]);
});

test("frontierTargets per dispatch and bestDispatch: the work-conserving series judged by its own points, the better light-load p50 chosen", () => {
  const plain = [pt(100, 100, 1, 2), pt(2000, 950, 400, 900)];
  const r = report([pt(100, 100, 2.5, 3), pt(2000, 1900, 4, 7)], plain);
  assert.equal(bestDispatch(r), "deadline", "a report with only the deadline policy");
  r.series.splice(1, 0, {
    policy: "maxDelay 1 ms, work-conserving",
    kind: "batcher",
    maxDelayUs: 1000,
    dispatch: "work-conserving",
    requests: 1,
    points: [pt(100, 100, 1.2, 3), pt(2000, 1900, 4, 7)],
  });
  const wc = frontierTargets(r, 1000, "work-conserving");
  assert.deepEqual(wc.map(verdict), ["met", "met"]);
  assert.match(wc[1].target, /maxDelay 1 ms, work-conserving: p50/);
  assert.match(wc[1].detail, /p50 1\.20 ms vs 1\.00 \+ 1 ms/);
  assert.deepEqual(frontierTargets(r, 1000, "deadline").map(verdict), ["met", "missed"], "p50 2.5 > 1 + 1");
  assert.equal(bestDispatch(r), "work-conserving");
});

test("simulationErrors: (simulated − measured) / measured per point; meanBatch from the histogram", () => {
  const a = pt(100, 200, 2, 3, { 1: 2, 4: 2 });
  a.simulated = { throughput: 230, latencyMs: { p50: 1.5, p90: 2, p99: 2 } };
  const rows = simulationErrors(report([a], [pt(100, 100, 1, 2)]));
  assert.equal(rows.length, 1);
  assert.equal(rows[0].policy, "maxDelay 1 ms");
  assert.ok(Math.abs(rows[0].throughput.error - 0.15) < 1e-12);
  assert.ok(Math.abs(rows[0].p50.error + 0.25) < 1e-12);
  assert.equal(meanBatch(a), 2.5);
  assert.equal(meanBatch(pt(1, 1, 1, 1, {})), 0);
});
