/**
 * Graph → ONNX ModelProto (opset 18): the inverse of readers/onnx.ts for the ops CNNs use.
 *
 * The input is a prepared graph (concrete shapes, constants folded). Folded values become
 * initializers, so FP16 weights leave as FP32 data and PriorBox as its boxes. Given the same graph
 * prepared at a second batch (`alt`), a folded value that differs between the two (ShapeOf of a
 * batched tensor) is written as ops instead, and axis 0 of the inputs becomes the symbolic dim
 * "N": ORT then accepts any batch. Every dynbatch tensor is FP32 at run time, so graph inputs are
 * written as FLOAT (with a Cast when the model declares another type).
 */
import { UnsupportedError } from "../errors";
import { attrBool, attrInts, attrNum, attrStr } from "../graph/attrs";
import { ConstTensor, DType, Graph, Node, PortRef } from "../graph/graph";
import { constOutput } from "../graph/prepare";
import { batchNormDataIndex } from "../graph/ops/normalization";
import { ATTR, ModelProtoType, ONNX_DTYPE } from "../readers/onnx-proto";
import { encodeValues } from "./tensor";
import { table } from "../dict";

export const ONNX_OPSET = 18;
/** ModelProto.ir_version that opset 18 requires. */
const IR_VERSION = 8;

/** f16 tensors are written as FLOAT: dynbatch decompresses FP16 at read and computes in FP32. */
const ONNX_TYPE: Record<DType, number> = {
  f32: ONNX_DTYPE.FLOAT,
  f16: ONNX_DTYPE.FLOAT,
  f64: ONNX_DTYPE.DOUBLE,
  i64: ONNX_DTYPE.INT64,
  i32: ONNX_DTYPE.INT32,
  i16: ONNX_DTYPE.INT16,
  i8: ONNX_DTYPE.INT8,
  u8: ONNX_DTYPE.UINT8,
  u16: ONNX_DTYPE.UINT16,
  u32: ONNX_DTYPE.UINT32,
  u64: ONNX_DTYPE.UINT64,
  boolean: ONNX_DTYPE.BOOL,
};

const isFloat = (d: DType) => d === "f32" || d === "f16" || d === "f64";

/** Large enough to mean "to the end" in Slice, exact in a double and in int64. */
const BIG = 2 ** 62;

type Obj = Record<string, unknown>;

const attr = {
  int: (name: string, i: number): Obj => ({ name, type: ATTR.INT, i }),
  float: (name: string, f: number): Obj => ({ name, type: ATTR.FLOAT, f }),
  str: (name: string, s: string): Obj => ({ name, type: ATTR.STRING, s: Buffer.from(s) }),
  ints: (name: string, ints: number[]): Obj => ({ name, type: ATTR.INTS, ints }),
};

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sameTensor(a: ConstTensor, b: ConstTensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  for (let i = 0; i < a.data.length; i++) if (!Object.is(a.data[i], b.data[i])) return false;
  return true;
}

function tensorProto(name: string, t: ConstTensor): Obj {
  const stored: DType = t.dtype === "f16" ? "f32" : t.dtype;
  const bytes = encodeValues(stored, t.data);
  return { name, dims: t.shape, data_type: ONNX_TYPE[t.dtype], raw_data: bytes };
}

function key(ref: PortRef): string {
  return `${ref.node}:${ref.port}`;
}

/** Per-node translation context. */
class Cx {
  constructor(
    readonly w: OnnxWriter,
    readonly n: Node,
  ) {}

  in(i: number): string {
    return this.w.name(this.n.inputs[i]);
  }
  c(i: number): ConstTensor | undefined {
    return i < this.n.inputs.length ? this.w.constValue(this.n.inputs[i]) : undefined;
  }
  /** The values of constant input i; throws when it is computed at run time. */
  values(i: number, what: string): number[] {
    const v = this.c(i);
    if (!v) throw this.unsupported(`${what} (input ${i}) must be a constant`);
    return Array.from(v.data);
  }
  shape(i: number): number[] {
    return this.w.shapeOf(this.n.inputs[i]);
  }
  dtype(i: number): DType {
    return this.w.dtypeOf(this.n.inputs[i]);
  }
  out(p = 0): string {
    return this.w.name({ node: this.n.id, port: p });
  }
  outShape(p = 0): number[] {
    return this.n.outputs[p].shape;
  }
  /** A value name for an intermediate result of this node's translation. */
  tmp(suffix: string): string {
    return this.w.unique(`${this.n.name}/${suffix}`);
  }
  emit(type: string, inputs: string[], attrs: Obj[] = [], outputs: string[] = [this.out()]): string {
    this.w.node(type, this.n.name, inputs, outputs, attrs);
    return outputs[0];
  }
  /** Emits an intermediate node whose single output is a fresh name. */
  step(type: string, inputs: string[], suffix: string, attrs: Obj[] = []): string {
    return this.emit(type, inputs, attrs, [this.tmp(suffix)]);
  }
  i64(suffix: string, values: number[], shape = [values.length]): string {
    return this.w.constant(`${this.n.name}/${suffix}`, { dtype: "i64", shape, data: Float64Array.from(values) });
  }
  /** A scalar constant of the given type (Clip bounds, decomposition factors). */
  scalar(suffix: string, v: number, dtype: DType = "f32"): string {
    const data = isFloat(dtype) ? Float32Array.of(v) : Float64Array.of(v);
    return this.w.constant(`${this.n.name}/${suffix}`, { dtype, shape: [], data });
  }
  unsupported(reason: string): UnsupportedError {
    return new UnsupportedError(this.w.g.file, `${this.n.type} cannot be written as ONNX: ${reason}`, this.n.name);
  }
}

type Converter = (c: Cx) => void;

/** Explicit begin/end pads of a sliding window, resolving auto_pad from the inferred output size. */
function windowPads(n: Node, inSp: number[], outSp: number[], kernel: number[], strides: number[], dil: number[]) {
  const autoPad = attrStr(n.attrs, "auto_pad", "explicit").toLowerCase();
  const r = inSp.length;
  if (autoPad === "valid") return { begin: new Array<number>(r).fill(0), end: new Array<number>(r).fill(0) };
  if (autoPad === "same_upper" || autoPad === "same_lower") {
    const begin: number[] = [];
    const end: number[] = [];
    for (let i = 0; i < r; i++) {
      const total = Math.max((outSp[i] - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - inSp[i], 0);
      const small = Math.floor(total / 2);
      begin.push(autoPad === "same_upper" ? small : total - small);
      end.push(total - begin[i]);
    }
    return { begin, end };
  }
  return { begin: attrInts(n.attrs, "pads_begin", new Array(r).fill(0)), end: attrInts(n.attrs, "pads_end", new Array(r).fill(0)) };
}

/** Grouped weights [G, O/G, I/G, k...] (or [G, I/G, O/G, k...] for backprop) → ONNX's [G·dim1, dim2, k...]. */
function groupedWeights(c: Cx): string {
  const ws = c.shape(1);
  const flat = [ws[0] * ws[1], ...ws.slice(2)];
  const w = c.c(1);
  if (w) return c.w.constant(`${c.n.name}/weights`, { ...w, shape: flat });
  return c.step("Reshape", [c.in(1), c.i64("weights_shape", flat)], "weights");
}

/** What Convolution and ConvolutionBackpropData (plain or grouped) share: the window and the weights. */
interface ConvGeometry {
  grouped: boolean;
  /** The weights' shape; for grouped ops axis 0 is the group count. */
  ws: number[];
  kernel: number[];
  strides: number[];
  dil: number[];
}

function convGeometry(c: Cx, groupedType: string): ConvGeometry {
  const grouped = c.n.type === groupedType;
  const ws = c.shape(1);
  const kernel = ws.slice(grouped ? 3 : 2);
  const r = kernel.length;
  const strides = attrInts(c.n.attrs, "strides", new Array(r).fill(1));
  const dil = attrInts(c.n.attrs, "dilations", new Array(r).fill(1));
  return { grouped, ws, kernel, strides, dil };
}

/** Emits ONNX `op` (Conv or ConvTranspose) with the data, the (regrouped) weights, the fused bias and these pads. */
function emitConv(c: Cx, op: string, g: ConvGeometry, begin: number[], end: number[], extra: Obj[] = []): void {
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

function conv(c: Cx): void {
  const g = convGeometry(c, "GroupConvolution");
  const { begin, end } = windowPads(c.n, c.shape(0).slice(2), c.outShape().slice(2), g.kernel, g.strides, g.dil);
  emitConv(c, "Conv", g, begin, end);
}

function convTranspose(c: Cx): void {
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

function pool(c: Cx): void {
  const n = c.n;
  if (n.outputs.length > 1 && c.w.isUsed({ node: n.id, port: 1 })) throw c.unsupported("the indices output has no ONNX equivalent");
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

/** The last two axes of a constant swapped (MatMul transpose of constant weights). */
function transposedLast(t: ConstTensor): ConstTensor {
  const s = t.shape;
  const rows = s[s.length - 2];
  const cols = s[s.length - 1];
  const data = t.data instanceof Float32Array ? new Float32Array(t.data.length) : new Float64Array(t.data.length);
  const mat = rows * cols;
  for (let b = 0; b < t.data.length; b += mat)
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[b + j * rows + i] = t.data[b + i * cols + j];
  return { dtype: t.dtype, shape: [...s.slice(0, -2), cols, rows], data };
}

function matmul(c: Cx): void {
  const ra = c.shape(0).length;
  const rb = c.shape(1).length;
  const ta = ra > 1 && attrBool(c.n.attrs, "transpose_a", false);
  const tb = rb > 1 && attrBool(c.n.attrs, "transpose_b", false);
  if (ra === 2 && rb === 2) {
    c.emit("Gemm", [c.in(0), c.in(1)], [attr.int("transA", ta ? 1 : 0), attr.int("transB", tb ? 1 : 0)]);
    return;
  }
  const swap = (i: number, rank: number): string => {
    const v = c.c(i);
    if (v) return c.w.constant(`${c.n.name}/${i === 0 ? "a" : "b"}_t`, transposedLast(v));
    const perm = Array.from({ length: rank }, (_, k) => k);
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    return c.step("Transpose", [c.in(i)], i === 0 ? "a_t" : "b_t", [attr.ints("perm", perm)]);
  };
  c.emit("MatMul", [ta ? swap(0, ra) : c.in(0), tb ? swap(1, rb) : c.in(1)]);
}

const UNARY: Record<string, string> = table({
  ReLU: "Relu",
  Sigmoid: "Sigmoid",
  Tanh: "Tanh",
  Exp: "Exp",
  Log: "Log",
  Abs: "Abs",
  Sqrt: "Sqrt",
  Negative: "Neg",
  Floor: "Floor",
  Ceiling: "Ceil",
  Sign: "Sign",
  Sin: "Sin",
  Cos: "Cos",
  Erf: "Erf",
  SoftPlus: "Softplus",
  SoftSign: "Softsign",
  Mish: "Mish",
  HSwish: "HardSwish",
  Identity: "Identity",
  LogicalNot: "Not",
});

const BINARY: Record<string, string> = table({
  Add: "Add",
  Subtract: "Sub",
  Multiply: "Mul",
  Divide: "Div",
  Power: "Pow",
  Maximum: "Max",
  Minimum: "Min",
  Equal: "Equal",
  Less: "Less",
  Greater: "Greater",
  LessEqual: "LessOrEqual",
  GreaterEqual: "GreaterOrEqual",
  LogicalAnd: "And",
  LogicalOr: "Or",
  LogicalXor: "Xor",
});

const REDUCE: Record<string, string> = table({
  ReduceSum: "ReduceSum",
  ReduceMean: "ReduceMean",
  ReduceMax: "ReduceMax",
  ReduceMin: "ReduceMin",
  ReduceProd: "ReduceProd",
  ReduceL1: "ReduceL1",
  ReduceL2: "ReduceL2",
});

function checkBroadcast(c: Cx): void {
  const b = attrStr(c.n.attrs, "auto_broadcast", "numpy").toLowerCase();
  if (b !== "numpy" && b !== "none") throw c.unsupported(`auto_broadcast '${b}' is not supported`);
}

/** x·0.5·(1 + erf(x/√2)), or the tanh approximation. */
function gelu(c: Cx): void {
  const x = c.in(0);
  let inner: string;
  if (attrStr(c.n.attrs, "approximation_mode", "erf").toLowerCase() === "tanh") {
    const x3 = c.step("Mul", [c.step("Mul", [x, x], "x2"), x], "x3");
    const poly = c.step("Add", [x, c.step("Mul", [x3, c.scalar("k", 0.044715)], "kx3")], "poly");
    inner = c.step("Tanh", [c.step("Mul", [poly, c.scalar("c", Math.sqrt(2 / Math.PI))], "scaled")], "tanh");
  } else {
    inner = c.step("Erf", [c.step("Div", [x, c.scalar("sqrt2", Math.SQRT2)], "scaled")], "erf");
  }
  const onePlus = c.step("Add", [inner, c.scalar("one", 1)], "one_plus");
  c.emit("Mul", [c.step("Mul", [x, onePlus], "x_times"), c.scalar("half", 0.5)]);
}

function reduce(c: Cx, type: string): void {
  const keep = attrBool(c.n.attrs, "keep_dims", false);
  const rank = c.shape(0).length;
  const axes = c.c(1);
  if (axes && keep && rank >= 3 && (type === "ReduceMean" || type === "ReduceMax")) {
    const sorted = Array.from(axes.data, (a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
    // Over every spatial axis this is global pooling, which ORT runs as one kernel.
    if (sorted.length === rank - 2 && sorted.every((a, i) => a === i + 2)) {
      c.emit(type === "ReduceMean" ? "GlobalAveragePool" : "GlobalMaxPool", [c.in(0)]);
      return;
    }
  }
  const axesName = axes ? c.i64("axes", Array.from(axes.data), [numel(axes.shape)]) : asI64(c, 1, "axes");
  c.emit(type, [c.in(0), axesName], [attr.int("keepdims", keep ? 1 : 0)]);
}

/** StridedSlice without new axes or ellipsis: Slice with "to the end" sentinels, then Squeeze the shrunk axes. */
function stridedSlice(c: Cx): void {
  const begins = c.values(1, "begin");
  const ends = c.values(2, "end");
  const strides = c.n.inputs.length > 3 ? c.values(3, "stride") : begins.map(() => 1);
  const bit = (k: string) => {
    const m = attrInts(c.n.attrs, k, []);
    return (i: number) => (m[i] ?? 0) !== 0;
  };
  const [beginMask, endMask, newAxis, shrink, ellipsis] = ["begin_mask", "end_mask", "new_axis_mask", "shrink_axis_mask", "ellipsis_mask"].map(bit);
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

function interpolate(c: Cx): void {
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
  const listed = n.inputs.length > axesIndex ? c.values(axesIndex, "axes").map((a) => (a < 0 ? a + xs.length : a)) : xs.map((_, i) => i);
  const bySizes = attrStr(n.attrs, "shape_calculation_mode", "sizes").toLowerCase() === "sizes";
  const os = c.outShape();
  let axes: number[];
  let inputs: string[];
  if (bySizes) {
    // Sizes often come from the input's shape (batch included): write only the resized axes, with
    // their inferred sizes; an axis that keeps its size is the identity in every mode.
    axes = listed.filter((ax) => os[ax] !== xs[ax]);
    if (axes.some((ax) => c.w.varies(c.n.inputs[0], ax))) throw c.unsupported("the batch axis is resized");
    inputs = [c.in(0), "", "", c.i64("sizes", axes.map((ax) => os[ax]))];
  } else {
    axes = listed;
    const scales = c.values(v11 ? 1 : 2, "scales");
    inputs = [c.in(0), "", c.w.constant(`${n.name}/scales`, { dtype: "f32", shape: [scales.length], data: Float32Array.from(scales) })];
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

function pad(c: Cx): void {
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

/** Integer inputs that ONNX wants as int64 (shapes, axes) are cast when they are not. */
function asI64(c: Cx, i: number, suffix: string): string {
  return c.dtype(i) === "i64" ? c.in(i) : c.step("Cast", [c.in(i)], suffix, [attr.int("to", ONNX_DTYPE.INT64)]);
}

const CONVERTERS: Record<string, Converter> = table({
  Convolution: conv,
  GroupConvolution: conv,
  ConvolutionBackpropData: convTranspose,
  GroupConvolutionBackpropData: convTranspose,
  MaxPool: pool,
  AvgPool: pool,
  MatMul: matmul,
  Gelu: gelu,
  SquaredDifference: (c) => {
    const d = c.step("Sub", [c.in(0), c.in(1)], "diff");
    c.emit("Mul", [d, d]);
  },
  NotEqual: (c) => c.emit("Not", [c.step("Equal", [c.in(0), c.in(1)], "equal")]),
  Mod: (c) => c.emit("Mod", [c.in(0), c.in(1)], [attr.int("fmod", 1)]),
  FloorMod: (c) => {
    if (isFloat(c.dtype(0))) throw c.unsupported("floating-point FloorMod has no ONNX equivalent");
    c.emit("Mod", [c.in(0), c.in(1)], [attr.int("fmod", 0)]);
  },
  Select: (c) => c.emit("Where", [c.in(0), c.in(1), c.in(2)]),
  Elu: (c) => c.emit("Elu", [c.in(0)], [attr.float("alpha", attrNum(c.n.attrs, "alpha"))]),
  Clamp: (c) => {
    const t = c.dtype(0) === "f16" ? "f32" : c.dtype(0);
    c.emit("Clip", [c.in(0), c.scalar("min", attrNum(c.n.attrs, "min"), t), c.scalar("max", attrNum(c.n.attrs, "max"), t)]);
  },
  HSigmoid: (c) => c.emit("HardSigmoid", [c.in(0)], [attr.float("alpha", 1 / 6), attr.float("beta", 0.5)]),
  HardSigmoid: (c) => {
    const [alpha] = c.values(1, "alpha");
    const [beta] = c.values(2, "beta");
    c.emit("HardSigmoid", [c.in(0)], [attr.float("alpha", alpha), attr.float("beta", beta)]);
  },
  Selu: (c) => {
    const [alpha] = c.values(1, "alpha");
    const [lambda] = c.values(2, "lambda");
    c.emit("Selu", [c.in(0)], [attr.float("alpha", alpha), attr.float("gamma", lambda)]);
  },
  Swish: (c) => {
    const beta = c.n.inputs.length > 1 ? c.values(1, "beta")[0] : 1;
    const x = c.in(0);
    const arg = beta === 1 ? x : c.step("Mul", [x, c.scalar("beta", beta)], "beta_x");
    c.emit("Mul", [x, c.step("Sigmoid", [arg], "sigmoid")]);
  },
  PReLU: (c) => {
    const xs = c.shape(0);
    const ss = c.shape(1);
    // A 1-D slope of C values applies along axis 1, which ONNX's right-aligned broadcast needs spelled out.
    const perChannel = ss.length === 1 && xs.length > 2 && ss[0] === xs[1] && ss[0] !== 1;
    if (!perChannel) {
      c.emit("PRelu", [c.in(0), c.in(1)]);
      return;
    }
    const target = [ss[0], ...new Array<number>(xs.length - 2).fill(1)];
    const v = c.c(1);
    const slope = v
      ? c.w.constant(`${c.n.name}/slope`, { ...v, shape: target })
      : c.step("Reshape", [c.in(1), c.i64("slope_shape", target)], "slope");
    c.emit("PRelu", [c.in(0), slope]);
  },
  SoftMax: (c) => c.emit("Softmax", [c.in(0)], [attr.int("axis", attrNum(c.n.attrs, "axis", 1))]),
  Softmax: (c) => c.emit("Softmax", [c.in(0)], [attr.int("axis", attrNum(c.n.attrs, "axis", 1))]),
  LogSoftmax: (c) => c.emit("LogSoftmax", [c.in(0)], [attr.int("axis", attrNum(c.n.attrs, "axis", 1))]),
  BatchNormInference: (c) => {
    const d = batchNormDataIndex({ node: c.n, shapes: c.n.inputs.map((_, i) => c.shape(i)) });
    const params = [0, 1, 2, 3, 4].filter((i) => i !== d).map((i) => c.in(i));
    c.emit("BatchNormalization", [c.in(d), ...params], [attr.float("epsilon", attrNum(c.n.attrs, "epsilon"))]);
  },
  LRN: (c) => {
    const axes = c.values(1, "axes");
    if (axes.length !== 1 || axes[0] !== 1) throw c.unsupported(`only LRN across channels (axes [1]) is supported, got [${axes}]`);
    const a = c.n.attrs;
    c.emit("LRN", [c.in(0)], [
      attr.float("alpha", attrNum(a, "alpha")),
      attr.float("beta", attrNum(a, "beta")),
      attr.float("bias", attrNum(a, "bias", 1)),
      attr.int("size", attrNum(a, "size")),
    ]);
  },
  Concat: (c) => c.emit("Concat", c.n.inputs.map((_, i) => c.in(i)), [attr.int("axis", attrNum(c.n.attrs, "axis"))]),
  Split: (c) => split(c),
  VariadicSplit: (c) => split(c),
  Reshape: (c) => {
    const target = c.c(1);
    const allowZero = !attrBool(c.n.attrs, "special_zero", false) && (!target || Array.from(target.data).includes(0));
    const shape = target ? c.i64("shape", Array.from(target.data)) : asI64(c, 1, "shape");
    c.emit("Reshape", [c.in(0), shape], allowZero ? [attr.int("allowzero", 1)] : []);
  },
  Flatten: (c) => c.emit("Flatten", [c.in(0)], [attr.int("axis", attrNum(c.n.attrs, "axis", 1))]),
  Squeeze: (c) => c.emit("Squeeze", c.n.inputs.length > 1 ? [c.in(0), asI64(c, 1, "axes")] : [c.in(0)]),
  Unsqueeze: (c) => c.emit("Unsqueeze", [c.in(0), asI64(c, 1, "axes")]),
  Transpose: (c) => {
    const rank = c.shape(0).length;
    const perm = c.values(1, "perm");
    // An empty permutation reverses the axes.
    c.emit("Transpose", [c.in(0)], [attr.ints("perm", perm.length ? perm : Array.from({ length: rank }, (_, i) => rank - 1 - i))]);
  },
  Gather: (c) => {
    if (attrNum(c.n.attrs, "batch_dims", 0) !== 0) throw c.unsupported("batch_dims ≠ 0 is not supported");
    c.emit("Gather", [c.in(0), c.in(1)], [attr.int("axis", c.values(2, "axis")[0])]);
  },
  StridedSlice: stridedSlice,
  Slice: (c) => {
    // Slice-8 ports are (data, start, stop, step[, axes]); ONNX's are (data, starts, ends, axes, steps).
    const axes = c.n.inputs.length > 4 ? asI64(c, 4, "axes") : c.i64("axes", Array.from({ length: c.shape(1)[0] }, (_, i) => i));
    c.emit("Slice", [c.in(0), asI64(c, 1, "starts"), asI64(c, 2, "ends"), axes, asI64(c, 3, "steps")]);
  },
  Pad: pad,
  Interpolate: interpolate,
  Convert: (c) => c.emit("Cast", [c.in(0)], [attr.int("to", ONNX_TYPE[c.n.outputs[0].dtype])]),
  ConvertLike: (c) => c.emit("Cast", [c.in(0)], [attr.int("to", ONNX_TYPE[c.dtype(1)])]),
  ShapeOf: (c) => {
    if (c.n.outputs[0].dtype === "i64") c.emit("Shape", [c.in(0)]);
    else c.emit("Cast", [c.step("Shape", [c.in(0)], "shape")], [attr.int("to", ONNX_TYPE[c.n.outputs[0].dtype])]);
  },
  Broadcast: (c) => {
    const mode = attrStr(c.n.attrs, "mode", "numpy").toLowerCase();
    if (mode !== "numpy" && mode !== "bidirectional") throw c.unsupported(`mode '${mode}' is not supported`);
    c.emit("Expand", [c.in(0), asI64(c, 1, "shape")]);
  },
  Tile: (c) => {
    const reps = c.values(1, "repeats");
    const rank = c.shape(0).length;
    if (reps.length !== rank) throw c.unsupported(`repeats [${reps}] must have one value per axis of the data (rank ${rank})`);
    c.emit("Tile", [c.in(0), c.i64("repeats", reps)]);
  },
  DepthToSpace: (c) => {
    const mode = attrStr(c.n.attrs, "mode").toLowerCase() === "depth_first" ? "CRD" : "DCR";
    c.emit("DepthToSpace", [c.in(0)], [attr.int("blocksize", attrNum(c.n.attrs, "block_size")), attr.str("mode", mode)]);
  },
});
for (const [k, v] of Object.entries(UNARY)) CONVERTERS[k] = (c) => c.emit(v, [c.in(0)]);
for (const [k, v] of Object.entries(BINARY)) {
  CONVERTERS[k] = (c) => {
    checkBroadcast(c);
    c.emit(v, [c.in(0), c.in(1)]);
  };
}
for (const [k, v] of Object.entries(REDUCE)) CONVERTERS[k] = (c) => reduce(c, v);

/** Split / VariadicSplit: the sizes come from the inferred outputs unless the batch axis is split. */
function split(c: Cx): void {
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

/** Why some ops have no translation. */
const NO_ONNX: Record<string, string> = table({
  DetectionOutput: "ONNX has no SSD detection-output op (box decoding, per-class NMS and top-k in one layer)",
});

/** Conv-like ops that take a bias input in ONNX. */
const BIASED = new Set(["Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData"]);

export class OnnxWriter {
  private readonly byId: Map<number, Node>;
  private readonly altById?: Map<number, Node>;
  private readonly nodes: Obj[] = [];
  private readonly inits: Obj[] = [];
  private readonly values = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly portNames = new Map<string, string>();
  private readonly initNames = new Map<string, string>();
  /** Ports read by a written node or a Result, with their reader count. */
  private readonly readers = new Map<string, number>();
  /** Conv node id → the Add node it absorbs (its constant operand becomes the ONNX bias). */
  private readonly fusedAdd = new Map<number, { add: Node; bias: ConstTensor }>();
  private readonly batch: number;
  private readonly altBatch: number;

  constructor(
    readonly g: Graph,
    readonly alt?: Graph,
  ) {
    this.byId = new Map(g.nodes.map((n) => [n.id, n]));
    if (alt) this.altById = new Map(alt.nodes.map((n) => [n.id, n]));
    const p = g.nodes.find((n) => n.type === "Parameter" && n.outputs[0].shape.length > 0);
    this.batch = p ? p.outputs[0].shape[0] : 1;
    this.altBatch = p && this.altById ? this.altById.get(p.id)!.outputs[0].shape[0] : this.batch;
  }

  /** The value of a port when it is the same constant at every batch. */
  constValue(ref: PortRef): ConstTensor | undefined {
    const v = constOutput(this.byId.get(ref.node)!, ref.port);
    if (!v || !this.altById) return v;
    const a = constOutput(this.altById.get(ref.node)!, ref.port);
    return a && sameTensor(v, a) ? v : undefined;
  }

  shapeOf(ref: PortRef): number[] {
    return this.byId.get(ref.node)!.outputs[ref.port].shape;
  }

  dtypeOf(ref: PortRef): DType {
    return this.byId.get(ref.node)!.outputs[ref.port].dtype;
  }

  /** Whether `axis` of a port changes with the batch. */
  varies(ref: PortRef, axis: number): boolean {
    if (!this.altById) return false;
    return this.altById.get(ref.node)!.outputs[ref.port].shape[axis] !== this.shapeOf(ref)[axis];
  }

  isUsed(ref: PortRef): boolean {
    return this.readers.has(key(ref));
  }

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.values.has(name) || name === ""; i++) name = `${base}_${i}`;
    this.values.add(name);
    return name;
  }

  /** The ONNX value name of a port: an initializer for constants, else the (unique) tensor or layer name. */
  name(ref: PortRef): string {
    const k = key(ref);
    const c = this.constValue(ref);
    const src = this.byId.get(ref.node)!;
    if (c) {
      let init = this.initNames.get(k);
      if (!init) {
        init = this.constant(src.outputs[ref.port].names[0] ?? src.name, c);
        this.initNames.set(k, init);
      }
      return init;
    }
    const fused = this.fusedAdd.get(ref.node);
    if (fused && ref.port === 0) return this.name({ node: fused.add.id, port: 0 });
    let s = this.portNames.get(k);
    if (!s) {
      const port = src.outputs[ref.port];
      const preferred = src.type === "Parameter" ? src.name : (port.names[0] ?? (src.outputs.length > 1 ? `${src.name}.${ref.port}` : src.name));
      s = this.unique(preferred);
      this.portNames.set(k, s);
    }
    return s;
  }

  /** Adds an initializer under a unique name. */
  constant(base: string, t: ConstTensor): string {
    const name = this.unique(base);
    this.inits.push(tensorProto(name, t));
    return name;
  }

  node(type: string, base: string, inputs: string[], outputs: string[], attrs: Obj[]): void {
    let name = base;
    for (let i = 1; this.nodeNames.has(name); i++) name = `${base}_${i}`;
    this.nodeNames.add(name);
    this.nodes.push({ op_type: type, name, input: inputs, output: outputs, attribute: attrs });
  }

  /** The bias input of a conv whose following Add was absorbed, if any. */
  biasOf(conv: Node): string | undefined {
    const f = this.fusedAdd.get(conv.id);
    if (!f) return undefined;
    return this.constant(`${conv.name}/bias`, { ...f.bias, shape: [numel(f.bias.shape)] });
  }

  /** Marks the nodes the outputs need (constants end the walk) and counts each port's readers. */
  private walk(): Set<number> {
    const needed = new Set<number>();
    const stack = this.g.nodes.filter((n) => n.type === "Result").map((n) => n.id);
    while (stack.length) {
      const id = stack.pop()!;
      if (needed.has(id)) continue;
      needed.add(id);
      for (const ref of this.byId.get(id)!.inputs) {
        if (this.constValue(ref)) continue;
        this.readers.set(key(ref), (this.readers.get(key(ref)) ?? 0) + 1);
        stack.push(ref.node);
      }
    }
    return needed;
  }

  /** Conv → Add(constant per-channel) pairs become one Conv with a bias, as exporters write them. */
  private fuseBiases(needed: Set<number>): Set<number> {
    const absorbed = new Set<number>();
    for (const add of this.g.nodes) {
      if (add.type !== "Add" || !needed.has(add.id)) continue;
      for (const [x, b] of [
        [0, 1],
        [1, 0],
      ]) {
        const src = this.byId.get(add.inputs[x].node)!;
        const bias = this.constValue(add.inputs[b]);
        if (!bias || !BIASED.has(src.type) || add.inputs[x].port !== 0 || this.fusedAdd.has(src.id)) continue;
        if (this.readers.get(key(add.inputs[x])) !== 1 || !isFloat(bias.dtype)) continue;
        const out = src.outputs[0].shape;
        const bs = [...new Array<number>(Math.max(out.length - bias.shape.length, 0)).fill(1), ...bias.shape];
        const perChannel = bs.length === out.length && bs.every((d, i) => (i === 1 ? d === out[1] : d === 1));
        if (!perChannel || add.outputs[0].shape.join() !== out.join()) continue;
        this.fusedAdd.set(src.id, { add, bias });
        absorbed.add(add.id);
        break;
      }
    }
    return absorbed;
  }

  private valueInfo(name: string, dtype: DType, shape: number[], altShape: number[] | undefined): Obj {
    const dim = shape.map((d, i) => {
      if (!altShape || altShape[i] === d) return { dim_value: d };
      if (i === 0 && d === this.batch && altShape[i] === this.altBatch) return { dim_param: "N" };
      return {};
    });
    return { name, type: { tensor_type: { elem_type: ONNX_TYPE[dtype], shape: { dim } } } };
  }

  encode(): Uint8Array {
    const needed = this.walk();
    const absorbed = this.fuseBiases(needed);
    const inputs: Obj[] = [];
    const outputs: Obj[] = [];
    const altShape = (ref: PortRef) => this.altById?.get(ref.node)!.outputs[ref.port].shape;

    // Inputs keep their names; then outputs claim theirs before any intermediate tensor does.
    for (const p of this.g.nodes.filter((n) => n.type === "Parameter")) {
      const ref = { node: p.id, port: 0 };
      const dtype = p.outputs[0].dtype;
      if (isFloat(dtype)) {
        inputs.push(this.valueInfo(this.name(ref), "f32", p.outputs[0].shape, altShape(ref)));
      } else {
        // dynbatch feeds every input as FP32: take FLOAT and cast to the declared type.
        const outer = this.unique(p.name);
        inputs.push(this.valueInfo(outer, "f32", p.outputs[0].shape, altShape(ref)));
        this.node("Cast", `${p.name}/cast`, [outer], [this.name(ref)], [attr.int("to", ONNX_TYPE[dtype])]);
      }
    }
    const results = this.g.nodes.filter((n) => n.type === "Result");
    const direct = new Map<number, string>();
    const claimed = new Set<string>();
    for (const r of results) {
      const ref = r.inputs[0];
      const src = this.byId.get(ref.node)!;
      if (this.constValue(ref) || src.type === "Parameter" || claimed.has(key(ref))) continue;
      claimed.add(key(ref));
      direct.set(r.id, this.name(ref));
    }

    for (const n of this.g.nodes) {
      if (!needed.has(n.id) || absorbed.has(n.id) || n.type === "Parameter" || n.type === "Result") continue;
      if (n.inputs.length === 0 || n.outputs.every((_, p) => this.constValue({ node: n.id, port: p }))) continue;
      const convert = CONVERTERS[n.type];
      if (!convert) {
        const why = NO_ONNX[n.type] ?? "the writer does not translate it";
        throw new UnsupportedError(this.g.file, `${n.type} cannot be written as ONNX: ${why}`, n.name);
      }
      convert(new Cx(this, n));
    }

    for (const r of results) {
      const ref = r.inputs[0];
      let name = direct.get(r.id);
      if (!name) {
        // A constant, an input or a tensor already returned: a graph output needs its own node.
        name = this.unique(r.name.replace(/\/sink_port_\d+$/, ""));
        this.node("Identity", r.name, [this.name(ref)], [name], []);
      }
      outputs.push(this.valueInfo(name, this.dtypeOf(ref), this.shapeOf(ref), altShape(ref)));
    }

    const msg = ModelProtoType.fromObject({
      ir_version: IR_VERSION,
      producer_name: "dynbatch",
      opset_import: [{ domain: "", version: ONNX_OPSET }],
      graph: { name: this.g.name, node: this.nodes, initializer: this.inits, input: inputs, output: outputs },
    });
    return ModelProtoType.encode(msg).finish();
  }
}

/**
 * Encodes a prepared graph as an ONNX model. With `alt` (the same graph prepared at another
 * batch) the batch axis is symbolic; without it every shape is fixed.
 */
export function graphToONNX(g: Graph, alt?: Graph): Uint8Array {
  return new OnnxWriter(g, alt).encode();
}
