// Reordered weights are shared by content across programs (native/src/shared_constants.h,
// sharedWeights in dnnl_common.h): programs of the same weights keep one copy, any other weights
// get their own, and every program still computes its own network (against a float64 reference).
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon, NativeProgramSpec } from "../../kernel/plugins/native";
import { refConv2d } from "../helpers/conv_ref";
import { randomData } from "../helpers/models";

const addon = loadAddon();

const values = (count: number, seed: number) => randomData(count, seed, -0.5, 0.5);

const C = 16, O = 32, H = 10;
const CONV = { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };

/** One 3×3 convolution C→O with bias, for batches up to maxBatch. */
function convSpec(maxBatch: number, w: Float32Array, b: Float32Array): NativeProgramSpec {
  return {
    maxBatch,
    threads: 1,
    tensors: [
      { shape: [maxBatch, C, H, H], batched: true },
      { shape: [O, C, 3, 3], batched: false, data: w },
      { shape: [O], batched: false, data: b },
      { shape: [maxBatch, O, H, H], batched: true },
    ],
    ops: [{ type: "conv", name: "conv", inputs: [0, 1, 2], outputs: [3], attrs: CONV }],
    inputs: [0],
    outputs: [3],
  };
}

/** Runs `spec` at batch n on x; returns the request (kept alive by the caller) and the output. */
async function run(spec: NativeProgramSpec, n: number, x: Float32Array) {
  const req = new addon.Program(spec).createRequest();
  new Float32Array(req.buffer(0)).set(x.subarray(0, n * C * H * H));
  await req.run(n);
  return { req, y: new Float32Array(req.buffer(3)).slice(0, n * O * H * H) };
}

function assertMatches(y: Float32Array, x: Float32Array, n: number, w: Float32Array, b: Float32Array, what: string) {
  const ref = refConv2d(x.subarray(0, n * C * H * H), [n, C, H, H], w, [O, C, 3], b, 1).y;
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(y[i] - ref[i]) <= 1e-4 * Math.max(1, Math.abs(ref[i])), `${what}[${i}]: ${y[i]} vs ${ref[i]}`);
}

test("programs of the same weights share one reordered copy; other weights get their own", async () => {
  const x = values(4 * C * H * H, 1), w = values(O * C * 9, 2), b = values(O, 3);
  const kept = [];
  const before = addon.sharedConstantsMade();
  const first = await run(convSpec(4, w, b), 4, x);
  kept.push(first.req);
  assert.ok(addon.sharedConstantsMade() > before, "the first program reorders its weights into the shared copies");
  assertMatches(first.y, x, 4, w, b, "first");
  // oneDNN may choose another weights layout per batch: the first program makes each batch's.
  for (const n of [1, 3]) await first.req.run(n);
  const made = addon.sharedConstantsMade();

  // The same values in other arrays, another maximum batch and batch: no new copy.
  for (const [max, n] of [[4, 1], [1, 1], [4, 3]]) {
    const again = await run(convSpec(max, w.slice(), b.slice()), n, x);
    kept.push(again.req);
    assertMatches(again.y, x, n, w, b, `max ${max} n ${n}`);
  }
  assert.equal(addon.sharedConstantsMade(), made, "equal weights were reordered again");

  // One weight changed in its last bits: a copy of its own, and its own results.
  const w2 = w.slice();
  w2[w2.length - 1] = Math.fround(w2[w2.length - 1] * (1 + 2 ** -20));
  const other = await run(convSpec(4, w2, b), 4, x);
  kept.push(other.req);
  assert.ok(addon.sharedConstantsMade() > made, "different weights shared a copy");
  assertMatches(other.y, x, 4, w2, b, "changed");
  assert.notDeepEqual(other.y, first.y);
  assert.equal(kept.length, 5);
});

test("equal bytes of another shape are not shared", async () => {
  // O×C×3×3 and (O/2)×(2C)×3×3 hold the same number of values: the same bytes read as another
  // tensor must be reordered for that tensor.
  const w = values(O * C * 9, 4), x = values(2 * C * H * H, 5);
  const a = await run(convSpec(2, w, new Float32Array(O)), 2, x);
  const before = addon.sharedConstantsMade();
  const spec: NativeProgramSpec = {
    maxBatch: 2,
    threads: 1,
    tensors: [
      { shape: [2, 2 * C, H, H], batched: true },
      { shape: [O / 2, 2 * C, 3, 3], batched: false, data: w },
      { shape: [2, O / 2, H, H], batched: true },
    ],
    ops: [{ type: "conv", name: "conv", inputs: [0, 1], outputs: [2], attrs: CONV }],
    inputs: [0],
    outputs: [2],
  };
  const req = new addon.Program(spec).createRequest();
  const x2 = values(2 * 2 * C * H * H, 6);
  new Float32Array(req.buffer(0)).set(x2);
  await req.run(2);
  assert.ok(addon.sharedConstantsMade() > before);
  const y = new Float32Array(req.buffer(2)).slice(0, 2 * (O / 2) * H * H);
  const ref = refConv2d(x2, [2, 2 * C, H, H], w, [O / 2, 2 * C, 3], new Float32Array(O / 2), 1).y;
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(y[i] - ref[i]) <= 1e-4 * Math.max(1, Math.abs(ref[i])), `[${i}]`);
  assert.ok(a.req);
});
