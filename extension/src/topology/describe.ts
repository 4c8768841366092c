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

/** fixForDynamicBatch()'s split, said of a layer where samples mix. */
function splitHere(layer: LayerVerdict): string {
  return (
    `\`await net.fixForDynamicBatch()\` splits the network at this ${layer.type}: the layers before it run at batch n, ` +
    "it and the layers after it once per sample, their outputs joined; the split is proven against batch-1 runs, or refused with the reason."
  );
}

/** What the shape-aware analysis' refusal of `layer` calls for. */
function shapeAwareFix(layer: LayerVerdict): string {
  const reason = layer.reason.toLowerCase();
  if (isKind(layer, DETECTION)) {
    return `${layer.type} post-processes the whole batch at once. ${splitHere(layer)} Without it: run detection at a static batch (batch 1 per frame).`;
  }
  if (isKind(layer, SHAPE_CHANGING)) {
    return (
      "`await net.fixForDynamicBatch()` rewrites a target that hard-codes the batch ([1, -1] → [0, -1], [1, 512] → [-1, 512]); " +
      "one that folds the batch into a list ([-1, 4]) it splits off into a per-sample tail. Each change is proven, or refused with the reason. " +
      "By hand: keep axis 0 as the batch in the target shape, -1 (or 0 with special_zero), so each sample is reshaped on its own."
    );
  }
  if (layer.type === "Transpose" || layer.legacyType === "Permute") {
    return `Keep axis 0 first in the permutation (e.g. [0, 2, 3, 1]) so samples stay separate; or: ${splitHere(layer)}`;
  }
  if (layer.type === "ShapeOf" || reason.includes("shapeof")) {
    return "A shape read at run time depends on N: compute it from static dims, or use -1 for the batch axis where the shape is consumed.";
  }
  if (layer.type.startsWith("Reduce")) {
    return `${splitHere(layer)} By hand: leave axis 0 out of the reduction axes (reduce per sample), then combine samples outside the network.`;
  }
  return splitHere(layer);
}

/**
 * What would let an unsupported layer run with a dynamic batch, or null for a layer that is not
 * unsupported. `other` is the same layer judged in the other mode, when the report has it. The
 * strict rule refuses by type, so there the first fix is the shape-aware default, which
 * fixForDynamicBatch() would not change (head-pose's Reshapes).
 */
export function fixSuggestion(layer: LayerVerdict, mode: AnalysisMode, other?: LayerVerdict): string | null {
  if (layer.verdict !== "unsupported") return null;
  if (mode === "shape-aware") return shapeAwareFix(layer);
  if (other?.verdict === "supported") {
    return "Load with the shape-aware analysis (the default of loadNetwork): it proves this layer computes every sample independently.";
  }
  if (other?.verdict === "unsupported") return `The shape-aware analysis refuses it too. ${shapeAwareFix(other)}`;
  return (
    `The strict (legacy) rule refuses ${layer.type} by its type. Load with the shape-aware analysis (the default of loadNetwork), ` +
    "which judges what the layer computes; where it still refuses this layer, its Fix says what to do."
  );
}
