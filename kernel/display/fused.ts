/**
 * Fused layers in the profile graphs (the static SVG and the JupyterLab view): a layer fused into
 * another runs inside its host's kernel and has no time of its own, so it is folded into the
 * host's node and drawn as a small dashed chip inside the host's box.
 */
import type { ProfileNode, ProfileReport } from "../schema";

/** Chips drawn inside a host box (then "+k"), their width and the gap between them. */
export const CHIPS = 3;
export const CHIP_W = 7;
export const CHIP_GAP = 2;

/** Pixels the chips of `count` fused layers take at the right end of a box. */
export function chipsSpace(count: number): number {
  if (count === 0) return 0;
  return (CHIP_W + CHIP_GAP) * Math.min(CHIPS, count) + (count > CHIPS ? 12 : 0) + 1;
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

/** Average width of a label character at the boxes' 11 px font, to fit labels beside the chips. */
const CHAR_PX = 6.6;

/**
 * A box's label: its type, then its value when it has one, the type cut so the whole fits in
 * `width` pixels (the box less its chips).
 */
export function boxLabel(type: string, value: string | undefined, width: number): string {
  const room = Math.max(4, Math.floor((width - 4) / CHAR_PX));
  const typeRoom = value === undefined ? room : Math.max(3, room - value.length - 1);
  const t = type.length > typeRoom ? `${type.slice(0, typeRoom - 1)}…` : type;
  return value === undefined ? t : `${t} ${value}`;
}
