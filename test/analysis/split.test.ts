/**
 * planSplit: where a network whose tail mixes samples is cut, and the typed reasons it refuses.
 * No device: these check the graphs the split produces, by their shape-aware analysis and shapes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { planSplit, SplitPlan } from "../../kernel/analysis/split";
import { analyze } from "../../kernel/analysis";
import { prepare } from "../../kernel/graph/prepare";
import { PortRef } from "../../kernel/graph/graph";
import { GraphBuilder } from "../helpers/graph_builder";

const CONV = { strides: "1,1", dilations: "1,1", pads_begin: "1,1", pads_end: "1,1", auto_pad: "explicit" };

function conv(b: GraphBuilder, x: PortRef, cin: number, cout: number, name: string): PortRef {
  return b.op("Convolution", [x, b.weights([cout, cin, 3, 3])], CONV, { name });
}

function plan(b: GraphBuilder): SplitPlan {
  const p = planSplit(b.build());
  if (typeof p === "string") assert.fail(`refused: ${p}`);
  return p;
}

test("planSplit: a Softmax over axis 0 after a conv: the conv is the body, the Softmax and what follows it the tail", () => {
  const b = new GraphBuilder("softmax0");
  const c = conv(b, b.param("x", [1, 3, 4, 4]), 3, 4, "conv");
  b.result(b.op("ReLU", [c], {}, { name: "relu" }), "features");
  const s = b.op("SoftMax", [c], { axis: 0 }, { name: "softmax_over_batch" });
  b.result(b.op("Add", [s, c], { auto_broadcast: "numpy" }, { name: "add" }), "scores");
  const p = plan(b);
  assert.deepEqual(
    p.mixing.map((m) => m.name),
    ["softmax_over_batch"],
  );
  assert.match(p.mixing[0].reason, /along axis 0/);
  assert.deepEqual(p.tailLayers, ["softmax_over_batch", "add"]);
  // One cut tensor (the conv output, read twice), per sample [1,4,4,4].
  assert.deepEqual(
    p.cuts.map((c) => [c.name, c.shape]),
    [["conv", [1, 4, 4, 4]]],
  );
  assert.deepEqual(
    p.outputs.map((o) => [o.result, o.from, o.join, o.perSample]),
    [
      ["features", "body", "concat", []],
      ["scores", "tail", "concat", [1, 4, 4, 4]],
    ],
  );
  // The body alone is proven per sample; its outputs are the original body output and the cut.
  assert.equal(analyze(p.body).supported, true);
  assert.deepEqual(
    p.body.nodes.filter((n) => n.type === "Result").map((n) => n.name),
    ["features", "conv/split_cut"],
  );
  assert.ok(!p.body.nodes.some((n) => n.name === "softmax_over_batch"));
  // The tail prepares at batch 1 with the cut as its input.
  const tail = prepare(p.tail, {});
  assert.deepEqual(tail.nodes.find((n) => n.name === "add")!.outputs[0].shape, [1, 4, 4, 4]);
  assert.match(p.bodyProof, /proven per sample.*conv \[1,4,4,4\]/);
});

test("planSplit: a Reshape that folds the batch into one list joins per-sample lists along axis 0", () => {
  const b = new GraphBuilder("list");
  const c = conv(b, b.param("x", [1, 2, 4, 4]), 2, 4, "conv");
  const boxes = b.op("Reshape", [c, b.ints([-1, 4])], { special_zero: false }, { name: "to_list" });
  b.result(b.op("Sigmoid", [boxes], {}, { name: "sig" }), "boxes");
  const p = plan(b);
  assert.deepEqual(p.tailLayers, ["to_list", "sig"]);
  assert.deepEqual(
    p.outputs.map((o) => [o.join, o.perSample]),
    [["concat", [16, 4]]],
  );
});

test("planSplit: a constant computed from shapes in the tail becomes its batch-1 value", () => {
  const b = new GraphBuilder("shape");
  const x = b.param("x", [1, 3, 4, 4]);
  const c = conv(b, x, 3, 2, "conv");
  const sum = b.op("ReduceSum", [c, b.ints([0])], { keep_dims: true }, { name: "sum_over_batch" });
  // The target [1,32] is read from the input's shape: a value that follows N in the body.
  const n = b.op("ShapeOf", [x], { output_type: "i64" }, { name: "shape" });
  const first = b.op("Gather", [n, b.ints([0]), b.ints([0])], { batch_dims: 0 }, { name: "batch" });
  const target = b.op("Concat", [first, b.ints([32])], { axis: 0 }, { name: "target" });
  b.result(b.op("Reshape", [sum, target], { special_zero: false }, { name: "flat" }), "out");
  const p = plan(b);
  assert.deepEqual(p.tailLayers, ["sum_over_batch", "flat"]);
  const k = p.tail.nodes.find((x) => x.type === "Const" && x.name === "target/batch1");
  assert.deepEqual(Array.from(k!.value!.data), [1, 32]);
  assert.ok(!p.body.nodes.some((x) => x.name === "target"));
});

test("planSplit: a layer blocked only because it follows a mixing one is in the tail but does not start it", () => {
  const b = new GraphBuilder("chain");
  const c = conv(b, b.param("x", [1, 3, 4, 4]), 3, 2, "conv");
  const s = b.op("SoftMax", [c], { axis: 0 }, { name: "first" });
  b.result(b.op("ReduceSum", [s, b.ints([0])], { keep_dims: true }, { name: "second" }), "out");
  const p = plan(b);
  assert.deepEqual(
    p.mixing.map((m) => m.name),
    ["first"],
  );
  assert.deepEqual(p.tailLayers, ["first", "second"]);
  assert.ok(p.tailVerdicts.every((v) => v.verdict === "supported" && v.reason.startsWith("per-sample tail")));
});

test("planSplit refuses with a reason: a mixing layer on the input itself (nothing to batch)", () => {
  const b = new GraphBuilder("empty");
  b.result(b.op("SoftMax", [b.param("x", [1, 8])], { axis: 0 }, { name: "sm" }), "out");
  assert.match(String(planSplit(b.build())), /'sm' reads the network's input directly: the body would compute nothing/);
});

test("planSplit refuses with a reason: a scalar per sample, a model batch other than 1, a supported network", () => {
  const scalar = new GraphBuilder("scalar");
  const c = conv(scalar, scalar.param("x", [1, 3, 4, 4]), 3, 2, "conv");
  scalar.result(scalar.op("ReduceSum", [c, scalar.ints([0, 1, 2, 3])], { keep_dims: false }, { name: "total" }), "out");
  assert.match(String(planSplit(scalar.build())), /output 'out' is a scalar per sample/);

  const two = new GraphBuilder("two");
  const c2 = conv(two, two.param("x", [2, 3, 4, 4]), 3, 2, "conv");
  two.result(two.op("SoftMax", [c2], { axis: 0 }), "out");
  assert.match(String(planSplit(two.build())), /the model's own batch is 2/);

  const ok = new GraphBuilder("ok");
  ok.result(conv(ok, ok.param("x", [1, 3, 4, 4]), 3, 2, "conv"), "out");
  assert.match(String(planSplit(ok.build())), /nothing to split/);
});
