/**
 * Small networks fixForDynamicBatch() changes, shared by the tests of its fix hint, its report and
 * the topology view: one rewrite (a pinned Reshape), one split (a Reduce over the batch).
 */
import { CNNNetwork } from "../../kernel";
import { GraphBuilder } from "./graph_builder";

/** x [1,8] → Reshape [1,8] named "pin" (hard-codes the batch) → Add "add" → out. */
export function pinnedReshape(): CNNNetwork {
  const b = new GraphBuilder("pinned");
  const r = b.op("Reshape", [b.param("x", [1, 8]), b.ints([1, 8])], { special_zero: false }, { name: "pin" });
  b.result(b.op("Add", [r, b.constant([1], [1], "f32")], { auto_broadcast: "numpy" }, { name: "add" }), "out");
  return new CNNNetwork(b.build());
}

/** ReduceSum of x over axis 0 ("sum_over_batch") + ReLU(y) ("after") → out: a tail that mixes samples, and a layer after it that blocks because of it. */
export function reduceOverBatch(): CNNNetwork {
  const b = new GraphBuilder("reduce");
  const s = b.op("ReduceSum", [b.param("x", [1, 8]), b.ints([0])], { keep_dims: true }, { name: "sum_over_batch" });
  const relu = b.op("ReLU", [b.param("y", [1, 8])], {}, { name: "relu" });
  b.result(b.op("Add", [s, relu], { auto_broadcast: "numpy" }, { name: "after" }), "out");
  return new CNNNetwork(b.build());
}
