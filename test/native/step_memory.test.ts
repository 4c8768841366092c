// Each step keeps its oneDNN memory objects per request, thread slice and primitive (batch n) and
// re-points them at every run (native/src/step_memory.h). Whatever is kept must never carry one
// run's buffers into another: requests of one program running at once, the threads of a run split
// by samples, and every n after every other n all give each sample what a batch-1 run of a fresh
// request (whose memory objects are made for that run) gives it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon, NativeProgramSpec, NativeRequest, NativeTensorSpec } from "../../kernel/plugins/native";
import { maxRelDiff, numel, randomData } from "../helpers/models";

const addon = loadAddon();
const MAX = 8;
const X = [3, 64, 64];
const Y = [10];

/**
 * conv 3→16 + relu → conv 16→10 with bias (channels not a multiple of a block: reorders in and out
 * on most ISAs) → max pool → + per-channel constant → sigmoid → global average pool → softmax:
 * steps with fixed arguments (weights, bias), thread buffers (reorders) and plain tensors.
 */
function spec(threads: number, parallel: "auto" | "samples"): NativeProgramSpec {
  const t = (shape: number[], data?: Float32Array): NativeTensorSpec => (data ? { shape, batched: false, data } : { shape: [MAX, ...shape], batched: true });
  const conv = { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };
  const pool = (kernel: number) => ({ kind: "max", kernel: [kernel, kernel], strides: [kernel, kernel], padsBegin: [0, 0], padsEnd: [0, 0], excludePad: 0 });
  return {
    maxBatch: MAX,
    threads,
    independentSamples: true,
    parallel,
    tensors: [
      t(X),
      t([16, 3, 3, 3], randomData(16 * 27, 1, -0.5, 0.5)),
      t([16, 64, 64]),
      t([16, 64, 64]),
      t([10, 16, 3, 3], randomData(10 * 16 * 9, 2, -0.1, 0.1)),
      t([10], randomData(10, 3, -1, 1)),
      t([10, 64, 64]),
      t([10, 32, 32]),
      t([1, 10, 1, 1], randomData(10, 4, -1, 1)),
      t([10, 32, 32]),
      t([10, 32, 32]),
      t([10, 1, 1]),
      t(Y),
      t(Y),
    ],
    ops: [
      { type: "conv", name: "c1", inputs: [0, 1], outputs: [2], attrs: conv },
      { type: "unary", name: "r1", inputs: [2], outputs: [3], attrs: { op: "relu" } },
      { type: "conv", name: "c2", inputs: [3, 4, 5], outputs: [6], attrs: conv },
      { type: "pool", name: "p1", inputs: [6], outputs: [7], attrs: pool(2) },
      { type: "binary", name: "shift", inputs: [7, 8], outputs: [9], attrs: { op: "add" } },
      { type: "unary", name: "s1", inputs: [9], outputs: [10], attrs: { op: "sigmoid" } },
      { type: "pool", name: "p2", inputs: [10], outputs: [11], attrs: pool(32) },
      { type: "copy", name: "flat", inputs: [11], outputs: [12], attrs: {} },
      { type: "softmax", name: "sm", inputs: [12], outputs: [13], attrs: { axis: 1 } },
    ],
    inputs: [0],
    outputs: [13],
  };
}

const sampleSize = numel(X);
const samples = Array.from({ length: MAX + 3 }, (_, s) => randomData(sampleSize, 100 + s, -1, 1));

/** Output of each sample, each from a batch-1 run of a request of its own. */
async function references(threads: number, parallel: "auto" | "samples"): Promise<Float32Array[]> {
  const program = new addon.Program(spec(threads, parallel));
  return Promise.all(samples.map((x) => runAt(program.createRequest(), [x])));
}

/** Runs `req` on the given samples (batch = their count); output per sample, concatenated. */
async function runAt(req: NativeRequest, xs: Float32Array[]): Promise<Float32Array> {
  const s = spec(1, "auto");
  const input = new Float32Array(req.buffer(s.inputs[0]));
  xs.forEach((x, k) => input.set(x, k * sampleSize));
  const out = new Float32Array(req.buffer(s.outputs[0]));
  out.fill(NaN);
  await req.run(xs.length);
  return out.slice(0, xs.length * numel(Y));
}

function check(y: Float32Array, picked: number[], refs: Float32Array[], what: string): void {
  const size = numel(Y);
  picked.forEach((s, k) => {
    const err = maxRelDiff(y.subarray(k * size, (k + 1) * size), refs[s]);
    assert.ok(err <= 1e-5, `${what}, sample ${k} (input ${s}): ${err}`);
  });
}

// A different window of the inputs on every run, so a stale buffer shows.
const pick = (n: number, run: number) => Array.from({ length: n }, (_, k) => (k + run * 3) % samples.length);

test("two requests of one program running at once each get their own samples' outputs, every n after every other n", async () => {
  const refs = await references(1, "auto");
  // One thread each: the Runner runs the two at once on two cores.
  const program = new addon.Program(spec(1, "auto"));
  const reqs = [program.createRequest(), program.createRequest()];
  const order = [8, 1, 5, 2, 8, 3, 1, 7, 4, 8, 6, 2];
  for (let run = 0; run < order.length; run++) {
    const ns = [order[run], order[(run + 5) % order.length]];
    const picked = ns.map((n, r) => pick(n, run + r));
    const ys = await Promise.all(reqs.map((req, r) => runAt(req, picked[r].map((s) => samples[s]))));
    ys.forEach((y, r) => check(y, picked[r], refs, `request ${r}, run ${run}, n=${ns[r]}`));
  }
});

test("a request split by samples gives each sample its output, every n after every other n", async () => {
  const refs = await references(2, "samples");
  const req = new addon.Program(spec(2, "samples")).createRequest();
  const order = [2, 8, 5, 1, 3, 8, 2, 7, 4, 6, 1, 8];
  for (let round = 0; round < 2; round++)
    for (let run = 0; run < order.length; run++) {
      const n = order[run];
      const picked = pick(n, run + round);
      check(await runAt(req, picked.map((s) => samples[s])), picked, refs, `round ${round}, run ${run}, n=${n}`);
      if (n >= 2) assert.equal(req.strategy(n), "samples", `n=${n} runs split by samples`);
    }
});
