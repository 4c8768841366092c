/**
 * The ONNX ↔ OpenVINO vocabulary that the reader (ONNX → opset ops) and the writer
 * (serialize/onnx: opset ops → ONNX) share. Each table maps an ONNX op to the opset op that is the
 * same op with the same inputs; the reader reads it left to right, the writer through inverse().
 * Ops that only one side maps are listed beside that side's converters, with the reason.
 */
import { DType } from "../../graph/graph";
import { table } from "../../dict";
import { ONNX_DTYPE } from "./proto";

/** One input, one output, no attributes. */
export const UNARY_OPS: Record<string, string> = table({
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

/** Two inputs with numpy broadcast; the output has the inputs' element type. */
export const BINARY_OPS: Record<string, string> = table({
  Add: "Add",
  Sub: "Subtract",
  Mul: "Multiply",
  Div: "Divide",
  Pow: "Power",
  Max: "Maximum",
  Min: "Minimum",
});

/** Two inputs with numpy broadcast; the output is boolean. */
export const COMPARE_OPS: Record<string, string> = table({
  Equal: "Equal",
  Less: "Less",
  Greater: "Greater",
  LessOrEqual: "LessEqual",
  GreaterOrEqual: "GreaterEqual",
  And: "LogicalAnd",
  Or: "LogicalOr",
  Xor: "LogicalXor",
});

/** Data and axes, keepdims ↔ keep_dims. */
export const REDUCE_OPS: Record<string, string> = table({
  ReduceSum: "ReduceSum",
  ReduceMean: "ReduceMean",
  ReduceMax: "ReduceMax",
  ReduceMin: "ReduceMin",
  ReduceProd: "ReduceProd",
  ReduceL1: "ReduceL1",
  ReduceL2: "ReduceL2",
});

/** A table read right to left (opset op → ONNX op). */
export function inverse(t: Record<string, string>): Record<string, string> {
  return table(Object.fromEntries(Object.entries(t).map(([onnx, ov]) => [ov, onnx])));
}

/** Graph element type → TensorProto.DataType. */
export const ONNX_TYPE_OF: Record<DType, number> = {
  f32: ONNX_DTYPE.FLOAT,
  f16: ONNX_DTYPE.FLOAT16,
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

/** TensorProto.DataType → graph element type; types the graph cannot hold are absent. */
export const DTYPE_OF_ONNX: Record<number, DType> = Object.fromEntries(
  Object.entries(ONNX_TYPE_OF).map(([d, onnx]) => [onnx, d as DType]),
);
