/**
 * Dynamic-batch topology analysis: decides whether a network can run with a dynamic batch and
 * says, layer by layer, why. Never throws for an unsupported topology, only for a broken graph.
 */
import { Graph } from "../graph/graph";
import { AnalysisMode, LayerVerdict, TopologyReport } from "../schema";
import { ConfigError } from "../errors";
import { strictLayers } from "./strict";
import { shapeAwareLayers } from "./shape_aware";
import { ShapeOptions } from "./symbolic";

export { legacyType } from "./legacy";
export { batchAxes } from "./symbolic";
export type { ShapeOptions } from "./symbolic";
export { SUPPORTED_LEGACY_TYPES } from "./strict";

export interface AnalyzeOptions extends ShapeOptions {
  mode: AnalysisMode;
}

function report(g: Graph, mode: AnalysisMode, layers: LayerVerdict[]): TopologyReport {
  const count = (v: LayerVerdict["verdict"]) => layers.filter((l) => l.verdict === v).length;
  const blocking = layers.filter((l) => l.verdict === "unsupported").map((l) => l.name);
  return {
    model: g.name,
    mode,
    supported: blocking.length === 0,
    layers,
    summary: {
      total: layers.length,
      supported: count("supported"),
      unsupported: blocking.length,
      constant: count("constant"),
      blocking,
    },
  };
}

/**
 * Analyses graph `g` as read (it is prepared internally with `opts.inputShapes`; `g` is not
 * modified). Strict mode judges the network at its own batch, shape-aware mode at a symbolic N.
 */
export function analyze(g: Graph, opts: AnalyzeOptions = { mode: "shape-aware" }): TopologyReport {
  if (opts.mode === "strict") return report(g, "strict", strictLayers(g, opts));
  if (opts.mode === "shape-aware") return report(g, "shape-aware", shapeAwareLayers(g, opts));
  throw new ConfigError(`Unknown analysis mode '${String(opts.mode)}'; expected "strict" or "shape-aware"`);
}
