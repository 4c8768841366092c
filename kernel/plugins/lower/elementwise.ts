/** Ops computed element by element: copies, unary and binary (broadcasting) eltwise, PReLU. */
import { Node } from "../../graph/graph";
import { attrNum, attrStr } from "../../graph/attrs";
import { table } from "../../dict";
import { NativeAttr } from "../native";
import { Lowering, LowerFn } from "./lowering";

/** Layers that only rename or reshape their input: the data is copied as it is. */
const COPY = ["Reshape", "Squeeze", "Unsqueeze", "Flatten", "Convert", "Identity"];

/** Layer type → the native "unary" op. */
const UNARY: Record<string, string> = table({
  ReLU: "relu",
  Sigmoid: "sigmoid",
  Tanh: "tanh",
  Exp: "exp",
  Log: "log",
  Abs: "abs",
  Sqrt: "sqrt",
  Negative: "neg",
  Floor: "floor",
  Ceiling: "ceil",
  Elu: "elu",
  Clamp: "clamp",
  HSwish: "hswish",
  HSigmoid: "hsigmoid",
  HardSigmoid: "hardsigmoid",
  Swish: "swish",
  Gelu: "gelu",
  SoftPlus: "softplus",
  Mish: "mish",
  Erf: "erf",
});

/** Layer type → the native "binary" op. */
const BINARY: Record<string, string> = table({
  Add: "add",
  Subtract: "sub",
  Multiply: "mul",
  Divide: "div",
  Maximum: "max",
  Minimum: "min",
  Power: "pow",
  SquaredDifference: "sqdiff",
});

function unaryAttrs(L: Lowering, n: Node): Record<string, NativeAttr> {
  const op = UNARY[n.type];
  const a: Record<string, NativeAttr> = { op };
  if (n.type === "Elu") a.alpha = attrNum(n.attrs, "alpha");
  if (n.type === "Clamp") {
    a.min = attrNum(n.attrs, "min");
    a.max = attrNum(n.attrs, "max");
  }
  if (n.type === "HardSigmoid") {
    a.alpha = L.requireConst(n, 1, "alpha").data[0];
    a.beta = L.requireConst(n, 2, "beta").data[0];
  }
  if (n.type === "Swish") a.beta = n.inputs.length > 1 ? L.requireConst(n, 1, "beta").data[0] : 1;
  if (n.type === "Gelu") a.approximation = attrStr(n.attrs, "approximation_mode", "erf").toLowerCase();
  return a;
}

const copy: LowerFn = (L, n) => L.emit(n, "copy", [L.tensor(n.inputs[0])], [L.out(n)], {});
const unary: LowerFn = (L, n) => L.emit(n, "unary", [L.tensor(n.inputs[0])], [L.out(n)], unaryAttrs(L, n));
const binary: LowerFn = (L, n) =>
  L.emit(n, "binary", [L.tensor(n.inputs[0]), L.tensor(n.inputs[1])], [L.out(n)], { op: BINARY[n.type] });

export const ELEMENTWISE: Record<string, LowerFn> = {
  ...Object.fromEntries(COPY.map((t) => [t, copy])),
  ...Object.fromEntries(Object.keys(UNARY).map((t) => [t, unary])),
  ...Object.fromEntries(Object.keys(BINARY).map((t) => [t, binary])),
  PReLU: (L, n) => L.emit(n, "prelu", [L.tensor(n.inputs[0]), L.tensor(n.inputs[1])], [L.out(n)], {}),
};
