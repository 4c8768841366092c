/**
 * notebooks/07-split-face-detection.ipynb runs headless with the tslab kernel (quick mode: 4
 * frames) and shows what it says: the split applied and proven, the same detections in one
 * request as in batch-1 requests, a timing table, and a reading computed from that table.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { BATCH_FIX_MIME } from "../../kernel";
import type { BatchFixChange } from "../../kernel";
import { checkSetup, displayTexts, Notebook, NOTEBOOK_KERNELSPEC, NOTEBOOKS, payloads, problems, runNotebook, stdout } from "./nbrun";

const NB = path.join(NOTEBOOKS, "07-split-face-detection.ipynb");

before(() => checkSetup());

test("07 is committed with outputs, without errors, with the generic kernelspec", () => {
  const nb = JSON.parse(fs.readFileSync(NB, "utf8")) as Notebook;
  assert.deepEqual(nb.metadata.kernelspec, NOTEBOOK_KERNELSPEC);
  assert.equal(payloads(nb, BATCH_FIX_MIME).length, 1, "the changes are committed");
  assert.deepEqual(problems(nb), []);
  const cells = nb.cells as (Notebook["cells"][number] & { metadata: { jupyter?: { source_hidden?: boolean } } })[];
  const answer = cells.filter((c) => c.metadata.jupyter?.source_hidden);
  assert.equal(answer.length, 1, "one collapsed answer cell");
});

test("07 runs top to bottom: split proven, equal detections, timings, a reading of them", async () => {
  const nb = await runNotebook(NB);
  assert.deepEqual(problems(nb), []);
  const [changes] = payloads(nb, BATCH_FIX_MIME) as BatchFixChange[][];
  assert.deepEqual(
    changes.map((c) => [c.layer, c.kind, c.applied]),
    [["detection_out", "split", true]],
  );
  assert.ok(changes[0].proof!.numeric.every((x) => x.maxAbsError <= 1e-5));
  const out = stdout(nb);
  assert.match(out, /applied: true; a SplitNetwork: true; analysis now supported: true/);
  // Frames 66–69 have 4 faces each (counted by eye, as in notebook 04's test).
  assert.match(out, /faces \(conf ≥ 0\.5\) per frame: 66:4 67:4 68:4 69:4/);
  const same = /same rows per frame as the batch-1 runs: (\w+); max \|difference\|: (\S+)/.exec(out);
  assert.ok(same, "the comparison printed its result");
  assert.equal(same[1], "true");
  assert.equal(Number(same[2]), 0);
  // The table: frames, one-request ms/frame, spread, batch-1 ms/frame, speed-up = batch-1 / one request.
  const rows = [...out.matchAll(/^\s+(\d+)\s+(\d+\.\d)\s+\((\d+\.\d)–(\d+\.\d)\)\s+(\d+\.\d)\s+(\d+\.\d\d)$/gm)];
  assert.deepEqual(
    rows.map((r) => Number(r[1])),
    [1, 2, 4],
  );
  for (const r of rows) assert.ok(Math.abs(Number(r[5]) / Number(r[2]) - Number(r[6])) < 0.02, `speed-up of row ${r[0]}`);
  const last = rows[rows.length - 1];
  const reading = /Over 3 rounds, one request of 4 frames took (\S+) ms per frame/.exec(out);
  assert.ok(reading, "the reading is printed");
  assert.equal(reading[1], last[2], "the reading quotes the table's one-request time at 4 frames");
  assert.match(out, /convolutions took \d+%/);
  assert.ok(displayTexts(nb).some((t) => t.startsWith("SplitNetworkError [SPLIT_NETWORK]: serialize:")));
  assert.match(out, /2\. the body's outputs: mbox_loc, mbox_conf_flatten/);
});
