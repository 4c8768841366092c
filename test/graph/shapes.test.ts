import { test } from "node:test";
import assert from "node:assert/strict";
import { GraphBuilder, inferShape } from "../helpers/graph_builder";
import { prepare } from "../../kernel/graph/prepare";
import { ModelError, ShapeError } from "../../kernel/errors";

function shape(build: (b: GraphBuilder) => { node: number; port: number }): number[] {
  const b = new GraphBuilder();
  return inferShape(b, build(b));
}

function shapeThrows(build: (b: GraphBuilder) => unknown, re?: RegExp): void {
  const b = new GraphBuilder();
  build(b);
  assert.throws(
    () => prepare(b.build()),
    (e: unknown) => e instanceof ShapeError && (!re || re.test(e.message)),
  );
}

test("Convolution: explicit pads, same_upper, valid, dilations", () => {
  // (224 + 3 + 3 - 7) / 2 = 111.5 → 111 + 1 = 112
  assert.deepEqual(
    shape((b) =>
      b.op("Convolution", [b.param("x", [1, 3, 224, 224]), b.weights([64, 3, 7, 7])], {
        strides: [2, 2],
        pads_begin: [3, 3],
        pads_end: [3, 3],
        dilations: [1, 1],
      }),
    ),
    [1, 64, 112, 112],
  );
  // same_upper: ceil(15 / 2) = 8 regardless of kernel
  assert.deepEqual(
    shape((b) =>
      b.op("Convolution", [b.param("x", [2, 4, 15, 15]), b.weights([8, 4, 3, 3])], {
        strides: [2, 2],
        pads_begin: [0, 0],
        pads_end: [0, 0],
        auto_pad: "same_upper",
      }),
    ),
    [2, 8, 8, 8],
  );
  // valid ignores pads: floor((15 - 3) / 2) + 1 = 7
  assert.deepEqual(
    shape((b) =>
      b.op("Convolution", [b.param("x", [1, 4, 15, 15]), b.weights([8, 4, 3, 3])], {
        strides: [2, 2],
        pads_begin: [5, 5],
        pads_end: [5, 5],
        auto_pad: "valid",
      }),
    ),
    [1, 8, 7, 7],
  );
  // dilation 2 on a 3-kernel spans 5: 10 - 5 + 1 = 6; 1-D convolution works the same way
  assert.deepEqual(
    shape((b) =>
      b.op("Convolution", [b.param("x", [1, 2, 10]), b.weights([3, 2, 3])], {
        strides: [1],
        pads_begin: [0],
        pads_end: [0],
        dilations: [2],
      }),
    ),
    [1, 3, 6],
  );
  shapeThrows((b) => b.op("Convolution", [b.param("x", [1, 3, 8, 8]), b.weights([8, 4, 3, 3])], {}), /input channels/);
});

test("GroupConvolution: depthwise and grouped channel arithmetic", () => {
  assert.deepEqual(
    shape((b) =>
      b.op("GroupConvolution", [b.param("x", [1, 32, 56, 56]), b.weights([32, 1, 1, 3, 3])], {
        strides: [1, 1],
        pads_begin: [1, 1],
        pads_end: [1, 1],
        dilations: [1, 1],
      }),
    ),
    [1, 32, 56, 56],
  );
  // 4 groups × 16 outputs; (10 - 3) / 2 → 3 + 1 = 4
  assert.deepEqual(
    shape((b) =>
      b.op("GroupConvolution", [b.param("x", [2, 32, 10, 10]), b.weights([4, 16, 8, 3, 3])], {
        strides: [2, 2],
        pads_begin: [0, 0],
        pads_end: [0, 0],
        dilations: [1, 1],
      }),
    ),
    [2, 64, 4, 4],
  );
  shapeThrows((b) => b.op("GroupConvolution", [b.param("x", [1, 32, 8, 8]), b.weights([4, 16, 4, 3, 3])], {}));
});

test("ConvolutionBackpropData and GroupConvolutionBackpropData", () => {
  // 2·(8-1) + 4 - 1 - 1 = 16
  const attrs = { strides: [2, 2], pads_begin: [1, 1], pads_end: [1, 1], dilations: [1, 1] };
  assert.deepEqual(
    shape((b) => b.op("ConvolutionBackpropData", [b.param("x", [1, 16, 8, 8]), b.weights([16, 8, 4, 4])], attrs)),
    [1, 8, 16, 16],
  );
  assert.deepEqual(
    shape((b) =>
      b.op("ConvolutionBackpropData", [b.param("x", [1, 16, 8, 8]), b.weights([16, 8, 4, 4])], {
        ...attrs,
        output_padding: [1, 1],
      }),
    ),
    [1, 8, 17, 17],
  );
  assert.deepEqual(
    shape((b) =>
      b.op("ConvolutionBackpropData", [b.param("x", [1, 16, 8, 8]), b.weights([16, 8, 4, 4]), b.ints([20, 21])], attrs),
    ),
    [1, 8, 20, 21],
  );
  assert.deepEqual(
    shape((b) => b.op("GroupConvolutionBackpropData", [b.param("x", [1, 16, 8, 8]), b.weights([2, 8, 3, 4, 4])], attrs)),
    [1, 6, 16, 16],
  );
});

test("MaxPool: floor vs ceil, pads, same_upper, opset8 indices and dilations; AvgPool", () => {
  const pool = (rounding: string) =>
    shape((b) =>
      b.op("MaxPool", [b.param("x", [1, 3, 7, 7])], {
        kernel: [2, 2],
        strides: [2, 2],
        pads_begin: [0, 0],
        pads_end: [0, 0],
        rounding_type: rounding,
      }),
    );
  assert.deepEqual(pool("floor"), [1, 3, 3, 3]); // floor(5/2)+1
  assert.deepEqual(pool("ceil"), [1, 3, 4, 4]); // ceil(5/2)+1
  // (5 + 1 + 1 - 3) / 2 + 1 = 3
  assert.deepEqual(
    shape((b) =>
      b.op("MaxPool", [b.param("x", [1, 3, 5, 5])], { kernel: [3, 3], strides: [2, 2], pads_begin: [1, 1], pads_end: [1, 1] }),
    ),
    [1, 3, 3, 3],
  );
  assert.deepEqual(
    shape((b) => b.op("MaxPool", [b.param("x", [1, 3, 7, 9])], { kernel: [3, 3], strides: [2, 2], auto_pad: "same_upper" })),
    [1, 3, 4, 5],
  );
  const b = new GraphBuilder();
  const [y, idx] = b.opN(
    "MaxPool",
    [b.param("x", [1, 2, 7, 7])],
    { kernel: [3, 3], strides: [1, 1], dilations: [2, 2], pads_begin: [0, 0], pads_end: [0, 0], index_element_type: "i32" },
    { outputs: 2, version: "opset8" },
  );
  const g = prepare(b.build());
  const n = g.nodes[y.node];
  assert.deepEqual(n.outputs[y.port].shape, [1, 2, 3, 3]); // span 5: 7 - 5 + 1
  assert.deepEqual(n.outputs[idx.port].shape, [1, 2, 3, 3]);
  assert.equal(n.outputs[idx.port].dtype, "i32");
  assert.deepEqual(
    shape((b) =>
      b.op("AvgPool", [b.param("x", [1, 1, 6, 6])], {
        kernel: [3, 3],
        strides: [3, 3],
        pads_begin: [0, 0],
        pads_end: [0, 0],
        "exclude-pad": true,
      }),
    ),
    [1, 1, 2, 2],
  );
});

test("MatMul: transposes, 1-D operands, batch broadcasting", () => {
  const mm = (a: number[], bs: number[], attrs = {}) => shape((b) => b.op("MatMul", [b.param("a", a), b.param("b", bs)], attrs));
  assert.deepEqual(mm([2, 3], [3, 4]), [2, 4]);
  assert.deepEqual(mm([2, 3], [4, 3], { transpose_b: true }), [2, 4]);
  assert.deepEqual(mm([3, 2], [3, 4], { transpose_a: true }), [2, 4]);
  assert.deepEqual(mm([3], [3, 4]), [4]);
  assert.deepEqual(mm([2, 3], [3]), [2]);
  assert.deepEqual(mm([3], [3]), []);
  assert.deepEqual(mm([5, 1, 2, 3], [4, 3, 6]), [5, 4, 2, 6]);
  assert.deepEqual(mm([3], [4, 3], { transpose_b: true }), [4]);
  shapeThrows((b) => b.op("MatMul", [b.param("a", [2, 3]), b.param("b", [4, 5])]), /inner dimensions/);
});

test("eltwise: numpy broadcasting and auto_broadcast none", () => {
  assert.deepEqual(
    shape((b) => b.op("Add", [b.param("a", [2, 1, 4]), b.param("b", [3, 1])])),
    [2, 3, 4],
  );
  assert.deepEqual(
    shape((b) => b.op("Multiply", [b.param("a", [1, 3, 1, 1]), b.param("b", [3])])),
    [1, 3, 1, 3],
  );
  assert.deepEqual(
    shape((b) => b.op("SquaredDifference", [b.param("a", []), b.param("b", [2, 2])])),
    [2, 2],
  );
  shapeThrows((b) => b.op("Add", [b.param("a", [2, 3]), b.param("b", [4])]), /broadcast/);
  shapeThrows((b) => b.op("Add", [b.param("a", [2, 3]), b.param("b", [1, 3])], { auto_broadcast: "none" }));
  assert.deepEqual(
    shape((b) => b.op("PReLU", [b.param("a", [1, 8, 4, 4]), b.weights([8])])),
    [1, 8, 4, 4],
  );
  assert.deepEqual(
    shape((b) => b.op("Clamp", [b.param("a", [5, 2])], { min: 0, max: 6 })),
    [5, 2],
  );
});

test("eltwise: a float operand beside an integer one is BAD_MODEL naming the layer; integer pairs and Power's integer exponent are fine", () => {
  for (const type of ["Add", "Multiply", "Less"]) {
    const b = new GraphBuilder();
    b.op(type, [b.param("x", [1, 8]), b.constant([1, 2, 3, 4, 5, 6, 7, 8], [8], "i32", "bias")]);
    assert.throws(
      () => prepare(b.build()),
      (e: unknown) =>
        e instanceof ModelError &&
        e.code === "BAD_MODEL" &&
        /one element type, got f32 and i32/.test(e.message) &&
        /layer '/.test(e.message),
      type,
    );
  }
  assert.deepEqual(
    shape((b) => b.op("Add", [b.constant([1, 2], [2], "i64"), b.constant([3], [1], "i64")])),
    [2],
  );
  assert.deepEqual(
    shape((b) => b.op("Power", [b.param("x", [2, 3]), b.constant([2], [1], "i32")])),
    [2, 3],
  );
});

test("Reduce: axes, negative axes, keep_dims", () => {
  assert.deepEqual(
    shape((b) => b.op("ReduceSum", [b.param("x", [2, 3, 4]), b.ints([-1])], { keep_dims: true })),
    [2, 3, 1],
  );
  assert.deepEqual(
    shape((b) => b.op("ReduceSum", [b.param("x", [2, 3, 4]), b.ints([-1])], { keep_dims: false })),
    [2, 3],
  );
  assert.deepEqual(
    shape((b) => b.op("ReduceMean", [b.param("x", [2, 3, 4]), b.ints([0, 2])])),
    [3],
  );
  shapeThrows((b) => b.op("ReduceMax", [b.param("x", [2, 3]), b.ints([2])]), /out of range/);
});

test("Reshape: special_zero, -1 and bad targets", () => {
  const rs = (target: number[], specialZero: boolean) =>
    shape((b) => b.op("Reshape", [b.param("x", [2, 3, 4]), b.ints(target)], { special_zero: specialZero }));
  assert.deepEqual(rs([0, -1], true), [2, 12]);
  assert.deepEqual(rs([-1, 6], false), [4, 6]);
  assert.deepEqual(rs([0, 0, 2, -1], true), [2, 3, 2, 2]);
  shapeThrows((b) => b.op("Reshape", [b.param("x", [2, 3, 4]), b.ints([0, -1])], { special_zero: false }));
  shapeThrows((b) => b.op("Reshape", [b.param("x", [2, 3, 4]), b.ints([4, 5])], { special_zero: false }), /cannot reshape/);
  shapeThrows((b) => b.op("Reshape", [b.param("x", [2, 3, 4]), b.ints([-1, -1])], { special_zero: false }), /more than one -1/);
});

test("Flatten, Squeeze, Unsqueeze (negative axes), Transpose", () => {
  const flat = (axis: number) => shape((b) => b.op("Flatten", [b.param("x", [2, 3, 4])], { axis }));
  assert.deepEqual(flat(1), [2, 12]);
  assert.deepEqual(flat(0), [1, 24]);
  assert.deepEqual(flat(-1), [6, 4]);
  assert.deepEqual(
    shape((b) => b.op("Squeeze", [b.param("x", [1, 3, 1, 2]), b.ints([-2])])),
    [1, 3, 2],
  );
  assert.deepEqual(
    shape((b) => b.op("Squeeze", [b.param("x", [1, 3, 1, 2])])),
    [3, 2],
  );
  shapeThrows((b) => b.op("Squeeze", [b.param("x", [1, 3, 1, 2]), b.ints([1])]), /cannot squeeze/);
  // output rank 4: -1 → 3
  assert.deepEqual(
    shape((b) => b.op("Unsqueeze", [b.param("x", [3, 4]), b.ints([-1, 0])])),
    [1, 3, 4, 1],
  );
  assert.deepEqual(
    shape((b) => b.op("Unsqueeze", [b.param("x", [3, 4]), b.ints([1])])),
    [3, 1, 4],
  );
  assert.deepEqual(
    shape((b) => b.op("Transpose", [b.param("x", [2, 3, 4]), b.ints([2, 0, 1])])),
    [4, 2, 3],
  );
  assert.deepEqual(
    shape((b) => b.op("Transpose", [b.param("x", [2, 3, 4]), b.ints([])])),
    [4, 3, 2],
  );
  shapeThrows((b) => b.op("Transpose", [b.param("x", [2, 3, 4]), b.ints([0, 0, 1])]), /permutation/);
});

test("Concat (negative axis), Split, VariadicSplit", () => {
  assert.deepEqual(
    shape((b) => b.op("Concat", [b.param("a", [2, 3]), b.param("b", [2, 5])], { axis: -1 })),
    [2, 8],
  );
  assert.deepEqual(
    shape((b) => b.op("Concat", [b.param("a", [2, 3]), b.param("b", [4, 3])], { axis: 0 })),
    [6, 3],
  );
  shapeThrows((b) => b.op("Concat", [b.param("a", [2, 3]), b.param("b", [3, 5])], { axis: 1 }), /differ/);
  const b = new GraphBuilder();
  const outs = b.opN("Split", [b.param("x", [2, 6]), b.ints([-1])], { num_splits: 3 }, { outputs: 3 });
  const g = prepare(b.build());
  for (const o of outs) assert.deepEqual(g.nodes[o.node].outputs[o.port].shape, [2, 2]);
  const b2 = new GraphBuilder();
  const vs = b2.opN("VariadicSplit", [b2.param("x", [2, 6]), b2.ints([1]), b2.ints([1, -1, 2])], {}, { outputs: 3 });
  const g2 = prepare(b2.build());
  assert.deepEqual(
    vs.map((o) => g2.nodes[o.node].outputs[o.port].shape),
    [
      [2, 1],
      [2, 3],
      [2, 2],
    ],
  );
  shapeThrows((b) => b.opN("Split", [b.param("x", [2, 7]), b.ints([1])], { num_splits: 3 }, { outputs: 3 }), /split/);
});

test("StridedSlice: masks, negative stride, ellipsis, new and shrink axes", () => {
  const ss = (begin: number[], end: number[], stride: number[] | undefined, attrs: Record<string, number[]>) =>
    shape((b) => {
      const ins = [b.param("x", [10, 20, 30]), b.ints(begin), b.ints(end)];
      if (stride) ins.push(b.ints(stride));
      return b.op("StridedSlice", ins, { begin_mask: [], end_mask: [], ...attrs });
    });
  // face-detection style: begin 1, end ignored → [1:]
  assert.deepEqual(ss([1], [0], undefined, { begin_mask: [0], end_mask: [1] }), [9, 20, 30]);
  assert.deepEqual(ss([0, 0, 0], [0, 0, 0], [1, 1, 2], { begin_mask: [1, 1, 1], end_mask: [1, 1, 1] }), [10, 20, 15]);
  assert.deepEqual(ss([2], [3], [1], { shrink_axis_mask: [1] }), [20, 30]);
  assert.deepEqual(ss([0, 0], [0, 0], [1, 1], { new_axis_mask: [1, 0], begin_mask: [0, 1], end_mask: [0, 1] }), [1, 10, 20, 30]);
  // ellipsis covers axes 0 and 1; the last entry slices axis 2 to [5, 10)
  assert.deepEqual(ss([0, 5], [0, 10], [1, 1], { ellipsis_mask: [1, 0] }), [10, 20, 5]);
  assert.deepEqual(ss([-1], [-11], [-1], {}), [10, 20, 30]);
  assert.deepEqual(ss([8], [2], [-2], {}), [3, 20, 30]); // 8, 6, 4
  assert.deepEqual(ss([-3], [Number.MAX_SAFE_INTEGER], [1], {}), [3, 20, 30]);
  assert.deepEqual(ss([0, -5], [0, -1], [1, 1], { begin_mask: [1, 0], end_mask: [1, 0] }), [10, 4, 30]);
});

test("Slice-8 with axes and negative values", () => {
  const b = new GraphBuilder();
  const y = b.op(
    "Slice",
    [b.param("x", [10, 20]), b.ints([1]), b.ints([-1]), b.ints([2]), b.ints([-1])],
    {},
    { version: "opset8" },
  );
  assert.deepEqual(inferShape(b, y), [10, 9]); // 1, 3, ..., 17
});

test("Gather: axis, batch_dims, negative axis", () => {
  assert.deepEqual(
    shape((b) => b.op("Gather", [b.param("x", [5, 6, 7]), b.constant([0, 1, 2, 3, 4, 5], [2, 3]), b.ints([1])])),
    [5, 2, 3, 7],
  );
  assert.deepEqual(
    shape((b) =>
      b.op(
        "Gather",
        [b.param("x", [2, 5, 7]), b.param("i", [2, 3], "i64"), b.ints([1])],
        { batch_dims: 1 },
        { version: "opset8" },
      ),
    ),
    [2, 3, 7],
  );
  assert.deepEqual(
    shape((b) => b.op("Gather", [b.param("x", [5, 6, 7]), b.constant([1], [], "i64"), b.ints([-1])])),
    [5, 6],
  );
});

test("Interpolate-1 and -4 (sizes and scales), Pad, Broadcast, Tile", () => {
  assert.deepEqual(
    shape((b) =>
      b.op(
        "Interpolate",
        [b.param("x", [1, 3, 10, 20]), b.ints([7, 9])],
        { axes: [2, 3], mode: "nearest" },
        { version: "opset1" },
      ),
    ),
    [1, 3, 7, 9],
  );
  const v4 = (mode: string, sizes: number[], scales: number[]) =>
    shape((b) =>
      b.op(
        "Interpolate",
        [b.param("x", [1, 3, 10, 20]), b.ints(sizes), b.constant(scales, [scales.length], "f32"), b.ints([2, 3])],
        { mode: "linear", shape_calculation_mode: mode, pads_begin: [0, 0, 0, 0], pads_end: [0, 0, 0, 0] },
        { version: "opset4" },
      ),
    );
  assert.deepEqual(v4("sizes", [15, 25], [1, 1]), [1, 3, 15, 25]);
  assert.deepEqual(v4("scales", [1, 1], [2, 0.5]), [1, 3, 20, 10]);
  assert.deepEqual(v4("scales", [1, 1], [1.34, 0.333]), [1, 3, 13, 6]); // floor(13.4), floor(6.66)
  assert.deepEqual(
    shape((b) => b.op("Pad", [b.param("x", [1, 3, 4, 4]), b.ints([0, 0, 1, 2]), b.ints([0, 0, 1, 0])], { pad_mode: "constant" })),
    [1, 3, 6, 6],
  );
  assert.deepEqual(
    shape((b) => b.op("Broadcast", [b.param("x", [3, 1]), b.ints([2, 3, 4])], { mode: "numpy" })),
    [2, 3, 4],
  );
  assert.deepEqual(
    shape((b) => b.op("Broadcast", [b.param("x", [3]), b.ints([2, 3, 4]), b.ints([1])], { mode: "explicit" })),
    [2, 3, 4],
  );
  assert.deepEqual(
    shape((b) => b.op("Broadcast", [b.param("x", [3, 1]), b.ints([1, 4])], { mode: "bidirectional" }, { version: "opset3" })),
    [3, 4],
  );
  shapeThrows((b) => b.op("Broadcast", [b.param("x", [3, 2]), b.ints([2, 3, 4])], { mode: "numpy" }));
  assert.deepEqual(
    shape((b) => b.op("Tile", [b.param("x", [2, 3]), b.ints([2, 1, 2])])),
    [2, 2, 6],
  );
});

test("SoftMax axis rules, BatchNormInference port orders, DetectionOutput rows", () => {
  assert.deepEqual(
    shape((b) => b.op("SoftMax", [b.param("x", [2, 5])], { axis: -1 }, { version: "opset8" })),
    [2, 5],
  );
  shapeThrows((b) => b.op("SoftMax", [b.param("x", [2, 5])], { axis: -1 }, { version: "opset1" }), /non-negative/);
  shapeThrows((b) => b.op("SoftMax", [b.param("x", [2, 5])], { axis: 2 }, { version: "opset8" }), /out of range/);
  const c = [8];
  assert.deepEqual(
    shape((b) =>
      b.op(
        "BatchNormInference",
        [b.weights(c), b.weights(c), b.param("x", [2, 8, 3, 3]), b.weights(c), b.weights(c)],
        { epsilon: 1e-5 },
        { version: "opset1" },
      ),
    ),
    [2, 8, 3, 3],
  );
  assert.deepEqual(
    shape((b) =>
      b.op(
        "BatchNormInference",
        [b.param("x", [2, 8, 3, 3]), b.weights(c), b.weights(c), b.weights(c), b.weights(c)],
        { epsilon: 1e-5 },
        { version: "opset5" },
      ),
    ),
    [2, 8, 3, 3],
  );
  const det = (keep: number, topK: number, version: string) =>
    shape((b) =>
      b.op(
        "DetectionOutput",
        [b.param("loc", [2, 400]), b.param("conf", [2, 300]), b.param("pri", [1, 2, 400])],
        { keep_top_k: [keep], top_k: topK, normalized: true, share_location: true, num_classes: 3, nms_threshold: 0.45 },
        { version },
      ),
    );
  assert.deepEqual(det(50, 400, "opset8"), [1, 1, 100, 7]); // N · keep_top_k
  assert.deepEqual(det(-1, 10, "opset8"), [1, 1, 60, 7]); // N · top_k · classes (3 = 300 / 100 priors)
  assert.deepEqual(det(-1, -1, "opset1"), [1, 1, 600, 7]); // N · priors · classes
  shapeThrows((b) =>
    b.op(
      "DetectionOutput",
      [b.param("loc", [2, 404]), b.param("conf", [2, 300]), b.param("pri", [1, 2, 400])],
      { keep_top_k: [10], normalized: true },
      { version: "opset8" },
    ),
  );
});
