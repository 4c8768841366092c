/**
 * Notebook 06 runs top to bottom in quick mode: each batcher caller gets its own sample's outputs,
 * the cascade's recorded face counts are the video's, a valid frontier per network with one
 * series per policy, a prediction on every point and a sustained throughput per policy, the
 * simulator's errors, the computed conclusions and targets, the
 * collapsed answer and the link onward. No timing is asserted.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { FRONTIER_MIME } from "../../kernel";
import type { FrontierReport } from "../../kernel";
import { validateFrontierReport } from "../display/validate";
import { checkSetup, Notebook, NOTEBOOKS, payloads, problems, runNotebook, stdout } from "./nbrun";

const NB6 = "06-automatic-batching.ipynb";
const POLICIES = ["maxDelay 0 ms", "maxDelay 0.25 ms", "maxDelay 0.5 ms", "maxDelay 1 ms", "maxDelay 2 ms", "maxDelay 5 ms", "maxDelay 1 ms, work-conserving", "no batching (2 requests)"];

before(() => checkSetup());

test("06 as committed: outputs, no errors, the answer cell collapsed, a link to 07", () => {
  const nb = JSON.parse(fs.readFileSync(path.join(NOTEBOOKS, NB6), "utf8")) as Notebook;
  assert.deepEqual(problems(nb), []);
  assert.equal(payloads(nb, FRONTIER_MIME).length, 2, "committed with its two frontiers");
  const jupyter = (c: unknown) => (c as { metadata?: { jupyter?: Record<string, boolean> } }).metadata?.jupyter ?? {};
  const hidden = nb.cells.filter((c) => jupyter(c).source_hidden === true && jupyter(c).outputs_hidden === true);
  assert.equal(hidden.length, 1, "one collapsed answer");
  const last = nb.cells[nb.cells.length - 1];
  const source = Array.isArray(last.source) ? last.source.join("") : last.source;
  assert.match(source, /\]\(07-split-face-detection\.ipynb\)/);
});

let nb: Notebook;

test("06 runs top to bottom with the tslab kernel, without errors", async () => {
  nb = await runNotebook(path.join(NOTEBOOKS, NB6));
  assert.deepEqual(problems(nb), []);
});

test("06: own outputs per caller, recorded face counts, a valid frontier per network, computed conclusions", () => {
  assert.ok(nb, "the notebook ran");
  const out = stdout(nb);
  const diff = /max \|batched − alone\| over the 5 callers: (\S+)/.exec(out);
  assert.ok(diff && Number(diff[1]) < 1e-5, "each caller got its own sample's outputs");
  // Quick mode reads frames 56–63: four faces in each (test/cascade's counts by eye).
  assert.match(out, /faces per frame, recorded by the cascade: 4 4 4 4 4 4 4 4\n/);
  assert.match(out, /one batcher per network, maxDelay 1 ms +256 /);
  assert.match(out, /one batch-1 request per face +256 /);
  assert.match(out, /128 face arrivals per network from 4 cameras at 25 fps: 400 samples\/s, [\d.]+× where one request per sample saturates for landmarks \(\d+\/s\), [\d.]+× where one request per sample saturates for head pose/);
  const reports = payloads(nb, FRONTIER_MIME) as FrontierReport[];
  assert.deepEqual(reports.map((r) => r.model), ["landmarks-regression-retail-0009", "head-pose-estimation-adas-0001"]);
  for (const r of reports) {
    assert.deepEqual(validateFrontierReport(r), []);
    assert.deepEqual(r.series.map((s) => s.policy), POLICIES, "one series per policy");
    for (const s of r.series) {
      assert.deepEqual(s.points.map((p) => p.load), [0.1, 1, 2, 3]);
      assert.ok(s.points.every((p) => p.simulated), "a prediction beside every measurement");
      assert.ok(s.sustained, "a sustained throughput per policy");
    }
    assert.ok(r.batchOverheadMs! >= 0 && r.loneOverheadMs! >= 0, "the batcher's overheads, measured in the run");
  }
  for (const name of ["landmarks", "head pose"]) {
    assert.match(out, new RegExp(`\\n${name}:\\n {2}policy +rate/s +throughput sim / real +p50 ms sim / real\\n`));
    assert.match(out, new RegExp(`${name}: (setBatch\\(n\\) costs less than n batch-1 requests at n = |on this run setBatch\\(n\\) never)`));
  }
  assert.equal(out.match(/Padding every call to 8 costs [\d.]+ ms whatever n; at n = 4 \(the video's 4\.0 faces per frame\)/g)?.length, 2);
  assert.equal(out.match(/Issue 18 target, (met|missed|n\/a): /g)?.length, 4);
  assert.equal(out.match(/Sustained throughput, against saturation \d+\/s: maxDelay 0 ms \d+\/s \([\d.]+×\), /g)?.length, 2);
  assert.equal(
    out.match(/A batcher with no overhead of its own \(the simulator, overheadMs 0, maxDelay 1 ms\) at 2× saturation: p99 [\d.]+ ms against the bound [\d.]+ ms — (within it|past it: (twice the saturation rate is|at) \d+% of what batches of 8 serve)/g)
      ?.length,
    2,
  );
  for (const name of ["landmarks", "head pose"])
    assert.match(
      out,
      new RegExp(`${name}: the batcher adds [\\d.]+ ms to a lone sample, [\\d.]+ ms per full batch; at and below saturation the simulator's throughput is off by \\d+% on average`),
    );
  assert.match(out, /maxDelay [\d.]+ ms(, work-conserving)?: p99 [\d.]+ ms at \d+ samples\/s, mean batch [\d.]+ of 8\n|no batching \(2 requests\): p99/);
});
