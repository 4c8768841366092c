import { test } from "node:test";
import assert from "node:assert/strict";
import { GraphBuilder, folded, inferShape } from "../helpers/graph_builder";
import { prepare } from "../../kernel/graph/prepare";
import { ModelError, NotFoundError, ShapeError, UnboundShapeError, UnsupportedError } from "../../kernel/errors";

const vals = (t: { data: ArrayLike<number> }) => Array.from(t.data);

function closeTo(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

test("ShapeOf → Gather → Concat → Reshape folds into the reshape target, at any batch", () => {
  const b = new GraphBuilder();
  const x = b.param("x", [1, 3, 8, 8]);
  const shp = b.op("ShapeOf", [x], { output_type: "i64" }, { version: "opset3" });
  const n = b.op("Gather", [shp, b.ints([0]), b.constant([0], [], "i64")], { batch_dims: 0 }, { version: "opset8" });
  const target = b.op("Concat", [n, b.ints([-1])], { axis: 0 });
  const y = b.op("Reshape", [x, target], { special_zero: false });
  b.result(y);
  assert.deepEqual(inferShape(b, y), [1, 192]);
  assert.deepEqual(inferShape(b, y, { batch: 4 }), [4, 192]);
  const t = folded(b, target, { batch: 4 });
  assert.equal(t.dtype, "i64");
  assert.deepEqual(vals(t), [4, -1]);
  // The data path is not constant: Reshape of a Parameter is not folded.
  const g = prepare(b.build());
  assert.equal(g.nodes[y.node].folded, undefined);
});

test("ShapeOf → StridedSlice gives the spatial dims (face-detection PriorBox pattern)", () => {
  const b = new GraphBuilder();
  const shp = b.op("ShapeOf", [b.param("x", [1, 512, 24, 42])], { output_type: "i64" }, { version: "opset3" });
  const hw = b.op("StridedSlice", [shp, b.ints([2]), b.ints([0]), b.ints([1])], {
    begin_mask: [0],
    end_mask: [1],
    new_axis_mask: [0],
    shrink_axis_mask: [0],
    ellipsis_mask: [0],
  });
  assert.deepEqual(vals(folded(b, hw)), [24, 42]);
});

test("Convert folds f16 → f32 and float → integer truncation", () => {
  const b = new GraphBuilder();
  const h = b.constant([1.5, -2.25, 65504], [3], "f16");
  const f = b.op("Convert", [h], { destination_type: "f32" });
  const i = b.op("Convert", [b.constant([1.7, -1.7, 2], [3], "f32")], { destination_type: "i32" });
  const g = prepare(b.build());
  const tf = g.nodes[f.node].folded![0];
  assert.equal(tf.dtype, "f32");
  assert.ok(tf.data instanceof Float32Array);
  assert.deepEqual(vals(tf), [1.5, -2.25, 65504]);
  assert.equal(g.nodes[f.node].outputs[0].dtype, "f32");
  assert.deepEqual(vals(g.nodes[i.node].folded![0]), [1, -1, 2]);
});

test("arithmetic folds broadcast; integer Divide floors", () => {
  const b = new GraphBuilder();
  const a = b.constant([1, 2, 3, 4, 5, 6], [2, 3], "f32");
  const c = b.constant([10, 20, 30], [3], "f32");
  const add = b.op("Add", [a, c]);
  const mul = b.op("Multiply", [a, b.constant([2], [], "f32")]);
  const div = b.op("Divide", [b.constant([7, -7], [2], "i64"), b.constant([2], [1], "i64")]);
  const pow = b.op("Power", [b.constant([2, 3], [2, 1], "f32"), b.constant([2, 3], [2], "f32")]);
  const g = prepare(b.build());
  assert.deepEqual(vals(g.nodes[add.node].folded![0]), [11, 22, 33, 14, 25, 36]);
  assert.deepEqual(vals(g.nodes[mul.node].folded![0]), [2, 4, 6, 8, 10, 12]);
  assert.deepEqual(vals(g.nodes[div.node].folded![0]), [3, -4]);
  assert.deepEqual(vals(g.nodes[pow.node].folded![0]), [4, 8, 9, 27]);
  assert.deepEqual(g.nodes[pow.node].folded![0].shape, [2, 2]);
});

test("Gather, StridedSlice, Slice, Transpose, Concat, Unsqueeze/Squeeze, Range, Broadcast, Reduce fold to the right values", () => {
  const b = new GraphBuilder();
  const v = b.constant([10, 20, 30, 40], [4], "i64");
  const gNeg = b.op("Gather", [v, b.ints([-1, 0]), b.constant([0], [], "i64")], { batch_dims: 0 }, { version: "opset8" });
  // batch_dims 1: row 0 picks index 2, row 1 picks index 0
  const gBatch = b.op(
    "Gather",
    [b.constant([1, 2, 3, 4, 5, 6], [2, 3], "i64"), b.constant([2, 0], [2, 1], "i64"), b.constant([1], [], "i64")],
    { batch_dims: 1 },
    { version: "opset8" },
  );
  const r10 = b.constant([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10], "i64");
  const ss = b.op("StridedSlice", [r10, b.ints([7]), b.ints([1]), b.ints([-3])], { begin_mask: [0], end_mask: [0] });
  const sl = b.op("Slice", [r10, b.ints([-2]), b.ints([-100]), b.ints([-4])], {}, { version: "opset8" });
  const m = b.constant([1, 2, 3, 4, 5, 6], [2, 3], "f32");
  const tr = b.op("Transpose", [m, b.ints([1, 0])]);
  const cat = b.op("Concat", [m, b.constant([7, 8], [2, 1], "f32")], { axis: -1 });
  const unsq = b.op("Unsqueeze", [v, b.ints([0])]);
  const sq = b.op("Squeeze", [unsq, b.ints([0])]);
  const rng = b.op(
    "Range",
    [b.constant([1], [], "i64"), b.constant([10], [], "i64"), b.constant([3], [], "i64")],
    { output_type: "i64" },
    { version: "opset4" },
  );
  const bc = b.op("Broadcast", [b.constant([1, 2], [2], "f32"), b.ints([2, 3]), b.ints([0])], { mode: "explicit" });
  const prod = b.op("ReduceProd", [b.constant([2, 3, 4, 5], [2, 2], "i64"), b.ints([1])], { keep_dims: false });
  const sum = b.op("ReduceSum", [m, b.ints([0])], { keep_dims: true });
  const g = prepare(b.build());
  const at = (r: { node: number }) => g.nodes[r.node].folded![0];
  assert.deepEqual(vals(at(gNeg)), [40, 10]);
  assert.deepEqual(vals(at(gBatch)), [3, 4]);
  assert.deepEqual(at(gBatch).shape, [2, 1]);
  assert.deepEqual(vals(at(ss)), [7, 4]);
  assert.deepEqual(vals(at(sl)), [8, 4, 0]);
  assert.deepEqual(vals(at(tr)), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(vals(at(cat)), [1, 2, 3, 7, 4, 5, 6, 8]);
  assert.deepEqual(at(unsq).shape, [1, 4]);
  assert.deepEqual(at(sq).shape, [4]);
  assert.deepEqual(vals(at(sq)), [10, 20, 30, 40]);
  assert.deepEqual(vals(at(rng)), [1, 4, 7]);
  assert.deepEqual(vals(at(bc)), [1, 1, 1, 2, 2, 2]);
  assert.deepEqual(vals(at(prod)), [6, 20]);
  assert.deepEqual(vals(at(sum)), [5, 7, 9]);
  assert.deepEqual(at(sum).shape, [1, 3]);
});

test("PriorBox: 2x2 map on a 4x4 image, min_size 2, aspect_ratio 2, flip", () => {
  const b = new GraphBuilder();
  const pb = b.op("PriorBox", [b.ints([2, 2]), b.ints([4, 4])], {
    min_size: [2],
    max_size: "",
    aspect_ratio: [2],
    flip: true,
    clip: false,
    step: 0,
    offset: 0.5,
    variance: [0.1, 0.1, 0.2, 0.2],
    density: "",
    fixed_size: "",
    fixed_ratio: "",
    scale_all_sizes: true,
  });
  const t = folded(b, pb);
  // 3 priors per cell (ratios 1, 2, 1/2) × 4 cells × 4 coordinates
  assert.deepEqual(t.shape, [2, 48]);
  // step 0 → step = 4/2 = 2; centers at 1 and 3. Half sizes: square 1; ratio 2: (√2, 1/√2); ratio 1/2: (1/√2, √2).
  const r = Math.SQRT2;
  const expected: number[] = [];
  for (const cy of [1, 3]) {
    for (const cx of [1, 3]) {
      for (const [hw, hh] of [
        [1, 1],
        [r, 1 / r],
        [1 / r, r],
      ]) {
        expected.push((cx - hw) / 4, (cy - hh) / 4, (cx + hw) / 4, (cy + hh) / 4);
      }
    }
  }
  // spot-check the hand arithmetic of the first cell: square box [0,0,0.5,0.5]
  assert.deepEqual(expected.slice(0, 4), [0, 0, 0.5, 0.5]);
  closeTo(t.data.subarray(0, 48), expected);
  const variances = Array.from({ length: 12 }, () => [0.1, 0.1, 0.2, 0.2]).flat();
  closeTo(t.data.subarray(48), variances);
});

test("PriorBox: step/offset, max_size, clip and both box orders", () => {
  const run = (order: boolean | undefined) => {
    const b = new GraphBuilder();
    const attrs: Record<string, string | number | boolean | number[]> = {
      min_size: [4],
      max_size: [9],
      aspect_ratio: [4],
      flip: false,
      clip: true,
      step: 10,
      offset: 0.5,
      variance: [0.5],
    };
    if (order !== undefined) attrs.min_max_aspect_ratios_order = order;
    return folded(
      b,
      b.op("PriorBox", [b.ints([1, 1]), b.ints([10, 10])], attrs, { version: order === undefined ? "opset1" : "opset8" }),
    );
  };
  // center 5; min box half 2 → [.3,.3,.7,.7]; max box half √36/2 = 3 → [.2,.2,.8,.8];
  // ratio 4 → half (2·2, 2/2) = (4, 1) → [.1,.4,.9,.6]
  const minBox = [0.3, 0.3, 0.7, 0.7];
  const maxBox = [0.2, 0.2, 0.8, 0.8];
  const arBox = [0.1, 0.4, 0.9, 0.6];
  closeTo(run(undefined).data, [...minBox, ...maxBox, ...arBox, ...new Array<number>(12).fill(0.5)]);
  closeTo(run(true).data.subarray(0, 12), [...minBox, ...maxBox, ...arBox]);
  closeTo(run(false).data.subarray(0, 12), [...minBox, ...arBox, ...maxBox]);
  // clip: a 16-pixel box around center 5 on a 10-pixel image is cut to [0, 1]
  const b = new GraphBuilder();
  const t = folded(
    b,
    b.op("PriorBox", [b.ints([1, 1]), b.ints([10, 10])], { min_size: [16], clip: true, step: 10, offset: 0.5 }),
  );
  closeTo(t.data, [0, 0, 1, 1, 0.1, 0.1, 0.1, 0.1]);
});

test("PriorBoxClustered: widths/heights, automatic step, default variance", () => {
  const b = new GraphBuilder();
  const t = folded(
    b,
    b.op("PriorBoxClustered", [b.ints([1, 2]), b.ints([10, 20])], { width: [4], height: [2], clip: false, offset: 0.5 }),
  );
  // step_w = 20/2 = 10, step_h = 10/1 = 10 → centers (5,5), (15,5); half sizes 2 × 1
  assert.deepEqual(t.shape, [2, 8]);
  closeTo(t.data, [0.15, 0.4, 0.35, 0.6, 0.65, 0.4, 0.85, 0.6, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
});

test("prepare never mutates its input and applies inputShapes by name or tensor name", () => {
  const b = new GraphBuilder();
  const x = b.param("data", [1, 3, 8, 8]);
  const y = b.op("ReLU", [x]);
  b.result(y);
  const g0 = b.build();
  const g8 = prepare(g0, { batch: 8 });
  assert.deepEqual(g0.nodes[0].outputs[0].shape, [1, 3, 8, 8]);
  assert.deepEqual(g8.nodes[y.node].outputs[0].shape, [8, 3, 8, 8]);
  assert.deepEqual(prepare(g0, { inputShapes: { data: [2, 3, 4, 4] } }).nodes[y.node].outputs[0].shape, [2, 3, 4, 4]);
  assert.deepEqual(prepare(g0, { inputShapes: { "data:0": [2, 3, 5, 5] } }).nodes[y.node].outputs[0].shape, [2, 3, 5, 5]);
  assert.throws(() => prepare(g0, { inputShapes: { nope: [1] } }), NotFoundError);
  assert.throws(() => prepare(g0, { batch: 0 }), ShapeError);
});

test("errors: unknown op, bad shapes, missing attribute, dynamic input", () => {
  const b = new GraphBuilder("test", "m.xml");
  b.op("FancyOp", [b.param("x", [1, 2])], {}, { name: "fancy" });
  assert.throws(
    () => prepare(b.build()),
    (e: unknown) =>
      e instanceof UnsupportedError &&
      e.code === "UNSUPPORTED_OP" &&
      e.layer === "fancy" &&
      e.file === "m.xml" &&
      /operation FancyOp is not supported/.test(e.message),
  );
  const b2 = new GraphBuilder("test", "m.xml");
  b2.op("Add", [b2.param("a", [2, 3]), b2.param("b", [4])], {}, { name: "sum" });
  assert.throws(
    () => prepare(b2.build()),
    (e: unknown) => e instanceof ShapeError && e.code === "SHAPE_INFERENCE" && e.layer === "sum",
  );
  const b3 = new GraphBuilder("test", "m.xml");
  b3.op("MaxPool", [b3.param("a", [1, 1, 4, 4])], { strides: [1, 1] }, { name: "pool" });
  assert.throws(
    () => prepare(b3.build()),
    (e: unknown) => e instanceof ModelError && e.code === "BAD_MODEL" && /kernel/.test(e.message),
  );
  const b4 = new GraphBuilder("test", "m.xml");
  b4.op("ReLU", [b4.param("a", [-1, 3])]);
  assert.throws(
    () => prepare(b4.build()),
    (e: unknown) => e instanceof UnboundShapeError && e.code === "UNBOUND_SHAPE" && /'a' \[\?,3\] axes 0 \(\?\)/.test(e.message),
  );
  assert.doesNotThrow(() => prepare(b4.build(), { batch: 2 }));
});

test("a bug during shape inference surfaces as itself, not as a bad model", () => {
  const b = new GraphBuilder("test", "m.xml");
  b.op("Add", [b.param("a", [1, 3]), b.weights([1, 3])], {}, { name: "sum" });
  const g = b.build();
  // A malformed in-memory graph (no reader makes one): the Const's inference hits a TypeError.
  g.nodes.find((n) => n.type === "Const")!.value!.shape = undefined as never;
  assert.throws(
    () => prepare(g),
    (e: unknown) => e instanceof TypeError && !(e instanceof ModelError),
  );
});

test("PriorBox: fixed_size with density, and fixed_ratio", () => {
  const run = (extra: Record<string, number[]>) => {
    const b = new GraphBuilder();
    return folded(
      b,
      b.op(
        "PriorBox",
        [b.ints([1, 1]), b.ints([8, 8])],
        { fixed_size: [4], density: [2], step: 8, offset: 0.5, clip: false, ...extra },
        { version: "opset8" },
      ),
    );
  };
  // centre 4; density 2 → shift 2, sub-centres 4 - 2 + 1 + {0, 2} = 3, 5 (rows outer); square half 2
  const sq = run({});
  assert.deepEqual(sq.shape, [2, 16]);
  const boxes = (hw: number, hh: number) =>
    [
      [3, 3],
      [5, 3],
      [3, 5],
      [5, 5],
    ].flatMap(([x, y]) => [
      Math.max((x - hw) / 8, 0),
      Math.max((y - hh) / 8, 0),
      Math.min((x + hw) / 8, 1),
      Math.min((y + hh) / 8, 1),
    ]);
  closeTo(sq.data.subarray(0, 16), boxes(2, 2));
  // fixed_ratio 4 → √4 = 2: half width 4, half height 1; density boxes are clipped
  const fr = run({ fixed_ratio: [4] });
  assert.deepEqual(fr.shape, [2, 16]);
  closeTo(fr.data.subarray(0, 16), boxes(4, 1));
});
