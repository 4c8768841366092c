// A softmax written out as Exp / ReduceSum / Divide (optionally after x − ReduceMax(x)) becomes one
// softmax op (kernel/plugins/cpu/fuse_softmax.ts): which programs fuse and which do not, and the
// results against onnxruntime running the written-out ops, at every batch.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { IECore } from "../../kernel";
import { fuseProgram } from "../../kernel/plugins/cpu/fuse";
import { LoweredProgram } from "../../kernel/plugins/lower";
import { loadAddon, NativeOpSpec, NativeProgramSpec } from "../../kernel/plugins/native";
import { maxRelDiff, numel, randomData } from "../helpers/models";
import { OnnxBuilder } from "../helpers/onnx_builder";

/** x [2, 5, 3] → (x − max(x) along axis 1, when `shifted`) → exp → / sum along `axis` → y. */
function program(shifted: boolean, axis = 1): LoweredProgram {
  const act = { shape: [2, 5, 3], batched: true };
  const reduced = { shape: axis === 1 ? [2, 1, 3] : [2, 5, 1], batched: true };
  const tensors = [act, reduced, act, act, reduced, act];
  const ops: NativeOpSpec[] = [
    { type: "unary", name: "exp", inputs: [0], outputs: [3], attrs: { op: "exp" } },
    { type: "reduce", name: "sum", inputs: [3], outputs: [4], attrs: { op: "sum", axes: [axis], keepDims: 1 } },
    { type: "binary", name: "div", inputs: [3, 4], outputs: [5], attrs: { op: "div" } },
  ];
  if (shifted) {
    ops.unshift(
      { type: "reduce", name: "max", inputs: [0], outputs: [1], attrs: { op: "max", axes: [axis], keepDims: 1 } },
      { type: "binary", name: "sub", inputs: [0, 1], outputs: [2], attrs: { op: "sub" } },
    );
    ops[2].inputs = [2];
  }
  const spec: NativeProgramSpec = { maxBatch: 2, threads: 1, tensors, ops, inputs: [0], outputs: [5] };
  const types: Record<string, string> = { exp: "Exp", sum: "ReduceSum", div: "Divide", max: "ReduceMax", sub: "Subtract" };
  return { spec, inputs: [], outputs: [], layers: ops.map((o) => ({ name: o.name, type: types[o.name], execType: o.type })) };
}

test("exp / sum(exp) along one axis becomes a softmax, with and without the max subtraction", () => {
  for (const shifted of [false, true]) {
    for (const axis of [1, 2]) {
      const f = fuseProgram(program(shifted, axis));
      assert.equal(f.spec.ops.length, 1, `shifted ${shifted}, axis ${axis}`);
      const [op] = f.spec.ops;
      assert.equal(op.type, "softmax");
      assert.deepEqual(op.attrs, { axis, log: 0 });
      assert.deepEqual(op.inputs, [0]);
      assert.deepEqual(op.outputs, [5]);
      assert.equal(f.layers[0].name, "div");
      const fused = f.fused[0].map((l) => l.name).sort();
      assert.deepEqual(fused, shifted ? ["exp", "max", "sub", "sum"] : ["exp", "sum"]);
      assert.ok(f.fused[0].every((l) => l.fusedInto === "div"));
    }
  }
});

test("no softmax where a part is read elsewhere, or is not the pattern", () => {
  const kept = (edit: (p: LoweredProgram) => void) => {
    const p = program(true);
    edit(p);
    return fuseProgram(p).spec.ops.some((o) => o.type === "softmax");
  };
  assert.equal(
    kept(() => undefined),
    true,
    "the pattern itself fuses",
  );
  assert.equal(
    kept((p) => p.spec.outputs.push(3)),
    false,
    "exp(x) is also an output",
  );
  assert.equal(
    kept((p) => p.spec.outputs.push(4)),
    false,
    "the sum is also an output",
  );
  assert.equal(
    kept((p) => (p.spec.ops[4].inputs = [4, 3])),
    false,
    "sum / exp is not a softmax",
  );
  assert.equal(
    kept((p) => (p.spec.ops[3].attrs = { op: "mean", axes: [1], keepDims: 1 })),
    false,
    "a mean is not the sum",
  );
  assert.equal(
    kept((p) => (p.spec.ops[3].attrs = { op: "sum", axes: [1, 2], keepDims: 1 })),
    false,
    "a sum over two axes",
  );
  assert.equal(
    kept((p) => (p.spec.ops[2].attrs = { op: "log" })),
    false,
    "log instead of exp",
  );
  // A max along another axis than the sum's: the sum and exp still fuse, the subtraction stays.
  const p = program(true);
  p.spec.ops[0].attrs = { op: "max", axes: [2], keepDims: 1 };
  p.spec.tensors[1] = { shape: [2, 5, 1], batched: true };
  const ops = fuseProgram(p).spec.ops.map((o) => o.type);
  assert.deepEqual(ops, ["reduce", "binary", "softmax"]);
});

/** Exp / ReduceSum / Div after a conv, as an ONNX file; and the shifted variant with ReduceMax / Sub. */
function onnxModel(shifted: boolean): { file: string; out: string } {
  const b = new OnnxBuilder(13);
  const x = b.input("x", [3, 6, 6]);
  const conv = b.op1("Conv", [x, b.weight([4, 3, 3, 3], -0.5, 0.5)], { pads: [1, 1, 1, 1] });
  let logits = conv;
  if (shifted) logits = b.op1("Sub", [conv, b.op1("ReduceMax", [conv], { axes: [1], keepdims: 1 })]);
  const e = b.op1("Exp", [logits]);
  const y = b.op1("Div", [e, b.op1("ReduceSum", [e, b.int64([1])], { keepdims: 1 })]);
  b.output(y);
  return { file: b.save(), out: y };
}

test("a written-out softmax computes what onnxruntime computes from the separate ops, at every batch", async () => {
  const ie = new IECore();
  for (const shifted of [false, true]) {
    const { file, out } = onnxModel(shifted);
    const session = await ort.InferenceSession.create(file);
    const net = await ie.readNetwork(file);
    net.batchSize = 4;
    const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    for (const n of [4, 1, 3, 2]) {
      req.setBatch(n);
      const x = randomData(n * 3 * 36, 40 + n, -3, 3);
      req.setInput("x", x);
      await req.infer();
      const ref = await session.run({ x: new ort.Tensor("float32", x, [n, 3, 6, 6]) });
      const y = req.getBlob(out).data;
      assert.equal(y.length, n * 4 * 36);
      const err = maxRelDiff(y, ref[out].data as Float32Array);
      assert.ok(err < 1e-6, `shifted ${shifted}, batch ${n}: ${err}`);
    }
    const pc = Object.entries(req.getPerformanceCounts());
    const [div, divCount] = pc.find(([, p]) => p.layerType === "Divide")!;
    assert.equal(divCount.status, "EXECUTED");
    const parts = pc.filter(([, p]) => ["Exp", "ReduceSum", "ReduceMax", "Subtract"].includes(p.layerType));
    assert.equal(parts.length, shifted ? 4 : 2);
    for (const [, p] of parts) {
      assert.equal(p.status, "NOT_RUN", `${p.layerType} runs inside the softmax`);
      assert.equal(p.fusedInto, div);
    }
  }
});

// [2, 100, 2] along axis 2 is 200 values at batch 1 (one serial pass) and 400 at batch 2 (the
// row passes); [2, 5, 3] along axis 1 and [2, 2, 2000] are oneDNN's softmax.
test("a fused softmax program equals the float64 reference at every batch and axis, rows few and many", async () => {
  const addon = loadAddon();
  for (const [shape, axis] of [
    [[2, 5, 3], 1],
    [[2, 5, 3], 2],
    [[2, 2, 2000], 1],
    [[2, 100, 2], 2],
    [[2, 300, 2], 2],
  ] as [number[], number][]) {
    const p = program(false, axis);
    const reduced = shape.map((d, i) => (i === axis ? 1 : d));
    p.spec.tensors = p.spec.tensors.map((t) => ({ ...t, shape: t.shape.length === 3 && t.shape[axis] === 1 ? reduced : shape }));
    const spec = fuseProgram(p).spec;
    assert.equal(spec.ops[0].type, "softmax");
    for (const n of [2, 1]) {
      const per = numel(shape) / 2;
      const x = randomData(n * per, 7 + n, -20, 20);
      const req = new addon.Program(spec).createRequest();
      new Float32Array(req.buffer(0)).set(x);
      await req.run(n);
      const y = new Float32Array(req.buffer(5)).slice(0, n * per);
      const [C, W] = [shape[1], shape[2]];
      const ref = new Float64Array(n * per);
      const stride = axis === 1 ? W : 1;
      const len = axis === 1 ? C : W;
      for (let s = 0; s < n; s++)
        for (let o = 0; o < (axis === 1 ? W : C); o++) {
          const base = s * per + (axis === 1 ? o : o * W);
          let sum = 0;
          for (let k = 0; k < len; k++) sum += Math.exp(x[base + k * stride]);
          for (let k = 0; k < len; k++) ref[base + k * stride] = Math.exp(x[base + k * stride]) / sum;
        }
      const err = maxRelDiff(y, ref);
      assert.ok(err < 1e-6, `shape ${shape}, axis ${axis}, batch ${n}: ${err}`);
    }
  }
});
