import { test } from "node:test";
import assert from "node:assert/strict";
import { analyze, batchAxes, legacyType } from "../../kernel/analysis";
import { prepare } from "../../kernel/graph/prepare";
import { ModelError } from "../../kernel/errors";
import { PortRef } from "../../kernel/graph/graph";
import { LayerVerdict, TopologyReport } from "../../kernel/schema";
import { GraphBuilder } from "../helpers/graph_builder";

/** Input [1,3,8,8] → 3x3 convolution to 128 channels with stride 4 → [1,128,2,2]: the head-pose tail in small. */
function convTrunk(b: GraphBuilder): PortRef {
  const x = b.param("data", [1, 3, 8, 8]);
  const w = b.constant(new Array(128 * 27).fill(0.01), [128, 3, 3, 3], "f32", "w");
  const attrs = { strides: "4,4", dilations: "1,1", pads_begin: "1,1", pads_end: "0,0", auto_pad: "explicit" };
  return b.op("Convolution", [x, w], attrs, { name: "conv" });
}

function layer(r: TopologyReport, name: string): LayerVerdict {
  const l = r.layers.find((x) => x.name === name);
  assert.ok(l, `layer ${name} in report`);
  return l;
}

/** conv trunk [1,128,2,2] → Reshape(target) → Result */
function reshapeGraph(target: number[]) {
  const b = new GraphBuilder("reshape");
  const y = b.op("Reshape", [convTrunk(b), b.ints(target, "target")], { special_zero: "false" }, { name: "flat" });
  b.result(y, "out");
  return b.build();
}

test("Reshape [-1,512] on [N,128,2,2] keeps samples; strict rejects it by type", () => {
  const g = reshapeGraph([-1, 512]);
  const sa = analyze(g, { mode: "shape-aware" });
  assert.equal(sa.supported, true);
  const flat = layer(sa, "flat");
  assert.equal(flat.verdict, "supported");
  assert.deepEqual(flat.outputShape, ["N", 512]);
  assert.match(flat.reason, /Reshape \[N,128,2,2\] → \[N,512\] keeps samples contiguous/);
  assert.deepEqual(layer(sa, "conv").outputShape, ["N", 128, 2, 2]);
  assert.deepEqual(layer(sa, "out").outputShape, ["N", 512]);

  const st = analyze(g, { mode: "strict" });
  assert.equal(st.supported, false);
  assert.deepEqual(st.summary.blocking, ["flat"]);
  assert.equal(layer(st, "flat").legacyType, "Reshape");
  assert.match(layer(st, "flat").reason, /may change the tensor shape arbitrarily/);
  assert.deepEqual(layer(st, "flat").outputShape, [1, 512]);
});

test("Reshape [1,-1] folds the batch into axis 1", () => {
  const r = analyze(reshapeGraph([1, -1]), { mode: "shape-aware" });
  assert.equal(r.supported, false);
  const flat = layer(r, "flat");
  assert.equal(flat.verdict, "unsupported");
  assert.deepEqual(flat.outputShape, [1, "512N"]);
  assert.match(flat.reason, /Reshape \[N,128,2,2\] → \[1,512N\] folds the batch into axis 1/);
  assert.deepEqual(r.summary.blocking, ["flat"]);
});

test("a fixed Reshape target [1,512] fails at other batches: unsupported, not thrown", () => {
  const r = analyze(reshapeGraph([1, 512]), { mode: "shape-aware" });
  assert.equal(r.supported, false);
  const flat = layer(r, "flat");
  assert.equal(flat.verdict, "unsupported");
  assert.match(flat.reason, /shape inference fails at N=3/);
  assert.match(layer(r, "out").reason, /not analysed: depends on 'flat'/);
  assert.equal(layer(r, "conv").verdict, "supported");
});

function reduceGraph(axis: number) {
  const b = new GraphBuilder("reduce");
  const y = b.op("ReduceSum", [convTrunk(b), b.ints([axis], "axes")], { keep_dims: "true" }, { name: "sum" });
  b.result(y, "out");
  return b.build();
}

test("ReduceSum over axis 1 stays within samples; over axis 0 it does not", () => {
  const ok = analyze(reduceGraph(1), { mode: "shape-aware" });
  assert.equal(ok.supported, true);
  assert.deepEqual(layer(ok, "sum").outputShape, ["N", 1, 2, 2]);
  assert.match(layer(ok, "sum").reason, /over axes \[1\] stays within each sample/);

  const bad = analyze(reduceGraph(0), { mode: "shape-aware" });
  assert.equal(bad.supported, false);
  assert.equal(layer(bad, "sum").verdict, "unsupported");
  // keep_dims: axis 0 becomes 1, the batch is gone
  assert.deepEqual(layer(bad, "sum").outputShape, [1, 128, 2, 2]);
  assert.match(layer(bad, "sum").reason, /drops the batch/);

  const strict = analyze(reduceGraph(1), { mode: "strict" });
  assert.match(layer(strict, "sum").reason, /ReduceSum is not in the supported layer list/);
});

function transposeGraph(perm: number[]) {
  const b = new GraphBuilder("transpose");
  const y = b.op("Transpose", [convTrunk(b), b.ints(perm, "order")], {}, { name: "perm" });
  b.result(y, "out");
  return b.build();
}

test("Transpose keeps samples iff perm[0] = 0", () => {
  const ok = analyze(transposeGraph([0, 2, 3, 1]), { mode: "shape-aware" });
  assert.equal(ok.supported, true);
  assert.deepEqual(layer(ok, "perm").outputShape, ["N", 2, 2, 128]);

  const bad = analyze(transposeGraph([1, 0, 2, 3]), { mode: "shape-aware" });
  const p = layer(bad, "perm");
  assert.equal(p.verdict, "unsupported");
  assert.deepEqual(p.outputShape, [128, "N", 2, 2]);
  assert.match(p.reason, /moves the batch to axis 1/);

  const strict = analyze(transposeGraph([0, 2, 3, 1]), { mode: "strict" });
  assert.equal(layer(strict, "perm").legacyType, "Permute");
  assert.equal(layer(strict, "perm").verdict, "unsupported");
});

function concatGraph(axis: number) {
  const b = new GraphBuilder("concat");
  const x = convTrunk(b);
  const y = b.op("Concat", [x, x], { axis: String(axis) }, { name: "cat" });
  b.result(y, "out");
  return b.build();
}

test("Concat along axis 1 is per sample, along axis 0 it stacks samples", () => {
  const ok = analyze(concatGraph(1), { mode: "shape-aware" });
  assert.equal(ok.supported, true);
  assert.deepEqual(layer(ok, "cat").outputShape, ["N", 256, 2, 2]);
  assert.equal(analyze(concatGraph(1), { mode: "strict" }).supported, true);

  const bad = analyze(concatGraph(0), { mode: "shape-aware" });
  const cat = layer(bad, "cat");
  assert.equal(cat.verdict, "unsupported");
  assert.deepEqual(cat.outputShape, ["2N", 128, 2, 2]);
  assert.match(cat.reason, /folds the batch into axis 0 \(2N instead of N\)/);
});

test("a shape read by ShapeOf may set a Reshape target but not reach data", () => {
  const b = new GraphBuilder("shapeof");
  const x = convTrunk(b);
  const shape = b.op("ShapeOf", [x], { output_type: "i64" }, { name: "shape" });
  const n = b.op("Gather", [shape, b.ints([0], "i0"), b.constant([0], [], "i64", "ax")], { batch_dims: "0" }, { name: "batch" });
  const target = b.op("Concat", [n, b.ints([-1], "rest")], { axis: "0" }, { name: "target" });
  const flat = b.op("Reshape", [x, target], { special_zero: "false" }, { name: "flat" });
  b.result(flat, "out1");
  const nf = b.op("Convert", [n], { destination_type: "f32" }, { name: "batch_f" });
  const scaled = b.op("Multiply", [x, nf], { auto_broadcast: "numpy" }, { name: "scale_by_n" });
  b.result(scaled, "out2");
  const r = analyze(b.build(), { mode: "shape-aware" });

  assert.equal(layer(r, "shape").verdict, "constant");
  assert.match(layer(r, "shape").reason, /depends on N/);
  assert.equal(layer(r, "flat").verdict, "supported");
  assert.deepEqual(layer(r, "flat").outputShape, ["N", 512]);
  const s = layer(r, "scale_by_n");
  assert.equal(s.verdict, "unsupported");
  assert.match(s.reason, /input 1 is \[3\] at N=3, computed from the batch size by ShapeOf 'shape'/);
  assert.deepEqual(r.summary.blocking, ["scale_by_n"]);

  // The legacy conversion folded static shapes: the published rule sees a Power layer and a Reshape.
  const st = analyze(b.build(), { mode: "strict" });
  assert.equal(layer(st, "scale_by_n").legacyType, "Power");
  assert.equal(layer(st, "shape").verdict, "constant");
  assert.deepEqual(st.summary.blocking, ["flat"]);
});

test("MatMul: rows of A are samples; products across samples are not", () => {
  const b = new GraphBuilder("fc");
  const x = b.param("x", [1, 16]);
  const mm = (name: string, a: typeof x, bb: typeof x, ta: boolean, tb: boolean) =>
    b.op("MatMul", [a, bb], { transpose_a: String(ta), transpose_b: String(tb) }, { name });
  b.result(mm("fc", x, b.constant(new Array(64).fill(0.5), [16, 4], "f32", "w"), false, false), "o1");
  b.result(mm("gram", x, x, true, false), "o2");
  b.result(mm("outer", x, x, false, true), "o3");
  const x3 = b.param("x3", [1, 2, 4]);
  b.result(mm("batched", x3, x3, false, true), "o4");
  const r = analyze(b.build(), { mode: "shape-aware" });
  assert.equal(layer(r, "fc").verdict, "supported");
  assert.deepEqual(layer(r, "fc").outputShape, ["N", 4]);
  // [16,N] x [N,16]: sums over samples
  assert.equal(layer(r, "gram").verdict, "unsupported");
  assert.deepEqual(layer(r, "gram").outputShape, [16, 16]);
  assert.match(layer(r, "gram").reason, /drops the batch/);
  // [N,16] x [16,N]: every sample meets every other
  assert.equal(layer(r, "outer").verdict, "unsupported");
  assert.deepEqual(layer(r, "outer").outputShape, ["N", "N"]);
  assert.match(layer(r, "outer").reason, /spreads the batch into axis 1/);
  assert.equal(layer(r, "batched").verdict, "supported");
  assert.match(layer(r, "batched").reason, /batched MatMul/);
  assert.deepEqual(layer(r, "batched").outputShape, ["N", 2, 2]);

  const st = analyze(b.build(), { mode: "strict" });
  assert.deepEqual(
    ["fc", "gram", "batched"].map((n) => layer(st, n).legacyType),
    ["FullyConnected", "Gemm", "Gemm"],
  );
});

test("two data operands: Eltwise in strict, per-sample in shape-aware; per-channel / scalar constants", () => {
  const b = new GraphBuilder("elt");
  const x = convTrunk(b);
  const sum = b.op("Add", [x, x], { auto_broadcast: "numpy" }, { name: "sum" });
  const bias = b.op(
    "Add",
    [sum, b.constant(new Array(128).fill(1), [1, 128, 1, 1], "f32", "bv")],
    { auto_broadcast: "numpy" },
    { name: "bias" },
  );
  const half = b.op("Multiply", [bias, b.constant([0.5], [], "f32", "hv")], { auto_broadcast: "numpy" }, { name: "half" });
  const full = b.op(
    "Add",
    [half, b.constant(new Array(512).fill(1), [1, 128, 2, 2], "f32", "fv")],
    { auto_broadcast: "numpy" },
    { name: "full" },
  );
  const mx = b.op(
    "Maximum",
    [full, b.constant(new Array(128).fill(0), [1, 128, 1, 1], "f32", "mv")],
    { auto_broadcast: "numpy" },
    { name: "max" },
  );
  b.result(mx, "out");
  const st = analyze(b.build(), { mode: "strict" });
  assert.deepEqual(
    ["sum", "bias", "half", "full", "max"].map((n) => layer(st, n).legacyType),
    ["Eltwise", "ScaleShift", "Power", "Eltwise", "Eltwise"],
  );
  assert.equal(st.supported, true);
  assert.equal(analyze(b.build(), { mode: "shape-aware" }).supported, true);
});

test("legacy types: group convolution, slicing as Crop or StridedSlice, custom ops", () => {
  const b = new GraphBuilder("legacy");
  const x = b.param("x", [1, 4, 6, 6]);
  const gw = b.constant(new Array(36).fill(0.1), [4, 1, 1, 3, 3], "f32", "gw");
  const window = { strides: "1,1", dilations: "1,1", pads_begin: "1,1", pads_end: "1,1", auto_pad: "explicit" };
  const gc = b.op("GroupConvolution", [x, gw], window, { name: "dw" });
  const masks = { begin_mask: "1,1,0,0", end_mask: "1,1,0,0", new_axis_mask: "", shrink_axis_mask: "", ellipsis_mask: "" };
  const crop = b.op(
    "StridedSlice",
    [gc, b.ints([0, 0, 1, 1], "b1"), b.ints([0, 0, 5, 5], "e1"), b.ints([1, 1, 1, 1], "s1")],
    masks,
    { name: "crop" },
  );
  const sub = b.op(
    "StridedSlice",
    [crop, b.ints([0, 0, 0, 0], "b2"), b.ints([0, 0, 4, 4], "e2"), b.ints([1, 1, 2, 2], "s2")],
    masks,
    { name: "every_other" },
  );
  const custom = b.op("MyCustomOp", [sub], {}, { name: "custom" });
  b.result(custom, "out");
  const g = b.build();

  const pg = prepare({ ...g, nodes: g.nodes.filter((n) => n.name !== "custom" && n.name !== "out") });
  const byName = (n: string) => pg.nodes.find((x) => x.name === n)!;
  assert.equal(legacyType(byName("dw"), pg), "Convolution");
  assert.equal(legacyType(byName("crop"), pg), "Crop");
  assert.equal(legacyType(byName("every_other"), pg), "StridedSlice");
  assert.equal(legacyType(byName("x"), pg), "Input");

  const st = analyze(g, { mode: "strict" });
  assert.deepEqual(st.summary.blocking, ["every_other", "custom"]);
  assert.match(layer(st, "custom").reason, /MyCustomOp is a custom or unknown layer/);
  assert.equal(layer(st, "out").verdict, "supported");

  const sa = analyze(g, { mode: "shape-aware" });
  assert.equal(layer(sa, "every_other").verdict, "supported");
  assert.deepEqual(layer(sa, "every_other").outputShape, ["N", 4, 2, 2]);
  assert.equal(layer(sa, "custom").verdict, "unsupported");
  assert.match(layer(sa, "custom").reason, /MyCustomOp/);
});

test("StridedSlice reversing axis 0 swaps samples", () => {
  const b = new GraphBuilder("rev");
  const x = b.param("x", [1, 4]);
  const masks = { begin_mask: "1,1", end_mask: "1,1", new_axis_mask: "", shrink_axis_mask: "", ellipsis_mask: "" };
  const y = b.op("StridedSlice", [x, b.ints([0, 0], "b"), b.ints([0, 0], "e"), b.ints([-1, 1], "s")], masks, { name: "rev" });
  b.result(y, "out");
  const r = analyze(b.build(), { mode: "shape-aware" });
  assert.equal(layer(r, "rev").verdict, "unsupported");
  assert.match(layer(r, "rev").reason, /reverses axis 0/);
});

test("a layer name is kept verbatim as data", () => {
  const evil = "<img src=x onerror=alert(1)>";
  const b = new GraphBuilder(`"model" & <b>`);
  const x = b.param("x", [1, 3, 4, 4]);
  b.result(b.op("ReLU", [x], {}, { name: evil }), "out");
  for (const mode of ["strict", "shape-aware"] as const) {
    const r = analyze(b.build(), { mode });
    assert.equal(r.model, `"model" & <b>`);
    assert.equal(layer(r, evil).name, evil);
    const back = JSON.parse(JSON.stringify(r)) as TopologyReport;
    assert.equal(back.layers.find((l) => l.type === "ReLU")!.name, evil);
  }
});

test("report summary counts and order", () => {
  const r = analyze(reshapeGraph([1, -1]), { mode: "shape-aware" });
  // data, w, conv, target, flat, out
  assert.deepEqual(
    r.layers.map((l) => l.verdict),
    ["supported", "constant", "supported", "constant", "unsupported", "supported"],
  );
  assert.deepEqual(r.summary, { total: 6, supported: 3, unsupported: 1, constant: 2, blocking: ["flat"] });
  assert.deepEqual(layer(r, "flat").inputs, [2, 3]);
  assert.equal(r.mode, "shape-aware");
  assert.equal(r.model, "reshape");
});

test("batchAxes marks data tensors whose axis 0 is N", () => {
  const g = reshapeGraph([-1, 512]);
  const ax = batchAxes(g);
  // data, w, conv, target, flat, out
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((id) => ax.get(id)),
    [[true], [false], [true], [false], [true], []],
  );
  const folded = batchAxes(reshapeGraph([1, -1]));
  assert.deepEqual(folded.get(4), [false]);
});

test("a broken graph throws a ModelError; an unsupported one never does", () => {
  const g = reshapeGraph([-1, 512]);
  const broken = {
    ...g,
    nodes: g.nodes.map((n) => (n.name === "flat" ? { ...n, inputs: [{ node: 99, port: 0 }, n.inputs[1]] } : n)),
  };
  assert.throws(() => analyze(broken, { mode: "shape-aware" }), ModelError);
  assert.throws(() => analyze(broken, { mode: "strict" }), ModelError);
});

test("inputShapes are applied before the batch becomes N", () => {
  // 16x16 input: conv gives [N,128,4,4] = 2048 per sample, so [-1,512] now folds 4 rows per sample
  const g = reshapeGraph([-1, 512]);
  const sa = analyze(g, { mode: "shape-aware", inputShapes: { data: [1, 3, 16, 16] } });
  assert.equal(sa.supported, false);
  assert.deepEqual(layer(sa, "conv").outputShape, ["N", 128, 4, 4]);
  assert.deepEqual(layer(sa, "flat").outputShape, ["4N", 512]);
  assert.match(layer(sa, "flat").reason, /folds the batch into axis 0 \(4N instead of N\)/);
  const st = analyze(g, { mode: "strict", inputShapes: { data: [2, 3, 16, 16] } });
  assert.deepEqual(layer(st, "conv").outputShape, [2, 128, 4, 4]);
  assert.deepEqual(batchAxes(g, { inputShapes: { data: [1, 3, 16, 16] } }).get(4), [false]);
});
