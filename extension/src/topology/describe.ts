/**
 * Words for one layer: its output shape in terms of the batch N, and what would let it run with
 * a dynamic batch. The suggestion is derived from the op type, the legacy type and the analysis'
 * reason, because the report carries verdicts, not remedies.
 */
import type { AnalysisMode, LayerVerdict } from "../../../kernel/schema";

/** "[N,3,64,64]"; "[]" for a scalar. */
export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(",")}]`;
}

/**
 * The shape to show: shape-aware reports already write batch-dependent dims in terms of N; a
 * strict report's shapes are at the loaded batch, so the same layer of the shape-aware report
 * (when the report carries it as its alternate) gives the symbolic form.
 */
export function symbolicShape(layer: LayerVerdict, shapeAware?: LayerVerdict): string {
  const symbolic = (s: readonly (number | string)[]) => s.some((d) => typeof d === "string");
  if (symbolic(layer.outputShape)) return formatShape(layer.outputShape);
  if (shapeAware && symbolic(shapeAware.outputShape)) return formatShape(shapeAware.outputShape);
  return formatShape(layer.outputShape);
}

const DETECTION = new Set([
  "PriorBox",
  "PriorBoxClustered",
  "DetectionOutput",
  "ROIPooling",
  "PSROIPooling",
  "Proposal",
  "RegionYolo",
  "NonMaxSuppression",
]);
const SHAPE_CHANGING = new Set(["Reshape", "Flatten", "Squeeze", "Unsqueeze"]);

function isKind(layer: LayerVerdict, kinds: Set<string>): boolean {
  return kinds.has(layer.type) || kinds.has(layer.legacyType);
}

/**
 * What would let an unsupported layer run with a dynamic batch, or null for a layer that is not
 * unsupported. `other` is the same layer judged in the other mode, when the report has it.
 */
export function fixSuggestion(layer: LayerVerdict, mode: AnalysisMode, other?: LayerVerdict): string | null {
  if (layer.verdict !== "unsupported") return null;
  if (mode === "strict" && other?.verdict === "supported") {
    return "Load with the shape-aware analysis (the default of loadNetwork): it proves this layer computes every sample independently.";
  }
  const reason = layer.reason.toLowerCase();
  if (isKind(layer, DETECTION)) {
    return (
      `${layer.type} post-processes the whole batch at once. Run detection at a static batch (batch 1 per frame) ` +
      "and use the dynamic batch for the per-object models that follow, or cut the network before the detection head " +
      "and run the head separately."
    );
  }
  if (isKind(layer, SHAPE_CHANGING)) {
    return (
      "`await net.fixForDynamicBatch()` rewrites a target that hard-codes the batch ([1, -1] → [0, -1], [1, 512] → [-1, 512]) " +
      "and proves the change, or says why it cannot. By hand: keep axis 0 as the batch in the target shape, -1 (or 0 with " +
      "special_zero), so each sample is reshaped on its own; the shape-aware analysis then accepts it."
    );
  }
  if (layer.type === "Transpose" || layer.legacyType === "Permute") {
    return "Keep axis 0 first in the permutation (e.g. [0, 2, 3, 1]) so samples stay separate; the shape-aware analysis accepts such a transpose.";
  }
  if (layer.type.startsWith("Reduce")) {
    return /axis 0|axes \[?0|over the batch|mixes samples/.test(reason)
      ? "Reduce per sample: leave axis 0 out of the reduction axes (e.g. axes [1, 2, 3] with keep_dims), then combine samples outside the network."
      : "The published rule has no reductions; the shape-aware analysis accepts a reduction that leaves axis 0 out of its axes (reduce per sample).";
  }
  if (layer.type === "ShapeOf" || reason.includes("shapeof")) {
    return "A shape read at run time depends on N: compute it from static dims, or use -1 for the batch axis where the shape is consumed.";
  }
  return (
    `No dynamic-batch rule covers ${layer.type}. If it computes each sample on its own, express it with supported layers; ` +
    "otherwise run the network at a static batch, or split it so that this layer runs outside the dynamic part."
  );
}
