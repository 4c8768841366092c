/**
 * FakeQuantize → QuantizeLinear + DequantizeLinear (QDQ), the form onnxruntime's quantizer
 * writes. Exact only where the FakeQuantize grid is an integer type's grid: output limits equal
 * to input limits, levels 256 as uint8 (zero point = −input_low / scale, an integer in 0..255)
 * or levels 255 as int8 symmetric (zero point 0, clipped to ±127 first because QuantizeLinear
 * saturates at −128). Limits may vary along one axis (per-axis QDQ); anything else is refused.
 */
import { ConstTensor } from "../../graph/graph";
import { attrNum } from "../../graph/attrs";
import { broadcastIndex, numel } from "../../graph/ops/util";
import { Converter, WriteCtx, attr } from "./context";

/** How close (in units of a quantization step) the zero point and symmetric limits must land on the integer grid. */
const GRID_TOLERANCE = 1e-3;

/** The limits along `axis` (one value per index) after numpy broadcast to the data's shape. */
function alongAxis(t: ConstTensor, data: number[], axis: number): number[] {
  const full = broadcastIndex(t.shape, data);
  const stride = numel(data.slice(axis + 1));
  const count = axis < 0 ? 1 : data[axis];
  return Array.from({ length: count }, (_, j) => t.data[full[j * stride]]);
}

function limitsOf(c: WriteCtx): { axis: number; values: number[][] } {
  const data = c.shape(0);
  const names = ["input_low", "input_high", "output_low", "output_high"];
  const ts = [1, 2, 3, 4].map((i) => {
    const t = c.c(i);
    if (!t) throw c.unsupported(`${names[i - 1]} (input ${i}) must be a constant`);
    return t;
  });
  // Axes (of the data) along which some limit varies.
  const varying = new Set<number>();
  for (const t of ts) t.shape.forEach((d, k) => d > 1 && varying.add(data.length - t.shape.length + k));
  if (varying.size > 1)
    throw c.unsupported(`its limits vary along axes ${[...varying].join(", ")}; QDQ quantizes along one axis at most`);
  const axis = varying.size ? [...varying][0] : -1;
  return { axis, values: ts.map((t) => alongAxis(t, data.length ? data : [1], axis)) };
}

export const fakeQuantize: Converter = (c) => {
  const levels = attrNum(c.n.attrs, "levels");
  // Odd levels up to 255 around zero are int8 symmetric: 255 (8 bits), 129 (7-bit weights, the overflow fix).
  const symmetric = levels % 2 === 1 && levels >= 3 && levels <= 255;
  if (levels !== 256 && !symmetric)
    throw c.unsupported(`levels ${levels} is neither 256 (uint8) nor odd up to 255 (int8 symmetric)`);
  const { axis, values } = limitsOf(c);
  const [il, ih, ol, oh] = values;
  const scale: number[] = [];
  const zero: number[] = [];
  for (let j = 0; j < il.length; j++) {
    if (il[j] !== ol[j] || ih[j] !== oh[j]) throw c.unsupported("its output limits differ from its input limits");
    const s = (ih[j] - il[j]) / (levels - 1);
    if (!(s > 0)) throw c.unsupported(`input_high equals input_low (${il[j]}): a zero scale`);
    const z = levels === 256 ? -il[j] / s : 0;
    const onGrid = levels === 256 ? Math.abs(z - Math.round(z)) < GRID_TOLERANCE : Math.abs(il[j] + ih[j]) < GRID_TOLERANCE * s;
    if (!onGrid || Math.round(z) < 0 || Math.round(z) > 255) {
      throw c.unsupported(
        levels === 256
          ? `limits [${il[j]}, ${ih[j]}] put the uint8 zero point at ${z}, not an integer in 0..255`
          : `limits [${il[j]}, ${ih[j]}] are not symmetric, as int8 with ${levels} levels needs`,
      );
    }
    scale.push(s);
    zero.push(Math.round(z));
  }
  const shape = axis < 0 ? [] : [scale.length];
  const sName = c.w.constant(`${c.n.name}/scale`, { dtype: "f32", shape, data: Float32Array.from(scale) });
  const zName = c.w.constant(`${c.n.name}/zero_point`, {
    dtype: levels === 256 ? "u8" : "i8",
    shape,
    data: Float64Array.from(zero),
  });
  const axisAttr = axis < 0 ? [] : [attr.int("axis", axis)];
  let x = c.in(0);
  if (symmetric) {
    const lo = axis < 0 ? c.scalar("low", il[0]) : c.w.constant(`${c.n.name}/low`, lowHigh(il, c.shape(0), axis));
    const hi = axis < 0 ? c.scalar("high", ih[0]) : c.w.constant(`${c.n.name}/high`, lowHigh(ih, c.shape(0), axis));
    x = axis < 0 ? c.step("Clip", [x, lo, hi], "clip") : c.step("Min", [c.step("Max", [x, lo], "max"), hi], "clip");
  }
  const q = c.step("QuantizeLinear", [x, sName, zName], "quantized", axisAttr);
  c.emit("DequantizeLinear", [q, sName, zName], axisAttr);
};

/** Per-axis bounds shaped to broadcast along `axis` of the data (Clip takes scalars only). */
function lowHigh(v: number[], data: number[], axis: number): ConstTensor {
  const shape = data.map((d, k) => (k === axis ? d : 1)).slice(axis);
  return { dtype: "f32", shape, data: Float32Array.from(v) };
}
