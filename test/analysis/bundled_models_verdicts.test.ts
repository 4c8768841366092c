/**
 * The shared models in both modes. Expected verdicts come from DESIGN.md; the counts of blocking
 * layers per type were counted in the IR xml files (e.g. face-detection has 14 Transpose and 16
 * Reshape layers, all on the data path, 7 PriorBox and 1 DetectionOutput with keep_top_k=200).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { analyze, batchAxes } from "../../kernel/analysis";
import { readModel } from "../../kernel/readers";
import { TopologyReport } from "../../kernel/schema";
import { OPEN_CLOSED_EYE_ONNX, irPath as ir } from "../helpers/models";

/** Blocking layers counted by op type. */
function blockingTypes(r: TopologyReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of r.layers) if (l.verdict === "unsupported") out[l.type] = (out[l.type] ?? 0) + 1;
  return out;
}

function resultShapes(r: TopologyReport): (number | string)[][] {
  return r.layers.filter((l) => l.type === "Result").map((l) => l.outputShape);
}

test("landmarks-regression-retail-0009: supported in both modes", () => {
  const g = readModel(ir("landmarks-regression-retail-0009"));
  const st = analyze(g, { mode: "strict" });
  assert.equal(st.supported, true);
  assert.deepEqual(st.summary.blocking, []);
  const sa = analyze(g, { mode: "shape-aware" });
  assert.equal(sa.supported, true);
  assert.deepEqual(resultShapes(sa), [["N", 10, 1, 1]]);
  assert.deepEqual(resultShapes(st), [[1, 10, 1, 1]]);
  // 42 Const + 42 Convert (weight decompression) are folded constants, not layers
  assert.equal(st.summary.constant, 84);
  assert.equal(sa.summary.constant, 84);
});

test("head-pose-estimation-adas-0001: strict rejects the 3 Reshapes, shape-aware proves them", () => {
  const g = readModel(ir("head-pose-estimation-adas-0001"));
  const st = analyze(g, { mode: "strict" });
  assert.equal(st.supported, false);
  assert.deepEqual(blockingTypes(st), { Reshape: 3 });
  const sa = analyze(g, { mode: "shape-aware" });
  assert.equal(sa.supported, true);
  const reshapes = sa.layers.filter((l) => l.type === "Reshape");
  assert.equal(reshapes.length, 3);
  for (const l of reshapes) {
    assert.deepEqual(l.outputShape, ["N", 512]);
    assert.match(l.reason, /Reshape \[N,128,2,2\] → \[N,512\] keeps samples contiguous/);
  }
  const fcs = st.layers.filter((l) => l.type === "MatMul");
  assert.deepEqual(
    fcs.map((l) => l.legacyType),
    ["FullyConnected", "FullyConnected", "FullyConnected"],
  );
  assert.deepEqual(resultShapes(sa), [
    ["N", 1],
    ["N", 1],
    ["N", 1],
  ]);
});

test("open-closed-eye-0001 (IR and ONNX): strict rejects ReduceSum, shape-aware proves it", () => {
  for (const file of [ir("open-closed-eye-0001"), OPEN_CLOSED_EYE_ONNX]) {
    const g = readModel(file);
    const st = analyze(g, { mode: "strict" });
    assert.equal(st.supported, false, file);
    assert.deepEqual(blockingTypes(st), { ReduceSum: 1 }, file);
    const sa = analyze(g, { mode: "shape-aware" });
    assert.equal(sa.supported, true, file);
    const sum = sa.layers.find((l) => l.type === "ReduceSum")!;
    assert.deepEqual(sum.outputShape, ["N", 1, 1, 1]);
    assert.match(sum.reason, /over axes \[1\] stays within each sample/);
    assert.deepEqual(resultShapes(sa), [["N", 2, 1, 1]]);
  }
});

test("face-detection-adas-0001: strict rejects detection and shape layers, shape-aware only DetectionOutput", () => {
  const g = readModel(ir("face-detection-adas-0001"));
  const st = analyze(g, { mode: "strict" });
  assert.equal(st.supported, false);
  assert.deepEqual(blockingTypes(st), { Transpose: 14, Reshape: 16, PriorBox: 7, DetectionOutput: 1 });
  assert.ok(st.layers.filter((l) => l.type === "PriorBox").every((l) => /detection layer/.test(l.reason)));

  const sa = analyze(g, { mode: "shape-aware" });
  assert.equal(sa.supported, false);
  assert.deepEqual(sa.summary.blocking, ["detection_out"]);
  const det = sa.layers.find((l) => l.name === "detection_out")!;
  assert.deepEqual(det.outputShape, [1, 1, "200N", 7]);
  assert.match(det.reason, /folds the batch into axis 2/);
  // Priors depend on spatial sizes only: folded, the same for every N
  assert.ok(sa.layers.filter((l) => l.type === "PriorBox").every((l) => l.verdict === "constant"));
  assert.ok(sa.layers.filter((l) => l.type === "Transpose").every((l) => l.verdict === "supported"));
});

test("batchAxes on head-pose: every data tensor scales with N, weights do not", () => {
  const g = readModel(ir("head-pose-estimation-adas-0001"));
  const ax = batchAxes(g);
  for (const n of g.nodes) {
    const flags = ax.get(n.id)!;
    assert.equal(flags.length, n.outputs.length, n.name);
    const expected = n.type !== "Const" && n.type !== "Convert";
    for (const f of flags) assert.equal(f, expected, n.name);
  }
});
