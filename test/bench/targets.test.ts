/** checkTargets / formatTargets on hand-made reports whose ratios are worked out by hand, met and missed. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkTargets, formatTargets, TargetResult } from "../../kernel/bench";
import { LatencyMode, LatencyReport } from "../../kernel";

/** A report with the given median latencies (ms) per batch and mode; 0.5 GFLOP per sample. */
function report(model: string, p50: Record<number, Partial<Record<LatencyMode, number>>>, peakGflops = 100): LatencyReport {
  const points = Object.entries(p50).flatMap(([n, modes]) =>
    Object.entries(modes).map(([mode, ms]) => ({
      batch: Number(n),
      mode: mode as LatencyMode,
      latencyMs: { p50: ms!, p90: ms!, min: ms!, max: ms! },
      throughput: (Number(n) / ms!) * 1000,
      gflops: (Number(n) * 0.5) / (ms! / 1000),
    })),
  );
  return { model, device: "CPU", limit: 16, points, peakGflops };
}

const pick = (rs: TargetResult[], target: string, model: string) => rs.filter((r) => r.target === target && r.model === model);

test("latency ≤ 0.7 × ORT at n=1 and throughput ≥ 1.5 × ORT at n=8 and 16, on the secondary and generated models only", () => {
  const reports = [
    // 6/10 = 0.6 met; n=8: 20/10 = 2 met; n=16: 25/20 = 1.25 missed; n=4 is not a target batch.
    report("landmarks-regression-retail-0009", {
      1: { dynamic: 6, ort: 10 },
      4: { dynamic: 1, ort: 100 },
      8: { dynamic: 10, ort: 20 },
      16: { dynamic: 20, ort: 25 },
    }),
    // 8/10 = 0.8 missed; no n=8 or n=16 measured: no throughput result, not a miss.
    report("head-pose-estimation-adas-0001", { 1: { dynamic: 8, ort: 10 } }),
    // Exactly at the limits: met.
    report("mobilenetv2-shaped", { 1: { dynamic: 7, ort: 10 }, 8: { dynamic: 10, ort: 15 } }),
    // Not a target model; static is not "dynamic" for these targets.
    report("my-model", { 1: { dynamic: 1, ort: 10 } }),
    report("resnet18-shaped", { 1: { static: 1, ort: 10 } }),
  ];
  const rs = checkTargets(reports);
  assert.deepEqual(
    rs.filter((r) => r.target !== "dynamic-over-static").map((r) => [r.target, r.model, r.batch, r.value, r.limit, r.met]),
    [
      ["latency-vs-ort", "landmarks-regression-retail-0009", 1, 0.6, 0.7, true],
      ["latency-vs-ort", "head-pose-estimation-adas-0001", 1, 0.8, 0.7, false],
      ["latency-vs-ort", "mobilenetv2-shaped", 1, 0.7, 0.7, true],
      ["throughput-vs-ort", "landmarks-regression-retail-0009", 8, 2, 1.5, true],
      ["throughput-vs-ort", "mobilenetv2-shaped", 8, 1.5, 1.5, true],
      ["throughput-vs-ort", "landmarks-regression-retail-0009", 16, 1.25, 1.5, false],
    ],
  );
  assert.deepEqual(pick(rs, "latency-vs-ort", "my-model"), []);
  assert.deepEqual(pick(rs, "latency-vs-ort", "resnet18-shaped"), []);
});

test("face detection at n=1: GFLOP/s of its static point over the peak, ≥ 75%; the peak given overrides the report's", () => {
  // 0.5 GFLOP in 6.25 ms = 80 GFLOP/s: 80% of 100 met, 40% of 200 missed.
  const face = report("face-detection-adas-0001", { 1: { static: 6.25 }, 2: { static: 1 } });
  assert.deepEqual(checkTargets([face]), [
    { target: "fraction-of-peak", model: "face-detection-adas-0001", batch: 1, value: 0.8, limit: 0.75, bound: "min", met: true },
  ]);
  const [r] = checkTargets([face], 200);
  assert.equal(r.value, 0.4);
  assert.equal(r.met, false);
  // Without a peak there is nothing to judge.
  assert.deepEqual(checkTargets([{ ...face, peakGflops: undefined }]), []);
});

test("dynamic/static ≤ 1.03: the worst batch of every model with both modes", () => {
  const rs = checkTargets([
    // 1.0 at n=1, 52/50 = 1.04 at n=16: missed at 16.
    report("my-model", { 1: { dynamic: 10, static: 10 }, 16: { dynamic: 52, static: 50 } }),
    // 1.02 at n=2: met (it applies to every model, target or not).
    report("open-closed-eye-0001", { 1: { dynamic: 1, static: 1 }, 2: { dynamic: 1.02, static: 1 } }),
    report("face-detection-adas-0001", { 1: { static: 10 } }, 0),
  ]);
  assert.deepEqual(
    rs.map((r) => [r.target, r.model, r.batch, +r.value.toFixed(6), r.met]),
    [
      ["dynamic-over-static", "my-model", 16, 1.04, false],
      ["dynamic-over-static", "open-closed-eye-0001", 2, 1.02, true],
    ],
  );
});

test("formatTargets: a count, then met or missed with the number and the target", () => {
  const rs = checkTargets([
    report("landmarks-regression-retail-0009", { 1: { dynamic: 6, static: 5.5, ort: 10 }, 16: { dynamic: 20, ort: 25 } }),
    report("face-detection-adas-0001", { 1: { static: 10 } }),
  ]);
  assert.deepEqual(formatTargets(rs), [
    "Targets (issue 12): 1 of 4 met",
    "met     landmarks-regression-retail-0009 n=1: dynamic/ORT latency 0.600 (target ≤ 0.7)",
    "missed  landmarks-regression-retail-0009 n=16: dynamic/ORT throughput 1.250 (target ≥ 1.5)",
    "missed  face-detection-adas-0001 n=1: fraction of the FP32 peak 50.0% (target ≥ 75%)",
    "missed  landmarks-regression-retail-0009 n=1: dynamic/static latency, worst n 1.091 (target ≤ 1.03)",
  ]);
  assert.deepEqual(formatTargets([]), ["Targets (issue 12): none apply to the models and batches measured"]);
});
