/**
 * The bench's output check: every batched dynbatch request it times is first compared with
 * onnxruntime on the same inputs, so a fast but wrong kernel fails the run instead of topping
 * the table.
 */
import { DynbatchError } from "../errors";

/**
 * Largest accepted error (see relativeError). Both engines run the same FP32 weights (an FP16 IR
 * is exported with FP32 initializers), so this is the FP32 bound of the ORT oracle tests
 * (test/runtime/onnxruntime_oracle.test.ts, test/serialize/onnx.test.ts); seen: 1e-21 to 1e-5.
 */
export const ORT_TOLERANCE = 1e-4;

/**
 * A dynbatch output differs from onnxruntime's on the same inputs by more than the tolerance, or
 * has another shape. `error` is Infinity for a shape mismatch or a missing output.
 * Its code is NATIVE: the wrong numbers come from the backend that computed them.
 */
export class BenchMismatchError extends DynbatchError {
  constructor(
    readonly model: string,
    readonly batch: number,
    readonly mode: string,
    readonly output: string,
    readonly error: number,
    readonly tolerance: number,
    detail = `max error ${error.toExponential(2)} > ${tolerance} (|dynbatch − ORT| / max |ORT|)`,
  ) {
    super("NATIVE", `${model} n=${batch} ${mode}: output '${output}' differs from onnxruntime: ${detail}`);
  }
}

/**
 * max |ours − ref| / max |ref|: relative to the output's scale, so logits in the tens and
 * probabilities near zero are judged alike; absolute when `ref` is all zeros. NaN anywhere gives NaN.
 */
export function relativeError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (ours.length !== ref.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    // Math.max drops nothing: a NaN difference or reference makes the result NaN.
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

export interface OutputTensor {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/**
 * Compares dynbatch's outputs (by name, in the network's order) with onnxruntime's, matched by
 * name, else by position (an ONNX file may name them differently); returns the largest error.
 * Throws BenchMismatchError on the first output past `tolerance`, of another shape, or missing.
 */
export function compareWithOrt(
  where: { model: string; batch: number; mode: string },
  ours: Record<string, OutputTensor>,
  ort: Record<string, OutputTensor>,
  ortNames: readonly string[],
  tolerance = ORT_TOLERANCE,
): number {
  const fail = (output: string, error: number, detail?: string) =>
    new BenchMismatchError(where.model, where.batch, where.mode, output, error, tolerance, detail);
  let worst = 0;
  for (const [k, [name, got]] of Object.entries(ours).entries()) {
    const ref = ort[name] ?? ort[ortNames[k]];
    if (!ref)
      throw fail(name, Infinity, `onnxruntime has no output '${name}' and no output #${k + 1} (it has ${ortNames.join(", ")})`);
    if (got.shape.join() !== ref.shape.join())
      throw fail(name, Infinity, `shape [${got.shape.join(",")}], onnxruntime's [${ref.shape.join(",")}]`);
    const err = relativeError(got.data, ref.data);
    // Written so that NaN fails too.
    if (!(err <= tolerance)) throw fail(name, err);
    worst = Math.max(worst, err);
  }
  return worst;
}
