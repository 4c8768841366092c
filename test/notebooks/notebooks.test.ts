/**
 * Every notebook in notebooks/ runs top to bottom headless with the tslab kernel (quick mode),
 * without error outputs or stderr, and its outputs say what the notebook teaches: payloads valid
 * against the schemas, the verdicts of DESIGN.md per model, latency points for every batch.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { BATCH_FIX_MIME, LATENCY_MIME, PROFILE_MIME, TOPOLOGY_MIME } from "../../kernel";
import type { BatchFixChange, LatencyReport, ProfileReport, TopologyReport } from "../../kernel";
import { validateLatencyReport, validateProfileReport, validateTopologyReport } from "../display/validate";
import { checkSetup, displayTexts, Notebook, NOTEBOOK_KERNELSPEC, NOTEBOOKS, payloads, problems, runNotebook, stdout } from "./nbrun";
import { checkProfileReadings, checkSweepReadings } from "./readings03";
import { abbreviated, MAX_NOTEBOOK_BYTES, missingEnding } from "./structure";

const NB1 = "01-dynamic-batching-in-five-minutes.ipynb";
const NB2 = "02-which-topologies.ipynb";
const NB3 = "03-latency-vs-batch.ipynb";
const NB4 = "04-face-video-cascade.ipynb";
const NB5 = "05-int8.ipynb";
const NB6 = "06-automatic-batching.ipynb";
const NB7 = "07-split-face-detection.ipynb";
/** Where each notebook's last cell sends the reader. */
const NEXT: Record<string, string> = { [NB1]: NB2, [NB2]: NB3, [NB3]: NB4, [NB4]: NB5, [NB5]: NB6, [NB6]: NB7, [NB7]: NB1 };
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
  // 04 runs in test/cascade/notebook.test.ts, 05 in int8_notebook.test.ts, 06 in automatic-batching.test.ts, 07 in split_notebook.test.ts.
  assert.deepEqual(files.sort(), [NB1, NB2, NB3, NB4, NB5, NB6, NB7]);
  for (const f of files) {
    const file = path.join(NOTEBOOKS, f);
    assert.ok(fs.statSync(file).size < MAX_NOTEBOOK_BYTES, `${f} is ${fs.statSync(file).size} bytes, over ${MAX_NOTEBOOK_BYTES}`);
    const nb = JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
    assert.deepEqual(nb.metadata.kernelspec, NOTEBOOK_KERNELSPEC);
    const code = nb.cells.filter((c) => c.cell_type === "code");
    assert.ok(code.some((c) => (c.outputs ?? []).length > 0), `${f} is committed with its outputs`);
    assert.deepEqual(problems(nb), [], `${f} as committed has no errors`);
    assert.deepEqual(abbreviated(nb), [], `${f}: no output shows [Array] or [Object] instead of the value`);
    if (NEXT[f]) assert.deepEqual(missingEnding(nb, NEXT[f], NOTEBOOKS), [], `${f}'s ending`);
  }
});

for (const name of [NB1, NB2, NB3]) {
  test(`${name} runs top to bottom with the tslab kernel, without errors`, async () => {
    const nb = await runNotebook(path.join(NOTEBOOKS, name));
    assert.deepEqual(problems(nb), []);
    assert.deepEqual(abbreviated(nb), []);
    assert.deepEqual(missingEnding(nb, NEXT[name], NOTEBOOKS), []);
    executed.set(name, nb);
  });
}

function ran(name: string): Notebook {
  const nb = executed.get(name);
  assert.ok(nb, `${name} did not run`);
  return nb;
}

test("01: the analysis, both rules, [n, …] outputs, the errors, the cost at each n, the answers", () => {
  const nb = ran(NB1);
  const [topology] = topologies(nb);
  assert.equal(topology.supported, true);
  assert.equal(topology.mode, "shape-aware");
  const out = stdout(nb);
  assert.match(out, /inputs, allocated for the limit:\n {2}'0': \[16,3,48,48\] FP32 NCHW/);
  const texts = displayTexts(nb);
  assert.ok(texts.some((t) => t.startsWith("Blob [5,10,1,1] FP32 NCHW")));
  assert.ok(texts.some((t) => t.includes("[BATCH_OUT_OF_RANGE]") && t.includes("Expected value in range [1;16]")));
  assert.ok(texts.some((t) => t.includes("[DYN_BATCH_NOT_ENABLED]")));
  assert.ok(texts.some((t) => t.includes("[DYN_BATCH_UNSUPPORTED_TOPOLOGY]") && t.includes("detection_out")));
  // DYN_BATCH_ANALYSIS: "strict" refuses head-pose's three Reshapes; the default loads it.
  const strict = texts.find((t) => t.includes("'head-pose-estimation-adas-0001' (strict analysis), 3 offending layer(s)"));
  assert.ok(strict && (strict.match(/Reshape → Reshape/g) ?? []).length === 3, "the strict refusal names the three Reshapes");
  assert.match(out, /default \(shape-aware\): loaded, batch limit 16/);
  assert.ok(texts.some((t) => t.startsWith("Performance counters:")));
  const diff = /max \|row 3 of batch 5 − batch-1 run\| = (\S+)/.exec(out);
  assert.ok(diff && Number(diff[1]) < 1e-5, "a sample's output does not depend on its batch");
  const sweeps = latencies(nb);
  assert.equal(sweeps.length, 1, "the sweep updates one display in place");
  const [cost] = sweeps;
  assert.equal(cost.limit, 16);
  assert.deepEqual(
    cost.points.map((p) => `${p.mode} ${p.batch}`),
    [...[1, 2, 4, 8, 12, 16].map((n) => `dynamic ${n}`), "static 16"],
  );
  const statics = cost.points.filter((p) => p.mode === "static");
  // The chart draws the one static measurement as a flat line: every request pays for 16 slots.
  const html = (payloads(nb, "text/html") as unknown[]).map((h) => (Array.isArray(h) ? h.join("") : String(h)));
  assert.ok(html.some((h) => h.includes("static (compiled for 16): every request pays for 16")));
  // The printed reading says what the payload says.
  const dyn16 = cost.points.find((p) => p.mode === "dynamic" && p.batch === 16)!.latencyMs.p50;
  const ratio = dyn16 / statics[0].latencyMs.p50;
  const printed = /setBatch\(16\) \/ static 16: ([\d.]+) — (.*)/.exec(out);
  assert.ok(printed);
  assert.ok(Math.abs(Number(printed[1]) - ratio) <= 0.005 + 1e-9, `${printed[1]} vs ${ratio}`);
  assert.match(printed[2], Math.abs(ratio - 1) <= 0.05 ? /the same work at the same cost/ : ratio > 1 ? /slower at the full batch/ : /faster at the full batch/);
  assert.match(out, /1\. setBatch\(0\): BatchRangeError \[BATCH_OUT_OF_RANGE\]/);
  assert.match(out, /2\. batchLimit 8 .*Expected value in range \[1;8\]/);
});

test("02: the verdicts of DESIGN.md for every model, the bundled counter-example, and its proven fix", () => {
  const nb = ran(NB2);
  const out = stdout(nb);
  const verdicts = displayTexts(nb).find((t) => t.startsWith("model "));
  assert.ok(verdicts, "the verdicts are shown as a table");
  const table = new Map(
    verdicts
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
  // The published list has no ScaleShift: a strict verdict on one says how it is read, not that it is listed.
  for (const r of reports.filter((x) => x.mode === "strict"))
    for (const l of r.layers.filter((x) => x.legacyType === "ScaleShift"))
      assert.match(l.reason, /not in the published list by name; it is the legacy form of BatchNormalization/);
  const eye = reports.find((r) => r.mode === "strict" && r.layers.some((l) => l.type === "ReduceSum"));
  assert.ok(eye && eye.layers.filter((l) => l.verdict === "unsupported").every((l) => l.type === "ReduceSum"));
  assert.match(out, /shape-aware: detection_out \(DetectionOutput\): DetectionOutput \[N,40448\] → \[1,1,200N,7\] folds the batch/);
  const [folds] = find("reshape-folds-batch", "shape-aware");
  const [keeps] = find("reshape-keeps-batch", "shape-aware");
  assert.equal(folds.supported, false);
  assert.deepEqual(folds.layers.find((l) => l.name === "flatten")!.outputShape, [1, "32N"]);
  assert.equal(keeps.supported, true);
  assert.match(out, /reshape-folds-batch\.xml \(target in the \.bin: \[1,-1\]\):\n<layer id="2" name="flatten" type="Reshape"/);
  assert.ok(displayTexts(nb).some((t) => t.includes("[DYN_BATCH_UNSUPPORTED_TOPOLOGY]") && t.includes("flatten")));
  assert.match(out, /y: \[3,32\], equal to ReLU of each sample's own values: true/);
  // The custom layer written in a cell: named without its extension, trusted with it, run batched.
  assert.match(out, /without an extension: .*operation MyScale is not supported; ie\.addExtension\(\{ type: "MyScale"/);
  assert.match(out, /shape-aware: scale: supported — declared batch-independent by its extension 'my_ops:MyScale'/);
  assert.match(out, /y: \[3,32\], equal to 2·x of each sample: true\nperformance counter of 'scale': custom/);
  // Make it batchable: the folding Reshape rewritten, proven, and checked again by the notebook.
  const [changes] = payloads(nb, BATCH_FIX_MIME) as BatchFixChange[][];
  assert.deepEqual(
    changes.map((c) => [c.layer, c.before, c.after, c.applied]),
    [["flatten", "Reshape [1,-1]", "Reshape [0,-1] special_zero", true]],
  );
  assert.ok(changes[0].proof!.numeric.every((p) => p.maxAbsError <= 1e-5));
  assert.match(out, /fixed network, shape-aware: ✓/);
  const check = /max \|batch 3 − 3 batch-1 runs of the original\| = (\S+)/.exec(out);
  assert.ok(check && Number(check[1]) <= 1e-5, "the fixed network's batch equals the original's batch-1 runs");
  // The answers.
  assert.match(out, /1\. \[-1,32\]: ✓/);
  assert.match(out, /1\. \[0,32\] special_zero: ✓/);
  assert.match(out, /1\. \[1,32\]: ✗/);
  assert.match(out, /2\. head-pose: 0 changes/);
});

/** Every profile shown, valid against the schema. */
function profiles(nb: Notebook): ProfileReport[] {
  const all = payloads(nb, PROFILE_MIME) as ProfileReport[];
  for (const p of all) assert.deepEqual(validateProfileReport(p), []);
  return all;
}

test("03: a latency report per model and device, with every mode measured at every batch", () => {
  const nb = ran(NB3);
  const batches = /batches: ([\d, ]+)/.exec(stdout(nb))![1].split(", ").map(Number);
  const reports = latencies(nb);
  const sweeps = reports.filter((r) => r.model !== "face-detection-adas-0001");
  assert.ok(sweeps.length >= 1);
  for (const r of sweeps) {
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
});

test("03: every sentence that reads a number says what the run's own payloads say", () => {
  const nb = ran(NB3);
  const out = stdout(nb);
  const reports = latencies(nb);
  // Per sweep: growth, dyn/static, n = 1; plus face detection's growth.
  assert.equal(checkSweepReadings(out, reports), 3 * (reports.length - 1) + 1);
  const face = reports.find((r) => r.model === "face-detection-adas-0001");
  assert.ok(face, "face detection is swept");
  assert.ok(!face.points.some((p) => p.mode === "dynamic"));
  assert.match(face.skipped!.find((s) => s.mode === "dynamic")!.reason, /detection_out \(DetectionOutput\)/);
  const statics = face.points.filter((p) => p.mode === "static").sort((a, b) => a.batch - b.batch);
  const gain = statics[statics.length - 1].throughput / statics[0].throughput;
  assert.equal(/throughput is flat/.test(out), gain < 1.15, `face detection's gain ×${gain.toFixed(2)} and the text agree`);
  const shown = profiles(nb);
  assert.deepEqual(
    shown.map((p) => `${p.model} [${p.batches}]`).slice(0, 2),
    [`landmarks-regression-retail-0009 [${shown[0].batches}]`, "face-detection-adas-0001 [1]"],
  );
  assert.ok(shown[0].batches.includes(1) && shown[0].batches.includes(16));
  // landmarks at 1 and 16, face detection at 1; then the fit line.
  assert.equal(checkProfileReadings(out, shown), 4);
});
