/**
 * notebooks/05-int8.ipynb runs headless with the tslab kernel (quick mode) and shows what it says:
 * strict refuses the quantized network and shape-aware proves it, the landmark change within the
 * issue's bound, FP32 and INT8 latency at every batch on one chart, and the computed summary.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { LATENCY_MIME } from "../../kernel";
import type { LatencyReport } from "../../kernel";
import { validateLatencyReport } from "../display/validate";
import { checkSetup, Notebook, NOTEBOOK_KERNELSPEC, NOTEBOOKS, payloads, problems, runNotebook, stdout } from "./nbrun";

const NB = path.join(NOTEBOOKS, "05-int8.ipynb");

before(() => checkSetup());

test("05 is committed with outputs, without errors", () => {
  const nb = JSON.parse(fs.readFileSync(NB, "utf8")) as Notebook;
  assert.deepEqual(nb.metadata.kernelspec, NOTEBOOK_KERNELSPEC);
  assert.ok(nb.cells.some((c) => c.cell_type === "code" && (c.outputs ?? []).length > 0));
  assert.deepEqual(problems(nb), []);
});

test("05 runs in quick mode: the verdicts, the accuracy bound, both latency curves on one chart, the summary", async () => {
  const nb = await runNotebook(NB);
  assert.deepEqual(problems(nb), []);
  const out = stdout(nb);
  assert.match(out, /strict: refused \(FakeQuantize\); shape-aware: supported/);
  const change = /the points move by (\S+) of the face box on average/.exec(out);
  assert.ok(change && Number(change[1]) <= 0.01, `landmark change ${change?.[1]}`);
  assert.match(out, /\d+ of \d+ convolutions ran in U8/);
  const [chart] = payloads(nb, LATENCY_MIME) as LatencyReport[];
  const reports = [chart, ...(chart.others ?? [])];
  for (const r of reports) assert.deepEqual(validateLatencyReport(r), []);
  assert.deepEqual(
    reports.map((r) => r.device),
    ["CPU FP32", "CPU INT8"],
  );
  for (const r of reports)
    assert.deepEqual(
      r.points.filter((p) => p.mode === "dynamic").map((p) => p.batch),
      [1, 2, 4],
    );
  for (const n of [1, 2, 4]) assert.match(out, new RegExp(`n=${n}: FP32 \\S+ ms, INT8 \\S+ ms`));
  assert.match(out, /1\. The legacy list refused/);
  assert.match(out, /3\. \d+ of \d+ convolutions ran in int8; INT8 was \S+× as fast as FP32 at n=\d+/);
});
