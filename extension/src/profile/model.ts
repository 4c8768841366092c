/** The profile view's numbers, without the DOM: what each metric gives a layer and a graph node. */
import type { ProfileLayer, ProfileReport } from "../../../kernel/schema";

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
