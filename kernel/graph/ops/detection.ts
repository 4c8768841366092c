import { attrBool, attrFloats, attrInts, attrNum } from "../attrs";
import { ConstTensor } from "../graph";
import type { InferCtx, OpDef } from "./types";
import { constInts, expectInputs, fail, makeTensor } from "./util";

const f = Math.fround;

interface PriorBoxAttrs {
  minSize: number[];
  maxSize: number[];
  aspectRatio: number[];
  density: number[];
  fixedRatio: number[];
  fixedSize: number[];
  clip: boolean;
  flip: boolean;
  step: number;
  offset: number;
  variance: number[];
  scaleAllSizes: boolean;
  minMaxAspectRatiosOrder: boolean;
}

function priorBoxAttrs(ctx: InferCtx): PriorBoxAttrs {
  const a = ctx.node.attrs;
  const p: PriorBoxAttrs = {
    minSize: attrFloats(a, "min_size", []),
    maxSize: attrFloats(a, "max_size", []),
    aspectRatio: attrFloats(a, "aspect_ratio", []),
    density: attrFloats(a, "density", []),
    fixedRatio: attrFloats(a, "fixed_ratio", []),
    fixedSize: attrFloats(a, "fixed_size", []),
    clip: attrBool(a, "clip", false),
    flip: attrBool(a, "flip", false),
    step: attrNum(a, "step", 0),
    offset: attrNum(a, "offset", 0),
    variance: attrFloats(a, "variance", []),
    scaleAllSizes: attrBool(a, "scale_all_sizes", true),
    // PriorBox-1 has no such attribute and behaves as the PriorBox-8 default (min, max, then ratios).
    minMaxAspectRatiosOrder: attrBool(a, "min_max_aspect_ratios_order", true),
  };
  if (![0, 1, 4].includes(p.variance.length)) fail(ctx, `variance must have 0, 1 or 4 values, got ${p.variance.length}`);
  if (p.density.length > 0 && p.density.length < p.fixedSize.length) {
    fail(ctx, `density needs one value per fixed_size (${p.fixedSize.length})`);
  }
  if (p.fixedSize.length > 0 && p.density.length === 0 && p.aspectRatio.some((r) => Math.abs(r - 1) >= 1e-6)) {
    fail(ctx, "fixed_size with aspect ratios needs density");
  }
  return p;
}

/** Distinct aspect ratios (rounded to 1e-6) including 1 and, with flip, the reciprocals. */
function normalizedRatioCount(p: PriorBoxAttrs): number {
  const set = new Set<number>([1]);
  for (const r of p.aspectRatio) {
    set.add(Math.round(r * 1e6) / 1e6);
    if (p.flip) set.add(Math.round((1 / r) * 1e6) / 1e6);
  }
  return set.size;
}

export function priorBoxCount(p: PriorBoxAttrs): number {
  const ratios = normalizedRatioCount(p);
  let n = p.scaleAllSizes ? ratios * p.minSize.length + p.maxSize.length : ratios + p.minSize.length - 1;
  if (p.fixedSize.length > 0) n = ratios * p.fixedSize.length;
  for (const d of p.density) {
    const d2 = Math.trunc(d) * Math.trunc(d) - 1;
    n += (p.fixedRatio.length > 0 ? p.fixedRatio.length : ratios) * d2;
  }
  return n;
}

function twoInts(ctx: InferCtx, i: number, what: string): [number, number] {
  const v = constInts(ctx, i, what);
  if (v.length !== 2) fail(ctx, `${what} must hold [height, width], got [${v}]`);
  return [v[0], v[1]];
}

const priorBox: OpDef = {
  type: "PriorBox",
  infer(ctx) {
    expectInputs(ctx, 2);
    const [h, w] = twoInts(ctx, 0, "output_size");
    const n = priorBoxCount(priorBoxAttrs(ctx));
    return [{ shape: [2, 4 * h * w * n], dtype: "f32" }];
  },
  fold(ctx) {
    const p = priorBoxAttrs(ctx);
    const [H, W] = twoInts(ctx, 0, "output_size");
    const [IH, IW] = twoInts(ctx, 1, "image_size");
    return [priorBoxValues(p, H, W, IH, IW)];
  },
};

/** Computes PriorBox in float32 arithmetic, box by box in OpenVINO's order. */
function priorBoxValues(p: PriorBoxAttrs, H: number, W: number, IH: number, IW: number): ConstTensor {
  const numPriors = priorBoxCount(p);
  const channel = 4 * H * W * numPriors;
  const out = new Float32Array(2 * channel);
  // Unlike the count, the generated list keeps first occurrences in order and does not dedupe flips.
  const ratios = [1];
  for (const r of p.aspectRatio) {
    if (ratios.some((e) => Math.abs(r - e) < 1e-6)) continue;
    ratios.push(f(r));
    if (p.flip) ratios.push(f(1 / r));
  }
  let step = f(p.step);
  let minSize = p.minSize.map(f);
  if (!p.scaleAllSizes) {
    // MXNet-style PriorBox: sizes and step are fractions of the image height.
    step = step === -1 ? f(IH / H) : f(step * IH);
    minSize = minSize.map((s) => f(s * IH));
  }
  const iwi = f(1 / IW);
  const ihi = f(1 / IH);
  const stepX = step === 0 ? f(IW / W) : step;
  const stepY = step === 0 ? f(IH / H) : step;
  let idx = 0;
  const put = (cx: number, cy: number, bw: number, bh: number, clip: boolean) => {
    const v = [f(f(cx - bw) * iwi), f(f(cy - bh) * ihi), f(f(cx + bw) * iwi), f(f(cy + bh) * ihi)];
    if (clip) {
      v[0] = Math.max(v[0], 0);
      v[1] = Math.max(v[1], 0);
      v[2] = Math.min(v[2], 1);
      v[3] = Math.min(v[3], 1);
    }
    for (const x of v) out[idx++] = x;
  };
  const densityBoxes = (cx: number, cy: number, s: number, bw: number, bh: number) => {
    const fixed = Math.trunc(p.fixedSize[s]);
    const density = Math.trunc(p.density[s]);
    const shift = Math.trunc(p.fixedSize[s] / density);
    for (let r = 0; r < density; r++) {
      for (let c = 0; c < density; c++) {
        const x = f(cx - Math.trunc(fixed / 2) + shift / 2 + c * shift);
        const y = f(cy - Math.trunc(fixed / 2) + shift / 2 + r * shift);
        put(x, y, bw, bh, true);
      }
    }
  };
  for (let h = 0; h < H; h++) {
    for (let w = 0; w < W; w++) {
      const cx = step === 0 ? f(f(w + 0.5) * stepX) : f(f(p.offset + w) * step);
      const cy = step === 0 ? f(f(h + 0.5) * stepY) : f(f(p.offset + h) * step);
      for (let s = 0; s < p.fixedSize.length; s++) {
        const half = f(Math.trunc(p.fixedSize[s]) * 0.5);
        if (p.fixedRatio.length > 0) {
          for (const fr of p.fixedRatio) {
            const ar = f(Math.sqrt(fr));
            densityBoxes(cx, cy, s, f(f(p.fixedSize[s] * 0.5) * ar), f(f(p.fixedSize[s] * 0.5) / ar));
          }
        } else {
          if (p.density.length > 0) densityBoxes(cx, cy, s, half, half);
          for (const r of ratios) {
            if (Math.abs(r - 1) < 1e-6) continue;
            const ar = f(Math.sqrt(r));
            densityBoxes(cx, cy, s, f(f(p.fixedSize[s] * 0.5) * ar), f(f(p.fixedSize[s] * 0.5) / ar));
          }
        }
      }
      for (let m = 0; m < minSize.length; m++) {
        const half = f(minSize[m] * 0.5);
        put(cx, cy, half, half, false);
        const maxBox = () => {
          if (m < p.maxSize.length) {
            const b = f(f(Math.sqrt(f(minSize[m] * f(p.maxSize[m])))) * 0.5);
            put(cx, cy, b, b, false);
          }
        };
        const ratioBoxes = () => {
          if (!p.scaleAllSizes && m !== minSize.length - 1) return;
          const base = p.scaleAllSizes ? minSize[m] : minSize[0];
          for (const r of ratios) {
            if (Math.abs(r - 1) < 1e-6) continue;
            const ar = f(Math.sqrt(r));
            put(cx, cy, f(f(base * 0.5) * ar), f(f(base * 0.5) / ar), false);
          }
        };
        if (p.minMaxAspectRatiosOrder) {
          maxBox();
          ratioBoxes();
        } else {
          ratioBoxes();
          maxBox();
        }
      }
    }
  }
  if (p.clip) for (let i = 0; i < channel; i++) out[i] = Math.min(Math.max(out[i], 0), 1);
  const variance = p.variance.length === 0 ? [0.1] : p.variance;
  for (let i = 0; i < channel; i++) out[channel + i] = variance.length === 1 ? variance[0] : variance[i % 4];
  return { dtype: "f32", shape: [2, channel], data: out };
}

function clusteredAttrs(ctx: InferCtx) {
  const a = ctx.node.attrs;
  const widths = attrFloats(a, "width", [1]);
  const heights = attrFloats(a, "height", [1]);
  if (widths.length !== heights.length) fail(ctx, `width (${widths.length}) and height (${heights.length}) differ in length`);
  const variance = attrFloats(a, "variance", []);
  if (![0, 1, 4].includes(variance.length)) fail(ctx, `variance must have 0, 1 or 4 values, got ${variance.length}`);
  return {
    widths,
    heights,
    clip: attrBool(a, "clip", true),
    step: attrNum(a, "step", 0),
    stepW: attrNum(a, "step_w", 0),
    stepH: attrNum(a, "step_h", 0),
    offset: attrNum(a, "offset", 0.5),
    variance: variance.length === 0 ? [0.1] : variance,
  };
}

const priorBoxClustered: OpDef = {
  type: "PriorBoxClustered",
  infer(ctx) {
    expectInputs(ctx, 2);
    const [h, w] = twoInts(ctx, 0, "output_size");
    return [{ shape: [2, 4 * h * w * clusteredAttrs(ctx).widths.length], dtype: "f32" }];
  },
  fold(ctx) {
    const p = clusteredAttrs(ctx);
    const [H, W] = twoInts(ctx, 0, "output_size");
    const [IH, IW] = twoInts(ctx, 1, "image_size");
    const n = p.widths.length;
    const channel = 4 * H * W * n;
    const out = new Float32Array(2 * channel);
    let stepW = f(p.stepW === 0 ? p.step : p.stepW);
    let stepH = f(p.stepH === 0 ? p.step : p.stepH);
    if (stepW === 0 && stepH === 0) {
      stepW = f(IW / W);
      stepH = f(IH / H);
    }
    const clip = (v: number) => (p.clip ? Math.min(Math.max(v, 0), 1) : v);
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const cx = f(f(w + p.offset) * stepW);
        const cy = f(f(h + p.offset) * stepH);
        for (let s = 0; s < n; s++) {
          const bw = f(p.widths[s]);
          const bh = f(p.heights[s]);
          const i = ((h * W + w) * n + s) * 4;
          out[i] = clip(f(f(cx - f(bw / 2)) / IW));
          out[i + 1] = clip(f(f(cy - f(bh / 2)) / IH));
          out[i + 2] = clip(f(f(cx + f(bw / 2)) / IW));
          out[i + 3] = clip(f(f(cy + f(bh / 2)) / IH));
          for (let j = 0; j < 4; j++) out[channel + i + j] = p.variance.length === 1 ? p.variance[0] : p.variance[j];
        }
      }
    }
    return [makeTensor("f32", [2, channel], out)];
  },
};

/** DetectionOutput-1/8: [1, 1, rows, 7]; rows = N·keep_top_k, or N·top_k·classes when keep_top_k is -1. */
const detectionOutput: OpDef = {
  type: "DetectionOutput",
  infer(ctx) {
    expectInputs(ctx, 3, 5);
    const a = ctx.node.attrs;
    const [loc, conf, priors] = ctx.shapes;
    if (loc.length !== 2 || conf.length !== 2 || priors.length !== 3) {
      fail(ctx, `expected box_logits [N, ...], class_preds [N, ...], proposals [B, C, P]; got [${loc}], [${conf}], [${priors}]`);
    }
    const n = loc[0];
    if (conf[0] !== n) fail(ctx, `class_preds batch ${conf[0]} differs from box_logits batch ${n}`);
    const priorSize = attrBool(a, "normalized", false) ? 4 : 5;
    if (priors[2] % priorSize !== 0) fail(ctx, `proposals last dim ${priors[2]} is not a multiple of ${priorSize}`);
    const numPriors = priors[2] / priorSize;
    let numClasses: number;
    if (a.num_classes !== undefined && ctx.node.version !== "opset8") numClasses = attrNum(a, "num_classes");
    else {
      if (numPriors === 0 || conf[1] % numPriors !== 0) fail(ctx, `class_preds [${conf}] does not fit ${numPriors} priors`);
      numClasses = conf[1] / numPriors;
    }
    if (conf[1] !== numPriors * numClasses) {
      fail(ctx, `class_preds [${conf}] must have ${numPriors}·${numClasses} values per image`);
    }
    const locClasses = attrBool(a, "share_location", true) ? 1 : numClasses;
    if (loc[1] !== numPriors * locClasses * 4) {
      fail(ctx, `box_logits [${loc}] must have ${numPriors}·${locClasses}·4 values per image`);
    }
    const keepTopK = attrInts(a, "keep_top_k")[0];
    const topK = attrNum(a, "top_k", -1);
    let rows: number;
    if (keepTopK > 0) rows = n * keepTopK;
    else if (topK > 0) rows = n * topK * numClasses;
    else rows = n * numPriors * numClasses;
    return [{ shape: [1, 1, rows, 7], dtype: ctx.dtypes[0] }];
  },
};

export const detectionOps: OpDef[] = [priorBox, priorBoxClustered, detectionOutput];
