/**
 * The display writers in a real tslab kernel: a bundle is one output with all its MIME types;
 * the display.raw fallback gives one output per type; a live display is updated in place, also
 * from a later cell; and `import ... from "dynbatch"` type-checks and resolves from notebooks/.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LATENCY_MIME } from "../../kernel";
import { checkSetup, Notebook, NOTEBOOK_KERNELSPEC, problems, runNotebook, stdout } from "./nbrun";
import { validateLatencyReport } from "../display/validate";

const cells = [
  `import { display, newDisplay, IECore, LATENCY_MIME } from "dynbatch";
import type { LatencyReport } from "dynbatch";
import { tslabRawWriter } from "dynbatch/dist/kernel/display/writer";
import * as tslab from "tslab";
const report = (n: number): LatencyReport => ({
  model: "<img src=x onerror=alert(1)>", device: "CPU", limit: 8,
  points: Array.from({ length: n }, (_, i) => ({ batch: i + 1, mode: "dynamic", latencyMs: { p50: 1, p90: 2, min: 1, max: 3 }, throughput: (i + 1) * 1000 })),
});
console.log(LATENCY_MIME, new IECore().availableDevices.includes("CPU"));`,
  `display(report(2));`,
  `display(report(2), tslabRawWriter(tslab));`,
  `const live = newDisplay();
for (let n = 1; n <= 3; n++) live.update(report(n));`,
  `live.update(report(5));`,
];

function notebookFile(): string {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: NOTEBOOK_KERNELSPEC },
    cells: cells.map((source, i) => ({ cell_type: "code", id: `c${i}`, metadata: {}, source, outputs: [], execution_count: null })),
  };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-kernel-")), "writers.ipynb");
  fs.writeFileSync(file, JSON.stringify(nb));
  return file;
}

let nb: Notebook;
before(async () => {
  checkSetup();
  nb = await runNotebook(notebookFile());
});

test("the notebook imports dynbatch by name and runs without errors", () => {
  assert.deepEqual(problems(nb), []);
  assert.equal(stdout(nb), `${LATENCY_MIME} true\n`);
});

test("display() sends the whole bundle as one output", () => {
  const outs = nb.cells[1].outputs!;
  assert.equal(outs.length, 1);
  assert.equal(outs[0].output_type, "display_data");
  assert.deepEqual(Object.keys(outs[0].data!).sort(), [LATENCY_MIME, "text/html", "text/plain"].sort());
  assert.deepEqual(validateLatencyReport(outs[0].data![LATENCY_MIME]), []);
});

test("the display.raw fallback sends one output per MIME type", () => {
  const outs = nb.cells[2].outputs!;
  assert.deepEqual(
    outs.map((o) => [o.output_type, Object.keys(o.data ?? {})]),
    [
      ["display_data", [LATENCY_MIME]],
      ["display_data", ["text/html"]],
    ],
  );
  assert.equal((outs[0].data![LATENCY_MIME] as { points: unknown[] }).points.length, 2);
});

test("a live display is one output, replaced in place, also from a later cell", () => {
  const outs = nb.cells[3].outputs!;
  assert.equal(outs.length, 1);
  assert.equal((outs[0].data![LATENCY_MIME] as { points: unknown[] }).points.length, 5);
  assert.deepEqual(nb.cells[4].outputs, []);
});
