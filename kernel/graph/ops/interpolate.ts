import { attrInts, attrStr } from "../attrs";
import type { InferCtx, OpDef } from "./types";
import { constInts, expectInputs, fail, normAxis } from "./util";

/** Interpolate-1: `axes` attribute, second input = the new sizes of those axes. */
function inferV1(ctx: InferCtx): number[] {
  expectInputs(ctx, 2);
  const x = ctx.shapes[0];
  const axes = attrInts(ctx.node.attrs, "axes").map((a) => normAxis(ctx, a, x.length));
  const sizes = constInts(ctx, 1, "target_spatial_shape");
  if (sizes.length !== axes.length) fail(ctx, `target_spatial_shape [${sizes}] must have one value per axis [${axes}]`);
  const out = [...x];
  axes.forEach((ax, i) => (out[ax] = sizes[i]));
  return out;
}

/**
 * Added before flooring a scaled size, as OpenVINO's shape inference does: a float32 scale such as
 * 2.1 is stored as 2.0999999, so 30·2.1 comes out as 62.999996 and a plain floor would give 62, not 63.
 */
const SCALED_SIZE_EPSILON = 1e-5;

/**
 * Interpolate-4 (data, sizes, scales[, axes]) and -11 (data, scales_or_sizes[, axes]). Scales apply
 * to the padded input and are floored with SCALED_SIZE_EPSILON, as OpenVINO does.
 */
function inferV4(ctx: InferCtx, v11: boolean): number[] {
  if (v11) expectInputs(ctx, 2, 3);
  else expectInputs(ctx, 3, 4);
  const x = ctx.shapes[0];
  const r = x.length;
  const pb = attrInts(ctx.node.attrs, "pads_begin", []);
  const pe = attrInts(ctx.node.attrs, "pads_end", []);
  const padded = x.map((d, i) => d + (pb[i] ?? 0) + (pe[i] ?? 0));
  const axesInput = v11 ? 2 : 3;
  const axes =
    ctx.node.inputs.length > axesInput
      ? constInts(ctx, axesInput, "axes").map((a) => normAxis(ctx, a, r))
      : Array.from({ length: r }, (_, i) => i);
  const mode = attrStr(ctx.node.attrs, "shape_calculation_mode", "sizes").toLowerCase();
  const out = [...padded];
  if (mode === "sizes") {
    const sizes = constInts(ctx, 1, "sizes");
    if (sizes.length !== axes.length) fail(ctx, `sizes [${sizes}] must have one value per axis [${axes}]`);
    axes.forEach((ax, i) => (out[ax] = sizes[i]));
  } else if (mode === "scales") {
    const scales = constInts(ctx, v11 ? 1 : 2, "scales");
    if (scales.length !== axes.length) fail(ctx, `scales [${scales}] must have one value per axis [${axes}]`);
    axes.forEach((ax, i) => (out[ax] = Math.floor(Math.fround(padded[ax] * Math.fround(scales[i])) + SCALED_SIZE_EPSILON)));
  } else {
    fail(ctx, `unknown shape_calculation_mode '${mode}'`);
  }
  if (out.some((d) => d <= 0)) fail(ctx, `interpolated shape [${out}] is not positive`);
  return out;
}

const interpolate: OpDef = {
  type: "Interpolate",
  infer(ctx) {
    const v = ctx.node.version;
    const v1 = v === "opset1" || (v !== "opset4" && v !== "opset11" && ctx.node.attrs.axes !== undefined);
    const shape = v1 ? inferV1(ctx) : inferV4(ctx, v === "opset11");
    return [{ shape, dtype: ctx.dtypes[0] }];
  },
};

export const interpolateOps: OpDef[] = [interpolate];
