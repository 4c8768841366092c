/**
 * Graph edits the rewrites of fixForDynamicBatch share: they copy the graph, never modify it, and
 * give every changed constant a Const of its own (the old one may be shared with other layers).
 */
import { ConstTensor, Graph, Node, PortRef } from "../graph/graph";
import { BatchFixKind } from "../schema";

/** A copy of `g` with node `id` replaced by `f(node)`, and `extra` nodes inserted before it. */
export function replaceNode(g: Graph, id: number, f: (n: Node) => Node, extra: Node[] = []): Graph {
  const nodes = g.nodes.flatMap((n) => (n.id === id ? [...extra, f(n)] : [n]));
  return prune({ ...g, nodes });
}

/** Removes nodes nothing reads that are not inputs or outputs (a replaced shape constant, a layer only a split-off tail read). */
export function prune(g: Graph): Graph {
  const live = new Set<number>();
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (n.type === "Result" || n.type === "Parameter" || live.has(n.id)) {
      live.add(n.id);
      for (const r of n.inputs) live.add(r.node);
    }
  }
  return { ...g, nodes: g.nodes.filter((n) => live.has(n.id)) };
}

/** The constant value on `ref` in the prepared graph (a Const, or a folded shape computation). */
export function constAt(prepared: Map<number, Node>, ref: PortRef | undefined): ConstTensor | undefined {
  const n = ref && prepared.get(ref.node);
  if (!n) return undefined;
  return n.type === "Const" ? n.value : n.folded?.[ref.port];
}

/**
 * A copy of `g` where input `port` of `node` reads a new 1-D i64 Const `values` named
 * `<layer>/<suffix>` (appended when the layer had fewer inputs), with `attrs` merged into the layer's;
 * `scalar` writes a single value as a rank-0 Const (a Gather axis).
 */
export function setConstInput(
  g: Graph,
  node: Node,
  port: number,
  values: number[],
  suffix: string,
  attrs: Record<string, string> = {},
  scalar = false,
): Graph {
  const id = Math.max(...g.nodes.map((n) => n.id)) + 1;
  const shape = scalar ? [] : [values.length];
  const c: Node = {
    id,
    name: `${node.name}/${suffix}`,
    type: "Const",
    version: "opset1",
    attrs: { element_type: "i64", shape: shape.join(",") },
    inputs: [],
    outputs: [{ names: [], dtype: "i64", shape }],
    value: { dtype: "i64", shape, data: Float64Array.from(values) },
  };
  return replaceNode(
    g,
    node.id,
    (n) => {
      const inputs = [...n.inputs];
      inputs[port] = { node: id, port: 0 };
      return { ...n, attrs: { ...n.attrs, ...attrs }, inputs };
    },
    [c],
  );
}

/** A rewrite of one layer (and the layers it moves with it), before it is proven. */
export interface Rewrite {
  kind: BatchFixKind;
  before: string;
  after: string;
  /** Applies the rewrite to a copy of `g` (every layer keeps its id and name). */
  apply(g: Graph): Graph;
  /** Layers whose outputs swap axes 0 and 1 at the model's batch; every other shape must stay as it was. */
  swapped?: number[];
  /** Layers the analysis must prove after the rewrite besides the rewritten one. */
  touched?: number[];
}
