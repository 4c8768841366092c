/** Tables, notes and the targets section from a hand-made LatencyReport whose ratios are worked out by hand. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTable, machineInfo, toMarkdown } from "../../kernel/bench";
import { LatencyMode, LatencyReport } from "../../kernel";

function report(model: string, p50: Record<number, Partial<Record<LatencyMode, number>>>): LatencyReport {
  const points = Object.entries(p50).flatMap(([n, modes]) =>
    Object.entries(modes).map(([mode, ms]) => ({
      batch: Number(n),
      mode: mode as LatencyMode,
      latencyMs: { p50: ms!, p90: ms! * 1.5, min: ms! / 2, max: ms! * 2 },
      throughput: (Number(n) / ms!) * 1000,
      gflops: (Number(n) * 0.5) / (ms! / 1000),
      // The batched dynbatch points were checked against ORT wherever ORT ran.
      ...((mode === "dynamic" || mode === "static") && modes.ort !== undefined
        ? { maxErrorVsOrt: mode === "dynamic" ? 2e-6 : 3e-7 * Number(n) }
        : {}),
    })),
  );
  return {
    model,
    device: "CPU",
    limit: 16,
    points,
    threads: 2,
    gflopPerSample: 0.5,
    peakGflops: 100,
    date: "2026-01-02T03:04:05Z",
  };
}

const landmarks = report("landmarks-regression-retail-0009", {
  1: { dynamic: 10, static: 10, loop: 10, ort: 20 },
  16: { dynamic: 40, static: 50, loop: 160, ort: 40 },
});

test("formatTable: one row per batch with latencies, throughput, GFLOP/s, % of peak, ratios and error; notes under it", () => {
  const face = { ...report("face", { 1: { static: 30, loop: 30 } }), skipped: [{ mode: "ort" as const, reason: "no ONNX" }] };
  const lines = formatTable([landmarks, face]).split("\n");
  assert.equal(lines[0], "landmarks-regression-retail-0009 on CPU (0.500 GFLOP/sample, 2 threads, peak 100 GFLOP/s)");
  assert.match(lines[1], /^ n  dynamic p50 \(p90\) ms.*  batched\/loop  err vs ORT$/);
  // n=16: dynamic 40 ms → 400 samples/s, 8 GFLOP / 0.04 s = 200 GFLOP/s = 200% of the (made-up) peak;
  // the error is the worse of dynamic (2e-6) and static (16 × 3e-7).
  assert.deepEqual(lines[3].split(/\s{2,}/), [
    "16",
    "40.0 (60.0)",
    "50.0 (75.0)",
    "160",
    "40.0 (60.0)",
    "400",
    "200.0",
    "200%",
    "200.0",
    "0.80",
    "1.00",
    "4.00",
    "4.8e-6",
  ]);
  assert.equal(lines[2].split(/\s{2,}/).at(-1), "2.0e-6");
  assert.equal(
    lines[4],
    "  outputs vs onnxruntime (max |dynbatch − ORT| / max |ORT|, every batched point): worst 4.8e-6 at n=16 static",
  );
  // Without ORT: no error, and the reason.
  assert.equal(lines[8].split(/\s{2,}/).at(-1), "—");
  assert.deepEqual(lines.slice(9), ["  ort not measured: no ONNX"]);
});

test("toMarkdown: machine line with the ISA, method, a table per report with its notes, the targets", () => {
  const md = toMarkdown([landmarks], { ...machineInfo(), isa: "AVX2" }, "Method: by hand.");
  assert.match(
    md,
    /^Measured 2026-01-02 on .+, \d+ hardware threads, \d+ GiB, .+; Node v\d+.*, oneDNN \d+\.\d+\S* \(ISA: AVX2\)/,
  );
  assert.match(md, /FP32 peak from the FMA microbenchmark of the same run: 100 GFLOP\/s\./);
  assert.match(md, /\n\nMethod: by hand\.\n\n#### landmarks-regression-retail-0009 on CPU/);
  assert.match(
    md,
    /\n\| 1 \| 10\.0 \(15\.0\) \| 10\.0 \(15\.0\) \| 10\.0 \| 20\.0 \(30\.0\) \| 100 \| 50\.0 \| 50% \| 25\.0 \| 1\.00 \| 0\.50 \| 1\.00 \| 2\.0e-6 \|\n/,
  );
  assert.match(md, /\n- outputs vs onnxruntime \(.*\): worst 4\.8e-6 at n=16 static\n/);
  // n=1: 10/20 = 0.5 met; n=16: 400 vs 400 samples/s missed; dynamic/static worst 1.00 at n=1 met.
  assert.ok(
    md.endsWith(
      [
        "\n#### Targets (issue 12): 2 of 3 met\n",
        "- met     landmarks-regression-retail-0009 n=1: dynamic/ORT latency 0.500 (target ≤ 0.7)",
        "- missed  landmarks-regression-retail-0009 n=16: dynamic/ORT throughput 1.000 (target ≥ 1.5)",
        "- met     landmarks-regression-retail-0009 n=1: dynamic/static latency, worst n 1.000 (target ≤ 1.03)\n",
      ].join("\n"),
    ),
    md,
  );
});
