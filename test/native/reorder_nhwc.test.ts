// The reorder op as a Transpose [0, 2, 3, 1] (from "any", permuted; the CPU plugin's fusion
// rewrites such transposes into it): reading a program input (plain) and a convolution's output
// (whatever layout the conv writes), at batch 3 of 4, against a float64 reference.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon } from "../../kernel/plugins/native";

const addon = loadAddon();

function data(count: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** x [N, C, H, W] (row-major) as [N, H, W, C]. */
function toNhwc(x: ArrayLike<number>, [N, C, H, W]: number[]): Float64Array {
  const y = new Float64Array(N * C * H * W);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) y[((n * H + h) * W + w) * C + c] = x[((n * C + c) * H + h) * W + w];
  return y;
}

const PERMUTE = { from: "any", to: "nhwc", permuted: 1 };

test("permuted reorder of a program input equals the transpose, batch 3 of 4", async () => {
  const [C, H, W] = [5, 3, 4];
  const program = new addon.Program({
    maxBatch: 4,
    threads: 2,
    tensors: [
      { shape: [4, C, H, W], batched: true },
      { shape: [4, H, W, C], batched: true },
    ],
    ops: [{ type: "reorder", name: "perm", inputs: [0], outputs: [1], attrs: PERMUTE }],
    inputs: [0],
    outputs: [1],
  });
  const req = program.createRequest();
  const x = data(3 * C * H * W, 7);
  new Float32Array(req.buffer(0)).set(x);
  await req.run(3);
  assert.deepEqual(Array.from(new Float32Array(req.buffer(1)).slice(0, x.length)), Array.from(toNhwc(x, [3, C, H, W])));
});

test("permuted reorder of a convolution's output (1x1, 24 -> 40 channels), batch 3 of 4", async () => {
  const [C, O, H, W] = [24, 40, 5, 6];
  const w = data(O * C, 11);
  const program = new addon.Program({
    maxBatch: 4,
    threads: 2,
    tensors: [
      { shape: [4, C, H, W], batched: true },
      { shape: [O, C, 1, 1], batched: false, data: w },
      { shape: [4, O, H, W], batched: true },
      { shape: [4, H, W, O], batched: true },
    ],
    ops: [
      { type: "conv", name: "conv", inputs: [0, 1], outputs: [2], attrs: { strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0] } },
      { type: "reorder", name: "perm", inputs: [2], outputs: [3], attrs: PERMUTE },
    ],
    inputs: [0],
    outputs: [3],
  });
  const req = program.createRequest();
  const x = data(3 * C * H * W, 12);
  new Float32Array(req.buffer(0)).set(x);
  await req.run(3);
  const conv = new Float64Array(3 * O * H * W);
  for (let n = 0; n < 3; n++)
    for (let o = 0; o < O; o++)
      for (let p = 0; p < H * W; p++) {
        let acc = 0;
        for (let c = 0; c < C; c++) acc += x[(n * C + c) * H * W + p] * w[o * C + c];
        conv[(n * O + o) * H * W + p] = acc;
      }
  const ref = toNhwc(conv, [3, O, H, W]);
  const y = new Float32Array(req.buffer(3)).slice(0, ref.length);
  const worst = ref.reduce((m, v, i) => Math.max(m, Math.abs(y[i] - v)), 0);
  assert.ok(worst < 1e-5, `worst error ${worst}`);
});

test("permuted reorder refuses an output that is not [N, H, W, C]", () => {
  assert.throws(
    () =>
      new addon.Program({
        maxBatch: 1,
        threads: 1,
        tensors: [
          { shape: [1, 2, 3, 4], batched: true },
          { shape: [1, 2, 3, 4], batched: true },
        ],
        ops: [{ type: "reorder", name: "perm", inputs: [0], outputs: [1], attrs: PERMUTE }],
        inputs: [0],
        outputs: [1],
      }),
    /perm.*\[N, H, W, C\]/,
  );
});
