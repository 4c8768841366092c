/** `npm run bench` CLI: help, quick runs on one model (table, JSON, markdown, targets, --isa) and usage errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LatencyReport } from "../../kernel";
import { ISA_VALUES, isaInEffect } from "../../kernel/bench";

const CLI = path.resolve(__dirname, "../../kernel/cli/bench.js");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-bench-cli-"));

function run(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
}

test("--help prints the usage and exits 0", () => {
  const r = run("--help");
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Usage: npm run bench/);
  for (const flag of ["--model", "--batches", "--device", "--isa", "--json", "--markdown", "--quick"])
    assert.ok(r.stdout.includes(flag), flag);
  for (const isa of ISA_VALUES) assert.match(r.stdout, new RegExp(`[ ,]${isa}[ ,\n]`), isa);
});

test("--quick on one model prints the table and writes a LatencyReport JSON and markdown", () => {
  const json = path.join(dir, "out.json");
  const md = path.join(dir, "out.md");
  const r = run(
    "--quick",
    "--model",
    "landmarks-regression-retail-0009",
    "--batches",
    "1,2",
    "--time",
    "50",
    "--json",
    json,
    "--markdown",
    md,
  );
  assert.equal(r.status, 0, r.stderr);
  // Without --isa the run names the ISA of its own environment.
  const isa = isaInEffect().replace(/[()]/g, "\\$&");
  assert.match(r.stdout, new RegExp(`^.+, \\d+ hardware threads; oneDNN \\S+, ISA ${isa}\n`));
  assert.match(r.stdout, /FP32 peak \(FMA microbenchmark, \d+ threads\): [\d.]+ GFLOP\/s/);
  assert.match(r.stdout, /landmarks-regression-retail-0009 on CPU/);
  assert.match(r.stdout, /n\s+dynamic p50 \(p90\) ms\s+static p50 \(p90\) ms\s+loop p50 ms\s+ORT p50 \(p90\) ms/);
  assert.match(r.stdout, /\nTargets \(issue 12\): \d of 2 met\n/);
  assert.match(r.stdout, /\n(met|missed) +landmarks-regression-retail-0009 n=1: dynamic\/ORT latency [\d.]+ \(target ≤ 0\.7\)\n/);
  assert.match(
    r.stdout,
    /\n(met|missed) +landmarks-regression-retail-0009 n=[12]: dynamic\/static latency, worst n [\d.]+ \(target ≤ 1\.03\)\n/,
  );
  assert.match(r.stderr, /landmarks-regression-retail-0009 n=2/);

  const report = JSON.parse(fs.readFileSync(json, "utf8")) as LatencyReport;
  assert.equal(report.model, "landmarks-regression-retail-0009");
  assert.equal(report.limit, 2);
  assert.ok(report.peakGflops! > 0);
  assert.deepEqual(
    report.points.map((p) => `${p.batch}:${p.mode}`),
    ["1:dynamic", "1:static", "1:loop", "1:ort", "2:dynamic", "2:static", "2:loop", "2:ort"],
  );
  for (const p of report.points) assert.ok(p.latencyMs.p50 > 0 && p.latencyMs.p50 <= p.latencyMs.p90 && p.throughput > 0);

  const text = fs.readFileSync(md, "utf8");
  assert.match(text, /^Measured \d{4}-\d\d-\d\d on .+, \d+ hardware threads.*, oneDNN \S+ \(ISA: \w+\)/);
  assert.match(text, /Method: `npm run bench`/);
  assert.match(text, /\n\| n \| dynamic p50 \(p90\) ms \|.*\| batched\/loop \| err vs ORT \|\n\|---\|/);
  assert.equal(text.match(/\n\| [12] \| /g)?.length, 2);
  assert.match(text, /\n#### Targets \(issue 12\): \d of 2 met\n\n- (met|missed) +landmarks/);
});

test("--isa runs the bench in a child process under ONEDNN_MAX_CPU_ISA: ISA in the header and JSON, errors and targets printed", () => {
  const json = path.join(dir, "isa.json");
  // Lower case is accepted, as oneDNN accepts it.
  const r = run(
    "--isa",
    "avx2",
    "--model",
    "open-closed-eye-0001",
    "--quick",
    "--batches",
    "1,2",
    "--time",
    "50",
    "--json",
    json,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^.+; oneDNN \S+, ISA avx2 \(ONEDNN_MAX_CPU_ISA=AVX2\)\n/);
  assert.match(r.stdout, /\n ?n {2}dynamic p50 \(p90\) ms .* {2}err vs ORT\n/);
  // Each row ends with the worst error against ORT of its dynamic and static points.
  const rows = r.stdout.split("\n").filter((l) => /^ ?[12] {2}/.test(l));
  assert.equal(rows.length, 2);
  for (const row of rows) assert.match(row, / {2}\d\.\de[-+]\d+$/);
  assert.match(
    r.stdout,
    /\n {2}outputs vs onnxruntime \(max \|dynbatch − ORT\| \/ max \|ORT\|, every batched point\): worst \S+ at n=[12] (dynamic|static)\n/,
  );
  assert.match(
    r.stdout,
    /\nTargets \(issue 12\): \d of 2 met\n(met|missed) +open-closed-eye-0001 n=1: dynamic\/ORT latency [\d.]+ \(target ≤ 0\.7\)\n/,
  );
  assert.match(
    r.stdout,
    /\n(met|missed) +open-closed-eye-0001 n=[12]: dynamic\/static latency, worst n [\d.]+ \(target ≤ 1\.03\)\n/,
  );

  const report = JSON.parse(fs.readFileSync(json, "utf8")) as LatencyReport;
  assert.equal(report.isa, "avx2 (ONEDNN_MAX_CPU_ISA=AVX2)");
  for (const p of report.points) {
    if (p.mode === "dynamic" || p.mode === "static")
      assert.ok(p.maxErrorVsOrt! >= 0 && p.maxErrorVsOrt! <= 1e-4, `${p.batch} ${p.mode}`);
  }
});

test("--isa with a value oneDNN does not accept, or none, exits 2 with a message and the usage", () => {
  const bad = run("--isa", "AVX3", "--model", "open-closed-eye-0001");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^--isa expects one of SSE41, AVX, AVX2, .*, ALL \(any case\), got 'AVX3'\n\nUsage: npm run bench/);
  assert.equal(bad.stdout, "");
  const none = run("--quick", "--isa");
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^--isa needs a value\n/);
});

test("an unknown option or model exits 2 with a message; an unknown device exits 1 with the typed error", () => {
  const bad = run("--bogus");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown option '--bogus'/);
  const missing = run("--model", "no-such-model");
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /unknown model 'no-such-model'/);
  const device = run("--quick", "--model", "open-closed-eye-0001", "--device", "NPU");
  assert.equal(device.status, 1);
  assert.match(device.stderr, /UnknownDeviceError: Device 'NPU' is not registered/);
});
