// A chain of convolutions (a 3-channel first conv with padding on a map over 100x100, depthwise,
// 1x1 with channel counts that fill 8- but not 16-channel blocks, a 3x3 writing 16 channels,
// which keeps oneDNN's own layout) against a float64 reference, with the conv op's 8-channel-block
// preference forced on and off (DYNBATCH_CONV_BLOCKS), at batch 3 of 4.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon } from "../../kernel/plugins/native";
import { numel } from "../../kernel/graph/ops/util";
import { refConv2d } from "../helpers/conv_ref";

const addon = loadAddon();

function data(count: number, seed: number, scale: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

interface Layer {
  w: number[]; // [O, C / group, K, K]
  group: number;
  stride: number;
  pad: number;
}

function refConv(x: Float64Array, xs: number[], w: Float32Array, b: Float32Array, l: Layer): [Float64Array, number[]] {
  const { y, shape } = refConv2d(x, xs, w, l.w, b, l.pad, { stride: l.stride, group: l.group });
  return [y.map((v) => Math.max(v, 0)), shape];
}

const LAYERS: Layer[] = [
  { w: [24, 3, 3, 3], group: 1, stride: 2, pad: 1 },
  { w: [24, 1, 3, 3], group: 24, stride: 1, pad: 1 },
  { w: [40, 24, 1, 1], group: 1, stride: 1, pad: 0 },
  { w: [40, 1, 3, 3], group: 40, stride: 2, pad: 1 },
  { w: [56, 40, 1, 1], group: 1, stride: 1, pad: 0 },
  { w: [16, 56, 3, 3], group: 1, stride: 1, pad: 1 },
];

for (const blocks of ["8", "16"])
  test(`conv chain with DYNBATCH_CONV_BLOCKS=${blocks} matches the reference at batch 3 of 4`, async (t) => {
    const saved = process.env.DYNBATCH_CONV_BLOCKS;
    process.env.DYNBATCH_CONV_BLOCKS = blocks;
    t.after(() => (saved === undefined ? delete process.env.DYNBATCH_CONV_BLOCKS : (process.env.DYNBATCH_CONV_BLOCKS = saved)));
    const maxBatch = 4;
    const n = 3;
    let shape = [maxBatch, 3, 201, 203];
    const tensors: { shape: number[]; batched: boolean; data?: Float32Array }[] = [{ shape, batched: true }];
    const ops = [];
    const params: [Float32Array, Float32Array][] = [];
    for (const [i, l] of LAYERS.entries()) {
      const w = data(numel(l.w), 10 + i, 0.5);
      const b = data(l.w[0], 20 + i, 0.5);
      params.push([w, b]);
      const K = l.w[2];
      shape = [maxBatch, l.w[0], Math.floor((shape[2] + 2 * l.pad - K) / l.stride) + 1, Math.floor((shape[3] + 2 * l.pad - K) / l.stride) + 1];
      const x = i === 0 ? 0 : tensors.length - 1;
      tensors.push({ shape: l.w, batched: false, data: w }, { shape: [l.w[0]], batched: false, data: b }, { shape, batched: true });
      const attrs = { strides: [l.stride, l.stride], dilations: [1, 1], padsBegin: [l.pad, l.pad], padsEnd: [l.pad, l.pad], group: l.group, post: "relu" };
      ops.push({ type: "conv", name: `conv${i}`, inputs: [x, tensors.length - 3, tensors.length - 2], outputs: [tensors.length - 1], attrs });
    }
    const out = tensors.length - 1;
    const program = new addon.Program({ maxBatch, threads: 2, tensors, ops, inputs: [0], outputs: [out] });
    const req = program.createRequest();
    const xs = [n, 3, 201, 203];
    const x = data(numel(xs), 1, 1);
    new Float32Array(req.buffer(0)).set(x);
    await req.run(n);
    let ref: Float64Array = Float64Array.from(x);
    let refShape = xs;
    LAYERS.forEach((l, i) => ([ref, refShape] = refConv(ref, refShape, params[i][0], params[i][1], l)));
    const y = new Float32Array(req.buffer(out)).slice(0, ref.length);
    const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const worst = ref.reduce((m, v, i) => Math.max(m, Math.abs(y[i] - v)), 0) / scale;
    const steps = program.steps().map((s) => `${s.name}:${s.impl}:${s.outLayouts.join()}`);
    assert.ok(worst < 1e-5, `worst error ${worst} relative to the largest output; steps ${steps.join(" ")}`);
  });
