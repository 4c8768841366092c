/** StridedSlice, Interpolate, Pad and Split: the ops whose ONNX form differs in more than a name. */
import { attrBool, attrInts, attrNum, attrStr } from "../../graph/attrs";
import { ONNX_DTYPE } from "../../readers/onnx/proto";
import { WriteCtx, attr } from "./context";

/** Large enough to mean "to the end" in Slice, exact in a double and in int64. */
const BIG = 2 ** 62;

/** StridedSlice without new axes or ellipsis: Slice with "to the end" sentinels, then Squeeze the shrunk axes. */
export function stridedSlice(c: WriteCtx): void {
  const begins = c.values(1, "begin");
  const ends = c.values(2, "end");
  const strides = c.n.inputs.length > 3 ? c.values(3, "stride") : begins.map(() => 1);
  const bit = (k: string) => {
    const m = attrInts(c.n.attrs, k, []);
    return (i: number) => (m[i] ?? 0) !== 0;
  };
  const [beginMask, endMask, newAxis, shrink, ellipsis] = [
    "begin_mask",
    "end_mask",
    "new_axis_mask",
    "shrink_axis_mask",
    "ellipsis_mask",
  ].map(bit);
  if (begins.some((_, i) => newAxis(i) || ellipsis(i))) throw c.unsupported("new_axis_mask and ellipsis_mask are not supported");
  const starts: number[] = [];
  const stops: number[] = [];
  const steps: number[] = [];
  const squeeze: number[] = [];
  begins.forEach((b, i) => {
    const s = strides[i];
    if (shrink(i)) {
      starts.push(b);
      stops.push(b === -1 ? BIG : b + 1);
      steps.push(1);
      squeeze.push(i);
      return;
    }
    starts.push(beginMask(i) ? (s > 0 ? 0 : BIG) : b);
    stops.push(endMask(i) ? (s > 0 ? BIG : -BIG) : ends[i]);
    steps.push(s);
  });
  const axes = begins.map((_, i) => i);
  const inputs = [c.in(0), c.i64("starts", starts), c.i64("ends", stops), c.i64("axes", axes), c.i64("steps", steps)];
  if (squeeze.length === 0) {
    c.emit("Slice", inputs);
    return;
  }
  c.emit("Squeeze", [c.step("Slice", inputs, "slice"), c.i64("squeeze_axes", squeeze)]);
}

export function interpolate(c: WriteCtx): void {
  const n = c.n;
  const v11 = n.version === "opset11";
  if (n.version !== "opset4" && !v11) throw c.unsupported(`Interpolate version ${n.version || "?"} is not supported`);
  const xs = c.shape(0);
  if ([...attrInts(n.attrs, "pads_begin", [0]), ...attrInts(n.attrs, "pads_end", [0])].some((p) => p !== 0)) {
    throw c.unsupported("pads are not supported");
  }
  if (attrBool(n.attrs, "antialias", false)) throw c.unsupported("antialias is not supported");
  const mode = attrStr(n.attrs, "mode").toLowerCase();
  const onnxMode = mode === "nearest" ? "nearest" : mode === "linear_onnx" ? "linear" : mode === "cubic" ? "cubic" : "";
  if (!onnxMode) throw c.unsupported(`mode '${mode}' is not supported`);
  const nearest = attrStr(n.attrs, "nearest_mode", "round_prefer_floor").toLowerCase();
  if (nearest === "simple") throw c.unsupported("nearest_mode 'simple' is not supported");
  const axesIndex = v11 ? 2 : 3;
  const listed =
    n.inputs.length > axesIndex ? c.values(axesIndex, "axes").map((a) => (a < 0 ? a + xs.length : a)) : xs.map((_, i) => i);
  const bySizes = attrStr(n.attrs, "shape_calculation_mode", "sizes").toLowerCase() === "sizes";
  const os = c.outShape();
  let axes: number[];
  let inputs: string[];
  if (bySizes) {
    // Sizes often come from the input's shape (batch included): write only the resized axes, with
    // their inferred sizes; an axis that keeps its size is the identity in every mode.
    axes = listed.filter((ax) => os[ax] !== xs[ax]);
    if (axes.some((ax) => c.w.varies(c.n.inputs[0], ax))) throw c.unsupported("the batch axis is resized");
    inputs = [
      c.in(0),
      "",
      "",
      c.i64(
        "sizes",
        axes.map((ax) => os[ax]),
      ),
    ];
  } else {
    axes = listed;
    const scales = c.values(v11 ? 1 : 2, "scales");
    inputs = [
      c.in(0),
      "",
      c.w.constant(`${n.name}/scales`, { dtype: "f32", shape: [scales.length], data: Float32Array.from(scales) }),
    ];
  }
  if (axes.length === 0) {
    c.emit("Identity", [c.in(0)]);
    return;
  }
  c.emit("Resize", inputs, [
    attr.str("mode", onnxMode),
    attr.str("coordinate_transformation_mode", attrStr(n.attrs, "coordinate_transformation_mode", "half_pixel").toLowerCase()),
    attr.str("nearest_mode", nearest),
    attr.float("cubic_coeff_a", attrNum(n.attrs, "cube_coeff", -0.75)),
    attr.ints("axes", axes),
  ]);
}

export function pad(c: WriteCtx): void {
  const mode = attrStr(c.n.attrs, "pad_mode", "constant").toLowerCase();
  if (mode === "symmetric") throw c.unsupported("pad_mode 'symmetric' has no ONNX equivalent");
  const pb = c.c(1);
  const pe = c.c(2);
  const pads =
    pb && pe
      ? c.i64("pads", [...Array.from(pb.data), ...Array.from(pe.data)])
      : c.step(
          "Concat",
          [1, 2].map((i) => c.step("Cast", [c.in(i)], `pads_${i}`, [attr.int("to", ONNX_DTYPE.INT64)])),
          "pads",
          [attr.int("axis", 0)],
        );
  const inputs = [c.in(0), pads];
  if (mode === "constant" && c.n.inputs.length > 3) inputs.push(c.in(3));
  c.emit("Pad", inputs, [attr.str("mode", mode)]);
}

/** Split / VariadicSplit: the sizes come from the inferred outputs unless the batch axis is split. */
export function split(c: WriteCtx): void {
  const rank = c.shape(0).length;
  let axis = c.values(1, "axis")[0];
  if (axis < 0) axis += rank;
  const outs = c.n.outputs.map((_, p) => c.out(p));
  if (c.w.varies(c.n.inputs[0], axis)) {
    if (c.n.type !== "Split") throw c.unsupported("a variadic split of the batch axis cannot be written for any batch");
    c.emit("Split", [c.in(0)], [attr.int("axis", axis), attr.int("num_outputs", outs.length)], outs);
    return;
  }
  const sizes = c.n.outputs.map((o) => o.shape[axis]);
  c.emit("Split", [c.in(0), c.i64("split", sizes)], [attr.int("axis", axis)], outs);
}
