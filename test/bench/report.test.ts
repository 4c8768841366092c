/** Tables and target lines from a hand-made LatencyReport whose ratios are worked out by hand. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTable, machineInfo, targetLines, toMarkdown } from "../../kernel/bench";
import { LatencyMode, LatencyReport } from "../../kernel";

function report(model: string, p50: Record<number, Partial<Record<LatencyMode, number>>>): LatencyReport {
  const points = Object.entries(p50).flatMap(([n, modes]) =>
    Object.entries(modes).map(([mode, ms]) => ({
      batch: Number(n),
      mode: mode as LatencyMode,
      latencyMs: { p50: ms!, p90: ms! * 1.5, min: ms! / 2, max: ms! * 2 },
      throughput: (Number(n) / ms!) * 1000,
      gflops: (Number(n) * 0.5) / (ms! / 1000),
    })),
  );
  return { model, device: "CPU", limit: 16, points, threads: 2, gflopPerSample: 0.5, peakGflops: 100, date: "2026-01-02T03:04:05Z" };
}

const landmarks = report("landmarks-regression-retail-0009", {
  1: { dynamic: 10, static: 10, loop: 10, ort: 20 },
  16: { dynamic: 40, static: 50, loop: 160, ort: 40 },
});

test("targetLines: worst dynamic/static and dynbatch/ORT ratios over n, batched/loop at 16 on landmarks", () => {
  assert.deepEqual(targetLines(landmarks), [
    "dynamic/static ≤ 1.05 at every n: worst 1.00 at n=1 — met",
    "dynbatch/ORT latency ≤ 0.8 at every n: worst 1.00 at n=16 — missed",
    "batched/loop throughput at n=16 ≥ 2: 4.00 — met",
  ]);
  const resnet = report("resnet18-shaped", { 2: { dynamic: 9.4, static: 9, ort: 10 } });
  assert.deepEqual(targetLines(resnet), [
    "dynamic/static ≤ 1.05 at every n: worst 1.04 at n=2 — met",
    "dynbatch/ORT latency ≤ 0.95 at every n: worst 0.94 at n=2 — met",
  ]);
  // Without a dynamic point dynbatch is represented by static; skipped modes are listed.
  const face = { ...report("face", { 1: { static: 30, ort: 20 } }), skipped: [{ mode: "dynamic" as const, reason: "unsupported topology" }] };
  assert.deepEqual(targetLines(face), ["dynbatch/ORT latency ≤ 0.8 at every n: worst 1.50 at n=1 — missed", "dynamic not measured: unsupported topology"]);
});

test("formatTable: one row per batch with latencies, throughput, GFLOP/s, % of peak and ratios", () => {
  const lines = formatTable([landmarks]).split("\n");
  assert.equal(lines[0], "landmarks-regression-retail-0009 on CPU (0.500 GFLOP/sample, 2 threads, peak 100 GFLOP/s)");
  assert.match(lines[1], /^ n  dynamic p50 \(p90\) ms/);
  // n=16: dynamic 40 ms → 400 samples/s, 8 GFLOP / 0.04 s = 200 GFLOP/s = 200% of the (made-up) peak.
  assert.deepEqual(lines[3].split(/\s{2,}/), ["16", "40.0 (60.0)", "50.0 (75.0)", "160", "40.0 (60.0)", "400", "200.0", "200%", "200.0", "0.80", "1.00", "4.00"]);
});

test("toMarkdown: machine line, method, a table per report and its targets", () => {
  const md = toMarkdown([landmarks], machineInfo(), "Method: by hand.");
  assert.match(md, /^Measured 2026-01-02 on .+, \d+ hardware threads, \d+ GiB, .+; Node v\d+.*, oneDNN \d+\.\d+/);
  assert.match(md, /FP32 peak from the FMA microbenchmark of the same run: 100 GFLOP\/s\./);
  assert.match(md, /\n\nMethod: by hand\.\n\n#### landmarks-regression-retail-0009 on CPU/);
  assert.match(md, /\n\| 1 \| 10\.0 \(15\.0\) \| 10\.0 \(15\.0\) \| 10\.0 \| 20\.0 \(30\.0\) \| 100 \| 50\.0 \| 50% \| 25\.0 \| 1\.00 \| 0\.50 \| 1\.00 \|\n/);
  assert.match(md, /\n- batched\/loop throughput at n=16 ≥ 2: 4\.00 — met\n$/);
});
