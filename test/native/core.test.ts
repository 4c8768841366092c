// The native executor itself: spec validation, request buffers, batch range, busy requests,
// concurrent requests and multi-op programs, independent of any one op's arithmetic.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon, NativeProgramSpec } from "../../kernel/plugins/native";

const addon = loadAddon();

/** x [max,4] → relu → y, then y + c (constant [4]) → z: z = relu(x) + c. */
function chainSpec(maxBatch: number, threads = 2): NativeProgramSpec {
  return {
    maxBatch,
    threads,
    tensors: [
      { shape: [maxBatch, 4], batched: true },
      { shape: [maxBatch, 4], batched: true },
      { shape: [4], batched: false, data: new Float32Array([10, 20, 30, 40]) },
      { shape: [maxBatch, 4], batched: true },
    ],
    ops: [
      { type: "unary", name: "act", inputs: [0], outputs: [1], attrs: { op: "relu" } },
      { type: "binary", name: "shift", inputs: [1, 2], outputs: [3], attrs: { op: "add" } },
    ],
    inputs: [0],
    outputs: [3],
  };
}

test("addon reports its op types, oneDNN version and hardware threads", () => {
  const types = addon.opTypes();
  for (const t of ["conv", "binary", "unary", "pool", "matmul", "softmax", "prelu"]) assert.ok(types.includes(t), t);
  assert.match(addon.dnnlVersion(), /^2\.\d+\.\d+$/);
  assert.ok(Number.isInteger(addon.hardwareConcurrency()) && addon.hardwareConcurrency() >= 1);
});

test("a two-op program runs at every batch and times each op", async () => {
  const req = new addon.Program(chainSpec(3)).createRequest();
  const x = new Float32Array(req.buffer(0));
  const z = new Float32Array(req.buffer(3));
  assert.equal(x.length, 12);
  assert.equal(req.buffer(0).byteLength, 48);
  x.set([-1, 2, -3, 4, 5, -6, 7, -8, 1, 1, 1, 1]);
  const times = await req.run(3);
  assert.ok(times instanceof Float64Array);
  assert.equal(times.length, 2);
  assert.ok(times.every((t) => t >= 0));
  assert.deepEqual(Array.from(z), [10, 22, 30, 44, 15, 20, 37, 40, 11, 21, 31, 41]);
  z.fill(-1);
  await req.run(1);
  // only the first row is computed at n = 1
  assert.deepEqual(Array.from(z), [10, 22, 30, 44, -1, -1, -1, -1, -1, -1, -1, -1]);
});

test("buffer() is stable: the same memory for the request's life", async () => {
  const req = new addon.Program(chainSpec(2)).createRequest();
  const a = req.buffer(0);
  assert.equal(a, req.buffer(0));
  new Float32Array(a).set([1, 2, 3, 4, 5, 6, 7, 8]);
  await req.run(2);
  assert.deepEqual(Array.from(new Float32Array(req.buffer(0))), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(Array.from(new Float32Array(req.buffer(3)).subarray(4)), [15, 26, 37, 48]);
});

test("a buffer keeps its request's memory alive after the request is dropped", async () => {
  let req: ReturnType<InstanceType<typeof addon.Program>["createRequest"]> | null = new addon.Program(chainSpec(1)).createRequest();
  const out = new Float32Array(req.buffer(3));
  new Float32Array(req.buffer(0)).set([1, -1, 2, -2]);
  const done = req.run(1);
  req = null;
  await done;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  assert.deepEqual(Array.from(out), [11, 20, 32, 40]);
});

test("requests of one program are independent and may run concurrently", async () => {
  const program = new addon.Program(chainSpec(4));
  const reqs = Array.from({ length: 4 }, () => program.createRequest());
  reqs.forEach((r, i) => new Float32Array(r.buffer(0)).fill(i + 1));
  await Promise.all(reqs.map((r, i) => r.run(i + 1)));
  reqs.forEach((r, i) => {
    const z = new Float32Array(r.buffer(3));
    const expected: number[] = [];
    for (let row = 0; row < 4; row++)
      for (const c of [10, 20, 30, 40]) expected.push(row <= i ? c + i + 1 : 0);
    assert.deepEqual(Array.from(z), expected, `request ${i}`);
  });
});

test("run() rejects a batch out of range and a non-integer batch", async () => {
  const req = new addon.Program(chainSpec(4)).createRequest();
  for (const n of [0, 5, -1, 2.5, NaN])
    await assert.rejects(req.run(n), (e: Error & { code?: string }) => e.code === "BATCH_OUT_OF_RANGE" && /1\.\.4/.test(e.message));
  await assert.rejects(req.run("2" as unknown as number), /n must be a number/);
  await req.run(4);
});

test("run() rejects while the request's previous run is pending", async () => {
  const req = new addon.Program(chainSpec(2)).createRequest();
  const first = req.run(2);
  await assert.rejects(req.run(1), (e: Error & { code?: string }) => e.code === "REQUEST_BUSY");
  await first;
  await req.run(1);
});

test("the event loop keeps turning while a large run executes", async () => {
  // a 64x64 conv on 32x32 over 8 images takes milliseconds: long enough to observe ticks
  const spec: NativeProgramSpec = {
    maxBatch: 8,
    threads: 1,
    tensors: [
      { shape: [8, 64, 32, 32], batched: true },
      { shape: [64, 64, 3, 3], batched: false, data: new Float32Array(64 * 64 * 9).fill(0.01) },
      { shape: [8, 64, 32, 32], batched: true },
    ],
    ops: [
      {
        type: "conv",
        name: "big",
        inputs: [0, 1],
        outputs: [2],
        attrs: { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 },
      },
    ],
    inputs: [0],
    outputs: [2],
  };
  const req = new addon.Program(spec).createRequest();
  new Float32Array(req.buffer(0)).fill(1);
  let ticks = 0;
  let running = true;
  const tick = (): void => {
    ticks++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const runs = 5;
  for (let i = 0; i < runs; i++) await req.run(8);
  running = false;
  assert.ok(ticks >= runs, `ticks ${ticks}`);
  // interior pixel: 64 channels × 9 taps × 0.01
  const y = new Float32Array(req.buffer(2));
  assert.ok(Math.abs(y[33] - 5.76) < 1e-4, `${y[33]}`);
});

function expectSpecError(spec: unknown, pattern: RegExp): void {
  assert.throws(
    () => new addon.Program(spec as NativeProgramSpec),
    (e: Error & { code?: string }) => {
      assert.match(e.message, pattern);
      assert.ok(e.code === "BAD_CONFIG" || e.code === "NATIVE", `code ${e.code}`);
      return true;
    },
  );
}

test("malformed specs throw errors that say what is wrong", () => {
  const good = chainSpec(2);
  expectSpecError(undefined, /spec must be an object/);
  expectSpecError({ ...good, maxBatch: 0 }, /maxBatch must be >= 1/);
  expectSpecError({ ...good, threads: 0 }, /threads must be >= 1/);
  expectSpecError({ ...good, maxBatch: 1.5 }, /maxBatch must be an integer/);
  const { tensors: _t, ...noTensors } = good;
  expectSpecError(noTensors, /spec\.tensors is missing/);
  expectSpecError({ ...good, tensors: [...good.tensors.slice(0, 3), { shape: [2, -4], batched: true }] }, /tensor 3: negative dimension/);
  expectSpecError({ ...good, tensors: [{ shape: [3, 4], batched: true }, ...good.tensors.slice(1)] }, /tensor 0: batched tensor must have axis 0 == maxBatch/);
  expectSpecError(
    { ...good, tensors: [...good.tensors.slice(0, 2), { shape: [4], batched: false, data: new Float32Array(3) }, good.tensors[3]] },
    /tensor 2: constant has 3 values, shape needs 4/,
  );
  expectSpecError(
    { ...good, tensors: [...good.tensors.slice(0, 2), { shape: [4], batched: false, data: [1, 2, 3, 4] }, good.tensors[3]] },
    /tensors\[2\]\.data must be a Float32Array/,
  );
  expectSpecError({ ...good, ops: [{ ...good.ops[0], inputs: [7] }, good.ops[1]] }, /op 'act' \(unary\) input: tensor id 7 is out of range/);
  expectSpecError({ ...good, ops: [{ ...good.ops[0], outputs: [2] }, good.ops[1]] }, /op 'act' \(unary\) output: tensor 2 is a constant/);
  expectSpecError({ ...good, outputs: [-1] }, /program output: tensor id -1 is out of range/);
  expectSpecError({ ...good, ops: [{ ...good.ops[0], attrs: { op: { nested: true } } }] }, /attrs\.op must be a number, number\[\] or string/);
  expectSpecError({ ...good, ops: [{ ...good.ops[0], type: "fancy_op", name: "L7" }] }, /layer 'L7': native op type 'fancy_op' is not implemented/);
  expectSpecError({ ...good, ops: [{ ...good.ops[0], attrs: {} }] }, /layer 'act'.*missing attribute 'op'/);
});

test("buffer() rejects constants and unknown ids", () => {
  const req = new addon.Program(chainSpec(2)).createRequest();
  assert.throws(() => req.buffer(2), /tensor 2 is a constant/);
  assert.throws(() => req.buffer(9), /tensor id 9 is out of range/);
  assert.throws(() => req.buffer(0.5), /buffer id must be an integer/);
});

test("concurrent conv requests at different batches give the sequential results", async () => {
  const maxBatch = 4;
  const w = Float32Array.from({ length: 8 * 3 * 9 }, (_, i) => ((i * 37) % 17) / 17 - 0.5);
  const spec: NativeProgramSpec = {
    maxBatch,
    threads: 2,
    tensors: [
      { shape: [maxBatch, 3, 9, 9], batched: true },
      { shape: [8, 3, 3, 3], batched: false, data: w },
      { shape: [maxBatch, 8, 9, 9], batched: true },
      { shape: [maxBatch, 8, 5, 5], batched: true },
    ],
    ops: [
      {
        type: "conv",
        name: "c",
        inputs: [0, 1],
        outputs: [2],
        attrs: { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 },
      },
      {
        type: "pool",
        name: "p",
        inputs: [2],
        outputs: [3],
        attrs: { kind: "max", kernel: [2, 2], strides: [2, 2], padsBegin: [0, 0], padsEnd: [1, 1], excludePad: 0 },
      },
    ],
    inputs: [0],
    outputs: [3],
  };
  const program = new addon.Program(spec);
  const fill = (r: ReturnType<typeof program.createRequest>, seed: number) =>
    new Float32Array(r.buffer(0)).forEach((_, i, a) => (a[i] = Math.sin(i * 0.37 + seed)));
  const expected: Float32Array[] = [];
  const solo = program.createRequest();
  for (let k = 0; k < 4; k++) {
    fill(solo, k);
    await solo.run(k + 1);
    expected.push(new Float32Array(solo.buffer(3)).slice(0, (k + 1) * 8 * 25));
  }
  const reqs = Array.from({ length: 4 }, () => program.createRequest());
  reqs.forEach((r, k) => fill(r, k));
  for (let round = 0; round < 3; round++) await Promise.all(reqs.map((r, k) => r.run(k + 1)));
  reqs.forEach((r, k) => assert.deepEqual(new Float32Array(r.buffer(3)).slice(0, (k + 1) * 8 * 25), expected[k], `request ${k}`));
});

/** x [max,16] → relu → y: samples are independent when the spec says so. */
function reluSpec(maxBatch: number, parallel: "auto" | "layers" | "samples", independentSamples: boolean): NativeProgramSpec {
  return {
    maxBatch,
    threads: 2,
    independentSamples,
    parallel,
    tensors: [
      { shape: [maxBatch, 16], batched: true },
      { shape: [maxBatch, 16], batched: true },
    ],
    ops: [{ type: "unary", name: "act", inputs: [0], outputs: [1], attrs: { op: "relu" } }],
    inputs: [0],
    outputs: [1],
  };
}

test("a request reports the strategy of its runs: samples only for independent samples and n >= 2", async () => {
  const forced = new addon.Program(reluSpec(4, "samples", true)).createRequest();
  assert.equal(forced.strategy(1), "layers");
  assert.equal(forced.strategy(3), "layers"); // not run yet at 3
  for (const n of [1, 3]) await forced.run(n);
  assert.equal(forced.strategy(1), "layers");
  assert.equal(forced.strategy(3), "samples");
  const dependent = new addon.Program(reluSpec(4, "samples", false)).createRequest();
  await dependent.run(3);
  assert.equal(dependent.strategy(3), "layers");
  const layers = new addon.Program(reluSpec(4, "layers", true)).createRequest();
  await layers.run(3);
  assert.equal(layers.strategy(3), "layers");
});

test("a one-thread program runs on one thread ('single'), and a short run settles on the calling thread", async () => {
  const req = new addon.Program({ ...reluSpec(4, "auto", true), threads: 1 }).createRequest();
  await req.run(2); // the first run at a batch goes to the Runner: its time is not known yet
  assert.equal(req.strategy(2), "single");
  // A run on the calling thread resolves before the event loop turns; one handed to the Runner
  // settles only in a later turn. Several tries: a run the OS preempts past 1 ms goes to the Runner next.
  let inline = false;
  for (let run = 0; run < 20 && !inline; run++) {
    let settled = false;
    const done = req.run(2).then(() => (settled = true));
    await Promise.resolve();
    await Promise.resolve();
    inline = settled;
    await done;
  }
  assert.ok(inline, "a short one-thread run stays on the calling thread");
});

test("AUTO tries each strategy in turn, then keeps one, with the same results throughout", async () => {
  const req = new addon.Program(reluSpec(4, "auto", true)).createRequest();
  const x = new Float32Array(req.buffer(0));
  const y = new Float32Array(req.buffer(1));
  x.set(Array.from({ length: 64 }, (_, i) => (i % 3) - 1 + i / 100));
  const expected = Array.from(x, (v) => Math.max(v, 0));
  const seen = new Set<string>();
  for (let run = 0; run < 30; run++) {
    seen.add(req.strategy(4));
    y.fill(NaN);
    await req.run(4);
    assert.deepEqual(Array.from(y), expected, `run ${run}`);
  }
  assert.deepEqual([...seen].sort(), ["layers", "samples", "single"]);
  const kept = req.strategy(4);
  for (let run = 0; run < 5; run++) await req.run(4);
  assert.equal(req.strategy(4), kept);
});

test("spec.parallel must be auto, layers or samples", () => {
  assert.throws(() => new addon.Program({ ...reluSpec(2, "auto", true), parallel: "streams" as "auto" }), /spec\.parallel/);
});
