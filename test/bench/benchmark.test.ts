/**
 * benchmark() / ie.benchmark() return a well-formed LatencyReport: one point per (batch, mode),
 * consistent statistics and derived numbers, outputs checked against onnxruntime. No timing
 * thresholds: the machine is shared.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { benchmark, BenchProgress, countFlops, IECore, LatencyReport, measurePeakGflops } from "../../kernel";
import { BenchMismatchError, isaInEffect, ORT_TOLERANCE, roundOrder } from "../../kernel/bench";
import { irPath } from "../helpers/models";

const QUICK = { timePerPointMs: 60, warmupMs: 1, minRuns: 3, peakGflops: 100 };

function checkPoints(r: LatencyReport, batches: number[], modes: string[]): void {
  assert.deepEqual(
    r.points.map((p) => [p.batch, p.mode]),
    batches.flatMap((n) => modes.map((m) => [n, m])),
  );
  for (const p of r.points) {
    const s = p.latencyMs;
    const where = `n=${p.batch} ${p.mode}`;
    assert.ok(s.min > 0 && s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.max, `${where}: ${JSON.stringify(s)}`);
    assert.ok(p.runs! >= QUICK.minRuns, `${where}: ${p.runs} runs`);
    assert.ok(Math.abs(p.throughput - (p.batch / s.p50) * 1000) <= 1e-9 * p.throughput, `${where}: throughput ${p.throughput}`);
    // Checked against ORT: the batched dynbatch points, when ORT ran.
    const checked = (p.mode === "dynamic" || p.mode === "static") && modes.includes("ort");
    if (checked) assert.ok(p.maxErrorVsOrt! >= 0 && p.maxErrorVsOrt! <= ORT_TOLERANCE, `${where}: error ${p.maxErrorVsOrt}`);
    else assert.equal(p.maxErrorVsOrt, undefined, where);
  }
}

test("ie.benchmark on landmarks: every (n, mode) measured once, consistent statistics, GFLOP/s from the graph", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  const events: BenchProgress[] = [];
  const r = await ie.benchmark(net, {
    ...QUICK,
    batches: [1, 2],
    threads: 1,
    name: "landmarks",
    onProgress: (p) => events.push(p),
  });
  assert.equal(r.model, "landmarks");
  assert.equal(r.device, "CPU");
  assert.equal(r.limit, 2);
  assert.equal(r.threads, 1);
  assert.equal(r.peakGflops, 100);
  assert.equal(r.isa, isaInEffect());
  assert.deepEqual(r.skipped, []);
  assert.ok(!Number.isNaN(Date.parse(r.date!)));
  checkPoints(r, [1, 2], ["dynamic", "static", "loop", "ort"]);
  // Landmarks costs 2·MACs of its convolutions per sample; GFLOP/s is that work over the median.
  const perSample = countFlops(net.prepared(1)).total / 1e9;
  assert.ok(Math.abs(r.gflopPerSample! - perSample) < 1e-12 && perSample > 0.02 && perSample < 0.03);
  for (const p of r.points) {
    const expected = (p.batch * perSample) / (p.latencyMs.p50 / 1000);
    assert.ok(Math.abs(p.gflops! - expected) <= 1e-9 * expected, `n=${p.batch} ${p.mode}: ${p.gflops} vs ${expected}`);
  }
  // The network given keeps its batch; progress runs from 0 to the number of points.
  assert.equal(net.batchSize, 1);
  assert.equal(events[0].done, 0);
  assert.equal(events[events.length - 1].done, 2);
  assert.ok(events.every((e, i) => e.total === 2 && (i === 0 || e.done >= events[i - 1].done)));
});

test("benchmark on face detection: dynamic and ORT are skipped with their reasons, static is measured", async () => {
  const r = await benchmark({
    ...QUICK,
    model: irPath("face-detection-adas-0001"),
    batches: [1],
    modes: ["dynamic", "static", "ort"],
  });
  assert.equal(r.model, "face-detection-adas-0001");
  checkPoints(r, [1], ["static"]);
  const reasons = Object.fromEntries(r.skipped!.map((s) => [s.mode, s.reason]));
  assert.deepEqual(Object.keys(reasons).sort(), ["dynamic", "ort"]);
  assert.match(reasons.dynamic, /unsupported topology: .*DetectionOutput/);
  assert.equal(
    reasons.ort,
    "layer 'detection_out': DetectionOutput cannot be written as ONNX: ONNX has no SSD detection-output op (box decoding, per-class NMS and top-k in one layer)",
  );
});

test("benchmark fails on outputs that differ from onnxruntime's beyond the tolerance, naming model, n, mode and output", async () => {
  // No two engines agree to the last bit on a real network: a zero tolerance always trips the check.
  await assert.rejects(
    benchmark({
      ...QUICK,
      model: irPath("landmarks-regression-retail-0009"),
      batches: [2],
      modes: ["dynamic", "ort"],
      tolerance: 0,
    }),
    (e: unknown) => {
      assert.ok(e instanceof BenchMismatchError, String(e));
      assert.deepEqual([e.model, e.batch, e.mode, e.output], ["landmarks-regression-retail-0009", 2, "dynamic", "95"]);
      assert.ok(e.error > 0 && e.error <= ORT_TOLERANCE, `${e.error}`);
      assert.match(
        e.message,
        /^landmarks-regression-retail-0009 n=2 dynamic: output '95' differs from onnxruntime: max error \S+ > 0 /,
      );
      return true;
    },
  );
});

test("benchmark rejects batches that are not positive integers", async () => {
  await assert.rejects(benchmark({ model: irPath("open-closed-eye-0001"), batches: [1, 0] }), { code: "BAD_INPUT" });
});

test("measurePeakGflops returns a positive rate", () => {
  const g = measurePeakGflops(1, 20, 1);
  assert.ok(Number.isFinite(g) && g > 0, `${g}`);
});

test("roundOrder: each round runs every contender once, and over rounds each follows every other", () => {
  const follows = new Map<string, number>();
  for (let round = 0; round < 200; round++) {
    const order = roundOrder(round, 4);
    assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
    for (let k = 1; k < order.length; k++)
      follows.set(`${order[k - 1]}>${order[k]}`, (follows.get(`${order[k - 1]}>${order[k]}`) ?? 0) + 1);
  }
  // 12 ordered pairs, 600 successions: a fixed cycle would give 4 pairs only.
  assert.equal(follows.size, 12);
  for (const [pair, count] of follows) assert.ok(count >= 25, `${pair} ${count}`);
});
