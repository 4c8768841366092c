import { ConstTensor, Graph, Node, nodeMap } from "./graph";
import type { OpDef } from "./ops/types";
import { ModelError, NotFoundError, ShapeError, UnboundInput, UnboundShapeError, UnsupportedError } from "../errors";
import { getOpDef } from "./ops/registry";
import type { CustomOpDef, InferCtx } from "./ops/types";
import { inferNode } from "./evaluate";
import { declaredDims, dimLabel } from "./dims";

export interface PrepareOptions {
  /** New shapes for inputs, keyed by Parameter name or by one of its output tensor names; -1 leaves an axis free. */
  inputShapes?: Record<string, number[]>;
  /** Replaces axis 0 of every Parameter of rank >= 1 (applied after inputShapes). */
  batch?: number;
  /** Ops registered by extensions, by layer type (ie.addExtension). */
  customOps?: ReadonlyMap<string, CustomOpDef>;
}

/** The op definition of `type`: built in, else registered by an extension. */
export function opDefOf(type: string, customOps?: ReadonlyMap<string, CustomOpDef>): OpDef | undefined {
  return getOpDef(type) ?? customOps?.get(type);
}

/** Why a layer type cannot be prepared, and how an extension would make it load. */
export function unknownOpReason(node: Node): string {
  // An ONNX domain or an IR layer's own version: what an extension's domain is matched against.
  const domain = /^(opset\d+|onnx|)$/.test(node.version) ? "" : `, domain: "${node.version}"`;
  return (
    `operation ${node.type} is not supported; ie.addExtension({ type: "${node.type}"${domain}, inferShape, batch, compute }) ` +
    `before readNetwork would make it load`
  );
}

export function dimsEqual(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The constant value of output `port` of `n`, if it has one (Const or folded). */
export function constOutput(n: Node, port: number): ConstTensor | undefined {
  if (n.type === "Const") return port === 0 ? n.value : undefined;
  return n.folded?.[port];
}

function copyGraph(g: Graph): Graph {
  return {
    ...g,
    nodes: g.nodes.map((n) => ({
      ...n,
      attrs: { ...n.attrs },
      inputs: n.inputs.map((p) => ({ ...p })),
      outputs: n.outputs.map((o) => ({ names: [...o.names], dtype: o.dtype, shape: [...o.shape] })),
      folded: undefined,
    })),
  };
}

/** Nodes in an order where every input comes first (the graph's own order when already valid). */
function topoOrder(g: Graph): Node[] {
  const byId = nodeMap(g);
  const state = new Map<number, number>();
  const order: Node[] = [];
  for (const root of g.nodes) {
    if (state.has(root.id)) continue;
    // Iterative DFS: frame = [node, next input index].
    const stack: [Node, number][] = [[root, 0]];
    state.set(root.id, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [n, i] = top;
      if (i < n.inputs.length) {
        top[1]++;
        const src = byId.get(n.inputs[i].node);
        if (!src) throw new ModelError(g.file, `input ${i} refers to missing node ${n.inputs[i].node}`, n.name);
        const st = state.get(src.id);
        if (st === 1) throw new ModelError(g.file, "the graph has a cycle", n.name);
        if (st === undefined) {
          state.set(src.id, 1);
          stack.push([src, 0]);
        }
      } else {
        state.set(n.id, 2);
        order.push(n);
        stack.pop();
      }
    }
  }
  return order;
}

function applyInputShapes(g: Graph, opts: PrepareOptions): void {
  const params = g.nodes.filter((n) => n.type === "Parameter");
  for (const [key, shape] of Object.entries(opts.inputShapes ?? {})) {
    const p = params.find((n) => n.name === key || n.outputs[0]?.names.includes(key));
    if (!p) throw new NotFoundError(`${g.file}: no input named '${key}'`);
    if (!shape.every((d) => Number.isInteger(d) && d >= -1)) {
      throw new ShapeError(g.file, p.name, `input shape [${shape}] must be non-negative integers (-1: free)`);
    }
    p.outputs[0].shape = [...shape];
  }
  // The batch as the caller left it, for errors: a batch given here is a probe, not the user's.
  const ownBatch = new Map(params.map((p) => [p.id, p.outputs[0]?.shape[0]]));
  if (opts.batch !== undefined) {
    if (!Number.isInteger(opts.batch) || opts.batch < 1) {
      throw new ShapeError(g.file, params[0]?.name ?? g.name, `batch ${opts.batch} must be a positive integer`);
    }
    for (const p of params) if (p.outputs[0]?.shape.length >= 1) p.outputs[0].shape[0] = opts.batch;
  }
  const unbound: UnboundInput[] = [];
  for (const p of params) {
    if (!p.outputs[0]) throw new ModelError(g.file, "Parameter has no output port", p.name);
    const shape = p.outputs[0].shape;
    const axes = shape.flatMap((d, axis) => (Number.isInteger(d) && d >= 0 ? [] : [axis]));
    if (axes.length === 0) continue;
    const declared = declaredDims(p);
    const shown = shape.map((d, axis) => (axis === 0 ? ownBatch.get(p.id)! : d));
    unbound.push({ input: p.name, axes, dims: shown.map((d, axis) => (d < 0 ? dimLabel(declared[axis]) : d)) });
  }
  // Every free input at once, so one reshape fixes them all; no layer's shape inference sees a -1.
  if (unbound.length > 0) throw new UnboundShapeError(g.file, unbound);
}

/**
 * Returns a copy of `g` with concrete shapes on every output and constant subgraphs folded
 * (`node.folded`). The input graph is never modified; constant data arrays are shared.
 */
export function prepare(g: Graph, opts: PrepareOptions = {}): Graph {
  const out = copyGraph(g);
  applyInputShapes(out, opts);
  const byId = nodeMap(out);
  for (const node of topoOrder(out)) {
    const def = opDefOf(node.type, opts.customOps);
    if (!def) throw new UnsupportedError(g.file, unknownOpReason(node), node.name);
    const ctx: InferCtx = { node, shapes: [], dtypes: [], consts: [], file: g.file };
    node.inputs.forEach((ref, i) => {
      const src = byId.get(ref.node)!;
      const port = src.outputs[ref.port];
      if (!port) throw new ModelError(g.file, `input ${i} refers to missing output ${ref.port} of '${src.name}'`, node.name);
      ctx.shapes.push(port.shape);
      ctx.dtypes.push(port.dtype);
      ctx.consts.push(constOutput(src, ref.port));
    });
    const { infos, folded } = inferNode(def, ctx);
    node.outputs.forEach((o, i) => {
      o.shape = [...infos[i].shape];
      o.dtype = infos[i].dtype;
    });
    if (folded) node.folded = folded;
  }
  return out;
}
