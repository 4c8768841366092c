// oneDNN-backed native ops against naive float64 JS references, at the maximum batch and at
// smaller batches (the same program, batched tensors shrinking to n).
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon, NativeAttr } from "../../kernel/plugins/native";
import { numel } from "../../kernel/graph/ops/util";

const addon = loadAddon();

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 * 2 - 1;
  };
}

function randn(count: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = r() * scale;
  return out;
}

interface In {
  shape: number[];
  data: Float32Array;
  /** Constant (weights); otherwise a program input. */
  constant?: boolean;
  batched?: boolean;
}

/** Compiles one op for maxBatch and runs it at batch n; inputs hold data for n. */
async function runOp(
  type: string,
  attrs: Record<string, NativeAttr>,
  inputs: In[],
  outShapes: number[][],
  opts: { maxBatch?: number; n?: number; outBatched?: boolean } = {},
): Promise<Float32Array[]> {
  const maxBatch = opts.maxBatch ?? 1;
  const n = opts.n ?? maxBatch;
  const atMax = (s: number[], batched: boolean | undefined) => (batched ? [maxBatch, ...s.slice(1)] : s);
  const tensors = [
    ...inputs.map((t) => ({ shape: atMax(t.shape, t.batched), batched: !!t.batched, data: t.constant ? t.data : undefined })),
    ...outShapes.map((s) => ({ shape: atMax(s, opts.outBatched), batched: !!opts.outBatched })),
  ];
  const inIds = inputs.map((_, i) => i);
  const outIds = outShapes.map((_, i) => inputs.length + i);
  const program = new addon.Program({
    maxBatch,
    threads: 2,
    tensors,
    ops: [{ type, name: `${type}_layer`, inputs: inIds, outputs: outIds, attrs }],
    inputs: inIds.filter((i) => !inputs[i].constant),
    outputs: outIds,
  });
  const req = program.createRequest();
  inputs.forEach((t, i) => {
    if (!t.constant) new Float32Array(req.buffer(i)).set(t.data);
  });
  const times = await req.run(n);
  // The op itself, plus any layout reorders the executor put around it.
  assert.equal(times.length, program.steps().length);
  assert.ok(times.every((t) => t >= 0));
  return outIds.map((id, i) => new Float32Array(req.buffer(id)).slice(0, numel(outShapes[i])));
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `[${i}] expected NaN, got ${a}`);
      continue;
    }
    const ok = a === e || Math.abs(a - e) <= tol * Math.max(1, Math.abs(e));
    assert.ok(ok, `[${i}] got ${a}, expected ${e}`);
  }
}

// ---- references ------------------------------------------------------------------------

interface ConvP {
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
  group: number;
}

function refConv(x: Float32Array, xs: number[], w: Float32Array, ws: number[], b: Float32Array | null, p: ConvP, ys: number[]): Float64Array {
  const [N, C, H, W] = xs;
  const [O, Cg, KH, KW] = ws;
  const [, , OH, OW] = ys;
  const Og = O / p.group;
  const y = new Float64Array(numel(ys));
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = b ? b[o] : 0;
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * p.strides[0] - p.padsBegin[0] + kh * p.dilations[0];
                const iw = ow * p.strides[1] - p.padsBegin[1] + kw * p.dilations[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x[((n * C + g * Cg + c) * H + ih) * W + iw] * w[((o * Cg + c) * KH + kh) * KW + kw];
              }
          y[((n * O + o) * OH + oh) * OW + ow] = acc;
        }
    }
  return y;
}

function convOut(i: number, k: number, s: number, d: number, pb: number, pe: number): number {
  return Math.floor((i + pb + pe - (k - 1) * d - 1) / s) + 1;
}

function refPool(x: Float32Array, xs: number[], kind: "max" | "avg", k: number[], s: number[], pb: number[], pe: number[], excludePad: boolean, ys: number[]): Float64Array {
  const [N, C, H, W] = xs;
  const [, , OH, OW] = ys;
  const y = new Float64Array(numel(ys));
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let acc = kind === "max" ? -Infinity : 0;
        let count = 0;
        for (let kh = 0; kh < k[0]; kh++)
          for (let kw = 0; kw < k[1]; kw++) {
            const ih = oh * s[0] - pb[0] + kh;
            const iw = ow * s[1] - pb[1] + kw;
            const inPadded = ih < H + pe[0] && iw < W + pe[1] && ih >= -pb[0] && iw >= -pb[1];
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
              if (inPadded) count += excludePad ? 0 : 1;
              continue;
            }
            const v = x[(nc * H + ih) * W + iw];
            if (kind === "max") acc = Math.max(acc, v);
            else acc += v;
            count++;
          }
        y[(nc * OH + oh) * OW + ow] = kind === "max" ? acc : acc / count;
      }
  return y;
}

function stridesOf(s: number[]): number[] {
  const st = new Array(s.length).fill(0);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

/** Index into a row-major tensor of shape `s` from an output index, numpy-broadcast. */
function bcastIndex(outIdx: number[], s: number[]): number {
  const off = outIdx.length - s.length;
  const st = stridesOf(s);
  let idx = 0;
  for (let i = 0; i < s.length; i++) idx += (s[i] === 1 ? 0 : outIdx[i + off]) * st[i];
  return idx;
}

function unravel(i: number, s: number[]): number[] {
  const idx = new Array(s.length).fill(0);
  for (let d = s.length - 1; d >= 0; d--) {
    idx[d] = i % s[d];
    i = Math.floor(i / s[d]);
  }
  return idx;
}

function refBinary(f: (u: number, v: number) => number, a: Float32Array, as: number[], b: Float32Array, bs: number[], ys: number[]): Float64Array {
  const y = new Float64Array(numel(ys));
  for (let i = 0; i < y.length; i++) {
    const idx = unravel(i, ys);
    y[i] = f(a[bcastIndex(idx, as)], b[bcastIndex(idx, bs)]);
  }
  return y;
}

function refMatmul(a: Float32Array, as: number[], ta: boolean, b: Float32Array, bs: number[], tb: boolean, ys: number[]): Float64Array {
  const r = ys.length;
  const M = ys[r - 2];
  const N = ys[r - 1];
  const K = ta ? as[as.length - 2] : as[as.length - 1];
  const y = new Float64Array(numel(ys));
  const batchShape = ys.slice(0, r - 2);
  const aBatch = as.slice(0, as.length - 2);
  const bBatch = bs.slice(0, bs.length - 2);
  for (let bi = 0; bi < numel(batchShape); bi++) {
    const idx = unravel(bi, batchShape);
    const aOff = bcastIndex(idx, aBatch) * numel(as.slice(-2));
    const bOff = bcastIndex(idx, bBatch) * numel(bs.slice(-2));
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const av = ta ? a[aOff + k * M + m] : a[aOff + m * K + k];
          const bv = tb ? b[bOff + n * K + k] : b[bOff + k * N + n];
          acc += av * bv;
        }
        y[bi * M * N + m * N + n] = acc;
      }
  }
  return y;
}

function refSoftmax(x: Float32Array, s: number[], axis: number, log: boolean): Float64Array {
  const outer = numel(s.slice(0, axis));
  const len = s[axis];
  const inner = numel(s.slice(axis + 1));
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let mx = -Infinity;
      for (let k = 0; k < len; k++) mx = Math.max(mx, x[(o * len + k) * inner + i]);
      let sum = 0;
      for (let k = 0; k < len; k++) sum += Math.exp(x[(o * len + k) * inner + i] - mx);
      for (let k = 0; k < len; k++) {
        const v = x[(o * len + k) * inner + i] - mx;
        y[(o * len + k) * inner + i] = log ? v - Math.log(sum) : Math.exp(v) / sum;
      }
    }
  return y;
}

// ---- conv ------------------------------------------------------------------------------

async function checkConv(xs: number[], ws: number[], p: ConvP, bias: boolean, maxBatch: number, n: number): Promise<void> {
  const xAtN = [n, ...xs.slice(1)];
  const x = randn(numel(xAtN), 1);
  const w = randn(numel(ws), 2, 0.5);
  const b = bias ? randn(ws[0], 3) : null;
  const oh = convOut(xs[2], ws[2], p.strides[0], p.dilations[0], p.padsBegin[0], p.padsEnd[0]);
  const ow = convOut(xs[3], ws[3], p.strides[1], p.dilations[1], p.padsBegin[1], p.padsEnd[1]);
  const ys = [n, ws[0], oh, ow];
  const inputs: In[] = [
    { shape: xAtN, data: x, batched: true },
    { shape: ws, data: w, constant: true },
  ];
  if (b) inputs.push({ shape: [ws[0]], data: b, constant: true });
  const [y] = await runOp("conv", { ...p }, inputs, [ys], { maxBatch, n, outBatched: true });
  assertClose(y, refConv(x, xAtN, w, ws, b, p, ys));
}

const dense: ConvP = { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };

test("conv 3x3 pad 1 with bias, batch max and smaller n", async () => {
  await checkConv([4, 3, 7, 6], [5, 3, 3, 3], dense, true, 4, 4);
  await checkConv([4, 3, 7, 6], [5, 3, 3, 3], dense, true, 4, 1);
  await checkConv([4, 3, 7, 6], [5, 3, 3, 3], dense, true, 4, 3);
});

test("conv strided, dilated, asymmetric pads, no bias", async () => {
  const p: ConvP = { strides: [2, 1], dilations: [2, 1], padsBegin: [1, 0], padsEnd: [2, 1], group: 1 };
  await checkConv([3, 4, 9, 8], [6, 4, 3, 2], p, false, 3, 2);
});

test("conv grouped and depthwise", async () => {
  await checkConv([2, 6, 5, 5], [4, 3, 3, 3], { ...dense, group: 2 }, true, 2, 2);
  await checkConv([2, 8, 6, 6], [8, 1, 3, 3], { ...dense, strides: [2, 2], group: 8 }, true, 2, 1);
});

test("conv 1x1 over many channels", async () => {
  await checkConv([2, 32, 4, 4], [16, 32, 1, 1], { ...dense, padsBegin: [0, 0], padsEnd: [0, 0] }, true, 2, 2);
});

test("conv rejects weights that do not match the channels", async () => {
  assert.throws(
    () =>
      new addon.Program({
        maxBatch: 1,
        threads: 1,
        tensors: [
          { shape: [1, 3, 4, 4], batched: true },
          { shape: [2, 4, 3, 3], batched: false, data: new Float32Array(72) },
          { shape: [1, 2, 2, 2], batched: true },
        ],
        ops: [{ type: "conv", name: "badconv", inputs: [0, 1], outputs: [2], attrs: { group: 1 } }],
        inputs: [0],
        outputs: [2],
      }),
    /badconv/,
  );
});

// ---- pool ------------------------------------------------------------------------------

test("max pool 3x3 stride 2 with padding, batch max and n", async () => {
  for (const n of [3, 1]) {
    const xs = [n, 2, 7, 7];
    const x = randn(numel(xs), 7);
    const ys = [n, 2, 4, 4];
    const [y] = await runOp(
      "pool",
      { kind: "max", kernel: [3, 3], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], excludePad: 0 },
      [{ shape: xs, data: x, batched: true }],
      [ys],
      { maxBatch: 3, n, outBatched: true },
    );
    assertClose(y, refPool(x, xs, "max", [3, 3], [2, 2], [1, 1], [1, 1], false, ys));
  }
});

test("avg pool exclude and include padding", async () => {
  const xs = [2, 3, 5, 5];
  const x = randn(numel(xs), 8);
  const ys = [2, 3, 3, 3];
  for (const excl of [true, false]) {
    const [y] = await runOp(
      "pool",
      { kind: "avg", kernel: [3, 3], strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], excludePad: excl ? 1 : 0 },
      [{ shape: xs, data: x, batched: true }],
      [ys],
      { maxBatch: 2, n: 2, outBatched: true },
    );
    assertClose(y, refPool(x, xs, "avg", [3, 3], [2, 2], [1, 1], [1, 1], excl, ys));
  }
});

test("global avg pool", async () => {
  const xs = [2, 4, 3, 5];
  const x = randn(numel(xs), 9);
  const [y] = await runOp(
    "pool",
    { kind: "avg", kernel: [3, 5], strides: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], excludePad: 1 },
    [{ shape: xs, data: x, batched: true }],
    [[2, 4, 1, 1]],
    { maxBatch: 2, n: 2, outBatched: true },
  );
  const exp = new Float64Array(8);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 15; j++) exp[i] += x[i * 15 + j] / 15;
  assertClose(y, exp);
});

// ---- binary ----------------------------------------------------------------------------

const binFns: Record<string, (u: number, v: number) => number> = {
  add: (u, v) => u + v,
  sub: (u, v) => u - v,
  mul: (u, v) => u * v,
  div: (u, v) => u / v,
  max: (u, v) => Math.max(u, v),
  min: (u, v) => Math.min(u, v),
  pow: (u, v) => Math.pow(u, v),
  sqdiff: (u, v) => (u - v) * (u - v),
};

test("binary ops with broadcasting of either operand", async () => {
  const cases: [number[], number[], number[]][] = [
    [[2, 3, 4], [2, 3, 4], [2, 3, 4]], // same shape
    [[2, 3, 4], [3, 1], [2, 3, 4]], // b broadcast, lower rank
    [[1, 3, 1], [2, 3, 4], [2, 3, 4]], // a broadcast
    [[2, 1, 4], [1, 3, 1], [2, 3, 4]], // both broadcast
    [[2, 3, 4], [], [2, 3, 4]], // scalar
  ];
  for (const [op, f] of Object.entries(binFns)) {
    for (const [as, bs, ys] of cases) {
      const a = op === "pow" ? randn(numel(as), 11).map(Math.abs) : randn(numel(as), 11);
      const b = op === "div" ? randn(numel(bs), 12).map((v) => v + Math.sign(v) * 0.5 + 0.01) : randn(numel(bs), 12);
      const [y] = await runOp("binary", { op }, [
        { shape: as, data: a },
        { shape: bs, data: b },
      ], [ys]);
      assertClose(y, refBinary(f, a, as, b, bs, ys), 1e-4);
    }
  }
});

test("binary batched input with constant per-channel operand at smaller n", async () => {
  const c = randn(3, 13);
  for (const n of [4, 2]) {
    const a = randn(n * 3 * 2 * 2, 14);
    for (const op of ["add", "sub", "div"]) {
      const [y] = await runOp(
        "binary",
        { op },
        [
          { shape: [n, 3, 2, 2], data: a, batched: true },
          { shape: [1, 3, 1, 1], data: c, constant: true },
        ],
        [[n, 3, 2, 2]],
        { maxBatch: 4, n, outBatched: true },
      );
      assertClose(y, refBinary(binFns[op], a, [n, 3, 2, 2], c, [1, 3, 1, 1], [n, 3, 2, 2]));
    }
    // constant first: sub is not commutative, so this exercises the own loop
    const [y] = await runOp(
      "binary",
      { op: "sub" },
      [
        { shape: [1, 3, 1, 1], data: c, constant: true },
        { shape: [n, 3, 2, 2], data: a, batched: true },
      ],
      [[n, 3, 2, 2]],
      { maxBatch: 4, n, outBatched: true },
    );
    assertClose(y, refBinary(binFns.sub, c, [1, 3, 1, 1], a, [n, 3, 2, 2], [n, 3, 2, 2]));
  }
});

test("binary rejects an unknown op and incompatible shapes", () => {
  const spec = (op: string, bShape: number[]) => ({
    maxBatch: 1,
    threads: 1,
    tensors: [
      { shape: [2, 3], batched: false },
      { shape: bShape, batched: false },
      { shape: [2, 3], batched: false },
    ],
    ops: [{ type: "binary", name: "bin", inputs: [0, 1], outputs: [2], attrs: { op } }],
    inputs: [0, 1],
    outputs: [2],
  });
  assert.throws(() => new addon.Program(spec("xor", [2, 3])), /bin.*xor/);
  assert.throws(() => new addon.Program(spec("add", [4])), /bin/);
});

// ---- unary -----------------------------------------------------------------------------

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-4; integrate the series instead.
  let sum = 0;
  let term = x;
  for (let k = 0; k < 60; k++) {
    sum += term / (2 * k + 1);
    term *= (-x * x) / (k + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const softplus = (v: number) => Math.log1p(Math.exp(v));
const unaryCases: [string, Record<string, NativeAttr>, (v: number) => number][] = [
  ["relu", {}, (v) => Math.max(v, 0)],
  ["leakyrelu", { alpha: 0.1 }, (v) => (v > 0 ? v : 0.1 * v)],
  ["sigmoid", {}, (v) => 1 / (1 + Math.exp(-v))],
  ["tanh", {}, Math.tanh],
  ["exp", {}, Math.exp],
  ["log", {}, (v) => Math.log(Math.abs(v) + 0.1)],
  ["abs", {}, Math.abs],
  ["sqrt", {}, (v) => Math.sqrt(Math.abs(v))],
  ["neg", {}, (v) => -v],
  ["elu", { alpha: 0.5 }, (v) => (v > 0 ? v : 0.5 * (Math.exp(v) - 1))],
  ["clamp", { min: -0.5, max: 1.5 }, (v) => Math.min(Math.max(v, -0.5), 1.5)],
  ["hswish", {}, (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6],
  ["hsigmoid", {}, (v) => Math.min(Math.max(v + 3, 0), 6) / 6],
  ["swish", { beta: 1.5 }, (v) => v / (1 + Math.exp(-1.5 * v))],
  ["gelu", {}, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))],
  ["softplus", {}, softplus],
  ["mish", {}, (v) => v * Math.tanh(softplus(v))],
  ["floor", {}, Math.floor],
  ["ceil", {}, Math.ceil],
  ["erf", {}, erf],
];

test("unary ops match their definitions at batch max and n", async () => {
  for (const [op, extra, f] of unaryCases) {
    for (const n of [3, 1]) {
      let x = randn(n * 2 * 5, 21, 4);
      // log and sqrt take positive inputs
      if (op === "log" || op === "sqrt") x = x.map((v) => Math.abs(v) + 0.1);
      const ref = Float64Array.from(x, (v) => (op === "log" ? Math.log(v) : op === "sqrt" ? Math.sqrt(v) : f(v)));
      const [y] = await runOp("unary", { op, ...extra }, [{ shape: [n, 2, 5], data: x, batched: true }], [[n, 2, 5]], {
        maxBatch: 3,
        n,
        outBatched: true,
      });
      assertClose(y, ref, 1e-4);
    }
  }
});

test("unary rejects an unknown op", () => {
  assert.throws(
    () =>
      new addon.Program({
        maxBatch: 1,
        threads: 1,
        tensors: [
          { shape: [2], batched: false },
          { shape: [2], batched: false },
        ],
        ops: [{ type: "unary", name: "u1", inputs: [0], outputs: [1], attrs: { op: "cosh2" } }],
        inputs: [0],
        outputs: [1],
      }),
    /u1.*cosh2/,
  );
});

// ---- matmul ----------------------------------------------------------------------------

test("matmul 2-D with transposes, batched rows at n", async () => {
  const K = 6;
  const N = 5;
  for (const [ta, tb] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
    const n = 3;
    // with transposeA the batched operand is [K, M]: keep rows batched only without it
    const as = ta ? [K, 4] : [4, K];
    const bs = tb ? [N, K] : [K, N];
    const a = randn(numel(as), 31);
    const b = randn(numel(bs), 32);
    const ys = [4, N];
    const [y] = await runOp("matmul", { transposeA: ta, transposeB: tb }, [
      { shape: as, data: a },
      { shape: bs, data: b, constant: true },
    ], [ys]);
    assertClose(y, refMatmul(a, as, !!ta, b, bs, !!tb, ys));
    if (!ta) {
      const an = a.slice(0, n * K);
      const [yn] = await runOp(
        "matmul",
        { transposeA: 0, transposeB: tb },
        [
          { shape: [n, K], data: an, batched: true },
          { shape: bs, data: b, constant: true },
        ],
        [[n, N]],
        { maxBatch: 4, n, outBatched: true },
      );
      assertClose(yn, refMatmul(an, [n, K], false, b, bs, !!tb, [n, N]));
    }
  }
});

test("matmul with broadcast leading dims", async () => {
  const as = [2, 1, 3, 4];
  const bs = [3, 4, 5];
  const ys = [2, 3, 3, 5];
  const a = randn(numel(as), 33);
  const b = randn(numel(bs), 34);
  const [y] = await runOp("matmul", {}, [
    { shape: as, data: a, batched: true },
    { shape: bs, data: b, constant: true },
  ], [ys], { maxBatch: 2, n: 2, outBatched: true });
  assertClose(y, refMatmul(a, as, false, b, bs, false, ys));
  const a1 = a.slice(0, 12);
  const [y1] = await runOp("matmul", {}, [
    { shape: [1, 1, 3, 4], data: a1, batched: true },
    { shape: bs, data: b, constant: true },
  ], [[1, 3, 3, 5]], { maxBatch: 2, n: 1, outBatched: true });
  assertClose(y1, refMatmul(a1, [1, 1, 3, 4], false, b, bs, false, [1, 3, 3, 5]));
});

// ---- softmax ---------------------------------------------------------------------------

test("softmax and logsoftmax along each axis", async () => {
  const s = [2, 3, 4];
  const x = randn(numel(s), 41, 3);
  for (const axis of [0, 1, 2])
    for (const log of [0, 1]) {
      const [y] = await runOp("softmax", { axis, log }, [{ shape: s, data: x }], [s]);
      assertClose(y, refSoftmax(x, s, axis, !!log));
    }
});

test("softmax over channels at smaller batch", async () => {
  const x = randn(2 * 5, 42, 3);
  const [y] = await runOp("softmax", { axis: 1, log: 0 }, [{ shape: [2, 5], data: x, batched: true }], [[2, 5]], {
    maxBatch: 6,
    n: 2,
    outBatched: true,
  });
  assertClose(y, refSoftmax(x, [2, 5], 1, false));
});

// ---- prelu -----------------------------------------------------------------------------

test("prelu per channel, scalar and full slopes", async () => {
  const xs = [2, 3, 2, 2];
  const x = randn(numel(xs), 51);
  const slopes: [number[], (i: number[]) => number][] = [
    [[3], (i) => i[1]],
    [[1], () => 0],
    [[3, 2, 2], (i) => (i[1] * 2 + i[2]) * 2 + i[3]],
  ];
  for (const [ss, pick] of slopes) {
    const slope = randn(numel(ss), 52);
    for (const n of [2, 1]) {
      const xn = x.slice(0, numel([n, ...xs.slice(1)]));
      const [y] = await runOp(
        "prelu",
        {},
        [
          { shape: [n, ...xs.slice(1)], data: xn, batched: true },
          { shape: ss, data: slope, constant: true },
        ],
        [[n, ...xs.slice(1)]],
        { maxBatch: 2, n, outBatched: true },
      );
      const ref = Float64Array.from(xn, (v, i) => (v > 0 ? v : slope[pick(unravel(i, xs))] * v));
      assertClose(y, ref);
    }
  }
});

// ---- deconv ----------------------------------------------------------------------------

function refDeconv(x: Float32Array, xs: number[], w: Float32Array, O: number, k: number[], b: Float32Array | null, p: ConvP, ys: number[]): Float64Array {
  const [N, C, H, W] = xs;
  const [, , OH, OW] = ys;
  const Cg = C / p.group;
  const Og = O / p.group;
  const y = new Float64Array(numel(ys));
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) for (let i = 0; i < OH * OW; i++) y[(n * O + o) * OH * OW + i] = b ? b[o] : 0;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++)
          for (let og = 0; og < Og; og++)
            for (let kh = 0; kh < k[0]; kh++)
              for (let kw = 0; kw < k[1]; kw++) {
                const oh = ih * p.strides[0] - p.padsBegin[0] + kh * p.dilations[0];
                const ow = iw * p.strides[1] - p.padsBegin[1] + kw * p.dilations[1];
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                const o = g * Og + og;
                y[((n * O + o) * OH + oh) * OW + ow] += x[((n * C + c) * H + ih) * W + iw] * w[((c * Og + og) * k[0] + kh) * k[1] + kw];
              }
    }
  return y;
}

async function checkDeconv(xs: number[], O: number, k: number[], p: ConvP, outPad: number[], bias: boolean, maxBatch: number, n: number): Promise<void> {
  const xn = [n, ...xs.slice(1)];
  const x = randn(numel(xn), 61);
  const w = randn(xs[1] * (O / p.group) * k[0] * k[1], 62, 0.5);
  const b = bias ? randn(O, 63) : null;
  const size = (i: number, d: number) =>
    (xs[2 + d] - 1) * p.strides[d] - p.padsBegin[d] - p.padsEnd[d] + (k[d] - 1) * p.dilations[d] + 1 + outPad[d];
  const ys = [n, O, size(0, 0), size(1, 1)];
  const inputs: In[] = [
    { shape: xn, data: x, batched: true },
    { shape: [xs[1], O / p.group, k[0], k[1]], data: w, constant: true },
  ];
  if (b) inputs.push({ shape: [O], data: b, constant: true });
  const [y] = await runOp("deconv", { ...p }, inputs, [ys], { maxBatch, n, outBatched: true });
  assertClose(y, refDeconv(x, xn, w, O, k, b, p, ys));
}

test("deconv stride 2 with bias at batch max and n", async () => {
  const p: ConvP = { strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 };
  await checkDeconv([3, 4, 4, 5], 6, [3, 3], p, [0, 0], true, 3, 3);
  await checkDeconv([3, 4, 4, 5], 6, [3, 3], p, [0, 0], true, 3, 1);
});

test("deconv grouped, dilated, with output padding", async () => {
  await checkDeconv([2, 4, 3, 3], 6, [2, 3], { strides: [2, 1], dilations: [1, 2], padsBegin: [0, 1], padsEnd: [0, 1], group: 2 }, [0, 0], false, 2, 2);
  await checkDeconv([2, 2, 3, 3], 4, [3, 3], { strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 }, [1, 1], true, 2, 2);
});

// ---- lrn -------------------------------------------------------------------------------

test("lrn across channels and within a channel", async () => {
  const xs = [2, 6, 3, 3];
  const x = randn(numel(xs), 71, 2);
  const [N, C, H, W] = xs;
  const alpha = 0.3;
  const beta = 0.75;
  const bias = 1.5;
  for (const size of [3, 5]) {
    const [y] = await runOp("lrn", { alpha, beta, bias, size, region: "across" }, [{ shape: xs, data: x, batched: true }], [xs], {
      maxBatch: 2,
      n: 2,
      outBatched: true,
    });
    const ref = new Float64Array(x.length);
    const half = (size - 1) / 2;
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < H * W; i++) {
          let sum = 0;
          for (let cc = Math.max(0, c - half); cc <= Math.min(C - 1, c + half); cc++) sum += x[(n * C + cc) * H * W + i] ** 2;
          const idx = (n * C + c) * H * W + i;
          ref[idx] = x[idx] / Math.pow(bias + (alpha / size) * sum, beta);
        }
    assertClose(y, ref);
  }
  const [y] = await runOp("lrn", { alpha, beta, bias, size: 3, region: "within" }, [{ shape: xs, data: x }], [xs]);
  const ref = new Float64Array(x.length);
  for (let nc = 0; nc < N * C; nc++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++) {
        let sum = 0;
        for (let hh = Math.max(0, h - 1); hh <= Math.min(H - 1, h + 1); hh++)
          for (let ww = Math.max(0, w - 1); ww <= Math.min(W - 1, w + 1); ww++) sum += x[(nc * H + hh) * W + ww] ** 2;
        const idx = (nc * H + h) * W + w;
        ref[idx] = x[idx] / Math.pow(bias + (alpha / 9) * sum, beta);
      }
  assertClose(y, ref);
});

// ---- batchnorm -------------------------------------------------------------------------

test("batchnorm inference at batch max and n", async () => {
  const C = 3;
  const gamma = new Float32Array([1, 2, 0.5]);
  const beta = new Float32Array([0, -1, 3]);
  const mean = new Float32Array([0.5, -0.5, 1]);
  const variance = new Float32Array([1, 4, 0.25]);
  const eps = 1e-3;
  for (const n of [2, 1]) {
    const xs = [n, C, 2, 2];
    const x = randn(numel(xs), 81);
    const [y] = await runOp(
      "batchnorm",
      { epsilon: eps },
      [
        { shape: xs, data: x, batched: true },
        { shape: [C], data: gamma, constant: true },
        { shape: [C], data: beta, constant: true },
        { shape: [C], data: mean, constant: true },
        { shape: [C], data: variance, constant: true },
      ],
      [xs],
      { maxBatch: 2, n, outBatched: true },
    );
    const ref = Float64Array.from(x, (v, i) => {
      const c = Math.floor(i / 4) % C;
      return ((v - mean[c]) / Math.sqrt(variance[c] + eps)) * gamma[c] + beta[c];
    });
    assertClose(y, ref);
  }
});

// ---- reduce ----------------------------------------------------------------------------

test("reduce ops over axes with and without keepDims", async () => {
  const xs = [2, 3, 4];
  const x = randn(numel(xs), 91, 2);
  const fold: Record<string, (vals: number[]) => number> = {
    sum: (v) => v.reduce((a, b) => a + b, 0),
    mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
    max: (v) => Math.max(...v),
    min: (v) => Math.min(...v),
    prod: (v) => v.reduce((a, b) => a * b, 1),
    l1: (v) => v.reduce((a, b) => a + Math.abs(b), 0),
    l2: (v) => Math.sqrt(v.reduce((a, b) => a + b * b, 0)),
    sumsquare: (v) => v.reduce((a, b) => a + b * b, 0),
    logsumexp: (v) => Math.log(v.reduce((a, b) => a + Math.exp(b), 0)),
  };
  for (const axes of [[1], [0, 2], [2], [0, 1, 2]])
    for (const keepDims of [0, 1])
      for (const [op, f] of Object.entries(fold)) {
        const ys = xs.map((d, i) => (axes.includes(i) ? 1 : d)).filter((_, i) => keepDims || !axes.includes(i));
        const [y] = await runOp("reduce", { op, axes, keepDims }, [{ shape: xs, data: x }], [ys]);
        const groups = new Map<number, number[]>();
        for (let i = 0; i < x.length; i++) {
          const idx = unravel(i, xs);
          const key = idx.reduce((acc, v, d) => (axes.includes(d) ? acc : acc * xs[d] + v), 0);
          if (!groups.has(key)) groups.set(key, []);
          groups.get(key)!.push(x[i]);
        }
        const ref = Float64Array.from([...groups.keys()].sort((a, b) => a - b), (k) => f(groups.get(k)!));
        assertClose(y, ref, 1e-4);
      }
});

test("reduce over spatial axes of a batched tensor at n", async () => {
  const x = randn(2 * 3 * 4, 92);
  const [y] = await runOp("reduce", { op: "mean", axes: [2], keepDims: 1 }, [{ shape: [2, 3, 4], data: x, batched: true }], [[2, 3, 1]], {
    maxBatch: 5,
    n: 2,
    outBatched: true,
  });
  const ref = new Float64Array(6);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) ref[i] += x[i * 4 + j] / 4;
  assertClose(y, ref);
});
