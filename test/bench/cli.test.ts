/** `npm run bench` CLI: help, a quick run on one model (table, JSON, markdown) and usage errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LatencyReport } from "../../kernel";

const CLI = path.resolve(__dirname, "../../kernel/cli/bench.js");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-bench-cli-"));

function run(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
}

test("--help prints the usage and exits 0", () => {
  const r = run("--help");
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Usage: npm run bench/);
  for (const flag of ["--model", "--batches", "--device", "--json", "--markdown", "--quick"]) assert.ok(r.stdout.includes(flag), flag);
});

test("--quick on one model prints the table and writes a LatencyReport JSON and markdown", () => {
  const json = path.join(dir, "out.json");
  const md = path.join(dir, "out.md");
  const r = run("--quick", "--model", "landmarks-regression-retail-0009", "--batches", "1,2", "--time", "50", "--json", json, "--markdown", md);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /FP32 peak \(FMA microbenchmark, \d+ threads\): [\d.]+ GFLOP\/s/);
  assert.match(r.stdout, /landmarks-regression-retail-0009 on CPU/);
  assert.match(r.stdout, /n\s+dynamic p50 \(p90\) ms\s+static p50 \(p90\) ms\s+loop p50 ms\s+ORT p50 \(p90\) ms/);
  assert.match(r.stdout, /dynamic\/static ≤ 1\.05 at every n: worst [\d.]+ at n=\d/);
  assert.match(r.stdout, /dynbatch\/ORT latency ≤ 0\.8 at every n: worst [\d.]+ at n=\d/);
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
  assert.match(text, /^Measured \d{4}-\d\d-\d\d on .+, \d+ hardware threads/);
  assert.match(text, /Method: `npm run bench`/);
  assert.match(text, /\n\| n \| dynamic p50 \(p90\) ms \|.*\| batched\/loop \|\n\|---\|/);
  assert.equal(text.match(/\n\| [12] \| /g)?.length, 2);
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
