/** Paths of the bundled models and media, for tests. */
import * as path from "path";
import { uniform } from "../../kernel/random";

export { numel } from "../../kernel/graph/ops/util";

export const ROOT = path.resolve(__dirname, "../../..");
export const MODELS = path.join(ROOT, "models");
export const MEDIA = path.join(ROOT, "media");

export function irPath(model: string, precision: "FP16" | "FP32" = "FP16"): string {
  return path.join(MODELS, model, precision, `${model}.xml`);
}

export const OPEN_CLOSED_EYE_ONNX = path.join(MODELS, "open-closed-eye-0001", "onnx", "open-closed-eye.onnx");

/** Models whose topology allows a dynamic batch (shape-aware analysis), with their input name. */
export const DYNAMIC_MODELS = ["landmarks-regression-retail-0009", "head-pose-estimation-adas-0001", "open-closed-eye-0001"];

/** Deterministic pseudo-random values in [lo, hi). */
export function randomData(n: number, seed = 1, lo = 0, hi = 255): Float32Array {
  const next = uniform(seed);
  return Float32Array.from({ length: n }, () => lo + next() * (hi - lo));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest |a−b| / max(1, |b|): absolute for small values, relative for large ones. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}
