/**
 * FakeQuantize → the native `fake_quantize` op. The four limits are packed into one constant
 * [4, period]: along the data (row-major) they repeat with that period once `inner` elements
 * share each value, so both plugins index them as ((i / inner) % period) with no broadcasting.
 */
import { ConstTensor, Node } from "../../graph/graph";
import { broadcastIndex, numel } from "../../graph/ops/util";
import { fakeQuantizeLevels } from "../../graph/ops/quantize";
import { LowerFn } from "./lowering";

/** The limits right-aligned to the data's rank (a scalar or rank-0 limit becomes all ones). */
function padded(t: ConstTensor, rank: number): number[] {
  const s = t.shape.slice(Math.max(0, t.shape.length - rank));
  return [...new Array<number>(rank - s.length).fill(1), ...s];
}

const fakeQuantize: LowerFn = (L, n: Node) => {
  const data = L.inShape(n, 0);
  const rank = data.length;
  const limits = [1, 2, 3, 4].map((i) => L.requireConst(n, i, ["input_low", "input_high", "output_low", "output_high"][i - 1]));
  // The axes where some limit varies span [first, last]; the period covers them all (axes in
  // between where no limit varies are materialized, which keeps the indexing one division).
  const varying = limits.map((t) => padded(t, rank)).flatMap((s) => s.flatMap((d, ax) => (d > 1 ? [ax] : [])));
  const first = varying.length ? Math.min(...varying) : rank;
  const last = varying.length ? Math.max(...varying) : rank - 1;
  const span = data.slice(first, last + 1);
  const period = numel(span);
  const inner = numel(data.slice(last + 1));
  const packed = new Float32Array(4 * period);
  limits.forEach((t, k) => {
    const s = padded(t, rank).slice(first, last + 1);
    const idx = broadcastIndex(s, span);
    for (let j = 0; j < period; j++) packed[k * period + j] = t.data[idx[j]];
  });
  const lim = L.constTensor([4, period], packed);
  L.emit(n, "fake_quantize", [L.tensor(n.inputs[0]), lim], [L.out(n)], {
    levels: fakeQuantizeLevels(n.attrs, L.file, n.name),
    inner,
  });
};

export const QUANTIZE: Record<string, LowerFn> = { FakeQuantize: fakeQuantize };
