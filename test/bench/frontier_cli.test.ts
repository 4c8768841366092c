/** `npm run bench -- --frontier --quick` on landmarks: the frontier table, the simulator's comparison, issue 18's target lines and a valid FrontierReport JSON. No timing is asserted. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FrontierReport } from "../../kernel";
import { validateFrontierReport } from "../display/validate";

const CLI = path.resolve(__dirname, "../../kernel/cli/bench.js");

test("--frontier --quick prints the table, the simulator's error per policy and the targets; --json writes the report", () => {
  const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-frontier-cli-")), "f.json");
  const r = spawnSync(
    process.execPath,
    [CLI, "--frontier", "--quick", "--model", "landmarks-regression-retail-0009", "--json", json],
    {
      encoding: "utf8",
      timeout: 180_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^landmarks-regression-retail-0009 · CPU · batch limit 8 \(setBatch\)/);
  assert.match(r.stdout, /one request per sample saturates at [\d,]+ samples\/s · a batch of 8 takes [\d.]+ ms/);
  assert.match(
    r.stdout,
    /\npolicy +offered\/s +load +throughput\/s +p50 ms +p99 ms +mean batch +sim\. throughput\/s +sim\. p50 ms +refused\n/,
  );
  const policies = [
    "maxDelay 0 ms",
    "maxDelay 0.25 ms",
    "maxDelay 0.5 ms",
    "maxDelay 1 ms",
    "maxDelay 2 ms",
    "maxDelay 5 ms",
    "maxDelay 1 ms, work-conserving",
    "no batching (2 requests)",
  ];
  for (const p of policies)
    assert.equal(
      r.stdout.split("\n").filter((l) => l.startsWith(`${p} `)).length,
      4 + 1 + 1,
      `${p}: 4 rates, its sustained throughput and its simulator row`,
    );
  assert.match(r.stdout, /\nTargets \(issue 18\): [012] of 2 met\. Target 1 is judged on the sustained throughput/);
  assert.match(
    r.stdout,
    /\n\(?(met|missed)\)? +landmarks-regression-retail-0009: maxDelay 1 ms sustains ≥ 2× the saturation of one request per sample .*: sustains [\d,]+\/s = [\d.]+× saturation [\d,]+\/s \(p99 bound [\d.]+ ms/,
  );
  assert.match(
    r.stdout,
    /\n\(?(met|missed)\)? +landmarks-regression-retail-0009: at 10% of saturation, maxDelay 1 ms: .*p50 [\d.]+ ms vs [\d.]+ \+ 1 ms/,
  );
  assert.match(
    r.stdout,
    /\n\(?(met|missed)\)? +landmarks-regression-retail-0009: at 10% of saturation, maxDelay 1 ms, work-conserving: .*p50 [\d.]+ ms vs [\d.]+ \+ 1 ms/,
  );
  assert.match(
    r.stdout,
    /judged on the better one: target 1 on (deadline|work-conserving), target 2 on (deadline|work-conserving)\./,
  );
  const report = JSON.parse(fs.readFileSync(json, "utf8")) as FrontierReport;
  assert.deepEqual(validateFrontierReport(report), []);
  assert.deepEqual(
    report.series.map((s) => s.policy),
    policies,
  );
  for (const s of report.series) {
    assert.deepEqual(
      s.points.map((p) => p.load),
      [0.1, 1, 2, 3],
    );
    for (const p of s.points) assert.ok(p.simulated, "a prediction on every point of a dynamic network");
  }
});
