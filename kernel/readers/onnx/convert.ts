/** ONNX op type → converter, and the output rank each translated node is known to have. */
import { numel } from "../../graph/ops/util";
import { table } from "../../dict";
import { makeConst } from "../tensor";
import { Converter, NUMPY, ReadCtx } from "./context";
import { bool, fmt } from "./format";
import { BINARY_OPS, COMPARE_OPS, REDUCE_OPS, UNARY_OPS } from "./op_table";
import { binary, cast, clip, constantNode, gemm, reduce, softmax, unary } from "./ops_math";
import { pad, resize, slice, split, squeezeLike } from "./ops_shape";
import { conv, convTranspose, globalPool, pool } from "./ops_window";
import { dequantizeLinear, quantizeLinear } from "./ops_quantize";
import { instanceNorm, layerNorm } from "./ops_norm";
import { einsum } from "./ops_einsum";
import { ifNode } from "./ops_if";

/** ONNX's variadic Sum is read as a chain of Adds; the writer writes Add itself, so Sum is read-only. */
const BINARY: Record<string, string> = table({ ...BINARY_OPS, Sum: "Add" });

export const CONVERTERS: Record<string, Converter> = table({
  Conv: conv,
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
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
  LayerNormalization: layerNorm,
  Einsum: einsum,
  If: ifNode,
  InstanceNormalization: instanceNorm,
  LRN: (c) => [
    c.op("LRN", [c.input(0, "X"), c.i64("axes", [1])], {
      alpha: fmt(c.float("alpha", 1e-4)),
      beta: fmt(c.float("beta", 0.75)),
      bias: fmt(c.float("bias", 1)),
      size: fmt(c.int("size")),
    }),
  ],
  Concat: (c) => [c.op("Concat", c.all(), { axis: fmt(c.int("axis")) })],
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
  Gather: (c) => [
    c.op("Gather", [c.input(0, "data"), c.input(1, "indices"), c.i64("axis", [c.int("axis", 0)], [])], { batch_dims: "0" }),
  ],
  Shape: (c) => {
    const ranged = c.has("start") || c.has("end");
    const shape = c.op("ShapeOf", [c.input(0, "data")], { output_type: "i64" }, ranged ? "shape" : "", "i64");
    if (!ranged) return [shape];
    // Opset 15's start/end: a slice of the shape, with Slice's own clamping of negative and large bounds.
    const bounds = [c.i64("start", [c.int("start", 0)]), c.i64("end", [c.int("end", Number.MAX_SAFE_INTEGER)])];
    return [c.op("Slice", [shape, ...bounds, c.i64("step", [1])], {}, "", "i64")];
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
for (const [k, v] of Object.entries(UNARY_OPS)) CONVERTERS[k] = unary(v);
for (const [k, v] of Object.entries(BINARY)) CONVERTERS[k] = binary(v);
for (const [k, v] of Object.entries(REDUCE_OPS)) CONVERTERS[k] = (c) => reduce(c, v);
for (const [k, v] of Object.entries(COMPARE_OPS)) {
  CONVERTERS[k] = (c) => [c.op(v, [c.input(0, "A"), c.input(1, "B")], NUMPY, "", "boolean")];
}

/** ONNX op types the reader translates. */
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.keys(CONVERTERS).sort();

/** Output rank of a translated node, from input ranks and constants; undefined when unknown. */
export function outputRank(c: ReadCtx): number | undefined {
  const r0 = c.rank(0);
  const ints = (i: number) => c.constInts(i);
  switch (c.onnx.op_type) {
    case "Flatten":
    case "Gemm":
      return 2;
    case "Shape":
      return 1;
    case "If":
      // The taken branch's outputs carry their own ranks.
      return undefined;
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
      if (c.onnx.op_type in REDUCE_OPS) {
        if (c.int("keepdims", 1) !== 0) return r0;
        const axes = c.has("axes") ? c.ints("axes") : ints(1);
        return r0 !== undefined && axes ? r0 - axes.length : undefined;
      }
      if (c.onnx.op_type in BINARY || c.onnx.op_type in COMPARE_OPS || c.onnx.op_type === "Where") {
        const rs = c.all().map((r) => c.b.rank(r));
        return rs.every((r) => r !== undefined) ? Math.max(...(rs as number[])) : undefined;
      }
      // Every other translated op keeps the rank of its data input.
      return r0;
  }
}
