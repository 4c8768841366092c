/**
 * Int8 convolutions on the CPU (kernel/plugins/cpu/int8.ts, native qconv): FakeQuantize → Conv
 * graphs run once as int8 kernels and once as FP32 with the exact FakeQuantize (CPU_INT8=NO, the
 * reference checked against the formula and onnxruntime in fake_quantize.test.ts). Both see the
 * same quantized activations, so one layer agrees to float precision; batch n equals n batch-1
 * runs; grids int8 cannot hold fall back to FP32, and the performance counters say which ran.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CNNNetwork, IECore } from "../../kernel";
import { PortRef } from "../../kernel/graph/graph";
import { activationGrid, weightScales } from "../../kernel/plugins/cpu/int8";
import { loadAddon } from "../../kernel/plugins/native";
import { GraphBuilder } from "../helpers/graph_builder";
import { compareWithFakeQuantize, int8Chain, worstRelative } from "../helpers/int8_chain";
import { randomData } from "../helpers/models";

const LIMIT = 4;

interface Case {
  name: string;
  C?: number;
  O?: number;
  HW?: number;
  kernel?: number;
  stride?: number;
  pad?: number;
  group?: number;
  /** Activation FakeQuantize limits (input = output) and levels; `perChannel` gives every channel its own. */
  lo: number;
  hi: number;
  levels?: number;
  perChannel?: boolean;
  /** Weights: FakeQuantize per output channel (default), one limit for all, or left as random floats. */
  weights?: "channel" | "tensor" | "float";
  /** Weight levels (255: 8 bits; 129: 7 bits, which CPUs without VNNI run in int8 too). */
  wLevels?: number;
  bias?: boolean;
  relu?: boolean;
  residual?: boolean;
  /** The precision the conv must report. */
  expect: "U8" | "FP32";
}

function graph(c: Case): CNNNetwork {
  const C = c.C ?? 8;
  const O = c.O ?? 16;
  const HW = c.HW ?? 9;
  const k = c.kernel ?? 3;
  const g = c.group ?? 1;
  const b = new GraphBuilder(c.name);
  const x = b.param("x", [1, C, HW, HW]);
  const levels = c.levels ?? 256;
  const lim = (v: number) =>
    c.perChannel
      ? b.constant(
          Array.from({ length: C }, (_, i) => v * (1 + i / C)),
          [1, C, 1, 1],
          "f32",
        )
      : b.constant([v], [], "f32");
  const xq = b.op("FakeQuantize", [x, lim(c.lo), lim(c.hi), lim(c.lo), lim(c.hi)], { levels }, { name: "act/fq" });
  const wShape = g > 1 ? [g, O / g, C / g, k, k] : [O, C, k, k];
  const wData = randomData(
    wShape.reduce((a, v) => a * v, 1),
    77,
    -1,
    1,
  );
  let w: PortRef = b.constant(wData, wShape, "f32");
  if (c.weights !== "float") {
    const per = wData.length / O;
    const m = Array.from({ length: O }, (_, o) => Math.max(...Array.from(wData.subarray(o * per, (o + 1) * per), Math.abs)));
    const all = Math.max(...m);
    const limShape = g > 1 ? [g, O / g, 1, 1, 1] : [O, 1, 1, 1];
    const hiW = c.weights === "tensor" ? b.constant([all], [], "f32") : b.constant(m, limShape, "f32");
    const loW =
      c.weights === "tensor"
        ? b.constant([-all], [], "f32")
        : b.constant(
            m.map((v) => -v),
            limShape,
            "f32",
          );
    w = b.op("FakeQuantize", [w, loW, hiW, loW, hiW], { levels: c.wLevels ?? 255 }, { name: "w/fq" });
  }
  const s = c.stride ?? 1;
  const p = c.pad ?? 0;
  let y = b.op(
    g > 1 ? "GroupConvolution" : "Convolution",
    [xq, w],
    { strides: [s, s], dilations: [1, 1], pads_begin: [p, p], pads_end: [p, p] },
    { name: "conv" },
  );
  if (c.bias) y = b.op("Add", [y, b.constant(randomData(O, 5, -2, 2), [1, O, 1, 1], "f32")]);
  if (c.residual)
    y = b.op("Add", [
      y,
      b.op("Convolution", [x, b.constant(randomData(O * C, 9, -1, 1), [O, C, 1, 1], "f32")], {
        strides: [s, s],
        dilations: [1, 1],
        pads_begin: [0, 0],
        pads_end: [0, 0],
      }),
    ]);
  if (c.relu) y = b.op("ReLU", [y]);
  b.result(y, "y");
  return new CNNNetwork(b.build());
}

const CASES: Case[] = [
  { name: "3x3 padded, zero point 77, bias, relu", lo: -0.77, hi: 1.78, pad: 1, bias: true, relu: true, expect: "U8" },
  { name: "1x1 unpadded, zero point in the bias", lo: -0.5, hi: 2.05, kernel: 1, bias: true, expect: "U8" },
  { name: "depthwise 3x3 stride 2 padded", C: 16, O: 16, group: 16, lo: -1.28, hi: 1.27, pad: 1, stride: 2, expect: "U8" },
  { name: "zero point 0 (a ReLU's range)", lo: 0, hi: 3, pad: 1, expect: "U8" },
  { name: "255 levels, symmetric", lo: -2, hi: 2, levels: 255, pad: 1, expect: "U8" },
  { name: "residual add as the sum post-op", lo: -1, hi: 2, kernel: 1, residual: true, relu: true, expect: "U8" },
  { name: "weights with one scale for all channels", lo: 0, hi: 2, weights: "tensor", expect: "U8" },
  { name: "7-bit weights", lo: -0.77, hi: 1.78, pad: 1, wLevels: 129, expect: "U8" },
  // -0.3 / ((1 + 0.3) / 255) = 58.8: zero is not a level, u8 with a zero point cannot hold it.
  { name: "zero between two levels stays FP32", lo: -0.3, hi: 1, pad: 1, expect: "FP32" },
  { name: "per-channel activation limits stay FP32", lo: -1, hi: 1, perChannel: true, expect: "FP32" },
  { name: "weights off any int8 grid stay FP32", lo: 0, hi: 1, weights: "float", expect: "FP32" },
];

/** oneDNN's int8 kernels without VNNI sum u8·s8 pairs in a saturating s16: 8-bit weights stay FP32 there. */
const VNNI = /vnni|bf16|amx/.test(loadAddon().cpuIsa());

for (const c of CASES) {
  const expect = c.expect === "U8" && !VNNI && (c.wLevels ?? 255) > 129 ? "FP32" : c.expect;
  test(`int8 conv: ${c.name} (${expect} on ${loadAddon().cpuIsa()}); equals the FP32 FakeQuantize network, batch n = n × batch 1`, async () => {
    const cmp = await compareWithFakeQuantize(graph(c), 40, LIMIT);
    const { int8, fp32 } = cmp;
    const worst = worstRelative(cmp);
    // The same activation levels on both sides: only float rounding of the sums differs.
    assert.ok(worst <= 2e-5, `relative difference to FP32 FakeQuantize ${worst}`);
    const counts = int8.getPerformanceCounts();
    assert.equal(counts.conv.precision, expect, JSON.stringify(counts.conv));
    assert.match(counts.conv.execType, expect === "U8" ? /_U8$/ : /_FP32$/);
    // The activation FakeQuantize runs inside the int8 convolution, or as its own FP32 layer.
    if (expect === "U8") assert.equal(counts["act/fq"].fusedInto, "conv");
    else assert.equal(counts["act/fq"].precision, "FP32");
    assert.equal(fp32.getPerformanceCounts().conv.precision, "FP32");
  });
}

/** x → FQ → conv → ReLU → FQ → conv → ReLU → FQ → 1x1 conv: the int8 layers pass u8 levels to each other. */
function chainGraph(): CNNNetwork {
  const b = new GraphBuilder("chain");
  const x = b.param("x", [1, 8, 12, 12]);
  let y: PortRef = x;
  const limits = [
    [-0.77, 1.78],
    [0, 2.55],
    [0, 5.1],
  ];
  const kernels = [3, 3, 1];
  let C = 8;
  kernels.forEach((k, i) => {
    const [lo, hi] = limits[i];
    const s = (v: number) => b.constant([v], [], "f32");
    const xq = b.op("FakeQuantize", [y, s(lo), s(hi), s(lo), s(hi)], { levels: 256 }, { name: `fq${i}` });
    const O = 16;
    const wd = randomData(O * C * k * k, 60 + i, -0.4, 0.4);
    const per = C * k * k;
    const m = Array.from({ length: O }, (_, o) => Math.max(...Array.from(wd.subarray(o * per, (o + 1) * per), Math.abs)));
    const hiW = b.constant(m, [O, 1, 1, 1], "f32");
    const loW = b.constant(
      m.map((v) => -v),
      [O, 1, 1, 1],
      "f32",
    );
    const w = b.op("FakeQuantize", [b.constant(wd, [O, C, k, k], "f32"), loW, hiW, loW, hiW], { levels: 255 });
    const p = (k - 1) / 2;
    y = b.op(
      "Convolution",
      [xq, w],
      { strides: [1, 1], dilations: [1, 1], pads_begin: [p, p], pads_end: [p, p] },
      { name: `conv${i}` },
    );
    if (i < 2) y = b.op("ReLU", [y]);
    C = O;
  });
  b.result(y, "y");
  return new CNNNetwork(b.build());
}

test("int8 conv chain: consecutive int8 layers pass u8 levels; within a level of the FP32 FakeQuantize network", async () => {
  const net = chainGraph();
  const { int8, runs } = await compareWithFakeQuantize(net, 80, LIMIT);
  let apart = 0;
  let worst = 0;
  let total = 0;
  for (const r of runs) {
    for (let i = 0; i < r.int8.length; i++) {
      const d = Math.abs(r.int8[i] - r.fp32[i]);
      worst = Math.max(worst, d);
      if (d > 1e-4 * (1 + Math.abs(r.fp32[i]))) apart++;
    }
    total += r.int8.length;
  }
  // oneDNN rounds (y − low) / step where FakeQuantize rounds (y − low) / (high − low) · 255: an
  // activation on a rounding boundary may land one level apart. The last layer's weights (|w| ≤ 0.4,
  // 16 inputs) turn one level of 5.1 / 255 into at most 0.02 per flipped input.
  assert.ok(apart <= total / 100, `${apart} of ${total} outputs beyond 1e-4`);
  assert.ok(worst <= 0.05, `max difference ${worst}`);
  const counts = int8.getPerformanceCounts();
  if (VNNI) for (const c of ["conv0", "conv1", "conv2"]) assert.equal(counts[c].precision, "U8", c);
  // The rewrite itself: the first two write the next layer's levels, the last two read them.
  assert.deepEqual(int8Chain(net, "qconv"), [
    ["conv0", true, false],
    ["conv1", true, true],
    ["conv2", false, true],
  ]);
});

test("activationGrid and weightScales: which grids u8 activations and s8 weights hold", () => {
  const [, , levels, step, zero] = activationGrid(Float32Array.of(0, 2.55, 0, 2.55), 256)!;
  assert.deepEqual([levels, zero], [256, 0]);
  assert.ok(Math.abs(step - 0.01) < 1e-8, `step ${step}`);
  assert.equal(activationGrid(Float32Array.of(-1, 1, -1, 1), 256), undefined, "zero between levels 127 and 128");
  assert.equal(activationGrid(Float32Array.of(-1, 1, -1, 1), 255)?.[4], 127);
  assert.equal(activationGrid(Float32Array.of(0, 1, 0, 1), 512), undefined, "more levels than u8");
  assert.equal(activationGrid(Float32Array.of(1, 2, 1, 2), 256), undefined, "zero below the grid");
  const w = Float32Array.from([127, -64, 3, 0, 0, 0, -128, 5], (v, i) => v * (i < 4 ? 0.01 : 1) * (i < 4 ? 1 : 0.5));
  const s = weightScales(w, 2)!;
  assert.ok(Math.abs(s[0] - 0.01) < 1e-9 && Math.abs(s[1] - 0.5) < 1e-9, `${s}`);
  assert.equal(weightScales(Float32Array.of(0.1, 0.2, 0.33333, 1), 1), undefined);
  assert.deepEqual(Array.from(weightScales(new Float32Array(4), 2)!), [1, 1], "all-zero channels: any scale is exact");
});

test("CPU_INT8: YES by default, NO keeps FP32, anything else is BAD_CONFIG naming the key", async () => {
  const ie = new IECore();
  assert.equal(ie.getConfig("CPU", "CPU_INT8"), "YES");
  ie.setConfig({ CPU_INT8: "NO" }, "CPU");
  assert.equal(ie.getConfig("CPU", "CPU_INT8"), "NO");
  const net = graph(CASES[0]);
  const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  req.setInput("x", randomData(8 * 81, 3));
  await req.infer();
  assert.equal(req.getPerformanceCounts().conv.precision, "FP32");
  assert.throws(
    () => ie.setConfig({ CPU_INT8: "maybe" }, "CPU"),
    (e: unknown) => e instanceof Error && /CPU_INT8 must be "YES" or "NO", got "maybe"/.test(e.message),
  );
});
