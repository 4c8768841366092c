/**
 * The "Fix:" line of the topology fallbacks: what to do about a report's blocking layers. Under the
 * strict rule a layer blocks by its type, and the shape-aware default of loadNetwork may accept it as
 * it is (head-pose's Reshapes: fixForDynamicBatch() has nothing to change there). Under the
 * shape-aware analysis every blocking layer is one fixForDynamicBatch() handles: a Reshape/Flatten
 * that hard-codes the batch, or an attention q/k/v Transpose that moves it to axis 1, is rewritten, and a layer that mixes samples (DetectionOutput, a Softmax
 * or Reduce over axis 0, a Concat/Reshape folding the batch) starts a tail that is split off.
 */
import { TopologyReport } from "../schema";
import { displayName } from "./names";

const REWRITABLE = new Set(["Reshape", "Flatten", "Transpose"]);
/** Blocking layers a hint names before "…": the tables above list them all. */
const HINT_NAMES = 3;

const SHAPE_AWARE_DEFAULT =
  'load with the shape-aware analysis, loadNetwork\'s default (DYN_BATCH_ANALYSIS "shape-aware"): it judges what each layer computes, not its type';

function blocking(r: TopologyReport) {
  return r.layers.filter((l) => l.verdict === "unsupported");
}

function named(layers: { name: string; type: string }[]): string {
  const shown = layers.slice(0, HINT_NAMES).map((l) => `${l.type} ${displayName(l.name)}`);
  return layers.length > HINT_NAMES ? `${shown.join(", ")}, …` : shown.join(", ");
}

/** The hint for a shape-aware report with blocking layers: fixForDynamicBatch() rewrites or splits. */
function shapeAwareHint(r: TopologyReport): string {
  const layers = blocking(r);
  const rewritable = layers.filter((l) => REWRITABLE.has(l.type));
  // Where a tail starts: a blocking layer fed by no blocking layer (the ones after it block because it does).
  const ids = new Set(layers.map((l) => l.id));
  const mixing = layers.filter((l) => !REWRITABLE.has(l.type) && !l.inputs.some((i) => ids.has(i)));
  const parts = [
    ...(rewritable.length
      ? [
          `rewrites a Reshape/Flatten target that hard-codes the batch, or an attention q/k/v Transpose that moves it to axis 1, to keep axis 0 (${named(rewritable)})`,
        ]
      : []),
    `splits a tail that mixes samples off the network${mixing.length ? ` (from ${named(mixing)})` : ""}: the body runs at batch n, the tail once per sample, its outputs joined`,
  ];
  return `\`await net.fixForDynamicBatch()\` ${parts.join(", and ")}; each change is proven against batch-1 runs, or refused with the reason (display(changes) shows them).`;
}

/**
 * What fixes `r`'s blocking layers, or null when nothing blocks. `other` is the same network judged
 * in the other mode, when the display carries both.
 */
export function topologyFixHint(r: TopologyReport, other?: TopologyReport): string | null {
  if (r.supported) return null;
  if (r.mode === "shape-aware") return shapeAwareHint(r);
  const start = `these layers block under the strict (legacy) rule by their type; ${SHAPE_AWARE_DEFAULT}`;
  if (!other) return `${start}. display(net.analyze()) shows what it still refuses, and the fix for that.`;
  if (other.supported) return `${start}, and it accepts this network as it is (fixForDynamicBatch() has nothing to change).`;
  return `${start}; it still refuses ${other.summary.unsupported} layer(s): ${shapeAwareHint(other)}`;
}
