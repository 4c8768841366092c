// The softmax op's row-wise path (a short innermost axis, as in SSD's class scores) against a
// float64 reference, at the maximum batch and at a smaller one, next to a long axis that keeps
// oneDNN's softmax.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon } from "../../kernel/plugins/native";
import { numel } from "../../kernel/graph/ops/util";

const addon = loadAddon();

/** Softmax (or logsoftmax) of x [n, rows, K] along the last axis, compiled for maxBatch, run at n. */
async function runSoftmax(x: Float32Array, shape: number[], log: boolean, maxBatch: number): Promise<{ y: Float32Array; impl: string }> {
  const atMax = [maxBatch, ...shape.slice(1)];
  const program = new addon.Program({
    maxBatch,
    threads: 2,
    tensors: [
      { shape: atMax, batched: true },
      { shape: atMax, batched: true },
    ],
    ops: [{ type: "softmax", name: "sm", inputs: [0], outputs: [1], attrs: { axis: shape.length - 1, log: log ? 1 : 0 } }],
    inputs: [0],
    outputs: [1],
  });
  const req = program.createRequest();
  new Float32Array(req.buffer(0)).set(x);
  await req.run(shape[0]);
  return { y: new Float32Array(req.buffer(1)).slice(0, numel(shape)), impl: program.steps()[0].impl as string };
}

function reference(x: Float32Array, K: number, log: boolean): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / K; r++) {
    const row = Array.from(x.subarray(r * K, (r + 1) * K));
    const m = Math.max(...row);
    const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
    row.forEach((v, k) => (y[r * K + k] = log ? v - m - Math.log(s) : Math.exp(v - m) / s));
  }
  return y;
}

function data(count: number, seed: number): Float32Array {
  let s = seed;
  // Spread over [-20, 20) so that rows hold large gaps (exp underflows for some entries).
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 40 - 20;
  });
}

for (const [K, rows] of [
  [2, 10112],
  [3, 7],
  [8, 33],
  [40, 5],
] as const)
  for (const log of [false, true])
    test(`${log ? "log" : ""}softmax over a last axis of ${K}, ${rows} rows, batch 3 of 4`, async () => {
      const shape = [3, rows, K];
      const x = data(numel(shape), K * 7 + rows);
      const { y, impl } = await runSoftmax(x, shape, log, 4);
      const ref = reference(x, K, log);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
      assert.ok(worst < 1e-5, `worst relative error ${worst} (${impl})`);
      if (!log) for (let r = 0; r < 3 * rows; r++) assert.ok(Math.abs(y.subarray(r * K, (r + 1) * K).reduce((a, v) => a + v, 0) - 1) < 1e-5);
    });
