/**
 * The profile graphs' fused layers (kernel/display/fused.ts, drawn by the static SVG and the
 * JupyterLab view): folded into their host's node, edges rerouted through them, chains and
 * residual operands kept.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProfileLayer, ProfileNode, ProfileReport } from "../../kernel/schema";
import { boxLabel, foldFused } from "../../kernel/display/fused";

function report(layers: ProfileLayer[], graph: ProfileNode[]): ProfileReport {
  return { model: "m", device: "CPU", batches: [1], runs: 1, layers, totals: [], graph };
}

const node = (id: number, name: string, inputs: number[]): ProfileNode => ({ id, name, type: name, inputs });
const ran = (name: string, node: number): ProfileLayer => ({ name, type: name, execType: "jit", node, timeUs: [] });
const guest = (name: string, node: number, host: string): ProfileLayer => ({
  name,
  type: name,
  execType: "undef",
  node,
  fusedInto: host,
});

test("foldFused puts a fused chain inside its host and reroutes the edges through it", () => {
  // in → conv → bias (fused into conv) → relu (fused into bias's host, by name conv) → add(relu, in) fused → pool
  const graph = [
    node(0, "in", []),
    node(1, "conv", [0]),
    node(2, "bias", [1]),
    node(3, "relu", [2]),
    node(4, "add", [3, 0]),
    node(5, "pool", [4]),
  ];
  const layers = [ran("conv", 1), guest("bias", 2, "conv"), guest("relu", 3, "bias"), guest("add", 4, "conv"), ran("pool", 5)];
  const { nodes, fused } = foldFused(report(layers, graph));
  assert.deepEqual(
    nodes.map((n) => [n.name, n.inputs]),
    [
      ["in", []],
      ["conv", [0]],
      ["pool", [1]],
    ],
    "pool reads conv; conv also reads in for the residual add (once)",
  );
  assert.deepEqual(
    fused.get(1)!.map((n) => n.name),
    ["bias", "relu", "add"],
  );
});

test("a fused layer whose host has no node of its own stays a box; a report without fusion is unchanged", () => {
  const graph = [node(0, "in", []), node(1, "relu", [0])];
  const { nodes, fused } = foldFused(report([guest("relu", 1, "conv/added-by-plugin")], graph));
  assert.deepEqual(nodes, graph);
  assert.equal(fused.size, 0);
  assert.deepEqual(foldFused(report([ran("in", 0)], graph)).nodes, graph);
  assert.deepEqual(foldFused({ ...report([], []), graph: undefined }).nodes, []);
});

test("boxLabel: the type cut so that type and value fit beside the chips", () => {
  assert.equal(boxLabel("Convolution", "751", 128), "Convolution 751");
  assert.equal(boxLabel("GroupConvolution", "20.6", 88), "GroupC… 20.6");
  assert.equal(boxLabel("GroupConvolution", undefined, 88), "GroupConvol…");
  assert.equal(boxLabel("A", "1", 10), "A 1", "never shorter than the value");
});
