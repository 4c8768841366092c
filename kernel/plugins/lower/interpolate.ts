/** Interpolate (v1 and v4): mode, coordinate transform, nearest rounding and per-axis scales. */
import { Node } from "../../graph/graph";
import { attrBool, attrStr } from "../../graph/attrs";
import { UnsupportedError } from "../../errors";
import { Lowering, LowerFn, normAxis } from "./lowering";
import { cubicInterpolate } from "./cubic";

function interpolate(L: Lowering, n: Node): void {
  const xs = L.inShape(n, 0);
  const ys = n.outputs[0].shape;
  const modeRaw = attrStr(n.attrs, "mode").toLowerCase();
  const mode = modeRaw === "nearest" ? "nearest" : modeRaw.startsWith("linear") || modeRaw === "bilinear" ? "linear" : "";
  if (!mode && modeRaw !== "cubic")
    throw new UnsupportedError(L.file, `Interpolate mode '${modeRaw}' is not implemented`, n.name);
  const scales = xs.map((d, i) => ys[i] / d);
  const useScales = attrStr(n.attrs, "shape_calculation_mode", "sizes").toLowerCase() === "scales";
  if (useScales && n.inputs.length > 2) {
    const given = L.requireConst(n, 2, "scales").data;
    const axes = n.inputs.length > 3 ? L.constInts(n, 3, "axes") : xs.map((_, i) => i);
    axes.forEach((ax, i) => (scales[normAxis(ax, xs.length)] = given[i]));
  }
  if (modeRaw === "cubic") return cubicInterpolate(L, n, scales);
  const alignCorners = attrBool(n.attrs, "align_corners", false);
  const coord =
    n.attrs.coordinate_transformation_mode ?? (alignCorners ? "align_corners" : mode === "nearest" ? "asymmetric" : "half_pixel");
  L.emit(n, "interpolate", [L.tensor(n.inputs[0])], [L.out(n)], {
    mode,
    coord: coord.toLowerCase(),
    // Interpolate-1 had no nearest_mode and floored; Interpolate-4 defaults to round_prefer_floor.
    nearest: attrStr(n.attrs, "nearest_mode", n.version === "opset1" ? "floor" : "round_prefer_floor").toLowerCase(),
    scales,
  });
}

export const INTERPOLATE: Record<string, LowerFn> = { Interpolate: interpolate };
