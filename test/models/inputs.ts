/**
 * Seeded inputs for the real models: uniform noise for feature vectors, and synthetic text-line
 * images for the OCR models. Noise alone drives PaddleOCR's detector to an all-background map
 * (every score near 0, a range of 1e-6), where a relative error says nothing; dark strokes on a
 * light page give it text to find, as a photo of a page would.
 */
import { uniform } from "../../kernel/random";
import { numel } from "../helpers/models";

/** How a model's input is made: noise in [lo, hi), or an RGB page normalized per channel as the package's own preprocessing does. */
export type InputKind =
  | { kind: "uniform"; lo: number; hi: number }
  | { kind: "page"; mean: [number, number, number]; std: [number, number, number] };

/** ImageNet mean/std on [0, 1] pixels: PaddleOCR's detector preprocessing. */
export const DET_NORM: InputKind = { kind: "page", mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** (x - 0.5) / 0.5 on [0, 1] pixels: PaddleOCR's recognizer and direction classifier. */
export const REC_NORM: InputKind = { kind: "page", mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/** One H×W grey page in [0, 1]: light paper with noise, and rows of dark glyph-sized boxes. */
function page(h: number, w: number, next: () => number): Float32Array {
  const px = new Float32Array(h * w);
  for (let i = 0; i < px.length; i++) px[i] = 0.85 + 0.1 * next();
  const lineH = Math.max(6, Math.round(Math.min(h, 48) * (0.35 + 0.3 * next())));
  for (let y0 = Math.round(next() * lineH); y0 + lineH <= h; y0 += Math.round(lineH * (1.4 + next()))) {
    let x = Math.round(next() * 8);
    while (x < w - 4) {
      const gw = Math.max(2, Math.round(lineH * (0.3 + 0.6 * next())));
      const top = y0 + Math.round(next() * lineH * 0.3);
      const bottom = Math.min(h, y0 + lineH - Math.round(next() * lineH * 0.2));
      const ink = 0.05 + 0.25 * next();
      for (let y = top; y < bottom; y++) for (let k = x; k < Math.min(w, x + gw); k++) px[y * w + k] = ink;
      x += gw + 1 + Math.round(next() * lineH * (next() < 0.15 ? 2 : 0.4));
    }
  }
  return px;
}

/** `n` samples of `sample` (CHW for pages), each different, the same for the same seed on every machine. */
export function makeInput(kind: InputKind, n: number, sample: number[], seed: number): Float32Array {
  const next = uniform(seed);
  const per = numel(sample);
  const out = new Float32Array(n * per);
  if (kind.kind === "uniform") {
    for (let i = 0; i < out.length; i++) out[i] = kind.lo + next() * (kind.hi - kind.lo);
    return out;
  }
  const [c, h, w] = sample;
  for (let s = 0; s < n; s++) {
    const grey = page(h, w, next);
    // A slight colour cast per channel, so the three channels differ as in a photo.
    for (let ch = 0; ch < c; ch++) {
      const cast = 0.95 + 0.1 * next();
      const base = s * per + ch * h * w;
      for (let i = 0; i < h * w; i++) out[base + i] = (Math.min(1, grey[i] * cast) - kind.mean[ch]) / kind.std[ch];
    }
  }
  return out;
}
