/**
 * Int8 fully connected layers on the CPU (kernel/plugins/cpu/int8.ts, native qmatmul): FakeQuantize
 * → MatMul graphs run once as int8 kernels and once as FP32 with the exact FakeQuantize
 * (CPU_INT8=NO, the reference checked against the formula and onnxruntime in
 * fake_quantize.test.ts): one layer agrees to float precision, batch n equals n batch-1 runs, grids
 * int8 cannot hold stay FP32, and the performance counters say which ran. An ONNX QDQ model is
 * checked against onnxruntime-node.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { CNNNetwork, IECore, InferRequest } from "../../kernel";
import { PortRef } from "../../kernel/graph/graph";
import { loadAddon } from "../../kernel/plugins/native";
import { GraphBuilder } from "../helpers/graph_builder";
import { randomData } from "../helpers/models";
import { compareWithFakeQuantize, int8Chain, worstRelative } from "../helpers/int8_chain";
import { OnnxBuilder } from "../helpers/onnx_builder";

const LIMIT = 4;
/** oneDNN's int8 kernels without VNNI sum u8·s8 pairs in a saturating s16: 8-bit weights stay FP32 there. */
const VNNI = /vnni|bf16|amx/.test(loadAddon().cpuIsa());

interface Layer {
  /** Output columns. */
  N: number;
  /** Activation FakeQuantize limits (input = output); `perChannel` gives every input column its own. */
  lo: number;
  hi: number;
  levels?: number;
  perChannel?: boolean;
  /** Weights per output column (default), one limit for all, or left as random floats. */
  weights?: "column" | "tensor" | "float";
  wLevels?: number;
  transposeB?: boolean;
  bias?: boolean;
  relu?: boolean;
}

/** Symmetric FakeQuantize limits of B [K, N] (or [N, K] transposed) per output column, or one for all. */
function weightFq(b: GraphBuilder, data: Float32Array, K: number, N: number, l: Layer, name: string): PortRef {
  const at = (k: number, n: number) => data[l.transposeB ? n * K + k : k * N + n];
  const m = Array.from({ length: N }, (_, n) => Math.max(...Array.from({ length: K }, (_, k) => Math.abs(at(k, n)))));
  const tensor = l.weights === "tensor";
  const all = Math.max(...m);
  const shape = tensor ? [] : l.transposeB ? [N, 1] : [1, N];
  const hi = b.constant(tensor ? [all] : m, shape, "f32");
  const lo = b.constant(tensor ? [-all] : m.map((v) => -v), shape, "f32");
  const w = b.constant(data, l.transposeB ? [N, K] : [K, N], "f32");
  return b.op("FakeQuantize", [w, lo, hi, lo, hi], { levels: l.wLevels ?? 255 }, { name });
}

/** x [1, 4, 2, 3] → Reshape [1, 24] → for each layer: FakeQuantize → MatMul "fc<i>" [→ Add] [→ ReLU]. */
function mlp(name: string, layers: Layer[], fqBeforeReshape = false): CNNNetwork {
  const b = new GraphBuilder(name);
  const x = b.param("x", [1, 4, 2, 3]);
  const reshape = (t: PortRef) => b.op("Reshape", [t, b.ints([-1, 24])], { special_zero: "false" }, { name: "flatten" });
  let y: PortRef = fqBeforeReshape ? x : reshape(x);
  let K = 24;
  layers.forEach((l, i) => {
    const lim = (v: number) =>
      l.perChannel
        ? b.constant(
            Array.from({ length: K }, (_, k) => v * (1 + k / K)),
            [1, K],
            "f32",
          )
        : b.constant([v], [], "f32");
    y = b.op("FakeQuantize", [y, lim(l.lo), lim(l.hi), lim(l.lo), lim(l.hi)], { levels: l.levels ?? 256 }, { name: `fq${i}` });
    if (fqBeforeReshape && i === 0) y = reshape(y);
    const data = randomData(K * l.N, 70 + i, -0.5, 0.5);
    const w =
      l.weights === "float"
        ? b.constant(data, l.transposeB ? [l.N, K] : [K, l.N], "f32")
        : weightFq(b, data, K, l.N, l, `w${i}/fq`);
    y = b.op("MatMul", [y, w], { transpose_a: "false", transpose_b: l.transposeB ? "true" : "false" }, { name: `fc${i}` });
    if (l.bias) y = b.op("Add", [y, b.constant(randomData(l.N, 5 + i, -1, 1), [1, l.N], "f32")]);
    if (l.relu) y = b.op("ReLU", [y]);
    K = l.N;
  });
  b.result(y, "y");
  return new CNNNetwork(b.build());
}

/** Runs `net` in int8 and as the FP32 FakeQuantize network at n = 1..LIMIT; the worst relative difference and the int8 request. */
async function compare(net: CNNNetwork, seed: number): Promise<{ worst: number; req: InferRequest }> {
  const c = await compareWithFakeQuantize(net, seed, LIMIT);
  assert.equal(c.fp32.getPerformanceCounts().fc0.precision, "FP32");
  return { worst: worstRelative(c), req: c.int8 };
}

interface Case {
  name: string;
  layer: Omit<Layer, "N">;
  fqBeforeReshape?: boolean;
  expect: "U8" | "FP32";
}

const CASES: Case[] = [
  { name: "zero point 77, bias, relu", layer: { lo: -0.77, hi: 1.78, bias: true, relu: true }, expect: "U8" },
  { name: "transposed weights [N, K]", layer: { lo: -0.5, hi: 2.05, transposeB: true, bias: true }, expect: "U8" },
  { name: "FakeQuantize before the Reshape", layer: { lo: -1.02, hi: 2.04 }, fqBeforeReshape: true, expect: "U8" },
  { name: "zero point 0 (a ReLU's range)", layer: { lo: 0, hi: 3 }, expect: "U8" },
  { name: "255 levels, symmetric", layer: { lo: -2, hi: 2, levels: 255 }, expect: "U8" },
  { name: "weights with one scale for all columns", layer: { lo: 0, hi: 2, weights: "tensor" }, expect: "U8" },
  { name: "7-bit weights", layer: { lo: -0.77, hi: 1.78, wLevels: 129, bias: true }, expect: "U8" },
  { name: "zero between two levels stays FP32", layer: { lo: -0.3, hi: 1 }, expect: "FP32" },
  { name: "per-column activation limits stay FP32", layer: { lo: -1, hi: 1, perChannel: true }, expect: "FP32" },
  { name: "weights off any int8 grid stay FP32", layer: { lo: 0, hi: 1, weights: "float" }, expect: "FP32" },
];

for (const c of CASES) {
  const expect = c.expect === "U8" && !VNNI && (c.layer.wLevels ?? 255) > 129 ? "FP32" : c.expect;
  test(`int8 matmul: ${c.name} (${expect} on ${loadAddon().cpuIsa()}); equals the FP32 FakeQuantize network, batch n = n × batch 1`, async () => {
    const { worst, req } = await compare(mlp(c.name, [{ ...c.layer, N: 20 }], c.fqBeforeReshape), 40);
    // The same activation levels on both sides: only float rounding of the sums differs.
    assert.ok(worst <= 2e-5, `relative difference to FP32 FakeQuantize ${worst}`);
    const counts = req.getPerformanceCounts();
    assert.equal(counts.fc0.precision, expect, JSON.stringify(counts.fc0));
    assert.match(counts.fc0.execType, expect === "U8" ? /_U8$/ : /_FP32$/);
    // The activation FakeQuantize (and a Reshape after it) runs inside the int8 matmul, or as its own FP32 layer.
    if (expect === "U8") assert.equal(counts.fq0.fusedInto, "fc0");
    else assert.equal(counts.fq0.precision, "FP32");
    if (expect === "U8" && c.fqBeforeReshape) assert.equal(counts.flatten.fusedInto, "fc0");
  });
}

test("int8 MLP: three layers pass u8 levels to each other; within a level of the FP32 FakeQuantize network", async () => {
  const layers: Layer[] = [
    { N: 32, lo: -0.77, hi: 1.78, bias: true, relu: true, wLevels: 129 },
    { N: 16, lo: 0, hi: 2.55, bias: true, relu: true, transposeB: true, wLevels: 129 },
    { N: 8, lo: 0, hi: 5.1, bias: true, wLevels: 129 },
  ];
  const net = mlp("mlp", layers);
  const { worst, req } = await compare(net, 90);
  // oneDNN rounds (y − low) / step where FakeQuantize rounds (y − low) / (high − low) · 255: an
  // activation on a rounding boundary may land one level apart, moving the next sums by a level
  // times a weight (≤ 0.5): well under 0.05 relative on these outputs.
  assert.ok(worst <= 0.05, `relative difference to FP32 FakeQuantize ${worst}`);
  const counts = req.getPerformanceCounts();
  for (const fc of ["fc0", "fc1", "fc2"]) assert.equal(counts[fc].precision, "U8", fc);
  assert.deepEqual(int8Chain(net, "qmatmul"), [
    ["fc0", true, false],
    ["fc1", true, true],
    ["fc2", false, true],
  ]);
});

const U8 = 2;
const I8 = 3;

/**
 * x [24] → Q/DQ (u8, zero point 131) → MatMul (int8 weights −63..63 per column, axis 1) → Add → Relu
 * → Q/DQ (s8, zero point −100, as onnxruntime's QInt8 activations) → MatMul (per tensor) → y.
 */
function qdqMlp(): { file: string; out: string } {
  const b = new OnnxBuilder(13);
  const x = b.input("x", [24]);
  const qdq = (t: string, scale: number, zp: number, type: 2 | 3 = U8) => {
    const s = b.weight([], 0, 0, [scale]);
    const z = b.integers([zp], [], type);
    return b.op1("DequantizeLinear", [b.op1("QuantizeLinear", [t, s, z]), s, z]);
  };
  const weights = (K: number, N: number, scales: number[], seed: number) => {
    // Each column reaches ±63, as a symmetric quantizer's largest weight does.
    const values = Array.from(randomData(K * N, seed, -63, 64), (v, i) => (i < N ? (i % 2 ? -63 : 63) : Math.floor(v)));
    const q = b.integers(values, [K, N], I8);
    const perAxis = scales.length > 1;
    const zero = b.integers(new Array<number>(scales.length).fill(0), perAxis ? [N] : [], I8);
    return b.op1("DequantizeLinear", [q, b.weight(perAxis ? [N] : [], 0, 0, scales), zero], perAxis ? { axis: 1 } : {});
  };
  const h = b.op1("MatMul", [
    qdq(x, 4 / 255, 131),
    weights(
      24,
      16,
      Array.from({ length: 16 }, (_, n) => 0.004 + 0.001 * n),
      21,
    ),
  ]);
  const act = qdq(b.op1("Relu", [b.op1("Add", [h, b.weight([16], -0.5, 0.5)])]), 3 / 255, -100, I8);
  const y = b.op1("MatMul", [act, weights(16, 5, [0.01], 22)]);
  b.output(y);
  return { file: b.save(), out: y };
}

test("ONNX QDQ MatMul model: both MatMuls int8 (U8), dynbatch at setBatch(1..4) equals onnxruntime-node", async () => {
  const { file, out } = qdqMlp();
  const session = await ort.InferenceSession.create(file);
  const ie = new IECore();
  const net = await ie.readNetwork(file);
  net.batchSize = LIMIT;
  const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const outName = Object.keys(net.outputs)[0];
  const counts = req.getPerformanceCounts();
  const matmuls = Object.values(counts).filter((c) => c.layerType === "MatMul");
  assert.equal(matmuls.length, 2);
  for (const m of matmuls) assert.equal(m.precision, "U8", JSON.stringify(m));
  let worst = 0;
  for (const n of [1, 2, 3, 4]) {
    req.setBatch(n);
    const data = randomData(n * 24, 500 + n, -1.8, 2.2);
    req.setInput("x", data);
    req.getBlob(outName).data.fill(NaN);
    await req.infer();
    const ours = req.getBlob(outName).data;
    const theirs = (await session.run({ x: new ort.Tensor("float32", data, [n, 24]) }))[out].data as Float32Array;
    assert.equal(ours.length, theirs.length);
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]) / (1 + Math.abs(theirs[i])));
  }
  // Both engines sum the same integers; a hidden activation on a rounding boundary may still land
  // one level (3/255) apart, times a weight ≤ 0.63: far less than 0.01.
  assert.ok(worst <= 0.01, `relative difference to onnxruntime ${worst}`);
});
