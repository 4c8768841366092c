/**
 * The native reference ops (native/src/ops/ref_*.cc) run as single-op Programs through the
 * addon and are compared with independent JS implementations written here, plus hand-computed
 * cases, at the maximum batch and at smaller n.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon, NativeAttr, NativeProgramSpec } from "../../kernel/plugins/native";
import { numel } from "../../kernel/graph/ops/util";

const addon = loadAddon();

interface TensorArg {
  /** Shape at the maximum batch. */
  shape: number[];
  batched?: boolean;
  /** Constant data; inputs without it are fed per run. */
  data?: Float32Array;
}

const atBatch = (t: TensorArg, n: number) => (t.batched ? [n, ...t.shape.slice(1)] : t.shape);

/** Builds a one-op program; run(n, feeds) returns each output at batch n. */
function singleOp(type: string, attrs: Record<string, NativeAttr>, inputs: TensorArg[], outputs: TensorArg[], maxBatch: number) {
  const tensors = [...inputs, ...outputs].map((t) => ({ shape: t.shape, batched: !!t.batched, data: t.data }));
  const inIds = inputs.map((_, i) => i);
  const outIds = outputs.map((_, i) => inputs.length + i);
  const spec: NativeProgramSpec = {
    maxBatch,
    threads: 2,
    tensors,
    ops: [{ type, name: `test_${type}`, inputs: inIds, outputs: outIds, attrs }],
    inputs: inIds.filter((i) => !inputs[i].data),
    outputs: outIds,
  };
  const program = new addon.Program(spec);
  const req = program.createRequest();
  return async (n: number, feeds: Float32Array[]): Promise<Float32Array[]> => {
    const fed = inIds.filter((i) => !inputs[i].data);
    assert.equal(feeds.length, fed.length);
    fed.forEach((id, k) => {
      assert.equal(feeds[k].length, numel(atBatch(inputs[id], n)));
      new Float32Array(req.buffer(id)).set(feeds[k]);
    });
    await req.run(n);
    return outIds.map((id, k) => new Float32Array(req.buffer(id)).slice(0, numel(atBatch(outputs[k], n))));
  };
}

function random(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

function close(actual: Float32Array, expected: ArrayLike<number>, tol = 1e-5, what = "") {
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i];
    if (Math.abs(actual[i] - e) > tol * Math.max(1, Math.abs(e)))
      assert.fail(`${what}[${i}]: got ${actual[i]}, expected ${e}`);
  }
}

/** Multi-index of a flat row-major offset. */
function unravel(i: number, shape: number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

function ravel(idx: number[], shape: number[]): number {
  let off = 0;
  for (let d = 0; d < shape.length; d++) off = off * shape[d] + idx[d];
  return off;
}

/** Fills an output of shape ys element by element from the input index `src` returns (-1: fill). */
function gatherBy(x: Float32Array, xs: number[], ys: number[], src: (o: number[]) => number[] | null, fill = 0): number[] {
  const out: number[] = [];
  for (let i = 0; i < numel(ys); i++) {
    const s = src(unravel(i, ys));
    out.push(s ? x[ravel(s, xs)] : fill);
  }
  return out;
}

const BATCHES = [4, 1, 3];

// ---------------------------------------------------------------- copy
test("copy: same elements under a new shape, every batch", async () => {
  const run = singleOp("copy", {}, [{ shape: [4, 3, 2], batched: true }], [{ shape: [4, 6], batched: true }], 4);
  for (const n of BATCHES) {
    const x = random(n * 6, n);
    const [y] = await run(n, [x]);
    close(y, x, 0, "copy");
  }
});

// ---------------------------------------------------------------- transpose
test("transpose: hand case 2x3 -> 3x2", async () => {
  const run = singleOp("transpose", { perm: [1, 0] }, [{ shape: [2, 3] }], [{ shape: [3, 2] }], 1);
  const [y] = await run(1, [Float32Array.from([1, 2, 3, 4, 5, 6])]);
  close(y, [1, 4, 2, 5, 3, 6], 0);
});

test("transpose: NCHW -> NHWC and a 5-D perm against the JS reference at max and smaller n", async () => {
  for (const [xs, perm] of [
    [[4, 3, 5, 7], [0, 2, 3, 1]],
    [[4, 2, 3, 4, 5], [0, 4, 1, 3, 2]],
  ] as [number[], number[]][]) {
    const ys = perm.map((p) => xs[p]);
    const run = singleOp("transpose", { perm }, [{ shape: xs, batched: true }], [{ shape: ys, batched: true }], 4);
    for (const n of BATCHES) {
      const xn = [n, ...xs.slice(1)];
      const yn = [n, ...ys.slice(1)];
      const x = random(numel(xn), 7 + n);
      const [y] = await run(n, [x]);
      const expected = gatherBy(x, xn, yn, (o) => {
        const src = new Array<number>(o.length);
        perm.forEach((p, d) => (src[p] = o[d]));
        return src;
      });
      close(y, expected, 0, `transpose ${perm} n=${n}`);
    }
  }
});

// ---------------------------------------------------------------- slice
test("slice: hand case with a negative step", async () => {
  // x = [[0..4],[5..9]]; rows 1.., columns 4,2,0.
  const run = singleOp("slice", { begin: [1, 4], step: [1, -2] }, [{ shape: [2, 5] }], [{ shape: [1, 3] }], 1);
  const [y] = await run(1, [Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])]);
  close(y, [9, 7, 5], 0);
});

test("slice: strided crop of a batched tensor against the JS reference", async () => {
  const xs = [3, 4, 9, 6];
  const begin = [0, 1, 8, 0];
  const step = [1, 2, -3, 2];
  const ys = [3, 2, 3, 3];
  const run = singleOp("slice", { begin, step }, [{ shape: xs, batched: true }], [{ shape: ys, batched: true }], 3);
  for (const n of [3, 1, 2]) {
    const xn = [n, ...xs.slice(1)];
    const x = random(numel(xn), 11 + n);
    const [y] = await run(n, [x]);
    close(y, gatherBy(x, xn, [n, ...ys.slice(1)], (o) => o.map((v, d) => begin[d] + v * step[d])), 0, `slice n=${n}`);
  }
});

// ---------------------------------------------------------------- concat / split
function concatRef(xs: Float32Array[], shapes: number[][], axis: number): number[] {
  const outer = numel(shapes[0].slice(0, axis));
  const out: number[] = [];
  for (let o = 0; o < outer; o++)
    xs.forEach((x, i) => {
      const chunk = numel(shapes[i].slice(axis));
      out.push(...x.subarray(o * chunk, (o + 1) * chunk));
    });
  return out;
}

test("concat: hand case along axis 1", async () => {
  const run = singleOp("concat", { axis: 1 }, [{ shape: [2, 1] }, { shape: [2, 2] }], [{ shape: [2, 3] }], 1);
  const [y] = await run(1, [Float32Array.from([1, 2]), Float32Array.from([3, 4, 5, 6])]);
  close(y, [1, 3, 4, 2, 5, 6], 0);
});

test("concat: three inputs along channels and along the last axis, every batch", async () => {
  for (const axis of [1, 3]) {
    const shapes = [2, 3, 1].map((k) => (axis === 1 ? [4, k, 3, 2] : [4, 2, 3, k]));
    const outShape = axis === 1 ? [4, 6, 3, 2] : [4, 2, 3, 6];
    const run = singleOp("concat", { axis }, shapes.map((s) => ({ shape: s, batched: true })), [{ shape: outShape, batched: true }], 4);
    for (const n of BATCHES) {
      const ns = shapes.map((s) => [n, ...s.slice(1)]);
      const xs = ns.map((s, i) => random(numel(s), 100 * axis + 10 * n + i));
      const [y] = await run(n, xs);
      close(y, concatRef(xs, ns, axis), 0, `concat axis ${axis} n=${n}`);
    }
  }
});

test("split: inverse of concat along axis 2, every batch", async () => {
  const outs = [[4, 3, 1, 5], [4, 3, 4, 5]];
  const run = singleOp("split", { axis: 2 }, [{ shape: [4, 3, 5, 5], batched: true }], outs.map((s) => ({ shape: s, batched: true })), 4);
  for (const n of BATCHES) {
    const ns = outs.map((s) => [n, ...s.slice(1)]);
    const parts = ns.map((s, i) => random(numel(s), 50 + 10 * n + i));
    const x = Float32Array.from(concatRef(parts, ns, 2));
    const ys = await run(n, [x]);
    ys.forEach((y, i) => close(y, parts[i], 0, `split part ${i} n=${n}`));
  }
});

// ---------------------------------------------------------------- gather
test("gather: hand case, 2-D indices on axis 1", async () => {
  const run = singleOp(
    "gather",
    { axis: 1, indices: [2, 0, 0, 1], indicesShape: [2, 2] },
    [{ shape: [2, 3] }],
    [{ shape: [2, 2, 2] }],
    1,
  );
  const [y] = await run(1, [Float32Array.from([10, 11, 12, 20, 21, 22])]);
  close(y, [12, 10, 10, 11, 22, 20, 20, 21], 0);
});

test("gather: scalar index removes the axis; against the JS reference at every batch", async () => {
  const indices = [3, 0, 3, 1, 2];
  for (const [idxShape, outShape] of [
    [[], [4, 3, 2]],
    [[5], [4, 3, 5, 2]],
  ] as [number[], number[]][]) {
    const idx = idxShape.length ? indices : [2];
    const run = singleOp("gather", { axis: 2, indices: idx, indicesShape: idxShape }, [{ shape: [4, 3, 4, 2], batched: true }], [{ shape: outShape, batched: true }], 4);
    for (const n of BATCHES) {
      const xn = [n, 3, 4, 2];
      const x = random(numel(xn), 30 + n);
      const [y] = await run(n, [x]);
      const expected = gatherBy(x, xn, [n, ...outShape.slice(1)], (o) =>
        idxShape.length ? [o[0], o[1], idx[o[2]], o[3]] : [o[0], o[1], idx[0], o[2]],
      );
      close(y, expected, 0, `gather idx ${idxShape} n=${n}`);
    }
  }
});

// ---------------------------------------------------------------- pad
test("pad: hand cases for every mode and a negative pad", async () => {
  const x = Float32Array.from([1, 2, 3]);
  const cases: [string, number[], number[], number, number[]][] = [
    ["constant", [2], [2], 0, [0, 0, 1, 2, 3, 0, 0]],
    ["constant", [1], [0], 7.5, [7.5, 1, 2, 3]],
    ["edge", [2], [2], 0, [1, 1, 1, 2, 3, 3, 3]],
    ["reflect", [2], [2], 0, [3, 2, 1, 2, 3, 2, 1]],
    ["symmetric", [2], [2], 0, [2, 1, 1, 2, 3, 3, 2]],
    ["constant", [-1], [1], 0, [2, 3, 0]],
  ];
  for (const [mode, pb, pe, value, expected] of cases) {
    const run = singleOp("pad", { padsBegin: pb, padsEnd: pe, mode, value }, [{ shape: [3] }], [{ shape: [expected.length] }], 1);
    const [y] = await run(1, [x]);
    close(y, expected, 0, `pad ${mode} ${pb}/${pe}`);
  }
});

function padIndex(i: number, dim: number, mode: string): number | null {
  if (i >= 0 && i < dim) return i;
  if (mode === "constant") return null;
  if (mode === "edge") return Math.min(Math.max(i, 0), dim - 1);
  if (mode === "reflect") return i < 0 ? -i : 2 * dim - 2 - i;
  return i < 0 ? -1 - i : 2 * dim - 1 - i;
}

test("pad: 4-D spatial pads (with a crop) against the JS reference at every batch", async () => {
  const xs = [4, 2, 4, 5];
  const pb = [0, 1, 2, -1];
  const pe = [0, 0, 3, 2];
  const ys = xs.map((d, i) => d + pb[i] + pe[i]);
  for (const mode of ["constant", "edge", "reflect", "symmetric"]) {
    const run = singleOp("pad", { padsBegin: pb, padsEnd: pe, mode, value: -2 }, [{ shape: xs, batched: true }], [{ shape: ys, batched: true }], 4);
    for (const n of BATCHES) {
      const xn = [n, ...xs.slice(1)];
      const x = random(numel(xn), 60 + n);
      const [y] = await run(n, [x]);
      const expected = gatherBy(
        x,
        xn,
        [n, ...ys.slice(1)],
        (o) => {
          const src = o.map((v, d) => padIndex(v - pb[d], xn[d], mode));
          return src.some((v) => v === null) ? null : (src as number[]);
        },
        -2,
      );
      close(y, expected, 0, `pad ${mode} n=${n}`);
    }
  }
});

// ---------------------------------------------------------------- interpolate
test("interpolate: hand cases (nearest asymmetric floor, bilinear half_pixel, align_corners)", async () => {
  const x = Float32Array.from([1, 2, 3, 4]);
  const nearest = singleOp("interpolate", { mode: "nearest", coord: "asymmetric", nearest: "floor", scales: [1, 1, 2, 2] }, [{ shape: [1, 1, 2, 2] }], [{ shape: [1, 1, 4, 4] }], 1);
  close((await nearest(1, [x]))[0], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], 0, "nearest");
  const linear = singleOp("interpolate", { mode: "linear", coord: "half_pixel", nearest: "round_prefer_floor", scales: [1, 1, 2, 2] }, [{ shape: [1, 1, 2, 2] }], [{ shape: [1, 1, 4, 4] }], 1);
  close(
    (await linear(1, [x]))[0],
    [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4],
    1e-6,
    "bilinear",
  );
  const corners = singleOp("interpolate", { mode: "linear", coord: "align_corners", scales: [1, 1, 1.5] }, [{ shape: [1, 1, 2] }], [{ shape: [1, 1, 3] }], 1);
  close((await corners(1, [Float32Array.from([1, 2])]))[0], [1, 1.5, 2], 1e-6, "align_corners");
});

function toInput(coord: string, x: number, scale: number, inDim: number, outDim: number): number {
  switch (coord) {
    case "half_pixel":
      return (x + 0.5) / scale - 0.5;
    case "pytorch_half_pixel":
      return outDim > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case "asymmetric":
      return x / scale;
    case "tf_half_pixel_for_nn":
      return (x + 0.5) / scale;
    default:
      return outDim === 1 ? 0 : (x * (inDim - 1)) / (outDim - 1);
  }
}

function nearestIndex(mode: string, c: number, scale: number): number {
  const frac = c - Math.floor(c);
  switch (mode) {
    case "round_prefer_floor":
      return frac === 0.5 ? Math.floor(c) : Math.round(c);
    case "round_prefer_ceil":
      return frac === 0.5 ? Math.ceil(c) : Math.round(c);
    case "floor":
      return Math.floor(c);
    case "ceil":
      return Math.ceil(c);
    default:
      return scale < 1 ? Math.ceil(c) : Math.trunc(c);
  }
}

/** Per-axis 1-D weights {index: weight} for one output index. */
function axisWeights(mode: string, coord: string, nearest: string, o: number, scale: number, inDim: number, outDim: number): Map<number, number> {
  if (inDim === outDim && scale === 1) return new Map([[o, 1]]);
  const c = toInput(coord, o, scale, inDim, outDim);
  if (mode === "nearest") return new Map([[Math.min(Math.max(nearestIndex(nearest, c, scale), 0), inDim - 1), 1]]);
  const cc = Math.min(Math.max(c, 0), inDim - 1);
  const lo = Math.floor(cc);
  const hi = Math.min(lo + 1, inDim - 1);
  const w = new Map<number, number>([[lo, 1 - (cc - lo)]]);
  if (hi !== lo) w.set(hi, cc - lo);
  return w;
}

function interpolateRef(x: Float32Array, xs: number[], ys: number[], scales: number[], mode: string, coord: string, nearest: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < numel(ys); i++) {
    const o = unravel(i, ys);
    let terms: [number[], number][] = [[[], 1]];
    o.forEach((v, d) => {
      const ws = axisWeights(mode, coord, nearest, v, scales[d], xs[d], ys[d]);
      const next: [number[], number][] = [];
      for (const [idx, w] of terms) for (const [j, wj] of ws) next.push([[...idx, j], w * wj]);
      terms = next;
    });
    out.push(terms.reduce((acc, [idx, w]) => acc + w * x[ravel(idx, xs)], 0));
  }
  return out;
}

test("interpolate: every coordinate and nearest mode, up and down, against the JS reference at every batch", async () => {
  const xs = [3, 2, 5, 6];
  const sizes: [number[], number[]][] = [
    [[3, 2, 8, 9], [1, 1, 8 / 5, 1.5]],
    [[3, 2, 3, 4], [1, 1, 0.6, 4 / 6]],
    [[3, 2, 7, 6], [1, 1, 1.4, 1]],
  ];
  const coords = ["half_pixel", "pytorch_half_pixel", "asymmetric", "tf_half_pixel_for_nn", "align_corners"];
  const nearestModes = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple"];
  for (const [ys, scales] of sizes) {
    const combos: [string, string, string][] = [
      ...coords.map((c) => ["linear", c, "round_prefer_floor"] as [string, string, string]),
      ...coords.flatMap((c) => nearestModes.map((m) => ["nearest", c, m] as [string, string, string])),
    ];
    for (const [mode, coord, nearest] of combos) {
      const run = singleOp("interpolate", { mode, coord, nearest, scales }, [{ shape: xs, batched: true }], [{ shape: ys, batched: true }], 3);
      for (const n of [3, 1]) {
        const xn = [n, ...xs.slice(1)];
        const x = random(numel(xn), 70 + n);
        const [y] = await run(n, [x]);
        const expected = interpolateRef(x, xn, [n, ...ys.slice(1)], scales, mode, coord, nearest);
        close(y, expected, 1e-5, `interpolate ${mode}/${coord}/${nearest} ${ys} n=${n}`);
      }
    }
  }
});

// ---------------------------------------------------------------- detection_output
interface DetAttrs {
  numClasses: number;
  backgroundLabelId: number;
  topK: number;
  keepTopK: number[];
  nmsThreshold: number;
  confidenceThreshold: number;
  shareLocation: number;
  varianceEncodedInTarget: number;
  codeType: string;
  normalized: number;
  clipBeforeNms: number;
  clipAfterNms: number;
  decreaseLabelId: number;
  inputHeight: number;
  inputWidth: number;
  objectnessScore: number;
}

const SSD: DetAttrs = {
  numClasses: 2,
  backgroundLabelId: 0,
  topK: 400,
  keepTopK: [200],
  nmsThreshold: 0.45,
  confidenceThreshold: 0.01,
  shareLocation: 1,
  varianceEncodedInTarget: 0,
  codeType: "caffe.PriorBoxParameter.CENTER_SIZE",
  normalized: 1,
  clipBeforeNms: 0,
  clipAfterNms: 0,
  decreaseLabelId: 0,
  inputHeight: 1,
  inputWidth: 1,
  objectnessScore: 0,
};

type Box = [number, number, number, number];

function iouRef(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const area = (r: Box) => (r[2] < r[0] || r[3] < r[1] ? 0 : (r[2] - r[0]) * (r[3] - r[1]));
  return (w * h) / (area(a) + area(b) - w * h);
}

/** SSD detection output (Caffe style, or MXNet style with decreaseLabelId), one image after another. */
function detectionRef(a: DetAttrs, loc: Float32Array, conf: Float32Array, priors: Float32Array, images: number, rows: number): number[] {
  const S = a.normalized ? 4 : 5;
  const row = priors.length / 2;
  const P = row / S;
  const C = a.numClasses;
  const L = a.shareLocation ? 1 : C;
  const out = new Array<number>(rows * 7).fill(0);
  let r = 0;
  for (let i = 0; i < images; i++) {
    const decode = (c: number, p: number): Box => {
      const t = loc.subarray(i * P * L * 4 + (p * L + c) * 4);
      let [x0, y0, x1, y1] = priors.subarray(p * S + S - 4, p * S + S);
      if (!a.normalized) [x0, y0, x1, y1] = [x0 / a.inputWidth, y0 / a.inputHeight, x1 / a.inputWidth, y1 / a.inputHeight];
      const v = a.varianceEncodedInTarget ? [1, 1, 1, 1] : priors.subarray(row + p * 4, row + p * 4 + 4);
      const pw = x1 - x0;
      const ph = y1 - y0;
      let b: Box;
      if (a.codeType.endsWith("CENTER_SIZE")) {
        const cx = v[0] * t[0] * pw + (x0 + x1) / 2;
        const cy = v[1] * t[1] * ph + (y0 + y1) / 2;
        const w = Math.exp(v[2] * t[2]) * pw;
        const h = Math.exp(v[3] * t[3]) * ph;
        b = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
      } else if (a.codeType.endsWith("CORNER_SIZE")) {
        b = [x0 + v[0] * t[0] * pw, y0 + v[1] * t[1] * ph, x1 + v[2] * t[2] * pw, y1 + v[3] * t[3] * ph];
      } else {
        b = [x0 + v[0] * t[0], y0 + v[1] * t[1], x1 + v[2] * t[2], y1 + v[3] * t[3]];
      }
      const clip = (q: number) => Math.min(Math.max(q, 0), 1);
      return a.clipBeforeNms ? (b.map(clip) as Box) : b;
    };
    type Det = { score: number; label: number; prior: number; box: Box };
    const order = (x: Det, y: Det) => y.score - x.score || x.prior - y.prior || x.label - y.label;
    const nms = (cands: Det[]) => {
      const mine: Det[] = [];
      for (const d of cands) if (mine.every((k) => iouRef(d.box, k.box) <= a.nmsThreshold)) mine.push(d);
      return mine;
    };
    const score = (p: number, c: number) => conf[i * P * C + p * C + c];
    const det = (p: number, c: number): Det => ({ score: score(p, c), label: c, prior: p, box: decode(a.shareLocation ? 0 : c, p) });
    let kept: Det[] = [];
    if (!a.decreaseLabelId) {
      for (let c = 0; c < C; c++) {
        if (c === a.backgroundLabelId) continue;
        let cands: Det[] = [];
        for (let p = 0; p < P; p++) if (score(p, c) > a.confidenceThreshold) cands.push(det(p, c));
        cands.sort(order);
        if (a.topK > -1) cands = cands.slice(0, a.topK);
        kept.push(...nms(cands));
      }
    } else {
      // Each prior competes once, with its best class other than 0 and the background.
      let cands: Det[] = [];
      for (let p = 0; p < P; p++) {
        let c = -1;
        for (let k = 1; k < C; k++) if (k !== a.backgroundLabelId && (c < 0 || score(p, k) > score(p, c))) c = k;
        if (c > 0 && score(p, c) >= a.confidenceThreshold) cands.push(det(p, c));
      }
      cands.sort(order);
      if (a.topK > -1) cands = cands.slice(0, a.topK);
      for (let c = 1; c < C; c++) kept.push(...nms(cands.filter((d) => d.label === c)));
    }
    if (a.keepTopK[0] > -1 && kept.length > a.keepTopK[0]) kept = kept.sort(order).slice(0, a.keepTopK[0]);
    kept.sort((x, y) => x.label - y.label || order(x, y));
    for (const d of kept) {
      const clip = (q: number) => (a.clipAfterNms ? Math.min(Math.max(q, 0), 1) : q);
      out.splice(r * 7, 7, i, a.decreaseLabelId ? d.label - 1 : d.label, d.score, ...d.box.map(clip));
      r++;
    }
  }
  if (r < rows) out[r * 7] = -1;
  return out;
}

test("detection_output: hand case — two overlapping priors, NMS keeps the better one; decode checked", async () => {
  // prior 0 = [0.1,0.1,0.5,0.5], prior 1 = [0.15,0.1,0.55,0.5]; IoU = 0.14 / 0.18 ≈ 0.78 > 0.45.
  const priors = Float32Array.from([0.1, 0.1, 0.5, 0.5, 0.15, 0.1, 0.55, 0.5, 0.1, 0.1, 0.2, 0.2, 0.1, 0.1, 0.2, 0.2]);
  const keep = 3;
  const maxN = 3;
  const run = singleOp(
    "detection_output",
    { ...SSD, keepTopK: [keep] },
    [{ shape: [maxN, 8], batched: true }, { shape: [maxN, 4], batched: true }, { shape: [1, 2, 8], data: priors }],
    [{ shape: [1, 1, maxN * keep, 7] }],
    maxN,
  );
  const ln2 = Math.log(2) / 0.2;
  const loc = Float32Array.from([
    // image 0 and 1: offsets 0, the boxes are the priors
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    // image 2: prior 0 twice as wide [-0.1,0.1,0.7,0.5]; prior 1 moved right by 0.5 [0.65,0.1,1.05,0.5]
    0, 0, ln2, 0, 12.5, 0, 0, 0,
  ]);
  const conf = Float32Array.from([0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.05, 0.95, 0.4, 0.6, 0.3, 0.7]);
  const expected = [
    [0, 1, 0.9, 0.1, 0.1, 0.5, 0.5],
    [1, 1, 0.95, 0.15, 0.1, 0.55, 0.5],
    // image 2: IoU = 0.02 / 0.46 — both kept, better score first
    [2, 1, 0.7, 0.65, 0.1, 1.05, 0.5],
    [2, 1, 0.6, -0.1, 0.1, 0.7, 0.5],
    [-1, 0, 0, 0, 0, 0, 0],
  ];
  const [y] = await run(3, [loc, conf]);
  close(y, [...expected.flat(), ...new Array(7 * (maxN * keep - expected.length)).fill(0)], 1e-5, "det n=3");
  // Batch 1: only image 0, then the terminator.
  const [y1] = await run(1, [loc.subarray(0, 8), conf.subarray(0, 4)]);
  close(y1, [...expected[0], -1, ...new Array(7 * (maxN * keep - 1) - 1).fill(0)], 1e-5, "det n=1");
});

test("detection_output: random SSD heads (shared and per-class boxes, clipping, top_k, keep_top_k) against the JS reference", async () => {
  const P = 60;
  const C = 4;
  const variants: [string, Partial<DetAttrs>][] = [
    ["shared CENTER_SIZE", {}],
    ["per-class CORNER, clip before NMS", { shareLocation: 0, codeType: "caffe.PriorBoxParameter.CORNER", clipBeforeNms: 1 }],
    ["CORNER_SIZE, clip after NMS, small top_k", { codeType: "caffe.PriorBoxParameter.CORNER_SIZE", clipAfterNms: 1, topK: 7 }],
    ["keep_top_k cuts across classes", { keepTopK: [5], nmsThreshold: 0.3 }],
    ["variance in target, background 2", { varianceEncodedInTarget: 1, backgroundLabelId: 2 }],
    ["MXNet style (decreaseLabelId)", { decreaseLabelId: 1, topK: 15 }],
    ["pixel priors (normalized = 0)", { normalized: 0, inputWidth: 300, inputHeight: 200 }],
  ];
  const maxN = 4;
  const centers = random(P * 2, 5, 0.1, 0.9);
  const sizes = random(P * 2, 6, 0.05, 0.4);
  const boxes: number[] = [];
  for (let p = 0; p < P; p++) {
    const [cx, cy, w, h] = [centers[2 * p], centers[2 * p + 1], sizes[2 * p], sizes[2 * p + 1]];
    boxes.push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
  }
  const variances = Array.from({ length: P }, () => [0.1, 0.1, 0.2, 0.2]).flat();
  // Non-normalized priors: 5 values each (an id, then pixel corners), rows padded to P·5.
  const pixels: number[] = [];
  for (let p = 0; p < P; p++) pixels.push(0, boxes[4 * p] * 300, boxes[4 * p + 1] * 200, boxes[4 * p + 2] * 300, boxes[4 * p + 3] * 200);
  for (const [what, over] of variants) {
    const a: DetAttrs = { ...SSD, numClasses: C, topK: 20, keepTopK: [50], ...over };
    const priors = Float32Array.from(a.normalized ? [...boxes, ...variances] : [...pixels, ...variances, ...new Array(P).fill(0)]);
    const L = a.shareLocation ? 1 : C;
    const rows = maxN * a.keepTopK[0];
    const run = singleOp(
      "detection_output",
      a as unknown as Record<string, NativeAttr>,
      [{ shape: [maxN, P * L * 4], batched: true }, { shape: [maxN, P * C], batched: true }, { shape: [1, 2, priors.length / 2], data: priors }],
      [{ shape: [1, 1, rows, 7] }],
      maxN,
    );
    for (const n of [maxN, 2, 1]) {
      const loc = random(n * P * L * 4, 80 + n, -1, 1);
      const conf = random(n * P * C, 90 + n, 0, 1);
      const [y] = await run(n, [loc, conf]);
      close(y, detectionRef(a, loc, conf, priors, n, rows), 1e-5, `${what} n=${n}`);
    }
  }
});

test("detection_output: face-detection-adas-0001 sized head (10112 priors) — matches the JS reference", async () => {
  const P = 10112;
  const maxN = 2;
  const centers = random(P * 2, 1, 0, 1);
  const priors = new Float32Array(P * 8);
  for (let p = 0; p < P; p++) {
    priors.set([centers[2 * p] - 0.05, centers[2 * p + 1] - 0.05, centers[2 * p] + 0.05, centers[2 * p + 1] + 0.05], p * 4);
    priors.set([0.1, 0.1, 0.2, 0.2], P * 4 + p * 4);
  }
  const rows = maxN * 200;
  const run = singleOp(
    "detection_output",
    SSD as unknown as Record<string, NativeAttr>,
    [{ shape: [maxN, P * 4], batched: true }, { shape: [maxN, P * 2], batched: true }, { shape: [1, 2, P * 4], data: priors }],
    [{ shape: [1, 1, rows, 7] }],
    maxN,
  );
  const loc = random(maxN * P * 4, 2, -0.5, 0.5);
  const conf = random(maxN * P * 2, 3, 0, 0.05);
  const [y] = await run(maxN, [loc, conf]);
  close(y, detectionRef(SSD, loc, conf, priors, maxN, rows), 1e-5, "face-detection sized");
});

test("detection_output: concurrent requests of one program give identical results", async () => {
  const P = 40;
  const C = 3;
  const priors = Float32Array.from([...random(P * 4, 9, 0, 1)].map((v, i) => (i % 4 < 2 ? v * 0.5 : 0.5 + v * 0.5)).concat(new Array(P * 4).fill(0.1)));
  const a: DetAttrs = { ...SSD, numClasses: C, keepTopK: [30] };
  const program = new addon.Program({
    maxBatch: 2,
    threads: 1,
    tensors: [
      { shape: [2, P * 4], batched: true },
      { shape: [2, P * C], batched: true },
      { shape: [1, 2, P * 4], batched: false, data: priors },
      { shape: [1, 1, 60, 7], batched: false },
    ],
    ops: [{ type: "detection_output", name: "det", inputs: [0, 1, 2], outputs: [3], attrs: a as unknown as Record<string, NativeAttr> }],
    inputs: [0, 1],
    outputs: [3],
  });
  const loc = random(2 * P * 4, 12);
  const conf = random(2 * P * C, 13, 0, 1);
  const reqs = [0, 1, 2, 3].map(() => program.createRequest());
  for (const r of reqs) {
    new Float32Array(r.buffer(0)).set(loc);
    new Float32Array(r.buffer(1)).set(conf);
  }
  await Promise.all(reqs.map((r) => r.run(2)));
  const expected = detectionRef(a, loc, conf, priors, 2, 60);
  for (const r of reqs) close(new Float32Array(r.buffer(3)), expected, 1e-5, "concurrent");
});

// ---------------------------------------------------------------- creation errors
test("invalid attributes fail at creation with the layer name and the reason", () => {
  const bad: [string, Record<string, NativeAttr>, TensorArg[], TensorArg[], RegExp][] = [
    ["transpose", { perm: [0, 0] }, [{ shape: [2, 2] }], [{ shape: [2, 2] }], /perm is not a permutation/],
    ["slice", { begin: [0, 3], step: [1, 1] }, [{ shape: [2, 4] }], [{ shape: [2, 2] }], /outside the input/],
    ["slice", { begin: [0, 0], step: [1, 0] }, [{ shape: [2, 4] }], [{ shape: [2, 2] }], /step is 0/],
    ["concat", { axis: 1 }, [{ shape: [2, 1] }, { shape: [3, 1] }], [{ shape: [2, 2] }], /differ off the concat axis/],
    ["split", { axis: 0 }, [{ shape: [4] }], [{ shape: [1] }, { shape: [2] }], /do not add up/],
    ["gather", { axis: 0, indices: [5], indicesShape: [1] }, [{ shape: [3] }], [{ shape: [1] }], /out of range/],
    ["pad", { padsBegin: [3], padsEnd: [0], mode: "reflect" }, [{ shape: [3] }], [{ shape: [6] }], /too large/],
    ["pad", { padsBegin: [1], padsEnd: [0], mode: "wrap" }, [{ shape: [3] }], [{ shape: [4] }], /unknown mode/],
    ["interpolate", { mode: "cubic", scales: [2] }, [{ shape: [3] }], [{ shape: [6] }], /unsupported mode/],
    [
      "detection_output",
      { ...SSD, varianceEncodedInTarget: 0 } as unknown as Record<string, NativeAttr>,
      [{ shape: [1, 8] }, { shape: [1, 4] }, { shape: [1, 1, 8], data: new Float32Array(8) }],
      [{ shape: [1, 1, 200, 7] }],
      /no variances/,
    ],
    [
      "detection_output",
      SSD as unknown as Record<string, NativeAttr>,
      [{ shape: [1, 8] }, { shape: [1, 6] }, { shape: [1, 2, 8], data: new Float32Array(16) }],
      [{ shape: [1, 1, 200, 7] }],
      /conf holds 6 scores/,
    ],
  ];
  for (const [type, attrs, ins, outs, reason] of bad) {
    assert.throws(
      () => singleOp(type, attrs, ins, outs, 1),
      (e: Error) => e.message.includes(`test_${type}`) && reason.test(e.message),
      `${type} should reject ${JSON.stringify(attrs)}`,
    );
  }
});
