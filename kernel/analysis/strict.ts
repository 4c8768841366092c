/**
 * Strict dynamic-batch analysis: the published Inference Engine rule, applied to the legacy layer
 * type of every op. Constant subgraphs are not layers; detection layers the legacy conversion
 * kept as layers (PriorBox) stay layers even though dynbatch folds them.
 */
import { Graph, Node, nodeMap } from "../graph/graph";
import { LayerVerdict } from "../schema";
import { dataNodes, isKnownOp, legacyType } from "./legacy";
import { ShapeOptions, prepareTolerant } from "./symbolic";

/** The layer types the published rule allows, plus ScaleShift: not in the list by name, it is what BatchNormalization became in the legacy IR. */
// prettier-ignore
export const SUPPORTED_LEGACY_TYPES = [
  "Convolution", "Deconvolution", "Activation", "LRN", "Pooling", "FullyConnected", "SoftMax", "Split",
  "Concatenation", "Power", "Eltwise", "Crop", "BatchNormalization", "ScaleShift", "Copy",
];

const SHAPE_CHANGING = new Set(["Reshape", "Flatten", "Permute"]);
// prettier-ignore
const DETECTION = new Set([
  "ROIPooling", "PSROIPooling", "PriorBox", "PriorBoxClustered", "DetectionOutput", "Proposal", "ROIAlign",
]);

function ruleFor(n: Node, lt: string): { verdict: "supported" | "unsupported"; reason: string } {
  if (lt === "Input") return { verdict: "supported", reason: "network input" };
  if (lt === "Output") return { verdict: "supported", reason: "network output" };
  if (SUPPORTED_LEGACY_TYPES.includes(lt)) {
    const reason =
      lt === "ScaleShift"
        ? "ScaleShift (a per-channel scale and shift) is not in the published list by name; it is the legacy form of BatchNormalization, which is"
        : `${lt} is in the published list of supported layers`;
    return { verdict: "supported", reason };
  }
  if (SHAPE_CHANGING.has(lt)) {
    return {
      verdict: "unsupported",
      reason: `${lt === n.type ? lt : `${n.type} (${lt})`} may change the tensor shape arbitrarily (Flatten/Permute/Reshape are excluded by the published rule)`,
    };
  }
  if (DETECTION.has(lt)) {
    return {
      verdict: "unsupported",
      reason: `${lt} is a detection layer (ROIPooling/PriorBox/DetectionOutput are excluded by the published rule)`,
    };
  }
  if (!isKnownOp(n.type)) return { verdict: "unsupported", reason: `${n.type} is a custom or unknown layer` };
  return { verdict: "unsupported", reason: `${lt} is not in the supported layer list` };
}

/** Verdicts for every node of raw graph `g`, in its order. */
export function strictLayers(g: Graph, opts: ShapeOptions = {}): LayerVerdict[] {
  const prep = prepareTolerant(g, [undefined], opts);
  const pg = prep.graphs[0];
  const prepared = nodeMap(pg);
  const data = dataNodes(pg);
  const rawData = dataNodes(g);
  return g.nodes.map((raw) => {
    const n = prepared.get(raw.id);
    // Layers cut out by a shape-inference failure are judged on the graph as read.
    const [node, graph, isData] = n ? [n, pg, data.has(n.id)] : [raw, g, rawData.has(raw.id)];
    const lt = legacyType(node, graph);
    const src = node.inputs[0];
    const shown = node.type === "Result" ? graph.nodes.find((x) => x.id === src?.node)?.outputs[src.port] : node.outputs[0];
    const base = {
      id: raw.id,
      name: raw.name,
      type: raw.type,
      legacyType: lt,
      inputs: raw.inputs.map((r) => r.node),
      outputShape: [...(shown?.shape ?? [])],
    };
    const failed = prep.failed.get(raw.id);
    if (failed !== undefined) {
      const rule = ruleFor(node, lt);
      const why = rule.verdict === "unsupported" ? `${rule.reason}; ` : "";
      return { ...base, verdict: "unsupported", reason: `${why}shape inference fails: ${failed}` };
    }
    if (!isData && node.type !== "Parameter" && node.type !== "Result") {
      if (DETECTION.has(lt)) return { ...base, ...ruleFor(node, lt) };
      return { ...base, verdict: "constant", reason: "constant subgraph, folded at load (not a layer for the rule)" };
    }
    return { ...base, ...ruleFor(node, lt) };
  });
}
