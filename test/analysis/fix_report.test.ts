/**
 * The network fixForDynamicBatch() returns remembers what it applied: its analyze() report carries
 * the changes as `fixes` (each naming a layer of the report), and the topology fallbacks show them
 * (layer, before → after, proof). The original network's report has none.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CNNNetwork, TOPOLOGY_MIME, toMimeBundle } from "../../kernel";
import { GraphBuilder } from "../helpers/graph_builder";
import { pinnedReshape, reduceOverBatch } from "../helpers/fix_networks";
import { validateTopologyReport } from "../display/validate";

test("fixed network: analyze().fixes lists the applied rewrite, naming a layer of the report; the original has none", async () => {
  const net = pinnedReshape();
  const { network, changes } = await net.fixForDynamicBatch();
  const report = network.analyze();
  assert.equal(report.supported, true);
  assert.deepEqual(report.fixes, changes);
  assert.deepEqual(
    report.fixes!.map((c) => [c.layer, c.kind, c.before, c.after]),
    [["pin", "reshape-keep-batch", "Reshape [1,8]", "Reshape [-1,8]"]],
  );
  assert.ok(report.layers.some((l) => l.name === "pin"));
  assert.deepEqual(validateTopologyReport(report), []);
  assert.equal("fixes" in net.analyze(), false);
  assert.equal("fixes" in net.analyze({ mode: "strict" }), false);
});

test("fixed network: the topology HTML and text show the change, its kind, and the proof at n = 1..4", async () => {
  const report = (await pinnedReshape().fixForDynamicBatch()).network.analyze();
  const bundle = toMimeBundle(report);
  assert.deepEqual(bundle[TOPOLOGY_MIME], JSON.parse(JSON.stringify(report)));
  for (const part of [bundle["text/plain"], bundle["text/html"]]) {
    assert.match(part, /Changes by fixForDynamicBatch\(\)/);
    assert.match(part, /pin/);
    assert.match(part, /reshape-keep-batch/);
    assert.match(part, /Reshape \[1,8\] → Reshape \[-1,8\]/);
    assert.match(part, /analysis: axis 0 stays N/);
    assert.match(part, /n=1: [^,]+, n=2: [^,]+, n=3: [^,]+, n=4: /);
  }
  const original = toMimeBundle(pinnedReshape().analyze());
  assert.ok(!original["text/plain"].includes("Changes by fixForDynamicBatch()"));
  assert.ok(!original["text/html"].includes("Changes by fixForDynamicBatch()"));
});

test("split network: analyze().fixes carries the split, whose layer is in the report's tail layers", async () => {
  const { network, changes } = await reduceOverBatch().fixForDynamicBatch();
  const report = network.analyze();
  assert.deepEqual(
    report.fixes!.map((c) => [c.layer, c.kind]),
    [["sum_over_batch", "split"]],
  );
  assert.deepEqual(report.fixes, changes);
  assert.deepEqual(validateTopologyReport(report), []);
  assert.match(
    toMimeBundle(report)["text/plain"],
    /Changes by fixForDynamicBatch\(\):\n.*\n.*\nsum_over_batch +ReduceSum +split +split: body/,
  );
});

test("a refused change is not in the report: the returned network is the original, unchanged", async () => {
  const b = new GraphBuilder("join");
  const r = b.op("Reshape", [b.param("x", [2, 8]), b.ints([1, -1])], { special_zero: false }, { name: "join" });
  b.result(b.op("Add", [r, b.constant([1], [1], "f32")], { auto_broadcast: "numpy" }), "out");
  const { network, changes } = await new CNNNetwork(b.build()).fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => c.applied),
    [false],
  );
  assert.equal("fixes" in network.analyze(), false);
});
