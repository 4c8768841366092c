/**
 * StridedSlice with new-axis, shrink and ellipsis masks on data (IR models from TensorFlow and
 * OpenVINO's converters) runs on CPU; the oracle is the same layer folded on constants by the
 * graph's own StridedSlice rule (JavaScript, not the native slice), at the static batch 2 and at a
 * dynamic batch of 1.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CNNNetwork, IECore } from "../../kernel";
import { GraphBuilder, folded } from "../helpers/graph_builder";
import { randomData } from "../helpers/models";

const SHAPE = [2, 3, 4, 5];
const CASES: [string, number[], number[], number[], Record<string, number[]>][] = [
  ["shrink axis 1", [0, 1, 0], [0, 2, 0], [1, 1, 1], { begin_mask: [1, 0, 1], end_mask: [1, 0, 1], shrink_axis_mask: [0, 1, 0] }],
  [
    "new axis after the batch",
    [0, 0, 1],
    [0, 0, 3],
    [1, 1, 1],
    { begin_mask: [1, 0, 0], end_mask: [1, 0, 0], new_axis_mask: [0, 1, 0] },
  ],
  [
    "ellipsis then a reversed last axis",
    [0, 0, -1],
    [0, 0, 0],
    [1, 1, -2],
    { begin_mask: [1, 0, 0], end_mask: [1, 0, 1], ellipsis_mask: [0, 1, 0] },
  ],
  [
    "shrink the last axis and add one in front of it",
    [0, 0, 0, 2],
    [0, 0, 0, 3],
    [1, 1, 1, 1],
    { begin_mask: [1, 1, 0, 0], end_mask: [1, 1, 0, 0], new_axis_mask: [0, 0, 1, 0], shrink_axis_mask: [0, 0, 0, 1] },
  ],
];

for (const [name, begin, end, stride, masks] of CASES) {
  test(`StridedSlice with masks on data: ${name}`, async () => {
    const data = randomData(
      SHAPE.reduce((a, b) => a * b, 1),
      3,
      -1,
      1,
    );
    const build = (x: (b: GraphBuilder) => ReturnType<GraphBuilder["param"]>) => {
      const b = new GraphBuilder("masks");
      const out = b.op("StridedSlice", [x(b), b.ints(begin), b.ints(end), b.ints(stride)], masks, { name: "ss" });
      b.result(out, "y");
      return { b, out };
    };
    const oracle = build((b) => b.constant(data, SHAPE, "f32"));
    const want = folded(oracle.b, oracle.out);
    const ie = new IECore();
    const net = new CNNNetwork(build((b) => b.param("x", SHAPE)).b.build());
    const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
    req.setInput("x", data);
    req.getBlob("ss").data.fill(NaN);
    await req.infer();
    const got = req.getBlob("ss");
    assert.deepEqual(got.shape, want.shape);
    assert.deepEqual(Array.from(got.data), Array.from(want.data));
    // Axis 0 stays the batch in every case: a dynamic batch of 1 gives the first sample's rows.
    const dyn = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    dyn.setBatch(1);
    dyn.setInput("x", data.subarray(0, data.length / 2));
    dyn.getBlob("ss").data.fill(NaN);
    await dyn.infer();
    assert.deepEqual(Array.from(dyn.getBlob("ss").data), Array.from(want.data.subarray(0, want.data.length / 2)));
  });
}
