/**
 * Lays out the drawn graph with ELK's layered (Sugiyama) algorithm, top to bottom, and packs
 * the result into flat arrays the canvas can walk every frame without allocating.
 */
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import { EngineKind, runElk } from "./elk-engine";
import type { ViewGraph } from "./model";

/** Node box size in layout units (CSS pixels at zoom 1): two lines of 11px text. */
export const NODE_W = 168;
export const NODE_H = 38;

/** One edge as a polyline, with its bounding box for culling. */
export interface EdgePath {
  from: number;
  to: number;
  /** The edge stands for a path through hidden constants. */
  throughConstants: boolean;
  /** x0, y0, x1, y1, ... */
  points: Float64Array;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface Layout {
  /** Top-left corner of node i is (x[i], y[i]); every node is NODE_W × NODE_H. */
  x: Float64Array;
  y: Float64Array;
  edges: EdgePath[];
  width: number;
  height: number;
  /** Wall time of the layout call, worker round trip included. */
  ms: number;
  engine: EngineKind;
}

/**
 * Options chosen by measurement (see the topology test's report): Brandes-Köpf placement and
 * polyline routing keep a 5000-node layout within a few seconds; fewer crossing-minimisation
 * sweeps on large graphs trade a little tidiness for time.
 */
function options(nodes: number): Record<string, string> {
  return {
    "elk.algorithm": "layered",
    "elk.direction": "DOWN",
    "elk.edgeRouting": "POLYLINE",
    "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
    "elk.layered.crossingMinimization.thoroughness": nodes > 1500 ? "2" : "7",
    "elk.layered.spacing.nodeNodeBetweenLayers": "28",
    "elk.spacing.nodeNode": "16",
    "elk.spacing.componentComponent": "40",
  };
}

export async function layoutGraph(graph: ViewGraph): Promise<Layout> {
  const edges: ElkExtendedEdge[] = [];
  for (let e = 0; e < graph.edges.length; e += 2) {
    edges.push({ id: `e${e / 2}`, sources: [`n${graph.edges[e]}`], targets: [`n${graph.edges[e + 1]}`] });
  }
  const input: ElkNode = {
    id: "root",
    layoutOptions: options(graph.nodes.length),
    children: graph.nodes.map((_, i) => ({ id: `n${i}`, width: NODE_W, height: NODE_H })),
    edges,
  };
  const start = performance.now();
  const { result, engine } = await runElk(input);
  const ms = performance.now() - start;
  const n = graph.nodes.length;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (const child of result.children ?? []) {
    const i = Number(child.id.slice(1));
    x[i] = child.x ?? 0;
    y[i] = child.y ?? 0;
  }
  const paths: EdgePath[] = [];
  for (const edge of (result.edges ?? []) as ElkExtendedEdge[]) {
    const k = Number(edge.id.slice(1)) * 2;
    for (const s of edge.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint];
      const points = new Float64Array(pts.length * 2);
      pts.forEach((p, j) => {
        points[2 * j] = p.x;
        points[2 * j + 1] = p.y;
      });
      const xs = pts.map((p) => p.x);
      const ys = pts.map((p) => p.y);
      paths.push({
        from: graph.edges[k],
        to: graph.edges[k + 1],
        throughConstants: graph.throughConstants[k / 2] === 1,
        points,
        minX: Math.min(...xs),
        minY: Math.min(...ys),
        maxX: Math.max(...xs),
        maxY: Math.max(...ys),
      });
    }
  }
  return { x, y, edges: paths, width: result.width ?? 0, height: result.height ?? 0, ms, engine };
}

/**
 * The node under the layout point (wx, wy), or -1; each box counts `pad` units larger on every
 * side, so tiny boxes of a zoomed-out view stay clickable. Later nodes win, as they are drawn on top.
 */
export function nodeAt(layout: Layout, wx: number, wy: number, pad = 0): number {
  for (let i = layout.x.length - 1; i >= 0; i--) {
    const x = layout.x[i];
    const y = layout.y[i];
    if (wx >= x - pad && wx <= x + NODE_W + pad && wy >= y - pad && wy <= y + NODE_H + pad) return i;
  }
  return -1;
}
