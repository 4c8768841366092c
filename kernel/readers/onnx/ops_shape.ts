/** Ops that move data without computing on it: Split, Slice, (Un)Squeeze, Pad, Resize/Upsample. */
import { ModelError } from "../../errors";
import { Attrs, PortRef } from "../../graph/graph";
import { numel } from "../../graph/ops/util";
import { ReadCtx, axesOf } from "./context";
import { fmt } from "./format";

export function split(c: ReadCtx): PortRef[] {
  const x = c.input(0, "input");
  const axis = c.i64("axis", [c.int("axis", 0)], []);
  const outs = c.onnx.output.length;
  const sizes = c.has("split") ? c.i64("split_lengths", c.ints("split")) : c.opt(1);
  const dtype = c.b.dtype(x);
  const node = sizes
    ? c.b.add(
        "VariadicSplit",
        c.name,
        [x, axis, sizes],
        {},
        new Array(outs).fill(0).map(() => ({ dtype })),
      )
    : c.b.add(
        "Split",
        c.name,
        [x, axis],
        { num_splits: fmt(outs) },
        new Array(outs).fill(0).map(() => ({ dtype })),
      );
  return node.outputs.map((_, i) => ({ node: node.id, port: i }));
}

export function slice(c: ReadCtx): PortRef[] {
  const x = c.input(0, "data");
  let starts: PortRef;
  let ends: PortRef;
  let axes: PortRef | undefined;
  let steps: PortRef | undefined;
  if (c.opset < 10) {
    const s = c.ints("starts");
    starts = c.i64("starts", s);
    ends = c.i64("ends", c.ints("ends"));
    if (c.has("axes")) axes = c.i64("axes", c.ints("axes"));
    steps = c.i64(
      "steps",
      s.map(() => 1),
    );
  } else {
    starts = c.input(1, "starts");
    ends = c.input(2, "ends");
    axes = c.opt(3);
    steps = c.opt(4);
    if (!steps) {
      const sc = c.b.constOf(starts);
      steps = sc
        ? c.i64(
            "steps",
            Array.from(sc.data, () => 1),
          )
        : c.op(
            "Broadcast",
            [c.i64("one", [1], []), c.op("ShapeOf", [starts], { output_type: "i64" }, "starts_shape", "i64")],
            { mode: "numpy" },
            "steps",
            "i64",
          );
    }
  }
  return [c.op("Slice", axes ? [x, starts, ends, steps, axes] : [x, starts, ends, steps])];
}

export function squeezeLike(c: ReadCtx, type: "Squeeze" | "Unsqueeze"): PortRef[] {
  const x = c.input(0, "data");
  const axes = axesOf(c, 1);
  if (!axes) {
    if (type === "Unsqueeze") throw new ModelError(c.file, "Unsqueeze needs axes", c.name);
    return [c.op(type, [x])];
  }
  return [c.op(type, [x, axes])];
}

export function pad(c: ReadCtx): PortRef[] {
  const x = c.input(0, "data");
  const mode = c.str("mode", "constant");
  if (!["constant", "edge", "reflect"].includes(mode)) throw c.unsupported(`pad mode '${mode}' is not supported`);
  let begin: PortRef;
  let end: PortRef;
  let value: PortRef | undefined;
  if (c.opset < 11) {
    const p = c.ints("pads");
    begin = c.i64("pads_begin", p.slice(0, p.length / 2));
    end = c.i64("pads_end", p.slice(p.length / 2));
    value = c.f32("pad_value", [c.float("value", 0)], []);
  } else {
    let p = c.constInts(1);
    // Opset 18 `axes`: pads lists begin and end for those axes only; the rest get 0.
    if (c.opt(3)) {
      const axes = c.constInts(3);
      if (!axes || !p) throw c.unsupported("Pad with an axes input needs constant pads and axes");
      const r = c.requireRank(0, "Pad with an axes input");
      const full = new Array(2 * r).fill(0);
      axes.forEach((a, i) => {
        const ax = a < 0 ? a + r : a;
        if (ax < 0 || ax >= r) throw c.unsupported(`axis ${a} is outside the input's rank ${r}`);
        full[ax] = p![i];
        full[r + ax] = p![axes.length + i];
      });
      p = full;
    }
    if (p) {
      begin = c.i64("pads_begin", p.slice(0, p.length / 2));
      end = c.i64("pads_end", p.slice(p.length / 2));
    } else {
      const halves = c.b.add("Split", `${c.name}/pads`, [c.input(1, "pads"), c.i64("pads_axis", [0], [])], { num_splits: "2" }, [
        { dtype: "i64" },
        { dtype: "i64" },
      ]);
      begin = { node: halves.id, port: 0 };
      end = { node: halves.id, port: 1 };
    }
    value = c.opt(2);
  }
  const inputs = [x, begin, end];
  if (mode === "constant" && value) inputs.push(value);
  return [c.op("Pad", inputs, { pad_mode: mode })];
}

const COORD_MODES = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"];
const NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"];

/** Resize (opset 10+) and Upsample (7..9) → Interpolate-4 (data, sizes, scales, axes). */
export function resize(c: ReadCtx, upsample: boolean): PortRef[] {
  const x = c.input(0, "X");
  const mode = c.str("mode", "nearest").toLowerCase();
  const ovMode =
    mode === "nearest" ? "nearest" : mode === "linear" || mode === "bilinear" ? "linear_onnx" : mode === "cubic" ? "cubic" : "";
  if (!ovMode) throw c.unsupported(`mode '${mode}' is not supported`);
  if (ovMode === "cubic" && c.int("exclude_outside", 0) !== 0) throw c.unsupported("cubic with exclude_outside is not supported");
  let coord: string;
  let nearest: string;
  let scales: PortRef | undefined;
  let sizes: PortRef | undefined;
  if (upsample || c.opset < 11) {
    // Upsample and Resize-10 compute src = dst / scale and pick floor for nearest.
    coord = "asymmetric";
    nearest = "floor";
    scales = c.opset < 9 && upsample ? c.f32("scales", c.floats("scales")) : c.input(1, "scales");
  } else {
    coord = c.str("coordinate_transformation_mode", "half_pixel");
    nearest = c.str("nearest_mode", "round_prefer_floor");
    if (!COORD_MODES.includes(coord)) throw c.unsupported(`coordinate_transformation_mode '${coord}' is not supported`);
    if (!NEAREST_MODES.includes(nearest)) throw c.unsupported(`nearest_mode '${nearest}' is not supported`);
    // Opset 18: only "stretch" resizes each axis on its own; the other policies couple them.
    const policy = c.str("keep_aspect_ratio_policy", "stretch");
    if (policy !== "stretch") throw c.unsupported(`keep_aspect_ratio_policy '${policy}' is not supported`);
    // An empty scales tensor means "use sizes"; peek so it does not become a dead Const.
    const scv = c.peek(2);
    scales = c.onnx.input[2] && !(scv && numel(scv.shape) === 0) ? c.input(2, "scales") : undefined;
    sizes = c.opt(3);
  }
  const attrs: Attrs = {
    mode: ovMode,
    shape_calculation_mode: sizes ? "sizes" : "scales",
    coordinate_transformation_mode: coord,
    nearest_mode: nearest,
    antialias: "false",
    pads_begin: "0",
    pads_end: "0",
    cube_coeff: fmt(c.float("cubic_coeff_a", -0.75)),
  };
  if (!scales && !sizes) throw new ModelError(c.file, "Resize needs scales or sizes", c.name);
  const known = c.b.constOf(sizes ?? scales);
  // Opset 18 `axes`: scales/sizes list those axes only (Interpolate-4 takes the same axes input).
  const given = !upsample && c.opset >= 18 && c.has("axes") ? c.ints("axes") : undefined;
  const r = given ? given.length : known ? numel(known.shape) : c.rank(0);
  if (r === undefined) throw c.unsupported("the number of resized axes is unknown");
  // Interpolate-4 takes both sizes and scales; the one not selected by shape_calculation_mode is ignored.
  if (!sizes) sizes = c.i64("sizes", new Array(r).fill(1));
  if (!scales) scales = c.f32("scales", new Array(r).fill(1));
  const axes = c.i64("axes", given ?? Array.from({ length: r }, (_, i) => i));
  return [c.op("Interpolate", [x, sizes, scales, axes], attrs)];
}
