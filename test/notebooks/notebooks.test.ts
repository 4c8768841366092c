/**
 * Every notebook in notebooks/ runs top to bottom headless with the tslab kernel (quick mode),
 * without error outputs or stderr, and its outputs say what the notebook teaches: payloads valid
 * against the schemas, the verdicts of DESIGN.md per model, latency points for every batch.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { LATENCY_MIME, TOPOLOGY_MIME } from "../../kernel";
import type { LatencyReport, TopologyReport } from "../../kernel";
import { validateLatencyReport, validateTopologyReport } from "../display/validate";
import { checkSetup, displayTexts, Notebook, NOTEBOOK_KERNELSPEC, NOTEBOOKS, payloads, problems, runNotebook, stdout } from "./nbrun";

const NB1 = "01-dynamic-batching-in-five-minutes.ipynb";
const NB2 = "02-which-topologies.ipynb";
const NB3 = "03-latency-vs-batch.ipynb";
const executed = new Map<string, Notebook>();

/** Every topology report shown, a display's `alternate` (the other mode) included. */
function topologies(nb: Notebook): TopologyReport[] {
  const shown = payloads(nb, TOPOLOGY_MIME) as TopologyReport[];
  const all = shown.flatMap((r) => (r.alternate ? [r, r.alternate] : [r]));
  for (const p of all) assert.deepEqual(validateTopologyReport(p), []);
  return all;
}

/** Every latency report shown, the other devices of a display (`others`) included. */
function latencies(nb: Notebook): LatencyReport[] {
  const shown = payloads(nb, LATENCY_MIME) as LatencyReport[];
  const all = shown.flatMap((r) => [r, ...(r.others ?? [])]);
  for (const p of all) assert.deepEqual(validateLatencyReport(p), []);
  return all;
}

before(() => checkSetup());

test("notebooks/ holds exactly the three notebooks, committed with outputs", () => {
  const files = fs.readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb"));
  // 04-face-video-cascade runs in test/cascade/notebook.test.ts, 05-int8 in int8_notebook.test.ts.
  assert.deepEqual(files.sort(), [NB1, NB2, NB3, "04-face-video-cascade.ipynb", "05-int8.ipynb"]);
  for (const f of files) {
    const nb = JSON.parse(fs.readFileSync(path.join(NOTEBOOKS, f), "utf8")) as Notebook;
    assert.deepEqual(nb.metadata.kernelspec, NOTEBOOK_KERNELSPEC);
    const code = nb.cells.filter((c) => c.cell_type === "code");
    assert.ok(code.some((c) => (c.outputs ?? []).length > 0), `${f} is committed with its outputs`);
    assert.deepEqual(problems(nb), [], `${f} as committed has no errors`);
  }
});

for (const name of [NB1, NB2, NB3]) {
  test(`${name} runs top to bottom with the tslab kernel, without errors`, async () => {
    const nb = await runNotebook(path.join(NOTEBOOKS, name));
    assert.deepEqual(problems(nb), []);
    executed.set(name, nb);
  });
}

function ran(name: string): Notebook {
  const nb = executed.get(name);
  assert.ok(nb, `${name} did not run`);
  return nb;
}

test("01: the analysis, [n, …] outputs, the three errors, the cost at each n", () => {
  const nb = ran(NB1);
  const [topology] = topologies(nb);
  assert.equal(topology.supported, true);
  assert.equal(topology.mode, "shape-aware");
  const texts = displayTexts(nb);
  assert.ok(texts.some((t) => t.startsWith("Blob [5,10,1,1] FP32 NCHW")));
  assert.ok(texts.some((t) => t.includes("[BATCH_OUT_OF_RANGE]") && t.includes("Expected value in range [1;16]")));
  assert.ok(texts.some((t) => t.includes("[DYN_BATCH_NOT_ENABLED]")));
  assert.ok(texts.some((t) => t.includes("[DYN_BATCH_UNSUPPORTED_TOPOLOGY]") && t.includes("detection_out")));
  assert.ok(texts.some((t) => t.startsWith("Performance counters:")));
  const diff = /max \|row 3 of batch 5 − batch-1 run\| = (\S+)/.exec(stdout(nb));
  assert.ok(diff && Number(diff[1]) < 1e-5, "a sample's output does not depend on its batch");
  const sweeps = latencies(nb);
  assert.equal(sweeps.length, 1, "the sweep updates one display in place");
  const [cost] = sweeps;
  assert.equal(cost.limit, 16);
  assert.deepEqual(
    cost.points.map((p) => `${p.mode} ${p.batch}`),
    ["dynamic 1", "dynamic 2", "dynamic 4", "dynamic 8", "dynamic 12", "dynamic 16", "static 16"],
  );
});

test("02: the verdicts of DESIGN.md for every model and the built counter-example", () => {
  const nb = ran(NB2);
  const table = new Map(
    stdout(nb)
      .split("\n")
      .map((l) => /^(\S.*?)\s{2,}([✓✗])\s+([✓✗])\s/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], `${m[2]}/${m[3]}`]),
  );
  assert.deepEqual(Object.fromEntries(table), {
    "landmarks-regression-retail-0009": "✓/✓",
    "head-pose-estimation-adas-0001": "✗/✓",
    "open-closed-eye-0001": "✗/✓",
    "open-closed-eye-0001 (ONNX original)": "✗/✓",
    "face-detection-adas-0001": "✗/✗",
  });
  const reports = topologies(nb);
  const find = (model: string, mode: string) => reports.filter((r) => r.model === model && r.mode === mode);
  const [headPose] = find("head-pose-estimation-adas-0001", "strict");
  assert.deepEqual(
    headPose.layers.filter((l) => l.verdict === "unsupported").map((l) => l.type),
    ["Reshape", "Reshape", "Reshape"],
  );
  const eye = reports.find((r) => r.mode === "strict" && r.layers.some((l) => l.type === "ReduceSum"));
  assert.ok(eye && eye.layers.filter((l) => l.verdict === "unsupported").every((l) => l.type === "ReduceSum"));
  const [face] = find("mobilenet_ssd_672x384", "shape-aware");
  assert.deepEqual(face.summary.blocking, ["detection_out"]);
  const [folds] = find("folds", "shape-aware");
  const [keeps] = find("keeps", "shape-aware");
  assert.equal(folds.supported, false);
  assert.deepEqual(folds.layers.find((l) => l.name === "flatten")!.outputShape, [1, "32N"]);
  assert.equal(keeps.supported, true);
  assert.ok(displayTexts(nb).some((t) => t.includes("[DYN_BATCH_UNSUPPORTED_TOPOLOGY]") && t.includes("flatten")));
  assert.match(stdout(nb), /y: \[3,32\], equal to ReLU of each sample's own values: true/);
  // The custom layer written in a cell: named without its extension, trusted with it, run batched.
  assert.match(stdout(nb), /without an extension: .*operation MyScale is not supported; ie\.addExtension\(\{ type: "MyScale"/);
  assert.match(stdout(nb), /shape-aware: scale: supported — declared batch-independent by its extension 'my_ops:MyScale'/);
  assert.match(stdout(nb), /y: \[3,32\], equal to 2·x of each sample: true\nperformance counter of 'scale': custom/);
});

test("03: a latency report per model and device, with every mode measured at every batch", () => {
  const nb = ran(NB3);
  const batches = /batches: ([\d, ]+)/.exec(stdout(nb))![1].split(", ").map(Number);
  const reports = latencies(nb);
  assert.ok(reports.length >= 1);
  for (const r of reports) {
    assert.equal(r.limit, Math.max(...batches));
    const measured = new Set(r.points.map((p) => p.mode));
    const skipped = new Set((r.skipped ?? []).map((s) => s.mode));
    assert.ok(measured.has("dynamic") && measured.has("static") && measured.has("loop"));
    for (const mode of ["dynamic", "static", "loop", "ort"] as const) {
      if (!measured.has(mode)) {
        assert.ok(skipped.has(mode), `${mode} is either measured or reported as skipped`);
        continue;
      }
      for (const n of batches) {
        const point = r.points.some((p) => p.mode === mode && p.batch === n);
        const why = (r.skipped ?? []).some((s) => s.mode === mode && s.reason.startsWith(`batch ${n}:`));
        assert.ok(point || (mode === "ort" && why), `${r.model}: ${mode} has a point at n = ${n}`);
      }
    }
  }
  assert.match(stdout(nb), /saturates at/);
});
