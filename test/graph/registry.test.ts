import { test } from "node:test";
import assert from "node:assert/strict";
import { getOpDef, knownOpTypes } from "../../kernel/graph";

test("registry knows every op the brief lists, folds the constant-subgraph ops", () => {
  const required = [
    "Parameter", "Const", "Result", "Convert", "Convolution", "GroupConvolution", "ConvolutionBackpropData",
    "GroupConvolutionBackpropData", "Add", "Subtract", "Multiply", "Divide", "Power", "Maximum", "Minimum",
    "SquaredDifference", "ReLU", "PReLU", "Sigmoid", "Tanh", "Exp", "Log", "Abs", "Sqrt", "Negative", "Floor",
    "Ceiling", "Elu", "Clamp", "HSwish", "HSigmoid", "Swish", "Gelu", "SoftPlus", "Mish", "MaxPool", "AvgPool",
    "MatMul", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "SoftMax",
    "LogSoftmax", "LRN", "BatchNormInference", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat",
    "Split", "VariadicSplit", "StridedSlice", "Slice", "Gather", "ShapeOf", "Pad", "Interpolate", "Broadcast",
    "PriorBox", "PriorBoxClustered", "DetectionOutput", "Range", "Tile", "Select",
  ];
  const known = new Set(knownOpTypes());
  for (const t of required) assert.ok(known.has(t), t);
  const folding = [
    "Convert", "ShapeOf", "Gather", "StridedSlice", "Slice", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Transpose",
    "Add", "Subtract", "Multiply", "Divide", "Maximum", "Minimum", "Power", "Range", "Broadcast", "ReduceProd",
    "ReduceSum", "PriorBox", "PriorBoxClustered",
  ];
  for (const t of folding) assert.ok(getOpDef(t)?.fold, `${t} folds`);
  assert.equal(getOpDef("NoSuchOp"), undefined);
});
