// The CPU plugin's fusion pass (kernel/plugins/cpu/fuse.ts): which ops disappear into which, that
// a fused program computes what the unfused one does, and the end-to-end result against
// onnxruntime on a ResNet/MobileNet-shaped block, with fused layers in the performance counters.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { IECore } from "../../kernel";
import { fuseProgram } from "../../kernel/plugins/cpu/fuse";
import { LoweredProgram } from "../../kernel/plugins/lower";
import { loadAddon, NativeProgramSpec } from "../../kernel/plugins/native";
import { maxRelDiff, numel, randomData } from "../helpers/models";
import { OnnxBuilder } from "../helpers/onnx_builder";

const addon = loadAddon();
const CONV = { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };
const layer = (name: string, type: string, execType: string) => ({ name, type, execType });

/** A constant tensor of random values in [lo, hi). */
const c = (shape: number[], seed: number, lo = -1, hi = 1) => ({
  shape,
  batched: false,
  data: randomData(numel(shape), seed, lo, hi),
});
/** An activation at batch 2. */
const a = (shape: number[]) => ({ shape: [2, ...shape], batched: true });

/**
 * x → conv → add bias → batchnorm → relu → max pool → add t → mul s (> 0) → conv2 → add x2 (residual,
 * computed before conv2) → prelu (one slope) → y; x2 = the pool's input is not used elsewhere.
 */
function program(): LoweredProgram {
  const C = 8;
  const spec: NativeProgramSpec = {
    maxBatch: 2,
    threads: 2,
    tensors: [
      a([C, 8, 8]),
      c([C, C, 3, 3], 1, -0.3, 0.3),
      a([C, 8, 8]),
      c([1, C, 1, 1], 2),
      a([C, 8, 8]),
      c([C], 3, 0.5, 1.5),
      c([C], 4),
      c([C], 5),
      c([C], 6, 0.5, 1.5),
      a([C, 8, 8]),
      a([C, 8, 8]),
      a([C, 4, 4]),
      c([1, C, 1, 1], 7),
      a([C, 4, 4]),
      c([1, C, 1, 1], 8, 0.5, 2),
      a([C, 4, 4]),
      c([C, C, 3, 3], 9, -0.3, 0.3),
      a([C, 4, 4]),
      a([C, 4, 4]),
      c([1], 10, 0.1, 0.2),
      a([C, 4, 4]),
    ],
    ops: [
      { type: "conv", name: "conv", inputs: [0, 1], outputs: [2], attrs: CONV },
      { type: "binary", name: "bias", inputs: [2, 3], outputs: [4], attrs: { op: "add" } },
      { type: "batchnorm", name: "bn", inputs: [4, 5, 6, 7, 8], outputs: [9], attrs: { epsilon: 1e-5 } },
      { type: "unary", name: "relu", inputs: [9], outputs: [10], attrs: { op: "relu" } },
      {
        type: "pool",
        name: "pool",
        inputs: [10],
        outputs: [11],
        attrs: {
          kind: "max",
          kernel: [2, 2],
          strides: [2, 2],
          dilations: [1, 1],
          padsBegin: [0, 0],
          padsEnd: [0, 0],
          excludePad: 0,
        },
      },
      { type: "binary", name: "shift", inputs: [11, 12], outputs: [13], attrs: { op: "add" } },
      { type: "binary", name: "scale", inputs: [13, 14], outputs: [15], attrs: { op: "mul" } },
      { type: "conv", name: "conv2", inputs: [15, 16], outputs: [17], attrs: CONV },
      { type: "binary", name: "residual", inputs: [17, 15], outputs: [18], attrs: { op: "add" } },
      { type: "prelu", name: "prelu", inputs: [18, 19], outputs: [20], attrs: {} },
    ],
    inputs: [0],
    outputs: [20],
  };
  const types = ["Convolution", "Add", "BatchNormInference", "ReLU", "MaxPool", "Add", "Multiply", "Convolution", "Add", "PReLU"];
  return {
    spec,
    inputs: [],
    outputs: [],
    layers: spec.ops.map((o, i) => layer(o.name, types[i], o.type)),
  };
}

async function runSpec(spec: NativeProgramSpec, x: Float32Array, n: number): Promise<Float32Array> {
  const req = new addon.Program(spec).createRequest();
  new Float32Array(req.buffer(spec.inputs[0])).set(x);
  await req.run(n);
  return new Float32Array(req.buffer(spec.outputs[0])).slice(0, (numel(spec.tensors[spec.outputs[0]].shape) / 2) * n);
}

test("fuseProgram folds bias and batchnorm into conv, fuses activations and the residual sum, collapses affine chains", () => {
  const p = program();
  const before = p.spec.tensors.map((t) => (t.data ? Float32Array.from(t.data) : undefined));
  const f = fuseProgram(p);
  assert.deepEqual(
    f.spec.ops.map((o) => `${o.name}:${o.type}`),
    ["conv:conv", "pool:pool", "shift:affine", "conv2:conv"],
  );
  const [conv, pool, affine, conv2] = f.spec.ops;
  assert.equal(conv.attrs.post, "relu", "the affine after the pool stays an op of its own");
  assert.equal(conv.inputs.length, 3, "x, weights and the folded bias");
  assert.equal(pool.attrs.post, undefined);
  assert.deepEqual(affine.inputs[0], pool.outputs[0]);
  assert.deepEqual(affine.outputs, [15]);
  // (x + t)·s = x·s + t·s
  const [t, sc] = [p.spec.tensors[12].data!, p.spec.tensors[14].data!];
  assert.deepEqual(Array.from(f.spec.tensors[affine.inputs[1]].data!), Array.from(sc));
  assert.deepEqual(
    Array.from(f.spec.tensors[affine.inputs[2]].data!),
    Array.from(t, (v, c) => Math.fround(v * sc[c])),
  );
  assert.equal(conv2.attrs.post, `sum;leakyrelu:${p.spec.tensors[19].data![0]}`);
  assert.deepEqual(conv2.inputs.slice(0, 2), [15, conv2.inputs[1]]);
  assert.equal(conv2.inputs[2], 15, "the residual is the sum operand");
  assert.deepEqual(conv2.outputs, [20]);
  assert.deepEqual(
    f.fused.map((ls) => ls.map((l) => `${l.name}>${l.fusedInto}`)),
    [["bias>conv", "bn>conv", "relu>conv"], [], ["scale>shift"], ["residual>conv2", "prelu>conv2"]],
  );
  // The lowered program (whose constants belong to the network's graph) is left as it was.
  p.spec.tensors.forEach((t, i) => assert.deepEqual(t.data, before[i], `tensor ${i}`));
  assert.equal(p.spec.ops.length, 10);
});

test("a fused program computes what the unfused one does, at every batch", async () => {
  const p = program();
  const fused = fuseProgram(p).spec;
  for (const n of [2, 1]) {
    const x = randomData(n * 8 * 64, 20 + n, -1, 1);
    const [a, b] = [await runSpec(p.spec, x, n), await runSpec(fused, x, n)];
    assert.ok(maxRelDiff(b, a) < 1e-5, `batch ${n}: ${maxRelDiff(b, a)}`);
  }
});

test("nothing fuses across a tensor that is a program output or read twice", () => {
  const p = program();
  p.spec.outputs = [20, 9];
  const f = fuseProgram(p);
  const conv = f.spec.ops.find((o) => o.name === "conv")!;
  assert.equal(conv.attrs.post, undefined, "the batchnorm output is a program output: relu stays apart");
  assert.deepEqual(conv.outputs, [9]);
  assert.ok(f.spec.ops.some((o) => o.name === "relu"));
  // relu's output also feeds a second output: relu itself still fuses into the conv.
  const q = program();
  q.spec.tensors.push({ shape: [2, 8, 8, 8], batched: true });
  q.spec.ops.push({ type: "unary", name: "side", inputs: [10], outputs: [21], attrs: { op: "abs" } });
  q.layers.push(layer("side", "Abs", "unary"));
  q.spec.outputs = [20, 21];
  const g = fuseProgram(q);
  const conv2 = g.spec.ops.find((o) => o.name === "conv")!;
  assert.equal(conv2.attrs.post, "relu");
  assert.deepEqual(conv2.outputs, [10]);
  assert.ok(g.spec.ops.some((o) => o.name === "side"));
});

/**
 * x → mul s → add t → grouped 1x1 conv (no padding): both fold into it. x → mul → add → 3x3 conv
 * (padding 1): the add cannot fold (padding would see the shift); the conv applies both to the
 * program input x itself (preScale, preShift).
 * x → mul → 3x3 depthwise conv: the mul folds (padding stays zero).
 */
function inputAffine(): LoweredProgram {
  const spec: NativeProgramSpec = {
    maxBatch: 2,
    threads: 2,
    tensors: [
      a([4, 5, 5]),
      c([1, 4, 1, 1], 50),
      a([4, 5, 5]),
      c([1, 4, 1, 1], 51),
      a([4, 5, 5]),
      c([6, 2, 1, 1], 52),
      a([6, 5, 5]),
      a([4, 5, 5]),
      a([4, 5, 5]),
      c([3, 4, 3, 3], 53),
      a([3, 5, 5]),
      a([4, 5, 5]),
      c([4, 1, 3, 3], 54),
      a([4, 5, 5]),
    ],
    ops: [
      { type: "binary", name: "m1", inputs: [0, 1], outputs: [2], attrs: { op: "mul" } },
      { type: "binary", name: "a1", inputs: [2, 3], outputs: [4], attrs: { op: "add" } },
      {
        type: "conv",
        name: "g1x1",
        inputs: [4, 5],
        outputs: [6],
        attrs: { ...CONV, padsBegin: [0, 0], padsEnd: [0, 0], group: 2 },
      },
      { type: "binary", name: "m2", inputs: [0, 1], outputs: [7], attrs: { op: "mul" } },
      { type: "binary", name: "a2", inputs: [7, 3], outputs: [8], attrs: { op: "add" } },
      { type: "conv", name: "c3x3", inputs: [8, 9], outputs: [10], attrs: CONV },
      { type: "binary", name: "m3", inputs: [0, 1], outputs: [11], attrs: { op: "mul" } },
      { type: "conv", name: "dw", inputs: [11, 12], outputs: [13], attrs: { ...CONV, group: 4 } },
    ],
    inputs: [0],
    outputs: [6, 10, 13],
  };
  return { spec, inputs: [], outputs: [], layers: spec.ops.map((o) => layer(o.name, o.type, o.type)) };
}

test("per-channel multiplies fold into the next conv's weights, adds only into an unpadded conv's bias", async () => {
  const p = inputAffine();
  const f = fuseProgram(p);
  assert.deepEqual(
    f.spec.ops.map((o) => o.name),
    ["g1x1", "c3x3", "dw"],
  );
  assert.deepEqual(f.spec.ops[0].inputs[0], 0);
  assert.equal(f.spec.ops[0].inputs.length, 3, "the add became a bias");
  assert.deepEqual(f.spec.ops[1].inputs[0], 0, "the padded conv reads x and applies the multiply-add itself");
  assert.deepEqual(f.spec.ops[1].attrs.preScale, Array.from(p.spec.tensors[1].data!));
  assert.deepEqual(f.spec.ops[2].inputs[0], 0);
  assert.deepEqual(
    f.fused[0].map((l) => l.name),
    ["a1", "m1"],
  );
  for (const n of [2, 1]) {
    const x = randomData(n * 100, 60 + n, -1, 1);
    for (const out of [6, 10, 13]) {
      const [a, b] = [await runSpec({ ...p.spec, outputs: [out] }, x, n), await runSpec({ ...f.spec, outputs: [out] }, x, n)];
      assert.ok(maxRelDiff(b, a) < 1e-5, `output ${out} at batch ${n}: ${maxRelDiff(b, a)}`);
    }
  }
});

test("a mean or max over the spatial axes becomes a global pool, with a view for the dropped axes", async () => {
  const spec: NativeProgramSpec = {
    maxBatch: 2,
    threads: 2,
    tensors: [
      { shape: [2, 8, 5, 7], batched: true },
      { shape: [2, 8], batched: true },
      { shape: [2, 8, 1, 1], batched: true },
      { shape: [2, 8, 1, 1], batched: true },
    ],
    ops: [
      { type: "reduce", name: "gap", inputs: [0], outputs: [1], attrs: { op: "mean", axes: [2, 3], keepDims: 0 } },
      { type: "reduce", name: "gmp", inputs: [0], outputs: [2], attrs: { op: "max", axes: [2, 3], keepDims: 1 } },
      { type: "reduce", name: "rows", inputs: [0], outputs: [3], attrs: { op: "sum", axes: [2, 3], keepDims: 1 } },
    ],
    inputs: [0],
    outputs: [1, 2, 3],
  };
  const p: LoweredProgram = { spec, inputs: [], outputs: [], layers: spec.ops.map((o) => layer(o.name, "ReduceMean", o.type)) };
  const f = fuseProgram(p);
  assert.deepEqual(
    f.spec.ops.map((o) => `${o.name}:${o.type}`),
    ["gap:pool", "gap/squeeze:copy", "gmp:pool", "rows:reduce"],
  );
  assert.deepEqual(f.spec.ops[0].attrs.kernel, [5, 7]);
  assert.deepEqual(
    f.layers.map((l) => l.name),
    ["gap", "gap/squeeze", "gmp", "rows"],
  );
  for (const n of [2, 1]) {
    const x = randomData(n * 8 * 35, 70 + n, -1, 1);
    for (const out of [1, 2]) {
      const [a, b] = [await runSpec({ ...p.spec, outputs: [out] }, x, n), await runSpec({ ...f.spec, outputs: [out] }, x, n)];
      assert.ok(maxRelDiff(b, a) < 1e-5, `output ${out} at batch ${n}`);
    }
  }
});

// A ResNet basic block and a MobileNetV2 block end to end against onnxruntime.
function block(): { file: string; b: OnnxBuilder } {
  const b = new OnnxBuilder(13);
  const C = 16;
  const bn = (x: string) =>
    b.op1("BatchNormalization", [
      x,
      b.weight([C], 0.5, 1.5),
      b.weight([C], -0.1, 0.1),
      b.weight([C], -0.1, 0.1),
      b.weight([C], 0.5, 1.5),
    ]);
  const conv = (x: string, k: number, group = 1) =>
    b.op1("Conv", [x, b.weight([C, C / group, k, k], -0.3, 0.3), b.weight([C], -0.1, 0.1)], {
      kernel_shape: [k, k],
      pads: Array(4).fill(k >> 1),
      group,
    });
  const x = b.input("x", [3, 12, 12]);
  let y = b.op1("Relu", [
    bn(b.op1("Conv", [x, b.weight([C, 3, 3, 3], -0.5, 0.5)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })),
  ]);
  y = b.op1("MaxPool", [y], { kernel_shape: [2, 2], strides: [2, 2] });
  y = b.op1("Add", [b.op1("Mul", [y, b.weight([1, C, 1, 1], 0.5, 2)]), b.weight([1, C, 1, 1], -1, 1)]);
  const r = y;
  y = b.op1("Relu", [bn(conv(y, 3))]);
  y = b.op1("Relu", [b.op1("Add", [bn(conv(y, 3)), r])]);
  y = b.op1("Clip", [conv(y, 3, C), b.weight([], 0, 0, [0]), b.weight([], 0, 0, [6])]);
  y = b.op1("Flatten", [b.op1("GlobalAveragePool", [y])], { axis: 1 });
  y = b.op1("Relu", [b.op1("Gemm", [y, b.weight([10, C], -0.5, 0.5), b.weight([10], -0.1, 0.1)], { transB: 1 })]);
  b.output(y);
  return { file: b.save(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-fuse-"))), b };
}

test("a fused ResNet/MobileNet block equals onnxruntime; fused layers are listed as run inside their conv", async () => {
  const { file, b } = block();
  const session = await ort.InferenceSession.create(file);
  const ie = new IECore();
  const net = await ie.readNetwork(file);
  net.batchSize = 3;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const req = exec.createInferRequest();
  for (const n of [3, 1, 2]) {
    req.setBatch(n);
    const x = randomData(n * 3 * 144, 30 + n, -1, 1);
    req.setInput("x", x);
    await req.infer();
    const ref = await session.run({ x: new ort.Tensor("float32", x, [n, 3, 12, 12]) });
    const out = b.outputNames[0];
    assert.deepEqual(req.getBlob(out).shape, [n, 10]);
    const err = maxRelDiff(req.getBlob(out).data, ref[out].data as Float32Array);
    assert.ok(err <= 1e-4, `batch ${n}: ${err}`);
  }
  const pc = Object.values(req.getPerformanceCounts());
  const byType = (t: string) => pc.filter((p) => p.layerType === t);
  assert.equal(byType("Convolution").length + byType("GroupConvolution").length, 4);
  for (const p of [...byType("Convolution"), ...byType("GroupConvolution")]) {
    assert.equal(p.status, "EXECUTED");
    assert.ok(p.realTimeUs > 0 && /_FP32$/.test(p.execType), p.execType);
  }
  for (const t of ["BatchNormInference", "ReLU", "Clamp"]) {
    assert.ok(byType(t).length > 0, t);
    for (const p of byType(t)) {
      assert.equal(p.status, "NOT_RUN", `${t} is fused`);
      assert.equal(p.realTimeUs, 0);
      assert.ok(p.fusedInto, `${t} names the layer it runs in`);
    }
  }
  for (const p of byType("Reorder")) assert.equal(p.status, "EXECUTED");
});

test("loading a network twice gives the same results (fusion leaves the network's weights alone)", async () => {
  const { file } = block();
  const ie = new IECore();
  const net = await ie.readNetwork(file);
  const outs: Float32Array[] = [];
  for (let i = 0; i < 2; i++) {
    const exec = await ie.loadNetwork(net, "CPU");
    const req = exec.createInferRequest();
    req.setInput("x", randomData(3 * 144, 40, -1, 1));
    await req.infer();
    outs.push(Float32Array.from(req.getBlob(Object.keys(exec.outputs)[0]).data));
  }
  assert.deepEqual(outs[0], outs[1]);
});

test("a Transpose [0, 2, 3, 1] after a conv becomes a reorder to nhwc and computes the transpose, at every batch", async () => {
  const spec: NativeProgramSpec = {
    maxBatch: 2,
    threads: 2,
    tensors: [a([8, 8, 8]), c([16, 8, 3, 3], 40), a([16, 8, 8]), a([8, 8, 16]), a([8, 16, 8])],
    ops: [
      { type: "conv", name: "conv", inputs: [0, 1], outputs: [2], attrs: CONV },
      { type: "transpose", name: "nhwc", inputs: [2], outputs: [3], attrs: { perm: [0, 2, 3, 1] } },
      { type: "transpose", name: "other", inputs: [2], outputs: [4], attrs: { perm: [0, 3, 1, 2] } },
    ],
    inputs: [0],
    outputs: [3, 4],
  };
  const p: LoweredProgram = { spec, inputs: [], outputs: [], layers: spec.ops.map((o) => layer(o.name, "Transpose", o.type)) };
  const f = fuseProgram(p).spec;
  assert.deepEqual(
    f.ops.map((o) => o.type),
    ["conv", "reorder", "transpose"],
  );
  for (const n of [2, 1]) {
    const x = randomData(n * 8 * 64, 50 + n, -1, 1);
    const [want, got] = [await runSpec(p.spec, x, n), await runSpec(f, x, n)];
    assert.ok(maxRelDiff(got, want) < 1e-6, `batch ${n}: ${maxRelDiff(got, want)}`);
  }
});
