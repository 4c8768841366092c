/**
 * A TopologyReport as the graph the view draws: constants (weights and shape computations the
 * plugin folds at load) are hidden unless asked for, and each visible layer remembers the
 * constants that feed it, so the picture shows the network's real layers.
 */
import type { BatchFixChange, LayerVerdict, TopologyReport, Verdict } from "../../../kernel/schema";

export const VERDICTS: readonly Verdict[] = ["supported", "unsupported", "constant"];

export interface ViewNode {
  layer: LayerVerdict;
  /** Hidden constants feeding this layer, directly or through other hidden constants. */
  folded: LayerVerdict[];
  /** What fixForDynamicBatch() changed in this layer, when the report carries its changes. */
  change?: BatchFixChange;
}

export interface ViewGraph {
  nodes: ViewNode[];
  /** Pairs (from, to) of indices into `nodes`, one per connected pair of layers. */
  edges: Int32Array;
  /** Per edge: 1 when it stands for a path through hidden constants. */
  throughConstants: Uint8Array;
  /** Index in `nodes` by layer name (the first layer of a name, if names repeat). */
  indexByName: Map<string, number>;
  /** Constants not drawn (0 when constants are shown). */
  hiddenConstants: LayerVerdict[];
}

/** Number of layers of each verdict. */
export function countVerdicts(report: TopologyReport): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { supported: 0, unsupported: 0, constant: 0 };
  for (const l of report.layers) counts[l.verdict] += 1;
  return counts;
}

/**
 * Builds the drawn graph; with `showConstants` false, constants are folded into their consumers.
 * A path between two drawn layers through hidden constants becomes one edge marked as such: in
 * a strict report, PriorBox feeds DetectionOutput through an Unsqueeze and a Concat judged constant.
 */
export function buildViewGraph(report: TopologyReport, showConstants: boolean): ViewGraph {
  const byId = new Map<number, LayerVerdict>();
  for (const l of report.layers) byId.set(l.id, l);
  const hidden = (l: LayerVerdict) => !showConstants && l.verdict === "constant";
  const indexById = new Map<number, number>();
  const indexByName = new Map<string, number>();
  const hiddenConstants: LayerVerdict[] = [];
  const shown: LayerVerdict[] = [];
  for (const layer of report.layers) {
    if (hidden(layer)) {
      hiddenConstants.push(layer);
      continue;
    }
    indexById.set(layer.id, shown.length);
    if (!indexByName.has(layer.name)) indexByName.set(layer.name, shown.length);
    shown.push(layer);
  }
  const changes = new Map((report.fixes ?? []).map((c) => [c.layer, c]));
  const nodes: ViewNode[] = [];
  const pairs: number[] = [];
  const through: number[] = [];
  shown.forEach((layer, to) => {
    const { folded, direct, bridged } = upstream(layer, byId, hidden);
    const change = changes.get(layer.name);
    nodes.push(change ? { layer, folded, change } : { layer, folded });
    const sources = new Set<number>();
    for (const [ids, flag] of [
      [direct, 0],
      [bridged, 1],
    ] as const) {
      for (const id of ids) {
        const from = indexById.get(id);
        if (from === undefined || sources.has(from)) continue;
        sources.add(from);
        pairs.push(from, to);
        through.push(flag);
      }
    }
  });
  return { nodes, edges: Int32Array.from(pairs), throughConstants: Uint8Array.from(through), indexByName, hiddenConstants };
}

/**
 * Walks up from `layer` through hidden constants: the constants met (nearest first), the drawn
 * layers feeding it directly, and the drawn layers reached only through hidden constants.
 */
function upstream(
  layer: LayerVerdict,
  byId: Map<number, LayerVerdict>,
  hidden: (l: LayerVerdict) => boolean,
): { folded: LayerVerdict[]; direct: number[]; bridged: number[] } {
  const folded: LayerVerdict[] = [];
  const bridged: number[] = [];
  const direct = layer.inputs.filter((id) => {
    const input = byId.get(id);
    return input !== undefined && !hidden(input);
  });
  const seen = new Set<number>();
  const queue = [...layer.inputs];
  while (queue.length) {
    const id = queue.shift() as number;
    const input = byId.get(id);
    if (!input || seen.has(id) || !hidden(input)) continue;
    seen.add(id);
    folded.push(input);
    for (const up of input.inputs) {
      const source = byId.get(up);
      if (source && !hidden(source)) bridged.push(up);
      else queue.push(up);
    }
  }
  return { folded, direct, bridged };
}

/**
 * Layers whose name contains `query` (case-insensitive); an exact name comes first, then
 * graph order. Returns indices into `graph.nodes`.
 */
export function searchLayers(graph: ViewGraph, query: string): number[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const exact: number[] = [];
  const partial: number[] = [];
  graph.nodes.forEach((n, i) => {
    const name = n.layer.name.toLowerCase();
    if (name === q) exact.push(i);
    else if (name.includes(q)) partial.push(i);
  });
  return [...exact, ...partial];
}

/** Hidden constants whose name contains `query`: what a search would find with constants shown. */
export function countHiddenMatches(graph: ViewGraph, query: string): number {
  const q = query.trim().toLowerCase();
  return q ? graph.hiddenConstants.filter((l) => l.name.toLowerCase().includes(q)).length : 0;
}

/** Indices of the nodes feeding and fed by the node at `index`, in the shown graph. */
export function neighbours(graph: ViewGraph, index: number): { inputs: number[]; outputs: number[] } {
  const inputs: number[] = [];
  const outputs: number[] = [];
  for (let e = 0; e < graph.edges.length; e += 2) {
    if (graph.edges[e + 1] === index) inputs.push(graph.edges[e]);
    if (graph.edges[e] === index) outputs.push(graph.edges[e + 1]);
  }
  return { inputs, outputs };
}
