/**
 * Cubic Interpolate as matrix products: a cubic resize is linear and separable, so resizing axis d
 * multiplies by a constant [out, in] matrix of cubic weights (ONNX Resize's kernel with coefficient
 * a, taps at floor(x)-1 .. floor(x)+2 clamped to the edge). The last axis is x · Aᵀ, the one before
 * it A · x, both the native matmul; other axes are not resized this way.
 */
import { Node } from "../../graph/graph";
import { attrNum, attrStr } from "../../graph/attrs";
import { UnsupportedError } from "../../errors";
import { Lowering } from "./lowering";
import { table } from "../../dict";

/** The cubic convolution kernel of Keys with coefficient a, at distance d. */
function kernel(d: number, a: number): number {
  const x = Math.abs(d);
  if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
  if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
  return 0;
}

type ToInput = (o: number, scale: number, inDim: number, outDim: number) => number;

/** Output coordinate → input coordinate, as ONNX Resize and Interpolate-4 define them. */
const COORDS: Record<string, ToInput> = table({
  half_pixel: (o, scale) => (o + 0.5) / scale - 0.5,
  pytorch_half_pixel: (o, scale, _inDim, outDim) => (outDim > 1 ? (o + 0.5) / scale - 0.5 : 0),
  asymmetric: (o, scale) => o / scale,
  align_corners: (o, _scale, inDim, outDim) => (outDim === 1 ? 0 : (o * (inDim - 1)) / (outDim - 1)),
});

/** Row-major [outDim, inDim] weights, transposed to [inDim, outDim] when `transposed`. */
function cubicMatrix(
  inDim: number,
  outDim: number,
  scale: number,
  toInput: ToInput,
  a: number,
  transposed: boolean,
): Float32Array {
  const m = new Float32Array(inDim * outDim);
  for (let o = 0; o < outDim; o++) {
    const x = toInput(o, scale, inDim, outDim);
    const i0 = Math.floor(x);
    const t = x - i0;
    for (let k = -1; k <= 2; k++) {
      const i = Math.min(Math.max(i0 + k, 0), inDim - 1);
      const w = kernel(k - t, a);
      m[transposed ? i * outDim + o : o * inDim + i] += w;
    }
  }
  return m;
}

export function cubicInterpolate(L: Lowering, n: Node, scales: number[]): void {
  const xs = L.inShape(n, 0);
  const ys = n.outputs[0].shape;
  const r = xs.length;
  const coord = attrStr(n.attrs, "coordinate_transformation_mode", "half_pixel").toLowerCase();
  const toInput = COORDS[coord];
  if (!toInput)
    throw new UnsupportedError(
      L.file,
      `cubic Interpolate with coordinate_transformation_mode '${coord}' is not implemented`,
      n.name,
    );
  const resized = xs.map((d, i) => d !== ys[i] || scales[i] !== 1);
  if (r < 2 || resized.slice(0, r - 2).some(Boolean))
    throw new UnsupportedError(L.file, "cubic Interpolate is implemented for the last two axes only", n.name);
  const a = attrNum(n.attrs, "cube_coeff", -0.75);
  const batched = L.isBatched(n.inputs[0]);
  let x = L.tensor(n.inputs[0]);
  let shape = [...xs];
  const steps = [r - 1, r - 2].filter((d) => resized[d]);
  if (steps.length === 0) return L.emit(n, "copy", [x], [L.out(n)], {});
  steps.forEach((d, k) => {
    const last = k === steps.length - 1;
    const next = shape.map((v, i) => (i === d ? ys[d] : v));
    const y = last ? L.out(n) : L.activation(next, batched);
    const inner = d === r - 1;
    const m = L.constTensor(inner ? [xs[d], ys[d]] : [ys[d], xs[d]], cubicMatrix(xs[d], ys[d], scales[d], toInput, a, inner));
    L.emit(last ? n : { ...n, name: `${n.name}/axis${d}` }, "matmul", inner ? [x, m] : [m, x], [y], {
      transposeA: 0,
      transposeB: 0,
    });
    x = y;
    shape = next;
  });
}
