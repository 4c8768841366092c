import * as fs from "fs";
import { ModelError, UnsupportedError } from "../errors";
import { Attrs, ConstTensor, DType, Graph, Node, PortRef } from "../graph/graph";
import {
  ATTR,
  ModelProtoType,
  ONNX_DTYPE,
  OnnxAttribute,
  OnnxGraph,
  OnnxModel,
  OnnxNode,
  OnnxTensor,
  OnnxValueInfo,
  toNum,
} from "./onnx-proto";
import { ELEMENT_BYTES, decodeHalf, decodeRaw, isFloat, makeConst, numel } from "./tensor";
import { table } from "../dict";

/**
 * ONNX ModelProto → Graph. Each ONNX node becomes one or more OpenVINO opset ops with IR
 * attribute names, so later stages see a single vocabulary. Produced nodes keep the ONNX node
 * name (helpers get "<name>/<role>") and the ONNX value names as output tensor names.
 */

export const MIN_OPSET = 7;
export const MAX_OPSET = 20;

const DTYPES: Record<number, DType> = {
  [ONNX_DTYPE.FLOAT]: "f32",
  [ONNX_DTYPE.FLOAT16]: "f16",
  [ONNX_DTYPE.DOUBLE]: "f64",
  [ONNX_DTYPE.INT64]: "i64",
  [ONNX_DTYPE.INT32]: "i32",
  [ONNX_DTYPE.INT16]: "i16",
  [ONNX_DTYPE.INT8]: "i8",
  [ONNX_DTYPE.UINT8]: "u8",
  [ONNX_DTYPE.UINT16]: "u16",
  [ONNX_DTYPE.UINT32]: "u32",
  [ONNX_DTYPE.UINT64]: "u64",
  [ONNX_DTYPE.BOOL]: "boolean",
};

/** Opset version recorded on produced nodes (informational, as in IR). */
const OP_VERSION: Record<string, string> = table({
  MaxPool: "opset8",
  SoftMax: "opset8",
  Slice: "opset8",
  Gather: "opset8",
  Interpolate: "opset4",
  BatchNormInference: "opset5",
  LogSoftmax: "opset5",
  HSwish: "opset4",
  HSigmoid: "opset5",
  ShapeOf: "opset3",
  Broadcast: "opset3",
  Flatten: "dynbatch",
});

const FLOAT_MAX = 3.4028234663852886e38;

function fmt(v: number): string {
  return String(v);
}
function list(v: number[]): string {
  return v.map(fmt).join(",");
}
function bool(v: boolean): string {
  return v ? "true" : "false";
}

/** Decodes one TensorProto into a ConstTensor (raw_data or the typed repeated fields). */
export function tensorFromProto(t: OnnxTensor, file: string, layer: string): ConstTensor {
  if (t.data_location === 1) throw new UnsupportedError(file, "ONNX external data is not supported", layer || t.name);
  const dtype = DTYPES[t.data_type];
  if (!dtype) throw new UnsupportedError(file, `tensor '${t.name}' has unsupported ONNX data type ${t.data_type}`, layer || t.name);
  const shape = t.dims.map(toNum);
  const n = numel(shape);
  const raw = t.raw_data;
  if (raw && raw.length > 0) {
    const expected = n * ELEMENT_BYTES[dtype];
    if (raw.length !== expected) {
      throw new ModelError(
        file,
        `tensor '${t.name}' has ${raw.length} bytes of raw_data, shape [${shape.join(", ")}] of ${dtype} needs ${expected}`,
        layer || t.name,
      );
    }
    return { dtype, shape, data: decodeRaw(dtype, raw) };
  }
  let values: ArrayLike<number>;
  switch (t.data_type) {
    case ONNX_DTYPE.FLOAT:
      values = t.float_data;
      break;
    case ONNX_DTYPE.DOUBLE:
      values = t.double_data;
      break;
    case ONNX_DTYPE.INT64:
      values = t.int64_data.map(toNum);
      break;
    case ONNX_DTYPE.UINT32:
    case ONNX_DTYPE.UINT64:
      values = t.uint64_data.map(toNum);
      break;
    case ONNX_DTYPE.FLOAT16: {
      // FP16 values travel as their bit patterns in int32_data.
      const bytes = new Uint8Array(t.int32_data.length * 2);
      t.int32_data.forEach((b, i) => {
        bytes[2 * i] = b & 0xff;
        bytes[2 * i + 1] = (b >> 8) & 0xff;
      });
      values = decodeHalf(bytes);
      break;
    }
    default:
      values = t.int32_data;
  }
  if (values.length !== n) {
    throw new ModelError(file, `tensor '${t.name}' has ${values.length} values, shape [${shape.join(", ")}] needs ${n}`, layer || t.name);
  }
  return makeConst(dtype, shape, dtype === "boolean" ? Array.from(values, (v) => (v ? 1 : 0)) : values);
}

interface OutSpec {
  dtype: DType;
  names?: string[];
}

/** Builds the Graph: node ids, value-name bindings, constants and known ranks/shapes. */
class Builder {
  readonly nodes: Node[] = [];
  private readonly byId = new Map<number, Node>();
  /** ONNX value name → producing port. */
  readonly values = new Map<string, PortRef>();
  /** Initializers not yet turned into Const nodes (created on first use, so unused ones leave no dead nodes). */
  readonly initializers = new Map<string, OnnxTensor>();
  /** Shapes from graph inputs/outputs/value_info (-1 for symbolic dims). */
  readonly declaredShapes = new Map<string, number[]>();
  private readonly ranks = new Map<string, number>();

  constructor(readonly file: string) {}

  add(type: string, name: string, inputs: PortRef[], attrs: Attrs, outs: OutSpec[], value?: ConstTensor): Node {
    const node: Node = {
      id: this.nodes.length,
      name,
      type,
      version: OP_VERSION[type] ?? "opset1",
      attrs,
      inputs,
      outputs: outs.map((o) => ({ names: o.names ?? [], dtype: o.dtype, shape: value ? value.shape.slice() : [] })),
    };
    if (value) {
      node.value = value;
      this.setRank({ node: node.id, port: 0 }, value.shape.length);
    }
    this.nodes.push(node);
    this.byId.set(node.id, node);
    return node;
  }

  /** Adds one single-output op whose output dtype follows its first input. */
  op(type: string, name: string, inputs: PortRef[], attrs: Attrs = {}, dtype?: DType): PortRef {
    const n = this.add(type, name, inputs, attrs, [{ dtype: dtype ?? this.dtype(inputs[0]) }]);
    return { node: n.id, port: 0 };
  }

  constant(name: string, value: ConstTensor): PortRef {
    const n = this.add("Const", name, [], { element_type: value.dtype, shape: list(value.shape) }, [{ dtype: value.dtype }], value);
    return { node: n.id, port: 0 };
  }

  i64(name: string, values: number[], shape: number[] = [values.length]): PortRef {
    return this.constant(name, makeConst("i64", shape, values));
  }

  f32(name: string, values: number[], shape: number[] = [values.length]): PortRef {
    return this.constant(name, makeConst("f32", shape, values));
  }

  node(ref: PortRef): Node {
    return this.byId.get(ref.node)!;
  }

  dtype(ref: PortRef): DType {
    return this.node(ref).outputs[ref.port].dtype;
  }

  /** The constant behind a port, when it is a Const node. */
  constOf(ref: PortRef | undefined): ConstTensor | undefined {
    return ref ? this.node(ref).value : undefined;
  }

  private key(ref: PortRef): string {
    return `${ref.node}:${ref.port}`;
  }

  rank(ref: PortRef | undefined): number | undefined {
    return ref ? this.ranks.get(this.key(ref)) : undefined;
  }

  setRank(ref: PortRef, r: number | undefined): void {
    if (r !== undefined && r >= 0) this.ranks.set(this.key(ref), r);
  }

  private readonly decoded = new Map<string, ConstTensor>();

  /**
   * The constant value of an ONNX value without adding a node, so a translation that needs
   * the value reshaped or scaled does not leave the original initializer behind as a dead Const.
   */
  peek(name: string): ConstTensor | undefined {
    const ref = this.values.get(name);
    if (ref) return this.node(ref).value;
    const init = this.initializers.get(name);
    if (!init) return undefined;
    let v = this.decoded.get(name);
    if (!v) {
      v = tensorFromProto(init, this.file, name);
      this.decoded.set(name, v);
    }
    return v;
  }

  /** Resolves an ONNX value name; materializes an initializer as a Const on first use. */
  resolve(name: string, layer: string): PortRef {
    const ref = this.values.get(name);
    if (ref) return ref;
    if (this.initializers.has(name)) {
      const r = this.constant(name, this.peek(name)!);
      this.node(r).outputs[0].names.push(name);
      this.values.set(name, r);
      return r;
    }
    throw new ModelError(this.file, `input '${name}' is not produced by any node, initializer or graph input`, layer);
  }

  /** Binds an ONNX value name to a port and records it as the port's tensor name. */
  bind(name: string, ref: PortRef): void {
    const port = this.node(ref).outputs[ref.port];
    if (!port.names.includes(name)) port.names.push(name);
    this.values.set(name, ref);
    const declared = this.declaredShapes.get(name);
    if (declared) {
      if (port.shape.length === 0 && !this.node(ref).value) port.shape = declared.slice();
      this.setRank(ref, declared.length);
    }
  }
}

function shapeOfValueInfo(v: OnnxValueInfo): number[] | undefined {
  const shape = v.type?.tensor_type?.shape;
  if (!shape) return undefined;
  return shape.dim.map((d) => (Object.prototype.hasOwnProperty.call(d, "dim_value") ? toNum(d.dim_value) : -1));
}

/** Per-node view: attributes, inputs (absent optional inputs are undefined), opset. */
class Ctx {
  readonly name: string;
  private readonly resolved = new Map<number, PortRef>();
  private readonly attrs = new Map<string, OnnxAttribute>();

  constructor(
    readonly b: Builder,
    readonly onnx: OnnxNode,
    readonly opset: number,
  ) {
    this.name = onnx.name || onnx.output.find((o) => o !== "") || onnx.op_type;
    for (const a of onnx.attribute) this.attrs.set(a.name, a);
  }

  /** Optional input i (undefined when absent or ""); resolved on use so ignored inputs (Resize roi) leave no nodes. */
  opt(i: number): PortRef | undefined {
    const name = this.onnx.input[i];
    if (name === undefined || name === "") return undefined;
    let r = this.resolved.get(i);
    if (!r) {
      r = this.b.resolve(name, this.name);
      this.resolved.set(i, r);
    }
    return r;
  }

  /** The constant value of input i, without materializing it as a node. */
  peek(i: number): ConstTensor | undefined {
    const name = this.onnx.input[i];
    return name ? this.b.peek(name) : undefined;
  }

  /** All present inputs, in order (variadic ops). */
  all(): PortRef[] {
    return this.onnx.input.map((_, i) => this.opt(i)).filter((r): r is PortRef => r !== undefined);
  }

  get file(): string {
    return this.b.file;
  }

  has(name: string): boolean {
    return this.attrs.has(name);
  }

  int(name: string, def?: number): number {
    const a = this.attrs.get(name);
    if (!a) return this.required(name, def);
    return toNum(a.i);
  }

  float(name: string, def?: number): number {
    const a = this.attrs.get(name);
    if (!a) return this.required(name, def);
    return a.type === ATTR.INT ? toNum(a.i) : a.f;
  }

  str(name: string, def?: string): string {
    const a = this.attrs.get(name);
    if (!a) return this.required(name, def);
    return Buffer.from(a.s).toString("utf8");
  }

  ints(name: string, def?: number[]): number[] {
    const a = this.attrs.get(name);
    if (!a) return this.required(name, def);
    return a.ints.map(toNum);
  }

  floats(name: string, def?: number[]): number[] {
    const a = this.attrs.get(name);
    if (!a) return this.required(name, def);
    return a.floats.slice();
  }

  tensor(name: string): ConstTensor | undefined {
    const a = this.attrs.get(name);
    return a?.t ? tensorFromProto(a.t, this.file, this.name) : undefined;
  }

  private required<T>(name: string, def: T | undefined): T {
    if (def === undefined) throw new ModelError(this.file, `${this.onnx.op_type} is missing attribute '${name}'`, this.name);
    return def;
  }

  input(i: number, what: string): PortRef {
    const r = this.opt(i);
    if (!r) throw new ModelError(this.file, `${this.onnx.op_type} is missing input ${i} (${what})`, this.name);
    return r;
  }

  /** Constant integer values of an optional input (e.g. axes), or undefined when absent. */
  constInts(i: number): number[] | undefined {
    const c = this.peek(i);
    return c ? Array.from(c.data) : undefined;
  }

  unsupported(reason: string): UnsupportedError {
    return new UnsupportedError(this.file, `${this.onnx.op_type}: ${reason}`, this.name);
  }

  /** The rank of input i when known (declared shapes, constants, propagated). */
  rank(i: number): number | undefined {
    return this.b.rank(this.opt(i));
  }

  requireRank(i: number, why: string): number {
    const r = this.rank(i);
    if (r === undefined) throw this.unsupported(`the rank of input ${i} is unknown (needed for ${why})`);
    return r;
  }

  op(type: string, inputs: PortRef[], attrs: Attrs = {}, suffix = "", dtype?: DType): PortRef {
    return this.b.op(type, suffix ? `${this.name}/${suffix}` : this.name, inputs, attrs, dtype);
  }

  i64(suffix: string, values: number[], shape?: number[]): PortRef {
    return this.b.i64(`${this.name}/${suffix}`, values, shape);
  }

  f32(suffix: string, values: number[], shape?: number[]): PortRef {
    return this.b.f32(`${this.name}/${suffix}`, values, shape);
  }
}

type Converter = (c: Ctx) => PortRef[];

const NUMPY = { auto_broadcast: "numpy" };

const UNARY: Record<string, string> = table({
  Relu: "ReLU",
  Sigmoid: "Sigmoid",
  Tanh: "Tanh",
  Exp: "Exp",
  Log: "Log",
  Abs: "Abs",
  Sqrt: "Sqrt",
  Neg: "Negative",
  Floor: "Floor",
  Ceil: "Ceiling",
  HardSwish: "HSwish",
  Erf: "Erf",
  Softplus: "SoftPlus",
  Mish: "Mish",
  Sin: "Sin",
  Cos: "Cos",
  Sign: "Sign",
  Not: "LogicalNot",
});

const BINARY: Record<string, string> = table({
  Add: "Add",
  Sub: "Subtract",
  Mul: "Multiply",
  Div: "Divide",
  Pow: "Power",
  Max: "Maximum",
  Min: "Minimum",
  Sum: "Add",
});

const COMPARE: Record<string, string> = table({
  Equal: "Equal",
  Less: "Less",
  Greater: "Greater",
  LessOrEqual: "LessEqual",
  GreaterOrEqual: "GreaterEqual",
  And: "LogicalAnd",
  Or: "LogicalOr",
  Xor: "LogicalXor",
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

const AUTO_PAD: Record<string, string> = table({
  NOTSET: "explicit",
  SAME_UPPER: "same_upper",
  SAME_LOWER: "same_lower",
  VALID: "valid",
});

function autoPad(c: Ctx): string {
  const v = c.str("auto_pad", "NOTSET");
  const r = AUTO_PAD[v];
  if (!r) throw c.unsupported(`auto_pad '${v}' is not supported`);
  return r;
}

/** Spatial rank of a conv/pool node: from kernel_shape, the weights, or the data rank. */
function spatialRank(c: Ctx, weights?: ConstTensor): number {
  if (c.has("kernel_shape")) return c.ints("kernel_shape").length;
  if (weights) return weights.shape.length - 2;
  for (const k of ["strides", "dilations"]) if (c.has(k)) return c.ints(k).length;
  if (c.has("pads")) return c.ints("pads").length / 2;
  return c.requireRank(0, "the number of spatial axes") - 2;
}

/** ONNX strides/dilations/pads → IR strides, dilations, pads_begin, pads_end, auto_pad. */
function windowAttrs(c: Ctx, n: number, withDilations = true): Attrs {
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
function addBias(c: Ctx, y: PortRef, spatial: number): PortRef {
  const bv = c.peek(2);
  const shape = [1, -1, ...new Array(spatial).fill(1)];
  const b = bv
    ? c.b.constant(`${c.name}/bias`, { ...bv, shape: [1, numel(bv.shape), ...new Array(spatial).fill(1)] })
    : c.op("Reshape", [c.input(2, "B"), c.i64("bias_shape", shape)], { special_zero: "false" }, "bias");
  return c.op("Add", [y, b], NUMPY);
}

/** Weights reshaped for a grouped op: [O, I/G, k...] → [G, O/G, I/G, k...] (ConvTranspose: [I, O/G, k...] → [G, I/G, O/G, k...]). */
function groupWeights(c: Ctx, group: number): PortRef {
  const w = c.peek(1);
  if (!w) throw c.unsupported("grouped convolution needs constant weights");
  const [first, second, ...k] = w.shape;
  if (first % group !== 0) throw new ModelError(c.file, `weights dim 0 (${first}) is not divisible by group ${group}`, c.name);
  return c.b.constant(`${c.name}/weights`, { ...w, shape: [group, first / group, second, ...k] });
}

function conv(c: Ctx): PortRef[] {
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

function convTranspose(c: Ctx): PortRef[] {
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

/** Multiplies by a scalar, folding it into a constant operand when there is one. */
function scaled(c: Ctx, i: number, k: number, role: string): PortRef {
  if (k === 1) return c.input(i, role);
  const v = c.peek(i);
  if (v && isFloat(v.dtype)) return c.b.constant(`${c.name}/${role}`, { ...v, data: v.data.map((x) => x * k) });
  return c.op("Multiply", [c.input(i, role), c.f32(`${role}_scale`, [k], [])], NUMPY, `${role}_scaled`);
}

function gemm(c: Ctx): PortRef[] {
  const alpha = c.float("alpha", 1);
  const beta = c.float("beta", 1);
  const ta = c.int("transA", 0) !== 0;
  const tb = c.int("transB", 0) !== 0;
  const hasC = !!c.onnx.input[2];
  const b = scaled(c, 1, alpha, "B");
  const attrs = { transpose_a: bool(ta), transpose_b: bool(tb) };
  const mm = c.op("MatMul", [c.input(0, "A"), b], attrs, hasC ? "MatMul" : "");
  if (!hasC) return [mm];
  return [c.op("Add", [mm, scaled(c, 2, beta, "C")], NUMPY)];
}

function clip(c: Ctx): PortRef[] {
  const x = c.input(0, "input");
  let lo = -FLOAT_MAX;
  let hi = FLOAT_MAX;
  if (c.opset < 11) {
    lo = c.float("min", lo);
    hi = c.float("max", hi);
    return [c.op("Clamp", [x], { min: fmt(lo), max: fmt(hi) })];
  }
  const hasMin = !!c.onnx.input[1];
  const hasMax = !!c.onnx.input[2];
  const minC = c.peek(1);
  const maxC = c.peek(2);
  if ((!hasMin || minC) && (!hasMax || maxC)) {
    if (minC) lo = minC.data[0];
    if (maxC) hi = maxC.data[0];
    return [c.op("Clamp", [x], { min: fmt(lo), max: fmt(hi) })];
  }
  // Runtime bounds: Clamp needs attribute values, so use Maximum/Minimum instead.
  let y = x;
  if (hasMin) y = c.op("Maximum", [y, c.input(1, "min")], NUMPY, hasMax ? "min" : "");
  if (hasMax) y = c.op("Minimum", [y, c.input(2, "max")], NUMPY);
  return [y];
}

function softmax(c: Ctx, type: string): PortRef[] {
  const x = c.input(0, "input");
  const legacy = c.opset < 13;
  const axis = c.int("axis", legacy ? 1 : -1);
  const rank = c.rank(0);
  const last = axis === -1 || (rank !== undefined && (axis + rank) % rank === rank - 1);
  if (!legacy || last) return [c.op(type, [x], { axis: fmt(axis) })];
  // Opset < 13 normalizes over all axes from `axis` on: merge them into one, normalize, restore the shape.
  // The leading axes stay as they are (not coerced to 2-D), so the batch is never folded into axis 0.
  const a = axis < 0 ? axis + c.requireRank(0, "a negative softmax axis") : axis;
  const merge = c.i64("merged_shape", [...new Array<number>(a).fill(0), -1]);
  const merged = c.op("Reshape", [x, merge], { special_zero: "true" }, "merge");
  const sm = c.op(type, [merged], { axis: fmt(a) }, "softmax");
  const shape = c.op("ShapeOf", [x], { output_type: "i64" }, "shape", "i64");
  return [c.op("Reshape", [sm, shape], { special_zero: "false" })];
}

function pool(c: Ctx, kind: "max" | "avg"): PortRef[] {
  const x = c.input(0, "X");
  const kernel = c.ints("kernel_shape");
  const n = kernel.length;
  const attrs = windowAttrs(c, n, kind === "max");
  attrs.kernel = list(kernel);
  // ONNX ceil_mode (like PyTorch) never starts a window in the end padding: opset14's ceil_torch.
  attrs.rounding_type = c.int("ceil_mode", 0) ? "ceil_torch" : "floor";
  if (kind === "avg") {
    if (c.has("dilations") && c.ints("dilations").some((d) => d !== 1)) throw c.unsupported("dilated AveragePool is not supported");
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

function globalPool(c: Ctx, type: string): PortRef[] {
  const r = c.requireRank(0, "the spatial axes");
  const axes = Array.from({ length: r - 2 }, (_, i) => i + 2);
  return [c.op(type, [c.input(0, "X"), c.i64("axes", axes)], { keep_dims: "true" })];
}

/** Axes from the attribute (older opsets) or the optional input `index`; undefined = none given. */
function axesOf(c: Ctx, index: number): PortRef | undefined {
  if (c.has("axes")) return c.i64("axes", c.ints("axes"));
  return c.opt(index);
}

function reduce(c: Ctx, type: string): PortRef[] {
  const x = c.input(0, "data");
  const keep = c.int("keepdims", 1) !== 0;
  let axes = axesOf(c, 1);
  const axesC = c.b.constOf(axes);
  if (!axes || (axesC && numel(axesC.shape) === 0)) {
    if (c.int("noop_with_empty_axes", 0) !== 0) return [x];
    const r = c.requireRank(0, "reducing over all axes");
    axes = c.i64("axes", Array.from({ length: r }, (_, i) => i));
  }
  return [c.op(type, [x, axes], { keep_dims: bool(keep) })];
}

function split(c: Ctx): PortRef[] {
  const x = c.input(0, "input");
  const axis = c.i64("axis", [c.int("axis", 0)], []);
  const outs = c.onnx.output.length;
  const sizes = c.has("split") ? c.i64("split_lengths", c.ints("split")) : c.opt(1);
  const dtype = c.b.dtype(x);
  const node = sizes
    ? c.b.add("VariadicSplit", c.name, [x, axis, sizes], {}, new Array(outs).fill(0).map(() => ({ dtype })))
    : c.b.add("Split", c.name, [x, axis], { num_splits: fmt(outs) }, new Array(outs).fill(0).map(() => ({ dtype })));
  return node.outputs.map((_, i) => ({ node: node.id, port: i }));
}

function slice(c: Ctx): PortRef[] {
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
    steps = c.i64("steps", s.map(() => 1));
  } else {
    starts = c.input(1, "starts");
    ends = c.input(2, "ends");
    axes = c.opt(3);
    steps = c.opt(4);
    if (!steps) {
      const sc = c.b.constOf(starts);
      steps = sc
        ? c.i64("steps", Array.from(sc.data, () => 1))
        : c.op("Broadcast", [c.i64("one", [1], []), c.op("ShapeOf", [starts], { output_type: "i64" }, "starts_shape", "i64")], { mode: "numpy" }, "steps", "i64");
    }
  }
  return [c.op("Slice", axes ? [x, starts, ends, steps, axes] : [x, starts, ends, steps])];
}

function squeezeLike(c: Ctx, type: "Squeeze" | "Unsqueeze"): PortRef[] {
  const x = c.input(0, "data");
  const axes = axesOf(c, 1);
  if (!axes) {
    if (type === "Unsqueeze") throw new ModelError(c.file, "Unsqueeze needs axes", c.name);
    return [c.op(type, [x])];
  }
  return [c.op(type, [x, axes])];
}

function pad(c: Ctx): PortRef[] {
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
    if (c.opt(3)) throw c.unsupported("Pad with an axes input is not supported");
    const p = c.constInts(1);
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
function resize(c: Ctx, upsample: boolean): PortRef[] {
  const x = c.input(0, "X");
  const mode = c.str("mode", "nearest").toLowerCase();
  const ovMode = mode === "nearest" ? "nearest" : mode === "linear" || mode === "bilinear" ? "linear_onnx" : mode === "cubic" ? "cubic" : "";
  if (!ovMode) throw c.unsupported(`mode '${mode}' is not supported`);
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
    if (c.has("axes")) throw c.unsupported("the axes attribute is not supported");
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
  const r = known ? numel(known.shape) : c.rank(0);
  if (r === undefined) throw c.unsupported("the number of resized axes is unknown");
  // Interpolate-4 takes both sizes and scales; the one not selected by shape_calculation_mode is ignored.
  if (!sizes) sizes = c.i64("sizes", new Array(r).fill(1));
  if (!scales) scales = c.f32("scales", new Array(r).fill(1));
  const axes = c.i64("axes", Array.from({ length: r }, (_, i) => i));
  return [c.op("Interpolate", [x, sizes, scales, axes], attrs)];
}

function constantNode(c: Ctx): PortRef[] {
  let v = c.tensor("value");
  if (!v) {
    if (c.has("value_float")) v = makeConst("f32", [], [c.float("value_float")]);
    else if (c.has("value_floats")) v = makeConst("f32", [c.floats("value_floats").length], c.floats("value_floats"));
    else if (c.has("value_int")) v = makeConst("i64", [], [c.int("value_int")]);
    else if (c.has("value_ints")) v = makeConst("i64", [c.ints("value_ints").length], c.ints("value_ints"));
    else throw c.unsupported("only value, value_float(s) and value_int(s) constants are supported");
  }
  return [c.b.constant(c.name, v)];
}

function cast(c: Ctx): PortRef[] {
  const to = DTYPES[c.int("to")];
  if (!to) throw c.unsupported(`cast to ONNX data type ${c.int("to")} is not supported`);
  return [c.op("Convert", [c.input(0, "input")], { destination_type: to }, "", to)];
}

function unary(type: string): Converter {
  return (c) => [c.op(type, [c.input(0, "X")])];
}

/** Variadic ONNX ops (Max, Min, Sum) become a chain of binary ops; only the last keeps the node name. */
function binary(type: string): Converter {
  return (c) => {
    const xs = c.all();
    if (xs.length === 0) throw new ModelError(c.file, `${c.onnx.op_type} has no inputs`, c.name);
    let y = xs[0];
    for (let i = 1; i < xs.length; i++) y = c.op(type, [y, xs[i]], NUMPY, i === xs.length - 1 ? "" : `${i}`);
    return [y];
  };
}

const CONVERTERS: Record<string, Converter> = table({
  Conv: conv,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: (c) => [c.op("MatMul", [c.input(0, "A"), c.input(1, "B")], { transpose_a: "false", transpose_b: "false" })],
  PRelu: (c) => [c.op("PReLU", [c.input(0, "X"), c.input(1, "slope")])],
  LeakyRelu: (c) => [c.op("PReLU", [c.input(0, "X"), c.f32("slope", [c.float("alpha", 0.01)])])],
  Elu: (c) => [c.op("Elu", [c.input(0, "X")], { alpha: fmt(c.float("alpha", 1)) })],
  Clip: clip,
  HardSigmoid: (c) => {
    const alpha = c.float("alpha", 0.2);
    const beta = c.float("beta", 0.5);
    const x = c.input(0, "X");
    if (Math.abs(alpha - 1 / 6) < 1e-6 && Math.abs(beta - 0.5) < 1e-6) return [c.op("HSigmoid", [x])];
    return [c.op("HardSigmoid", [x, c.f32("alpha", [alpha], []), c.f32("beta", [beta], [])])];
  },
  Softmax: (c) => softmax(c, "SoftMax"),
  LogSoftmax: (c) => softmax(c, "LogSoftmax"),
  MaxPool: (c) => pool(c, "max"),
  AveragePool: (c) => pool(c, "avg"),
  GlobalAveragePool: (c) => globalPool(c, "ReduceMean"),
  GlobalMaxPool: (c) => globalPool(c, "ReduceMax"),
  BatchNormalization: (c) => {
    if (c.onnx.output.filter((o) => o !== "").length > 1) throw c.unsupported("training-mode outputs are not supported");
    const ins = ["X", "scale", "B", "mean", "var"].map((w, i) => c.input(i, w));
    return [c.op("BatchNormInference", ins, { epsilon: fmt(c.float("epsilon", 1e-5)) })];
  },
  LRN: (c) => [
    c.op("LRN", [c.input(0, "X"), c.i64("axes", [1])], {
      alpha: fmt(c.float("alpha", 1e-4)),
      beta: fmt(c.float("beta", 0.75)),
      bias: fmt(c.float("bias", 1)),
      size: fmt(c.int("size")),
    }),
  ],
  Concat: (c) => [
    c.op(
      "Concat",
      c.all(),
      { axis: fmt(c.int("axis")) },
    ),
  ],
  Split: split,
  Slice: slice,
  Squeeze: (c) => squeezeLike(c, "Squeeze"),
  Unsqueeze: (c) => squeezeLike(c, "Unsqueeze"),
  Flatten: (c) => [c.op("Flatten", [c.input(0, "input")], { axis: fmt(c.int("axis", 1)) })],
  Reshape: (c) => [
    c.op("Reshape", [c.input(0, "data"), c.input(1, "shape")], { special_zero: bool(c.int("allowzero", 0) === 0) }),
  ],
  Transpose: (c) => {
    const r = c.rank(0);
    const perm = c.has("perm") ? c.ints("perm") : r !== undefined ? Array.from({ length: r }, (_, i) => r - 1 - i) : [];
    // An empty permutation means "reverse the axes" in the opset Transpose.
    return [c.op("Transpose", [c.input(0, "data"), c.i64("perm", perm)])];
  },
  Pad: pad,
  Resize: (c) => resize(c, false),
  Upsample: (c) => resize(c, true),
  Gather: (c) => [c.op("Gather", [c.input(0, "data"), c.input(1, "indices"), c.i64("axis", [c.int("axis", 0)], [])], { batch_dims: "0" })],
  Shape: (c) => {
    if (c.has("start") || c.has("end")) throw c.unsupported("Shape with start/end is not supported");
    return [c.op("ShapeOf", [c.input(0, "data")], { output_type: "i64" }, "", "i64")];
  },
  Constant: constantNode,
  Cast: cast,
  Identity: (c) => [c.input(0, "input")],
  Dropout: (c) => {
    if (c.onnx.output[1]) throw c.unsupported("the mask output is not supported");
    return [c.input(0, "data")];
  },
  // ONNX Expand broadcasts both ways (a target dim of 1 keeps the input dim): Broadcast "bidirectional".
  Expand: (c) => [c.op("Broadcast", [c.input(0, "input"), c.input(1, "shape")], { mode: "bidirectional" })],
  ConstantOfShape: (c) => {
    const v = c.tensor("value") ?? makeConst("f32", [1], [0]);
    const scalar = c.b.constant(`${c.name}/value`, { ...v, shape: [] });
    return [c.op("Broadcast", [scalar, c.input(0, "input")], { mode: "numpy" }, "", v.dtype)];
  },
  Where: (c) => [
    c.op("Select", [c.input(0, "condition"), c.input(1, "X"), c.input(2, "Y")], NUMPY, "", c.b.dtype(c.input(1, "X"))),
  ],
});
for (const [k, v] of Object.entries(UNARY)) CONVERTERS[k] = unary(v);
for (const [k, v] of Object.entries(BINARY)) CONVERTERS[k] = binary(v);
for (const [k, v] of Object.entries(REDUCE)) CONVERTERS[k] = (c) => reduce(c, v);
for (const [k, v] of Object.entries(COMPARE)) {
  CONVERTERS[k] = (c) => [c.op(v, [c.input(0, "A"), c.input(1, "B")], NUMPY, "", "boolean")];
}

/** ONNX op types the reader translates. */
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.keys(CONVERTERS).sort();

/** Output rank of a translated node, from input ranks and constants; undefined when unknown. */
function outputRank(c: Ctx): number | undefined {
  const r0 = c.rank(0);
  const ints = (i: number) => c.constInts(i);
  switch (c.onnx.op_type) {
    case "Flatten":
    case "Gemm":
      return 2;
    case "Shape":
      return 1;
    case "ConstantOfShape": {
      const s = c.peek(0);
      return s ? numel(s.shape) : undefined;
    }
    case "MatMul": {
      const r1 = c.rank(1);
      if (r0 === undefined || r1 === undefined) return undefined;
      // numpy matmul: a 1-D operand loses its (prepended or appended) axis again.
      if (r0 === 1 || r1 === 1) return Math.max(r0, r1) - 1;
      return Math.max(r0, r1);
    }
    case "Reshape": {
      const s = c.peek(1);
      return s ? numel(s.shape) : undefined;
    }
    case "Squeeze":
    case "Unsqueeze": {
      const axes = c.has("axes") ? c.ints("axes") : ints(1);
      if (r0 === undefined || !axes) return undefined;
      return c.onnx.op_type === "Squeeze" ? r0 - axes.length : r0 + axes.length;
    }
    case "Gather": {
      const ri = c.rank(1);
      return r0 !== undefined && ri !== undefined ? r0 + ri - 1 : undefined;
    }
    case "Expand": {
      const s = c.peek(1);
      return s && r0 !== undefined ? Math.max(r0, numel(s.shape)) : undefined;
    }
    default:
      if (c.onnx.op_type in REDUCE) {
        if (c.int("keepdims", 1) !== 0) return r0;
        const axes = c.has("axes") ? c.ints("axes") : ints(1);
        return r0 !== undefined && axes ? r0 - axes.length : undefined;
      }
      if (c.onnx.op_type in BINARY || c.onnx.op_type in COMPARE || c.onnx.op_type === "Where") {
        const rs = c.all().map((r) => c.b.rank(r));
        return rs.every((r) => r !== undefined) ? Math.max(...(rs as number[])) : undefined;
      }
      // Every other translated op keeps the rank of its data input.
      return r0;
  }
}

/** ONNX requires topologically sorted nodes, but exporters do not always comply; order them stably. */
function sortNodes(g: OnnxGraph, file: string): OnnxNode[] {
  const producer = new Map<string, number>();
  g.node.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const deps = g.node.map((n) => [...new Set(n.input.filter((i) => producer.has(i)).map((i) => producer.get(i)!))]);
  const state = new Uint8Array(g.node.length);
  const order: OnnxNode[] = [];
  for (let start = 0; start < g.node.length; start++) {
    if (state[start]) continue;
    // Iterative DFS so deep chains cannot overflow the stack.
    const stack: [number, number][] = [[start, 0]];
    state[start] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [i, k] = top;
      if (k < deps[i].length) {
        top[1]++;
        const d = deps[i][k];
        if (state[d] === 1) throw new ModelError(file, "the graph has a cycle", g.node[d].name || g.node[d].output[0]);
        if (state[d] === 0) {
          state[d] = 1;
          stack.push([d, 0]);
        }
      } else {
        state[i] = 2;
        order.push(g.node[i]);
        stack.pop();
      }
    }
  }
  return order;
}

function decodeModel(path: string): OnnxModel {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (e) {
    throw new ModelError(path, `cannot read the model file: ${(e as Error).message}`);
  }
  try {
    return ModelProtoType.decode(buf) as unknown as OnnxModel;
  } catch (e) {
    throw new ModelError(path, `malformed or truncated ONNX protobuf: ${(e as Error).message}`);
  }
}

export function readONNX(path: string): Graph {
  const model = decodeModel(path);
  const g = model.graph;
  if (!g) throw new ModelError(path, "the ONNX model has no graph");
  const opsetEntry = model.opset_import.find((o) => o.domain === "" || o.domain === "ai.onnx");
  if (!opsetEntry) throw new ModelError(path, "the ONNX model imports no default-domain opset");
  const opset = toNum(opsetEntry.version);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UnsupportedError(path, `ONNX opset ${opset} is not supported (${MIN_OPSET}..${MAX_OPSET} are)`);
  }

  const b = new Builder(path);
  for (const t of g.initializer) b.initializers.set(t.name, t);
  for (const v of [...g.input, ...g.value_info, ...g.output]) {
    const s = shapeOfValueInfo(v);
    if (s) b.declaredShapes.set(v.name, s);
  }

  for (const v of g.input) {
    if (b.initializers.has(v.name)) continue;
    const tt = v.type?.tensor_type;
    if (!tt) throw new UnsupportedError(path, "only tensor graph inputs are supported", v.name);
    const dtype = DTYPES[tt.elem_type];
    if (!dtype) throw new UnsupportedError(path, `input element type ${tt.elem_type} is not supported`, v.name);
    const shape = shapeOfValueInfo(v);
    if (!shape) throw new ModelError(path, "graph input has no shape", v.name);
    const p = b.add("Parameter", v.name, [], { shape: list(shape), element_type: dtype }, [{ dtype }]);
    p.outputs[0].shape = shape.slice();
    b.bind(v.name, { node: p.id, port: 0 });
  }

  for (const n of sortNodes(g, path)) {
    const layer = n.name || n.output.find((o) => o !== "") || n.op_type;
    if (n.domain !== "" && n.domain !== "ai.onnx") {
      throw new UnsupportedError(path, `op '${n.op_type}' of domain '${n.domain}' is not supported`, layer);
    }
    const convert = CONVERTERS[n.op_type];
    if (!convert) throw new UnsupportedError(path, `unsupported ONNX op '${n.op_type}'`, layer);
    const c = new Ctx(b, n, opset);
    const outs = convert(c);
    const rank = outputRank(c);
    n.output.forEach((name, i) => {
      if (name === "") return;
      const ref = outs[i];
      if (!ref) throw c.unsupported(`output ${i} ('${name}') is not supported`);
      if (i === 0 && b.rank(ref) === undefined) b.setRank(ref, rank);
      b.bind(name, ref);
    });
  }

  for (const v of g.output) {
    const ref = b.resolve(v.name, v.name);
    b.add("Result", `${v.name}/sink_port_0`, [ref], {}, []);
  }

  return { name: g.name, file: path, format: "onnx", nodes: b.nodes };
}
