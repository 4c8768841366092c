// The executor's compile-time planning: layouts kept between oneDNN layers (reorders only where a
// consumer needs another layout), fused post-ops, buffers shared by reshapes, in-place steps and
// tensors whose lifetimes do not overlap. Every result is checked against a float64 reference
// written here, at the maximum batch and at smaller ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon, NativeProgramSpec, NativeTensorSpec } from "../../kernel/plugins/native";
import { numel } from "../../kernel/graph/ops/util";

const addon = loadAddon();

function values(count: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

/** Float64 NCHW convolution (stride 1, dilation 1, symmetric pad, groups). */
function conv(x: ArrayLike<number>, xs: number[], w: ArrayLike<number>, ws: number[], b: ArrayLike<number> | null, pad: number, group = 1): { y: Float64Array; ys: number[] } {
  const [N, C, H, W] = xs;
  const [O, Cg, KH, KW] = ws;
  const OH = H + 2 * pad - KH + 1;
  const OW = W + 2 * pad - KW + 1;
  const ys = [N, O, OH, OW];
  const y = new Float64Array(numel(ys));
  const Og = O / group;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let acc = b ? b[o] : 0;
          for (let c = 0; c < Cg; c++)
            for (let u = 0; u < KH; u++)
              for (let v = 0; v < KW; v++) {
                const hi = i + u - pad;
                const wi = j + v - pad;
                if (hi < 0 || hi >= H || wi < 0 || wi >= W) continue;
                acc += x[((n * C + g * Cg + c) * H + hi) * W + wi] * w[((o * Cg + c) * KH + u) * KW + v];
              }
          y[((n * O + o) * OH + i) * OW + j] = acc;
        }
    }
  return { y, ys };
}

function maxPool2(x: ArrayLike<number>, xs: number[]): { y: Float64Array; ys: number[] } {
  const [N, C, H, W] = xs;
  const ys = [N, C, H >> 1, W >> 1];
  const y = new Float64Array(numel(ys));
  for (let nc = 0; nc < N * C; nc++)
    for (let i = 0; i < ys[2]; i++)
      for (let j = 0; j < ys[3]; j++) {
        let m = -Infinity;
        for (let u = 0; u < 2; u++) for (let v = 0; v < 2; v++) m = Math.max(m, x[(nc * H + 2 * i + u) * W + 2 * j + v]);
        y[(nc * ys[2] + i) * ys[3] + j] = m;
      }
  return { y, ys };
}

/** Applies f to every value with its channel index (axis 1 of `shape`). */
function perChannel(x: ArrayLike<number>, shape: number[], f: (v: number, c: number) => number): Float64Array {
  const inner = numel(shape.slice(2));
  return Float64Array.from(x, (v, i) => f(v, Math.floor(i / inner) % shape[1]));
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    assert.ok(err <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const CONV = (pad: number, group = 1) => ({ strides: [1, 1], dilations: [1, 1], padsBegin: [pad, pad], padsEnd: [pad, pad], group });

/** Runs a program at batch n with input 0 set to x; returns output 0 at batch n and the step times. */
async function run(spec: NativeProgramSpec, n: number, x: Float32Array): Promise<{ y: Float32Array; times: Float64Array }> {
  const req = new addon.Program(spec).createRequest();
  new Float32Array(req.buffer(spec.inputs[0])).set(x);
  const times = await req.run(n);
  const out = spec.tensors[spec.outputs[0]];
  const count = out.batched ? (numel(out.shape) / out.shape[0]) * n : numel(out.shape);
  return { y: new Float32Array(req.buffer(spec.outputs[0])).slice(0, count), times };
}

/** conv 3→16 + relu → conv 16→16 → max pool → conv 16→10 (channels not a multiple of the block). */
function chain(max: number) {
  const w1 = values(16 * 3 * 9, 1, 0.5), w2 = values(16 * 16 * 9, 2, 0.2), w3 = values(10 * 16 * 9, 3, 0.2);
  const b3 = values(10, 4);
  const t = (shape: number[], data?: Float32Array): NativeTensorSpec => (data ? { shape, batched: false, data } : { shape: [max, ...shape], batched: true });
  const spec: NativeProgramSpec = {
    maxBatch: max,
    threads: 2,
    tensors: [
      t([3, 12, 12]), t([16, 3, 3, 3], w1), t([16, 12, 12]), t([16, 12, 12]), t([16, 16, 3, 3], w2), t([16, 12, 12]),
      t([16, 6, 6]), t([10, 16, 3, 3], w3), t([10], b3), t([10, 6, 6]),
    ],
    ops: [
      { type: "conv", name: "c1", inputs: [0, 1], outputs: [2], attrs: CONV(1) },
      { type: "unary", name: "r1", inputs: [2], outputs: [3], attrs: { op: "relu" } },
      { type: "conv", name: "c2", inputs: [3, 4], outputs: [5], attrs: CONV(1) },
      { type: "pool", name: "p", inputs: [5], outputs: [6], attrs: { kind: "max", kernel: [2, 2], strides: [2, 2], padsBegin: [0, 0], padsEnd: [0, 0], excludePad: 0 } },
      { type: "conv", name: "c3", inputs: [6, 7, 8], outputs: [9], attrs: CONV(1) },
    ],
    inputs: [0],
    outputs: [9],
  };
  const reference = (x: Float32Array, n: number) => {
    let r = conv(x, [n, 3, 12, 12], w1, [16, 3, 3, 3], null, 1);
    r = { y: r.y.map((v) => Math.max(v, 0)), ys: r.ys };
    r = conv(r.y, r.ys, w2, [16, 16, 3, 3], null, 1);
    r = maxPool2(r.y, r.ys);
    return conv(r.y, r.ys, w3, [10, 16, 3, 3], b3, 1).y;
  };
  return { spec, reference };
}

test("a conv chain keeps oneDNN's layout between layers and reorders only for the plain output", async () => {
  const { spec, reference } = chain(4);
  const steps = new addon.Program(spec).steps();
  const chainSteps = steps.slice(steps.findIndex((s) => s.name === "c1"));
  // oneDNN picks each conv's layout per ISA (nhwc on AVX-512, nChw8c on AVX2, plain for the 16→10
  // conv on SSE4.1): relu and pool keep what their producer wrote, and a reorder runs only where a
  // conv wants another layout than it is given, and for the plain output.
  const layout = (name: string) => steps.find((s) => s.name === name)!.outLayouts[0];
  assert.notEqual(layout("c1"), "plain");
  assert.equal(layout("r1"), layout("c1"));
  assert.equal(layout("p"), layout("c2"));
  const expected = [
    "c1",
    "r1",
    ...(layout("c2") === layout("r1") ? [] : ["c2/reorder_in0"]),
    "c2",
    "p",
    ...(layout("c3") === layout("p") ? [] : ["c3/reorder_in0"]),
    "c3",
    ...(layout("c3") === "plain" ? [] : ["c3/reorder_out0"]),
  ];
  assert.deepEqual(chainSteps.map((s) => s.name), expected);
  for (const n of [4, 1, 3]) {
    const x = values(n * 3 * 144, 10 + n);
    const { y, times } = await run(spec, n, x);
    assert.equal(times.length, steps.length);
    assertClose(y, reference(x, n), `chain at batch ${n}`);
  }
});

test("post-ops fused into conv equal the activations and per-channel ops applied after it", async () => {
  const max = 3;
  const w = values(8 * 8 * 9, 5, 0.3), b = values(8, 6), scale = values(8, 7), shift = values(8, 8);
  const cases: { post: string; f: (v: number, c: number) => number }[] = [
    { post: "relu", f: (v) => Math.max(v, 0) },
    { post: "leakyrelu:0.25", f: (v) => (v > 0 ? v : 0.25 * v) },
    { post: "clamp:-0.5:0.75", f: (v) => Math.min(Math.max(v, -0.5), 0.75) },
    { post: "sigmoid", f: (v) => 1 / (1 + Math.exp(-v)) },
    { post: "relu;mul;add", f: (v, c) => Math.max(v, 0) * scale[c] + shift[c] },
  ];
  for (const { post, f } of cases) {
    const operands = post.split(";").filter((p) => p === "mul" || p === "add").length;
    const tensors: NativeTensorSpec[] = [
      { shape: [max, 8, 5, 5], batched: true },
      { shape: [8, 8, 3, 3], batched: false, data: w },
      { shape: [8], batched: false, data: b },
      { shape: [max, 8, 5, 5], batched: true },
      { shape: [1, 8, 1, 1], batched: false, data: scale },
      { shape: [1, 8, 1, 1], batched: false, data: shift },
    ];
    const spec: NativeProgramSpec = {
      maxBatch: max,
      threads: 2,
      tensors,
      ops: [{ type: "conv", name: "c", inputs: [0, 1, 2, ...[4, 5].slice(0, operands)], outputs: [3], attrs: { ...CONV(1), post } }],
      inputs: [0],
      outputs: [3],
    };
    for (const n of [max, 1]) {
      const x = values(n * 8 * 25, 20 + n);
      const ref = conv(x, [n, 8, 5, 5], w, [8, 8, 3, 3], b, 1);
      const { y } = await run(spec, n, x);
      assertClose(y, perChannel(ref.y, ref.ys, f), `post '${post}' at batch ${n}`);
    }
  }
});

test("a residual sum post-op reads the operand in the conv's layout, in place where it dies", async () => {
  const max = 2;
  const w1 = values(8 * 8 * 9, 30, 0.3), w2 = values(8 * 8 * 9, 31, 0.3);
  const tensors: NativeTensorSpec[] = [
    { shape: [max, 8, 6, 6], batched: true },
    { shape: [8, 8, 3, 3], batched: false, data: w1 },
    { shape: [max, 8, 6, 6], batched: true },
    { shape: [8, 8, 3, 3], batched: false, data: w2 },
    { shape: [max, 8, 6, 6], batched: true },
    { shape: [max, 8, 6, 6], batched: true },
  ];
  const c1 = { type: "conv", name: "c1", inputs: [0, 1], outputs: [2], attrs: CONV(1) };
  const refs = (x: Float32Array, n: number) => {
    const a = conv(x, [n, 8, 6, 6], w1, [8, 8, 3, 3], null, 1);
    const b = conv(a.y, a.ys, w2, [8, 8, 3, 3], null, 1);
    return { a: a.y, b: b.y, bb: conv(b.y, b.ys, w2, [8, 8, 3, 3], null, 1).y };
  };
  // The residual is the program input (plain): reordered into the conv's layout for the sum.
  const fromInput: NativeProgramSpec = {
    maxBatch: max, threads: 2, tensors, inputs: [0], outputs: [4],
    ops: [c1, { type: "conv", name: "c2", inputs: [2, 3, 0], outputs: [4], attrs: { ...CONV(1), post: "sum;relu" } }],
  };
  const p1 = new addon.Program(fromInput);
  const c2 = p1.steps().find((s) => s.name === "c2")!;
  assert.notEqual(c2.inputs[2], 0, "the sum reads a reordered copy of the input");
  assert.equal(p1.plan().tensors[c2.inputs[2]].layout, c2.outLayouts[0]);
  // The residual is the conv's own input: summed from a copy, never in place.
  const ownInput: NativeProgramSpec = { ...fromInput, ops: [c1, { ...fromInput.ops[1], inputs: [2, 3, 2], attrs: { ...CONV(1), post: "sum" } }] };
  // The residual dies at the sum: the conv accumulates into its buffer.
  const dying: NativeProgramSpec = {
    ...fromInput,
    ops: [
      c1,
      { type: "conv", name: "c2", inputs: [2, 3], outputs: [5], attrs: CONV(1) },
      { type: "conv", name: "c3", inputs: [5, 3, 2], outputs: [4], attrs: { ...CONV(1), post: "sum" } },
    ],
  };
  const program = new addon.Program(dying);
  const c3 = program.steps().find((s) => s.name === "c3")!;
  const plan = program.plan();
  assert.equal(plan.tensors[c3.outputs[0]].buffer, plan.tensors[2].buffer, "c3 writes over its dying residual");
  for (const n of [2, 1]) {
    const x = values(n * 8 * 36, 40 + n);
    const { a, b, bb } = refs(x, n);
    assertClose((await run(fromInput, n, x)).y, b.map((v, i) => Math.max(v + x[i], 0)), `sum of the input at batch ${n}`);
    assertClose((await run(ownInput, n, x)).y, b.map((v, i) => v + a[i]), `sum of the conv's input at batch ${n}`);
    assertClose((await run(dying, n, x)).y, bb.map((v, i) => v + a[i]), `in-place sum at batch ${n}`);
  }
});

test("reshapes share their input's buffer, elementwise ops run in place, the user's input is never written", async () => {
  const max = 3;
  const spec: NativeProgramSpec = {
    maxBatch: max,
    threads: 2,
    tensors: [
      { shape: [max, 4, 2], batched: true },
      { shape: [max, 8], batched: true },
      { shape: [max, 8], batched: true },
      { shape: [max, 8], batched: true },
      { shape: [max, 2, 4], batched: true },
    ],
    ops: [
      { type: "unary", name: "neg", inputs: [0], outputs: [1], attrs: { op: "neg" } },
      { type: "unary", name: "relu", inputs: [1], outputs: [2], attrs: { op: "relu" } },
      { type: "unary", name: "exp", inputs: [2], outputs: [3], attrs: { op: "exp" } },
      { type: "copy", name: "reshape", inputs: [3], outputs: [4], attrs: {} },
    ],
    inputs: [0],
    outputs: [4],
  };
  const program = new addon.Program(spec);
  const { tensors, buffers } = program.plan();
  assert.notEqual(tensors[1].buffer, tensors[0].buffer, "neg must not overwrite the program input");
  assert.equal(tensors[2].buffer, tensors[1].buffer, "relu in place");
  assert.equal(tensors[3].buffer, tensors[4].buffer, "exp writes straight into the reshaped output");
  assert.ok(buffers[tensors[0].buffer].external && buffers[tensors[4].buffer].external);
  const req = program.createRequest();
  const x = values(max * 8, 60);
  new Float32Array(req.buffer(0)).set(x);
  for (const n of [3, 2]) {
    await req.run(n);
    assert.deepEqual(new Float32Array(req.buffer(0)), x, "input unchanged");
    assertClose(new Float32Array(req.buffer(4)).slice(0, n * 8), Array.from(x.slice(0, n * 8), (v) => Math.exp(Math.max(-v, 0))), `batch ${n}`);
  }
});

test("tensors whose lifetimes do not overlap share the arena", () => {
  const { spec } = chain(8);
  const { arenaBytes, tensors, buffers } = new addon.Program(spec).plan();
  const internal = buffers.filter((b) => !b.external);
  const sum = internal.reduce((a, b) => a + b.bytes, 0);
  assert.ok(internal.length >= 3);
  assert.ok(arenaBytes < sum, `arena ${arenaBytes} < ${sum}`);
  for (const b of internal) assert.ok(b.offset + b.bytes <= arenaBytes);
  // relu runs in place on c1's output, which c2 reads while writing its own: those two never share.
  assert.equal(tensors[3].buffer, tensors[2].buffer);
  assert.notEqual(tensors[3].buffer, tensors[5].buffer);
});

test("ops without a kernel for a padded blocked layout get it plain; pool and binary ops keep it", async () => {
  // conv 3→10 (nChw8c pads 10 channels to 16) → hsigmoid (own loop) → max pool with a fused relu →
  // per-channel multiply (oneDNN binary) → y.
  const max = 2;
  const w = values(10 * 3 * 9, 70, 0.5), s = values(10, 71);
  const spec: NativeProgramSpec = {
    maxBatch: max,
    threads: 2,
    tensors: [
      { shape: [max, 3, 8, 8], batched: true },
      { shape: [10, 3, 3, 3], batched: false, data: w },
      { shape: [max, 10, 8, 8], batched: true },
      { shape: [max, 10, 8, 8], batched: true },
      { shape: [max, 10, 4, 4], batched: true },
      { shape: [1, 10, 1, 1], batched: false, data: s },
      { shape: [max, 10, 4, 4], batched: true },
    ],
    ops: [
      { type: "conv", name: "c", inputs: [0, 1], outputs: [2], attrs: CONV(1) },
      { type: "unary", name: "hs", inputs: [2], outputs: [3], attrs: { op: "hsigmoid" } },
      { type: "pool", name: "p", inputs: [3], outputs: [4], attrs: { kind: "max", kernel: [2, 2], strides: [2, 2], padsBegin: [0, 0], padsEnd: [0, 0], excludePad: 0, post: "tanh" } },
      { type: "binary", name: "m", inputs: [4, 5], outputs: [6], attrs: { op: "mul" } },
    ],
    inputs: [0],
    outputs: [6],
  };
  // oneDNN picks the conv's layout per ISA (nChw8c on AVX2, nhwc on AVX-512): whatever it is, the
  // own loop never writes a blocked layout whose 10 channels would need padding.
  const steps = new addon.Program(spec).steps();
  assert.doesNotMatch(steps.find((st) => st.name === "hs")!.outLayouts[0], /\d+c$/);
  for (const n of [2, 1]) {
    const x = values(n * 3 * 64, 80 + n);
    const c = conv(x, [n, 3, 8, 8], w, [10, 3, 3, 3], null, 1);
    const p = maxPool2(c.y.map((v) => Math.min(Math.max(v + 3, 0), 6) / 6), c.ys);
    const ref = perChannel(p.y.map(Math.tanh), p.ys, (v, ch) => v * s[ch]);
    assertClose((await run(spec, n, x)).y, ref, `batch ${n}`);
  }
});

test("the dynamic and static programs agree at every batch (depthwise conv, binary post-ops)", async () => {
  const C = 16;
  const w = values(C * 9, 90, 0.5), b = values(C, 91), t = values(C, 92);
  const build = (max: number, batched: boolean): NativeProgramSpec => ({
    maxBatch: max,
    threads: 2,
    tensors: [
      { shape: [max, C, 7, 7], batched },
      { shape: [C, 1, 3, 3], batched: false, data: w },
      { shape: [C], batched: false, data: b },
      { shape: [1, C, 1, 1], batched: false, data: t },
      { shape: [max, C, 7, 7], batched },
    ],
    ops: [{ type: "conv", name: "dw", inputs: [0, 1, 2, 3], outputs: [4], attrs: { ...CONV(1, C), post: "clamp:0:6;sub" } }],
    inputs: [0],
    outputs: [4],
  });
  const dynamic = build(5, true);
  for (const n of [1, 2, 5]) {
    const x = values(n * C * 49, 100 + n, 4);
    const ref = conv(x, [n, C, 7, 7], w, [C, 1, 3, 3], b, 1, C);
    const expected = perChannel(ref.y, ref.ys, (v, c) => Math.min(Math.max(v, 0), 6) - t[c]);
    assertClose((await run(dynamic, n, x)).y, expected, `dynamic at ${n}`);
    assertClose((await run(build(n, false), n, x)).y, expected, `static at ${n}`);
  }
});

test("a consumer that wants another layout of a 1x1 map with whole channel blocks reads the same buffer", async () => {
  // conv to [n, 16, 1, 1] (blocked) → reshape (plain) → y: every value sits at the same offset in
  // both layouts, so no reorder runs.
  const max = 3;
  const w = values(16 * 8 * 9, 110, 0.3);
  const spec: NativeProgramSpec = {
    maxBatch: max,
    threads: 2,
    tensors: [
      { shape: [max, 8, 3, 3], batched: true },
      { shape: [16, 8, 3, 3], batched: false, data: w },
      { shape: [max, 16, 1, 1], batched: true },
      { shape: [max, 16], batched: true },
    ],
    ops: [
      { type: "conv", name: "c", inputs: [0, 1], outputs: [2], attrs: CONV(0) },
      { type: "copy", name: "flatten", inputs: [2], outputs: [3], attrs: {} },
    ],
    inputs: [0],
    outputs: [3],
  };
  const program = new addon.Program(spec);
  const steps = program.steps();
  const c = steps.find((s) => s.name === "c")!;
  assert.notEqual(c.outLayouts[0], "plain");
  assert.ok(!steps.some((s) => s.name.startsWith("flatten/reorder")), steps.map((s) => s.name).join());
  const flatten = steps.find((s) => s.name === "flatten")!;
  const plan = program.plan();
  assert.equal(plan.tensors[flatten.inputs[0]].buffer, plan.tensors[c.outputs[0]].buffer);
  for (const n of [3, 1]) {
    const x = values(n * 72, 120 + n);
    assertClose((await run(spec, n, x)).y, conv(x, [n, 8, 3, 3], w, [16, 8, 3, 3], null, 0).y, `batch ${n}`);
  }
});

test("reorder and affine ops in a spec: x·scale + shift per channel in a padded blocked layout and plain", async () => {
  const max = 2;
  const scale = values(10, 130), shift = values(10, 131);
  const spec: NativeProgramSpec = {
    maxBatch: max,
    threads: 2,
    tensors: [
      { shape: [max, 10, 3, 3], batched: true },
      { shape: [max, 10, 3, 3], batched: true },
      { shape: [10], batched: false, data: scale },
      { shape: [1], batched: false, data: new Float32Array([0.5]) },
      { shape: [max, 10, 3, 3], batched: true },
      { shape: [max, 10, 3, 3], batched: true },
    ],
    ops: [
      { type: "reorder", name: "to8", inputs: [0], outputs: [1], attrs: { from: "plain", to: "nChw8c" } },
      { type: "affine", name: "a", inputs: [1, 2, 3], outputs: [4], attrs: {} },
      { type: "reorder", name: "back", inputs: [4], outputs: [5], attrs: { from: "nChw8c", to: "plain" } },
    ],
    inputs: [0],
    outputs: [5],
  };
  const steps = new addon.Program(spec).steps();
  assert.deepEqual(steps.map((s) => `${s.name}:${s.outLayouts[0]}`), ["to8:nChw8c", "a:nChw8c", "back:plain"]);
  const plainSpec: NativeProgramSpec = { ...spec, tensors: [...spec.tensors.slice(0, 3), { shape: [10], batched: false, data: shift }, ...spec.tensors.slice(4)], ops: [{ ...spec.ops[1], inputs: [0, 2, 3], outputs: [5] }] };
  for (const n of [2, 1]) {
    const x = values(n * 90, 140 + n);
    assertClose((await run(spec, n, x)).y, perChannel(x, [n, 10, 3, 3], (v, c) => v * scale[c] + 0.5), `blocked at batch ${n}`);
    assertClose((await run(plainSpec, n, x)).y, perChannel(x, [n, 10, 3, 3], (v, c) => v * scale[c] + shift[c]), `plain at batch ${n}`);
  }
  assert.throws(() => new addon.Program({ ...spec, ops: [{ ...spec.ops[1], inputs: [0, 4, 3] }] }), /scale and shift must be constants/);
});

test("buffer() is only for program inputs and outputs: other tensors may share memory", () => {
  const { spec } = chain(2);
  const req = new addon.Program(spec).createRequest();
  assert.equal(req.buffer(0).byteLength, 2 * 3 * 144 * 4);
  assert.equal(req.buffer(9).byteLength, 2 * 10 * 36 * 4);
  assert.throws(() => req.buffer(5), /tensor 5 is neither a program input nor a program output/);
});
