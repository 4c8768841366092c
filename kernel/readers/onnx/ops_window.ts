/** Sliding-window ops: Conv, ConvTranspose, MaxPool, AveragePool and the global pools. */
import { ModelError } from "../../errors";
import { Attrs, ConstTensor, PortRef } from "../../graph/graph";
import { numel } from "../../graph/ops/util";
import { table } from "../../dict";
import { NUMPY, ReadCtx } from "./context";
import { bool, list } from "./format";

const AUTO_PAD: Record<string, string> = table({
  NOTSET: "explicit",
  SAME_UPPER: "same_upper",
  SAME_LOWER: "same_lower",
  VALID: "valid",
});

export function autoPad(c: ReadCtx): string {
  const v = c.str("auto_pad", "NOTSET");
  const r = AUTO_PAD[v];
  if (!r) throw c.unsupported(`auto_pad '${v}' is not supported`);
  return r;
}

/** Spatial rank of a conv/pool node: from kernel_shape, the weights, or the data rank. */
export function spatialRank(c: ReadCtx, weights?: ConstTensor): number {
  if (c.has("kernel_shape")) return c.ints("kernel_shape").length;
  if (weights) return weights.shape.length - 2;
  for (const k of ["strides", "dilations"]) if (c.has(k)) return c.ints(k).length;
  if (c.has("pads")) return c.ints("pads").length / 2;
  return c.requireRank(0, "the number of spatial axes") - 2;
}

/** ONNX strides/dilations/pads → IR strides, dilations, pads_begin, pads_end, auto_pad. */
export function windowAttrs(c: ReadCtx, n: number, withDilations = true): Attrs {
  const pads = c.ints("pads", new Array(2 * n).fill(0));
  if (pads.length !== 2 * n) throw new ModelError(c.file, `pads has ${pads.length} values, expected ${2 * n}`, c.name);
  const a: Attrs = {
    strides: list(c.ints("strides", new Array(n).fill(1))),
    pads_begin: list(pads.slice(0, n)),
    pads_end: list(pads.slice(n)),
    auto_pad: autoPad(c),
  };
  if (withDilations) a.dilations = list(c.ints("dilations", new Array(n).fill(1)));
  return a;
}

/** Conv/ConvTranspose bias [C] as an Add of a [1,C,1,...] tensor. */
export function addBias(c: ReadCtx, y: PortRef, spatial: number): PortRef {
  // An integer B is refused by the Add's shape inference, as every operand pair of another type is.
  const bv = c.peek(2);
  const shape = [1, -1, ...new Array(spatial).fill(1)];
  const b = bv
    ? c.b.constant(`${c.name}/bias`, { ...bv, shape: [1, numel(bv.shape), ...new Array(spatial).fill(1)] })
    : c.op("Reshape", [c.input(2, "B"), c.i64("bias_shape", shape)], { special_zero: "false" }, "bias");
  return c.op("Add", [y, b], NUMPY);
}

/** Weights reshaped for a grouped op: [O, I/G, k...] → [G, O/G, I/G, k...] (ConvTranspose: [I, O/G, k...] → [G, I/G, O/G, k...]). */
export function groupWeights(c: ReadCtx, group: number): PortRef {
  const w = c.peek(1);
  if (!w) throw c.unsupported("grouped convolution needs constant weights");
  const [first, second, ...k] = w.shape;
  if (first % group !== 0) throw new ModelError(c.file, `weights dim 0 (${first}) is not divisible by group ${group}`, c.name);
  return c.b.constant(`${c.name}/weights`, { ...w, shape: [group, first / group, second, ...k] });
}

export function conv(c: ReadCtx): PortRef[] {
  const x = c.input(0, "X");
  const n = spatialRank(c, c.peek(1));
  const group = c.int("group", 1);
  const attrs = windowAttrs(c, n);
  const bias = c.onnx.input[2];
  const convName = bias ? "WithoutBiases" : "";
  const y =
    group > 1
      ? c.op("GroupConvolution", [x, groupWeights(c, group)], attrs, convName)
      : c.op("Convolution", [x, c.input(1, "W")], attrs, convName);
  return [bias ? addBias(c, y, n) : y];
}

export function convTranspose(c: ReadCtx): PortRef[] {
  const x = c.input(0, "X");
  const n = spatialRank(c, c.peek(1));
  const group = c.int("group", 1);
  const attrs = windowAttrs(c, n);
  attrs.output_padding = list(c.ints("output_padding", new Array(n).fill(0)));
  const inputs = [x, group > 1 ? groupWeights(c, group) : c.input(1, "W")];
  if (c.has("output_shape")) {
    // The explicit output size wins over pads (pads are then derived), as in the ONNX spec.
    const os = c.ints("output_shape");
    inputs.push(c.i64("output_shape", os.slice(os.length - n)));
    attrs.pads_begin = list(new Array(n).fill(0));
    attrs.pads_end = list(new Array(n).fill(0));
    // ONNX puts the odd padding unit at the end only for SAME_UPPER, otherwise at the beginning.
    attrs.auto_pad = attrs.auto_pad === "same_upper" ? "same_upper" : "same_lower";
  }
  const bias = c.onnx.input[2];
  const type = group > 1 ? "GroupConvolutionBackpropData" : "ConvolutionBackpropData";
  const y = c.op(type, inputs, attrs, bias ? "WithoutBiases" : "");
  return [bias ? addBias(c, y, n) : y];
}

export function pool(c: ReadCtx, kind: "max" | "avg"): PortRef[] {
  const x = c.input(0, "X");
  const kernel = c.ints("kernel_shape");
  const n = kernel.length;
  const attrs = windowAttrs(c, n, kind === "max");
  attrs.kernel = list(kernel);
  // ONNX ceil_mode (like PyTorch) never starts a window in the end padding: opset14's ceil_torch.
  attrs.rounding_type = c.int("ceil_mode", 0) ? "ceil_torch" : "floor";
  if (kind === "avg") {
    if (c.has("dilations") && c.ints("dilations").some((d) => d !== 1))
      throw c.unsupported("dilated AveragePool is not supported");
    attrs["exclude-pad"] = bool(c.int("count_include_pad", 0) === 0);
    return [c.op("AvgPool", [x], attrs)];
  }
  if (c.int("storage_order", 0) !== 0) throw c.unsupported("column-major storage_order is not supported");
  attrs.index_element_type = "i64";
  attrs.axis = "0";
  const node = c.b.add("MaxPool", c.name, [x], attrs, [{ dtype: c.b.dtype(x) }, { dtype: "i64" }]);
  return [
    { node: node.id, port: 0 },
    { node: node.id, port: 1 },
  ];
}

export function globalPool(c: ReadCtx, type: string): PortRef[] {
  const r = c.requireRank(0, "the spatial axes");
  const axes = Array.from({ length: r - 2 }, (_, i) => i + 2);
  return [c.op(type, [c.input(0, "X"), c.i64("axes", axes)], { keep_dims: "true" })];
}
