/**
 * Maps opset operations to the layer types of the legacy Inference Engine (IR v7 era), the
 * vocabulary the published dynamic-batching rule is written in. The mapping follows what the
 * legacy conversion did: constant subgraphs are folded away, an Add/Multiply with a per-channel
 * constant became a ScaleShift, with a scalar a Power layer, a MatMul with constant weights a
 * FullyConnected, and so on.
 */
import { Graph, Node, PortRef, nodeMap } from "../graph/graph";
import { numel } from "../graph/ops/util";
import { constOutput } from "../graph/prepare";
import { attrInts } from "../graph/attrs";
import { table } from "../dict";

// prettier-ignore
const ACTIVATIONS = new Set([
  "ReLU", "PReLU", "Sigmoid", "Tanh", "Elu", "Clamp", "Exp", "HSwish", "Swish", "HSigmoid", "Mish",
  "SoftPlus", "SoftSign", "Gelu", "Abs", "Log", "Erf", "Selu", "HardSigmoid", "Floor", "Ceiling",
  "Sign", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
]);

/** Binary ops whose per-channel / scalar constant forms the legacy conversion turned into ScaleShift / Power. */
const AFFINE = new Set(["Add", "Multiply", "Subtract", "Divide"]);

/** Binary ops that stay Eltwise whatever the operands (max, min, comparisons cannot be a ScaleShift). */
// prettier-ignore
const ELTWISE = new Set([
  "Maximum", "Minimum", "SquaredDifference", "Equal", "NotEqual", "Less", "LessEqual", "Greater",
  "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalXor", "FloorMod", "Mod",
]);

const RENAMED: Record<string, string> = table({
  Convolution: "Convolution",
  GroupConvolution: "Convolution",
  BinaryConvolution: "BinaryConvolution",
  ConvolutionBackpropData: "Deconvolution",
  GroupConvolutionBackpropData: "Deconvolution",
  MaxPool: "Pooling",
  AvgPool: "Pooling",
  SoftMax: "SoftMax",
  Softmax: "SoftMax",
  Concat: "Concatenation",
  Split: "Split",
  VariadicSplit: "Split",
  LRN: "LRN",
  BatchNormInference: "BatchNormalization",
  Transpose: "Permute",
  Reshape: "Reshape",
  Squeeze: "Reshape",
  Unsqueeze: "Reshape",
  Flatten: "Flatten",
  ShapeOf: "ShapeOf",
  PriorBox: "PriorBox",
  PriorBoxClustered: "PriorBoxClustered",
  DetectionOutput: "DetectionOutput",
  ROIPooling: "ROIPooling",
  PSROIPooling: "PSROIPooling",
  Proposal: "Proposal",
  Convert: "Convert",
  Identity: "Copy",
  Parameter: "Input",
  Result: "Output",
  Negative: "Power",
  Sqrt: "Power",
  NormalizeL2: "Normalize",
  Interpolate: "Interp",
  MVN: "MVN",
  GRN: "GRN",
  Pad: "Pad",
  Tile: "Tile",
  Gather: "Gather",
  TopK: "TopK",
  Select: "Select",
  Broadcast: "Broadcast",
  DepthToSpace: "DepthToSpace",
  SpaceToDepth: "SpaceToDepth",
  ShuffleChannels: "ShuffleChannels",
  RegionYolo: "RegionYolo",
  ReorgYolo: "ReorgYolo",
  FakeQuantize: "FakeQuantize",
  LogSoftmax: "LogSoftmax",
  Range: "Range",
});

/** True when legacyType knows the op (anything else is reported as a custom/unknown layer). */
export function isKnownOp(type: string): boolean {
  return (
    type in RENAMED ||
    ACTIVATIONS.has(type) ||
    AFFINE.has(type) ||
    ELTWISE.has(type) ||
    type === "Const" ||
    type === "Power" ||
    type === "MatMul" ||
    type === "StridedSlice" ||
    type === "Slice" ||
    type.startsWith("Reduce")
  );
}

// Prepared graphs are not mutated after prepare(), so per-graph facts are computed once.
const dataCache = new WeakMap<Graph, Set<number>>();
const nodesCache = new WeakMap<Graph, Map<number, Node>>();

function nodesOf(g: Graph): Map<number, Node> {
  let m = nodesCache.get(g);
  if (!m) {
    m = nodeMap(g);
    nodesCache.set(g, m);
  }
  return m;
}

/**
 * Ids of the nodes whose outputs carry data, i.e. depend on an input's values. Const nodes,
 * constant-folded nodes and ShapeOf (whose value is a shape, not data) break the chain, so what
 * is left outside the set is what the legacy conversion folded into constants.
 */
export function dataNodes(g: Graph): Set<number> {
  const cached = dataCache.get(g);
  if (cached) return cached;
  const data = new Set<number>();
  for (const n of g.nodes) {
    if (n.type === "Parameter") data.add(n.id);
    else if (n.type !== "Const" && n.type !== "ShapeOf" && !n.folded && n.inputs.some((r) => data.has(r.node))) {
      data.add(n.id);
    }
  }
  dataCache.set(g, data);
  return data;
}

function portShape(ref: PortRef, nodes: Map<number, Node>): number[] | undefined {
  return nodes.get(ref.node)?.outputs[ref.port]?.shape;
}

/**
 * Whether constant shape `c` broadcast against output shape `out` varies only along axis 1
 * (the channel axis): [1,C,1,1] or [C,1,1] for a 4-D tensor, [1,C] or [C] for a 2-D one.
 */
function perChannel(c: number[], out: number[]): boolean {
  if (c.length > out.length || out.length < 2) return false;
  const aligned = [...new Array<number>(out.length - c.length).fill(1), ...c];
  return aligned.every((d, i) => d === 1 || (i === 1 && d === out[1]));
}

/** Crop in the legacy sense: plain stride-1 slicing that leaves the batch and channel axes whole. */
function isCrop(n: Node, nodes: Map<number, Node>): boolean {
  const inShape = portShape(n.inputs[0], nodes);
  const outShape = n.outputs[0]?.shape;
  if (!inShape || !outShape || inShape.length !== outShape.length || inShape.length < 2) return false;
  if (inShape[0] !== outShape[0] || inShape[1] !== outShape[1]) return false;
  if (n.type === "StridedSlice") {
    for (const m of ["new_axis_mask", "shrink_axis_mask", "ellipsis_mask"]) {
      if (attrInts(n.attrs, m, []).some((v) => v !== 0)) return false;
    }
    if (n.inputs.length < 4) return true;
  }
  const stepsRef = n.inputs[3];
  const stepsNode = nodes.get(stepsRef.node);
  const steps = stepsNode && constOutput(stepsNode, stepsRef.port);
  return steps !== undefined && Array.from(steps.data).every((v) => v === 1);
}

/**
 * The legacy Inference Engine layer type for `node` of the prepared graph `g` (shapes inferred,
 * constants folded). Unknown ops keep their own name: the rule treats them as custom layers.
 */
export function legacyType(node: Node, g: Graph): string {
  const t = node.type;
  if (ACTIVATIONS.has(t)) return "Activation";
  if (t.startsWith("Reduce")) return t;
  if (t === "Const") return "Const";
  const nodes = nodesOf(g);
  const data = dataNodes(g);
  const isData = (r: PortRef): boolean => data.has(r.node);
  if (AFFINE.has(t) || ELTWISE.has(t) || t === "Power") {
    const [a, b] = node.inputs;
    if (!a || !b || (isData(a) && isData(b)) || (!isData(a) && !isData(b))) return "Eltwise";
    const c = isData(a) ? b : a;
    const cs = portShape(c, nodes);
    const out = node.outputs[0]?.shape;
    if (!cs || !out) return "Eltwise";
    if (t === "Power") return numel(cs) === 1 && c === b ? "Power" : "Eltwise";
    if (!AFFINE.has(t)) return "Eltwise";
    if (numel(cs) === 1) return "Power";
    return perChannel(cs, out) ? "ScaleShift" : "Eltwise";
  }
  if (t === "MatMul") {
    const w = node.inputs[1];
    return w && !isData(w) && node.inputs[0] && isData(node.inputs[0]) ? "FullyConnected" : "Gemm";
  }
  if (t === "StridedSlice" || t === "Slice") return isCrop(node, nodes) ? "Crop" : "StridedSlice";
  return RENAMED[t] ?? t;
}
