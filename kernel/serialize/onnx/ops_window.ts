/** Sliding-window ops: (grouped) convolution, its backprop-data transpose, MaxPool, AvgPool. */
import { attrBool, attrInts, attrStr } from "../../graph/attrs";
import { windowPads } from "../../graph/window";
import { Obj, WriteCtx, attr } from "./context";

/** Grouped weights [G, O/G, I/G, k...] (or [G, I/G, O/G, k...] for backprop) → ONNX's [G·dim1, dim2, k...]. */
export function groupedWeights(c: WriteCtx): string {
  const ws = c.shape(1);
  const flat = [ws[0] * ws[1], ...ws.slice(2)];
  const w = c.c(1);
  if (w) return c.w.constant(`${c.n.name}/weights`, { ...w, shape: flat });
  return c.step("Reshape", [c.in(1), c.i64("weights_shape", flat)], "weights");
}

/** What Convolution and ConvolutionBackpropData (plain or grouped) share: the window and the weights. */
export interface ConvGeometry {
  grouped: boolean;
  /** The weights' shape; for grouped ops axis 0 is the group count. */
  ws: number[];
  kernel: number[];
  strides: number[];
  dil: number[];
}

export function convGeometry(c: WriteCtx, groupedType: string): ConvGeometry {
  const grouped = c.n.type === groupedType;
  const ws = c.shape(1);
  const kernel = ws.slice(grouped ? 3 : 2);
  const r = kernel.length;
  const strides = attrInts(c.n.attrs, "strides", new Array(r).fill(1));
  const dil = attrInts(c.n.attrs, "dilations", new Array(r).fill(1));
  return { grouped, ws, kernel, strides, dil };
}

/** Emits ONNX `op` (Conv or ConvTranspose) with the data, the (regrouped) weights, the fused bias and these pads. */
export function emitConv(c: WriteCtx, op: string, g: ConvGeometry, begin: number[], end: number[], extra: Obj[] = []): void {
  const inputs = [c.in(0), g.grouped ? groupedWeights(c) : c.in(1)];
  const bias = c.w.biasOf(c.n);
  if (bias) inputs.push(bias);
  const attrs = [
    attr.ints("kernel_shape", g.kernel),
    attr.ints("strides", g.strides),
    attr.ints("dilations", g.dil),
    attr.ints("pads", [...begin, ...end]),
    ...extra,
  ];
  if (g.grouped) attrs.push(attr.int("group", g.ws[0]));
  c.emit(op, inputs, attrs);
}

export function conv(c: WriteCtx): void {
  const g = convGeometry(c, "GroupConvolution");
  const { begin, end } = windowPads(c.n, c.shape(0).slice(2), c.outShape().slice(2), g.kernel, g.strides, g.dil);
  emitConv(c, "Conv", g, begin, end);
}

export function convTranspose(c: WriteCtx): void {
  const n = c.n;
  const g = convGeometry(c, "GroupConvolutionBackpropData");
  const { kernel, strides, dil } = g;
  const r = kernel.length;
  const xs = c.shape(0).slice(2);
  const outSp = c.outShape().slice(2);
  // out = s·(in−1) + span − pb − pe (+ output_padding): the total pads follow from the inferred size;
  // with auto_pad or an output_shape input they split like same_upper / same_lower.
  const autoPad = attrStr(n.attrs, "auto_pad", "explicit").toLowerCase();
  const derived = autoPad === "same_upper" || autoPad === "same_lower" || n.inputs.length > 2;
  const explicitBegin = attrInts(n.attrs, "pads_begin", new Array(r).fill(0));
  const begin: number[] = [];
  const end: number[] = [];
  const outPad: number[] = [];
  for (let i = 0; i < r; i++) {
    const total = strides[i] * (xs[i] - 1) + (kernel[i] - 1) * dil[i] + 1 - outSp[i];
    const small = Math.floor(total / 2);
    const b = derived ? (autoPad === "same_lower" ? total - small : small) : autoPad === "valid" ? 0 : explicitBegin[i];
    begin.push(b);
    // A negative end pad is output padding.
    end.push(Math.max(total - b, 0));
    outPad.push(Math.max(b - total, 0));
  }
  emitConv(c, "ConvTranspose", g, begin, end, outPad.some((p) => p > 0) ? [attr.ints("output_padding", outPad)] : []);
}

export function pool(c: WriteCtx): void {
  const n = c.n;
  if (n.outputs.length > 1 && c.w.isUsed({ node: n.id, port: 1 }))
    throw c.unsupported("the indices output has no ONNX equivalent");
  const xs = c.shape(0).slice(2);
  const outSp = c.outShape().slice(2);
  const kernel = attrInts(n.attrs, "kernel");
  const r = kernel.length;
  const strides = attrInts(n.attrs, "strides", new Array(r).fill(1));
  const dil = n.type === "MaxPool" ? attrInts(n.attrs, "dilations", new Array(r).fill(1)) : new Array<number>(r).fill(1);
  const { begin, end } = windowPads(n, xs, outSp, kernel, strides, dil);
  const includePad = n.type === "AvgPool" && !attrBool(n.attrs, "exclude-pad", false);
  const needed = outSp.map((o, i) => (o - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - xs[i] - begin[i]);
  const attrs = [attr.ints("kernel_shape", kernel), attr.ints("strides", strides)];
  if (includePad && needed.some((p, i) => p > end[i])) {
    // Averages count the model's pads but not the ceil extension: that is exactly ONNX ceil_mode.
    attrs.push(attr.ints("pads", [...begin, ...end]), attr.int("ceil_mode", 1), attr.int("count_include_pad", 1));
  } else {
    // Ceil rounding becomes explicit padding at the end (never counted, never the max), so ORT's
    // own ceil-mode rules cannot disagree with the inferred shape.
    const padsEnd = end.map((e, i) => Math.max(e, needed[i]));
    attrs.push(attr.ints("pads", [...begin, ...padsEnd]));
    if (includePad) attrs.push(attr.int("count_include_pad", 1));
  }
  if (n.type === "MaxPool") {
    attrs.push(attr.ints("dilations", dil));
    c.emit("MaxPool", [c.in(0)], attrs);
  } else c.emit("AveragePool", [c.in(0)], attrs);
}
