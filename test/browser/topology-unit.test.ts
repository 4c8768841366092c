/**
 * The topology view's pure parts, in node without a browser: the view graph (constants folded,
 * search), the payload checks, and the words of the details panel (shapes in N, fix suggestions).
 * The browser side is topology.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fixSuggestion, formatShape, symbolicShape } from "../../extension/src/topology/describe";
import { buildViewGraph, countHiddenMatches, countVerdicts, neighbours, searchLayers } from "../../extension/src/topology/model";
import { topologyProblem } from "../../extension/src/topology/validate";
import { broken, generatedReport, layer, SMALL, withSummary, xssReport } from "./fixtures";

test("view graph: constants fold into the layers they feed, and paths through them become marked edges", () => {
  const g = buildViewGraph(SMALL, false);
  assert.deepEqual(
    g.nodes.map((n) => n.layer.name),
    ["data", "conv", "prior", "out"],
  );
  assert.deepEqual(
    g.nodes.map((n) => n.folded.map((c) => c.name)),
    [[], ["w/convert", "w"], ["shape"], ["prior/unsqueeze"]],
  );
  assert.deepEqual(
    g.hiddenConstants.map((l) => l.name),
    ["w", "w/convert", "shape", "prior/unsqueeze"],
  );
  // (from, to, through constants): conv feeds out once although it is input twice.
  const edges = [...g.throughConstants].map((t, e) => [g.edges[2 * e], g.edges[2 * e + 1], t]);
  assert.deepEqual(edges, [
    [0, 1, 0],
    [1, 2, 1],
    [1, 3, 0],
    [2, 3, 1],
  ]);
  assert.deepEqual(neighbours(g, 3), { inputs: [1, 2], outputs: [] });
  assert.deepEqual(neighbours(g, 1), { inputs: [0], outputs: [2, 3] });

  const all = buildViewGraph(SMALL, true);
  assert.equal(all.nodes.length, 8);
  assert.equal(all.hiddenConstants.length, 0);
  assert.ok(all.nodes.every((n) => n.folded.length === 0));
  assert.ok([...all.throughConstants].every((t) => t === 0));
  assert.equal(all.edges.length / 2, 8);
});

test("view graph: search is case-insensitive with an exact name first; hidden constants are counted apart", () => {
  const g = buildViewGraph(SMALL, false);
  assert.deepEqual(searchLayers(g, "PRIOR"), [2]);
  assert.deepEqual(searchLayers(g, "out"), [3]);
  assert.deepEqual(searchLayers(g, "t"), [0, 3]);
  const twoX = buildViewGraph(
    withSummary("x", "strict", [layer(0, "a/x", "Relu", "supported", []), layer(1, "X", "Relu", "supported", [0])]),
    false,
  );
  assert.deepEqual(searchLayers(twoX, "x"), [1, 0]);
  assert.deepEqual(searchLayers(g, "  "), []);
  assert.equal(countHiddenMatches(g, "prior"), 1);
  assert.equal(countHiddenMatches(g, ""), 0);
  assert.deepEqual(countVerdicts(SMALL), { supported: 2, unsupported: 2, constant: 4 });
  const big = generatedReport(5000);
  assert.deepEqual(countVerdicts(big), {
    supported: big.summary.supported,
    unsupported: big.summary.unsupported,
    constant: big.summary.constant,
  });
  assert.equal(big.summary.total - big.summary.constant, 5000);
});

test("validate: a well-formed report passes; each malformed field is named", () => {
  assert.equal(topologyProblem(SMALL), null);
  assert.equal(topologyProblem(broken(() => undefined)), null);
  assert.equal(topologyProblem(xssReport()), null);
  assert.equal(topologyProblem(generatedReport(200)), null);
  assert.equal(topologyProblem(null), "the payload is not an object");
  assert.equal(topologyProblem([]), "the payload is not an object");
  assert.equal(topologyProblem(broken((r) => delete r.layers[3].inputs)), "layers[3].inputs is not an array of layer ids");
  assert.equal(topologyProblem(broken((r) => (r.layers[3].inputs = ["0"]))), "layers[3].inputs is not an array of layer ids");
  assert.equal(
    topologyProblem(broken((r) => (r.layers[3].inputs = [0, 99]))),
    "layers[3].inputs names layer id 99, which is not in the report",
  );
  assert.equal(topologyProblem(broken((r) => (r.layers[2].id = 0))), "layers[2].id 0 is used by an earlier layer too");
  assert.equal(topologyProblem(broken((r) => (r.layers[2].id = "2"))), "layers[2].id is not a number");
  assert.equal(
    topologyProblem(broken((r) => (r.layers = [null as unknown as Record<string, unknown>]))),
    "layers[0] is not an object",
  );
  assert.equal(
    topologyProblem(broken((r) => (r.layers[1].verdict = "maybe"))),
    'layers[1].verdict is "maybe", not one of supported, unsupported, constant',
  );
  assert.equal(
    topologyProblem(broken((r) => delete r.layers[1].verdict)),
    "layers[1].verdict is missing, not one of supported, unsupported, constant",
  );
  for (const key of ["name", "type", "legacyType", "reason"]) {
    assert.equal(topologyProblem(broken((r) => (r.layers[4][key] = 1))), `layers[4].${key} is not a string`);
  }
  assert.equal(topologyProblem(broken((r) => (r.layers[0].outputShape = "N"))), "layers[0].outputShape is not an array");
  assert.equal(topologyProblem(broken((r) => delete (r as Record<string, unknown>).summary)), "summary is not an object");
  assert.equal(topologyProblem(broken((r) => (r.mode = "lenient"))), 'mode is "lenient", not strict or shape-aware');
  assert.equal(topologyProblem(broken((r) => delete r.model)), "model is not a string");
  assert.equal(
    topologyProblem(broken((r) => delete (r.alternate as Record<string, unknown>).layers)),
    "alternate.layers is not an array",
  );
  assert.equal(
    topologyProblem(broken((r) => ((r.alternate as { layers: unknown[] }).layers[5] = 5))),
    "alternate.layers[5] is not an object",
  );
  assert.equal(topologyProblem(broken((r) => (r.alternate = "strict"))), "alternate is not an object");
});

test("describe: shapes in terms of N, from the shape-aware twin of a strict layer", () => {
  assert.equal(formatShape(["N", 3, 64, 64]), "[N,3,64,64]");
  assert.equal(formatShape([]), "[]");
  const strict = layer(5, "r", "Reshape", "unsupported", [], { outputShape: [1, 512] });
  assert.equal(symbolicShape(strict, layer(5, "r", "Reshape", "supported", [], { outputShape: ["N", 512] })), "[N,512]");
  assert.equal(symbolicShape(strict), "[1,512]");
  assert.equal(
    symbolicShape(layer(1, "d", "DetectionOutput", "unsupported", [], { outputShape: [1, 1, "200N", 7] })),
    "[1,1,200N,7]",
  );
});

test("describe: a fix suggestion per kind of blocker, none for other layers", () => {
  const blocked = (type: string, reason: string, legacyType = type) =>
    layer(1, "x", type, "unsupported", [], { reason, legacyType });
  assert.equal(fixSuggestion(layer(1, "x", "Convolution", "supported", []), "strict"), null);
  // Shape-aware refusals: fixForDynamicBatch() rewrites a Reshape or splits where samples mix.
  const detection = fixSuggestion(blocked("DetectionOutput", "folds the batch"), "shape-aware") ?? "";
  assert.match(detection, /fixForDynamicBatch\(\)` splits the network at this DetectionOutput/);
  assert.match(detection, /static batch/);
  assert.match(
    fixSuggestion(blocked("Reshape", "folds the batch into axis 1"), "shape-aware") ?? "",
    /fixForDynamicBatch\(\)` rewrites .*axis 0 .*-1/,
  );
  assert.match(fixSuggestion(blocked("Transpose", "moves the batch", "Permute"), "shape-aware") ?? "", /axis 0 first.*splits/);
  assert.match(
    fixSuggestion(blocked("ReduceSum", "drops the batch"), "shape-aware") ?? "",
    /splits the network at this ReduceSum.*per sample/,
  );
  assert.match(
    fixSuggestion(blocked("SoftMax", "SoftMax along axis 0 normalises across samples"), "shape-aware") ?? "",
    /splits the network at this SoftMax/,
  );
  assert.match(fixSuggestion(blocked("ShapeOf", "shape reaches data"), "shape-aware") ?? "", /static dims/);
  // Strict refusals are by type: the first fix is the shape-aware default, not fixForDynamicBatch().
  for (const type of ["PriorBox", "ReduceSum", "MyCustomOp", "Reshape"]) {
    const fix = fixSuggestion(blocked(type, "not in the published list"), "strict") ?? "";
    assert.match(fix, new RegExp(`strict \\(legacy\\) rule refuses ${type} by its type\\. Load with the shape-aware analysis`));
    assert.ok(!fix.includes("fixForDynamicBatch"), type);
  }
  // With the other mode's verdict: head-pose's Reshape is accepted there; a DetectionOutput is not, and is split.
  const reshape = blocked("Reshape", "Reshape may change the tensor shape");
  assert.match(
    fixSuggestion(reshape, "strict", { ...reshape, verdict: "supported" }) ?? "",
    /^Load with the shape-aware analysis/,
  );
  const det = blocked("DetectionOutput", "detection layer");
  assert.match(
    fixSuggestion(det, "strict", { ...det, reason: "folds the batch into axis 2" }) ?? "",
    /refuses it too.*splits the network/,
  );
});
