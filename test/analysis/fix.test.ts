/**
 * proposeBatchFixes: the symbolic half of fixForDynamicBatch, without a device. A rewrite is
 * proposed only when the network keeps every shape at its own batch and the analysis proves the
 * rewritten layer; the original graph is never modified.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { modelBatch, proposeBatchFixes } from "../../kernel/analysis/fix";
import { analyze } from "../../kernel/analysis";
import { GraphBuilder } from "../helpers/graph_builder";

/** x [batch,2,3] → Reshape(target) shared Const → Result; the target Const is shared with a second Reshape when `shared`. */
function graph(batch: number, target: number[], shared = false) {
  const b = new GraphBuilder("p");
  const x = b.param("x", [batch, 2, 3]);
  const t = b.ints(target, "target");
  b.result(b.op("Reshape", [x, t], { special_zero: false }, { name: "r1" }), "o1");
  if (shared) b.result(b.op("Reshape", [b.op("ReLU", [x]), t], { special_zero: false }, { name: "r2" }), "o2");
  return b.build();
}

test("proposeBatchFixes: a shared pinned target gets a Const per rewritten layer; the input graph is unchanged", () => {
  const g = graph(1, [1, 6], true);
  const before = JSON.stringify(g.nodes.map((n) => [n.id, n.inputs, n.attrs]));
  const { graph: fixed, changes } = proposeBatchFixes(g);
  assert.deepEqual(
    changes.map((c) => [c.layer, c.applied, c.after, c.proof?.sameAtBatch, c.proof?.numeric]),
    [
      ["r1", true, "Reshape [-1,6]", 1, []],
      ["r2", true, "Reshape [-1,6]", 1, []],
    ],
  );
  assert.equal(JSON.stringify(g.nodes.map((n) => [n.id, n.inputs, n.attrs])), before);
  assert.equal(analyze(fixed).supported, true);
  // The old shared target has no reader left and is pruned; each Reshape reads its own.
  assert.ok(!fixed.nodes.some((n) => n.name === "target"));
  assert.deepEqual(
    fixed.nodes.filter((n) => n.type === "Const").map((n) => n.name),
    ["r1/batch_target", "r2/batch_target"],
  );
});

test("proposeBatchFixes: a target whose axis 0 is not the model's batch is refused with no proof", () => {
  const { changes } = proposeBatchFixes(graph(3, [1, 18]));
  assert.equal(changes[0].applied, false);
  assert.equal(changes[0].proof, null);
  assert.match(changes[0].reason, /has 1 on axis 0, not the model's batch 3/);
  assert.match(changes[0].blocked, /./);
});

test("modelBatch: axis 0 of the first input with a rank as written (a dynamic one is 1)", () => {
  assert.equal(modelBatch(graph(5, [5, 6])), 5);
  assert.equal(modelBatch(graph(-1, [1, 6])), 1);
  const b = new GraphBuilder("scalar");
  b.result(b.param("s", []), "o");
  assert.equal(modelBatch(b.build()), undefined);
});
