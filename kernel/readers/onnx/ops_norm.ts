/**
 * LayerNormalization (opset 17) and InstanceNormalization, written as the ReduceMean / Subtract /
 * Multiply / Sqrt / Divide chain exporters produce before opset 17: the plugins run every step
 * natively, and the shape-aware analysis proves each one (reductions over non-batch axes).
 */
import { PortRef } from "../../graph/graph";
import { NUMPY, ReadCtx } from "./context";
import { bool } from "./format";

/** (x - mean) / sqrt(var + eps) over `axes`, with the biased variance ONNX specifies. */
function normalize(c: ReadCtx, x: PortRef, axes: number[], epsilon: number): PortRef {
  const keep = { keep_dims: bool(true) };
  const mean = c.op("ReduceMean", [x, c.i64("axes", axes)], keep, "mean");
  const centered = c.op("Subtract", [x, mean], NUMPY, "centered");
  const squares = c.op("Multiply", [centered, centered], NUMPY, "squares");
  const variance = c.op("ReduceMean", [squares, c.i64("var_axes", axes)], keep, "variance");
  const shifted = c.op("Add", [variance, c.f32("epsilon", [epsilon], [])], NUMPY, "var_eps");
  return c.op("Divide", [centered, c.op("Sqrt", [shifted], {}, "std")], NUMPY, "normalized");
}

export function layerNorm(c: ReadCtx): PortRef[] {
  const x = c.input(0, "X");
  const axis = c.int("axis", -1);
  // Negative axes need no rank: axis -k normalizes the last k axes.
  const from = axis < 0 ? axis : axis - c.requireRank(0, `axis ${axis}`);
  if (from >= 0) throw c.unsupported(`axis ${axis} is outside the input's rank`);
  const axes = Array.from({ length: -from }, (_, i) => from + i);
  const y = c.op(
    "Multiply",
    [normalize(c, x, axes, c.float("epsilon", 1e-5)), c.input(1, "Scale")],
    NUMPY,
    c.opt(2) ? "scaled" : "",
  );
  return c.opt(2) ? [c.op("Add", [y, c.input(2, "B")], NUMPY)] : [y];
}

export function instanceNorm(c: ReadCtx): PortRef[] {
  const x = c.input(0, "input");
  const r = c.requireRank(0, "the spatial axes");
  if (r < 3) throw c.unsupported(`the input has rank ${r}; InstanceNormalization needs N, C and at least one spatial axis`);
  const spatial = Array.from({ length: r - 2 }, (_, i) => i + 2);
  // scale and B are [C]: as [C, 1, ...] they broadcast over the spatial axes.
  const perChannel = c.i64("channel_shape", [-1, ...spatial.map(() => 1)]);
  const scale = c.op("Reshape", [c.input(1, "scale"), perChannel], { special_zero: "false" }, "scale");
  const bias = c.op("Reshape", [c.input(2, "B"), perChannel], { special_zero: "false" }, "bias");
  const y = c.op("Multiply", [normalize(c, x, spatial, c.float("epsilon", 1e-5)), scale], NUMPY, "scaled");
  return [c.op("Add", [y, bias], NUMPY)];
}
