/** The profile view's numbers, without the DOM: what each metric gives a layer and a graph node. */
import type { ProfileLayer, ProfileNode, ProfileReport } from "../../../kernel/schema";

export type Metric = "time" | "slope" | "fixed";

export const METRICS: { id: Metric; label: string; title: string; column: string }[] = [
  { id: "time", label: "time", title: "Median time at the batch shown", column: "µs at n" },
  { id: "slope", label: "per-sample slope", title: "Fitted cost of each sample (µs per sample)", column: "µs/sample" },
  { id: "fixed", label: "fixed cost", title: "Fitted cost per request, whatever the batch", column: "fixed µs" },
];

/** A layer's value for the metric at batch index k; 0 for a fused layer or a layer without a fit. */
export function metricOf(l: ProfileLayer, metric: Metric, k: number): number {
  if (metric === "time") return l.timeUs ? l.timeUs[k].median : 0;
  if (!l.fit) return 0;
  return metric === "slope" ? l.fit.perSampleUs : l.fit.fixedUs;
}

/** Per graph node, the sum of its layers' values (layers that ran only; a fused layer's time is its host's). */
export function nodeValues(r: ProfileReport, metric: Metric, k: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of r.layers)
    if (l.node !== undefined && l.timeUs) out.set(l.node, (out.get(l.node) ?? 0) + metricOf(l, metric, k));
  return out;
}

/** Layers that ran, largest value first (ties in execution order). */
export function rankLayers(r: ProfileReport, metric: Metric, k: number): ProfileLayer[] {
  return r.layers
    .map((l, i) => ({ l, i, v: metricOf(l, metric, k) }))
    .filter(({ l }) => l.timeUs)
    .sort((a, b) => b.v - a.v || a.i - b.i)
    .map(({ l }) => l);
}

/** The graph as drawn: each fused layer folded into the node of the layer that computes it. */
export interface DrawnGraph {
  /** Nodes that get a box of their own, edges through fused nodes rerouted to their host. */
  nodes: ProfileNode[];
  /** Per host node id, the nodes fused into it, in graph order (drawn inside the host's box). */
  fused: Map<number, ProfileNode[]>;
}

/**
 * Folds every node whose layer is fused into another (a bias, an activation run as a post-op of
 * a convolution) into its host's node: it has no time of its own and runs inside the host's
 * kernel, so it is drawn inside the host's box. A fused node whose host has no node stays a box.
 */
export function foldFused(r: ProfileReport): DrawnGraph {
  const graph = r.graph ?? [];
  const nodeOf = new Map(r.layers.filter((l) => l.node !== undefined).map((l) => [l.name, l.node!]));
  const ids = new Set(graph.map((n) => n.id));
  const hostOf = new Map<number, number>();
  for (const l of r.layers) {
    const host = l.fusedInto !== undefined ? nodeOf.get(l.fusedInto) : undefined;
    if (l.node !== undefined && host !== undefined && host !== l.node && ids.has(host)) hostOf.set(l.node, host);
  }
  // Chains (a Relu fused into a Conv whose bias Add is fused too) end at a node that is no one's guest.
  const root = (id: number): number => {
    const seen = new Set<number>();
    let at = id;
    while (hostOf.has(at) && !seen.has(at)) {
      seen.add(at);
      at = hostOf.get(at)!;
    }
    return at;
  };
  const fused = new Map<number, ProfileNode[]>();
  for (const n of graph) {
    const host = root(n.id);
    if (host !== n.id) (fused.get(host) ?? fused.set(host, []).get(host)!).push(n);
  }
  // A host reads what its guests read (a residual Add's other operand feeds the convolution's kernel).
  const nodes = graph
    .filter((n) => root(n.id) === n.id)
    .map((n) => {
      const all = [n, ...(fused.get(n.id) ?? [])].flatMap((m) => m.inputs).map(root);
      return { ...n, inputs: [...new Set(all)].filter((i) => i !== n.id) };
    });
  return { nodes, fused };
}
