/**
 * Rewrites that make a network batchable, each with its symbolic proof. A Reshape or Flatten whose
 * target hard-codes the batch (`[1,-1]`, `[1,512]`, ONNX Flatten axis 0) is rewritten to keep axis
 * 0; a Transpose that moves the batch to axis 1 for Slice/Gather/Split on axis 0 keeps it first
 * (kernel/analysis/fix_transpose.ts). A rewrite is kept only when (1) the rewritten network prepares
 * at the model's own batch with every tensor shape unchanged (but for the axes a Transpose rewrite
 * swaps), so at that batch it computes exactly what the original did, and (2) the shape-aware
 * analysis proves the rewritten layers map each sample to itself. The numeric
 * check against batch-1 runs is the runtime's (kernel/runtime/fix.ts): it needs a device.
 */
import { Graph, Node, nodeMap } from "../graph/graph";
import { attrBool, attrNum } from "../graph/attrs";
import { dimsEqual, prepare } from "../graph/prepare";
import { DynbatchError } from "../errors";
import { BatchFixChange, LayerVerdict } from "../schema";
import { shapeAwareLayers } from "./shape_aware";
import { ShapeOptions } from "./symbolic";
import { constAt, replaceNode, Rewrite, setConstInput } from "./fix_edit";
import { transposeRewrite } from "./fix_transpose";

export { prune } from "./fix_edit";

/** The layers' verdicts and the proposed changes; `graph` carries every change proven so far. */
export interface ProposedFixes {
  graph: Graph;
  changes: BatchFixChange[];
}

const show = (v: ArrayLike<number>) => `[${Array.from(v).join(",")}]`;

/**
 * The model's own batch: axis 0 of its first input with a rank as the file writes it (a dynamic one
 * counts as 1), whatever batch the user has set since. A target that hard-codes the batch hard-codes
 * this one, and the rewritten network must compute exactly what the file does at this batch.
 */
export function modelBatch(g: Graph): number | undefined {
  const p = g.nodes.find((n) => n.type === "Parameter" && n.outputs[0].shape.length > 0);
  if (!p) return undefined;
  const b = p.outputs[0].shape[0];
  return b > 0 ? b : 1;
}

/** Raw graph `g` prepared at the user's input shapes with the model's own batch. */
export function prepareAtModelBatch(g: Graph, opts: ShapeOptions): Graph {
  return prepare(g, { inputShapes: opts.inputShapes, batch: modelBatch(g) });
}

/** A Reshape's new target as a Const of its own: the old target may be shared or computed. */
function reshapeTo(g: Graph, node: Node, target: number[], specialZero: boolean): Graph {
  return setConstInput(g, node, 1, target, "batch_target", { special_zero: specialZero ? "true" : "false" });
}

/**
 * The rewrite that keeps axis 0 of a Reshape or Flatten, or why there is none. `batch` is the
 * model's own batch: a target whose axis 0 is another number does not hard-code the batch.
 */
function rewriteFor(node: Node, prepared: Map<number, Node>, batch: number): Rewrite | string {
  const p = prepared.get(node.id);
  if (!p) return "its shapes cannot be inferred at the model's own batch";
  const inShape = prepared.get(node.inputs[0].node)?.outputs[node.inputs[0].port].shape ?? [];
  if (inShape[0] !== batch) return `its input [${inShape}] does not have the batch ${batch} on axis 0`;
  if (node.type === "Flatten") {
    const axis = attrNum(node.attrs, "axis", 1);
    const r = inShape.length;
    if (axis !== 0 && axis !== -r)
      return `Flatten axis ${axis} does not hard-code the batch (only axis 0 does: it yields [1, all])`;
    return {
      kind: "flatten-keep-batch",
      before: `Flatten axis ${axis} → [${p.outputs[0].shape}]`,
      after: "Flatten axis 1 → [N, …]",
      apply: (g) => replaceNode(g, node.id, (n) => ({ ...n, attrs: { ...n.attrs, axis: "1" } })),
    };
  }
  const t = constAt(prepared, node.inputs[1]);
  if (!t) return "its target shape is computed from the input, not a constant";
  const target = Array.from(t.data);
  const specialZero = attrBool(node.attrs, "special_zero", false);
  const first = target[0];
  if (first === undefined) return "its target is a scalar";
  if (first === -1 || (first === 0 && specialZero))
    return `its target ${show(target)} already infers or copies axis 0, yet the output is [${p.outputs[0].shape}]: it moves samples across axes`;
  if (first !== batch)
    return `target ${show(target)} has ${first} on axis 0, not the model's batch ${batch}: it regroups the samples rather than hard-coding the batch`;
  const rest = target.slice(1);
  const before = `Reshape ${show(target)}${specialZero ? " special_zero" : ""}`;
  // -1 on axis 0 keeps special_zero's meaning for the other axes; with a -1 already elsewhere only
  // "copy axis 0" is left, which needs special_zero = true, so other zeros must already mean "copy".
  if (!rest.includes(-1)) {
    const next = [-1, ...rest];
    return {
      kind: "reshape-keep-batch",
      before,
      after: `Reshape ${show(next)}${specialZero ? " special_zero" : ""}`,
      apply: (g) => reshapeTo(g, node, next, specialZero),
    };
  }
  if (!specialZero && rest.includes(0))
    return `target ${show(target)} has a -1 and a literal 0 (special_zero = false): axis 0 can be neither inferred nor copied`;
  const next = [0, ...rest];
  return {
    kind: "reshape-keep-batch",
    before,
    after: `Reshape ${show(next)} special_zero`,
    apply: (g) => reshapeTo(g, node, next, true),
  };
}

/**
 * Why the rewritten graph differs from the original at the model's batch, or undefined when every
 * shape is the same (axes 0 and 1 traded places for the `swapped` layers).
 */
function changedAt(original: Graph, rewritten: Graph, opts: ShapeOptions, swapped: number[] = []): string | undefined {
  let g: Graph;
  try {
    g = prepareAtModelBatch(rewritten, opts);
  } catch (e) {
    if (e instanceof DynbatchError) return `the rewritten network no longer prepares at the model's batch: ${e.message}`;
    throw e;
  }
  const after = nodeMap(g);
  for (const n of original.nodes) {
    const m = after.get(n.id);
    if (!m) continue;
    const want = (s: number[]) => (swapped.includes(n.id) ? [s[1], s[0], ...s.slice(2)] : s);
    const p = n.outputs.findIndex((o, i) => !dimsEqual(want(o.shape), m.outputs[i]?.shape ?? []));
    if (p >= 0)
      return `at the model's own batch, '${n.name}' would change from [${n.outputs[p].shape}] to [${m.outputs[p].shape}]: the layer combines samples`;
  }
  return undefined;
}

/** The layer types a rewrite exists for. */
const FIXED_TYPES = ["Reshape", "Flatten", "Transpose"];

function verdictOf(layers: LayerVerdict[], id: number): LayerVerdict | undefined {
  return layers.find((l) => l.id === id);
}

/**
 * Proposes and symbolically proves the Reshape/Flatten/Transpose rewrites of raw graph `g`, one layer at a
 * time in graph order (a layer cut off behind a failing Reshape is judged once that one is fixed).
 * Every unsupported Reshape, Flatten or Transpose appears in `changes`: proven (applied: true for now) or
 * refused with the reason.
 */
export function proposeBatchFixes(g: Graph, opts: ShapeOptions = {}): ProposedFixes {
  const batch = modelBatch(g);
  const original = prepareAtModelBatch(g, opts);
  const changes: BatchFixChange[] = [];
  if (batch === undefined) return { graph: g, changes };
  const prepared = nodeMap(original);
  const tried = new Set<number>();
  // Layers an applied Transpose rewrite swapped: their axes 0 and 1 trade places from then on.
  const swapped: number[] = [];
  let graph = g;
  let layers = shapeAwareLayers(graph, opts);
  for (;;) {
    const next = layers.find((l) => l.verdict === "unsupported" && FIXED_TYPES.includes(l.type) && !tried.has(l.id));
    if (!next) return { graph, changes };
    tried.add(next.id);
    const node = graph.nodes.find((n) => n.id === next.id)!;
    const base = { layer: node.name, type: node.type, blocked: next.reason };
    const rw =
      node.type === "Transpose"
        ? transposeRewrite(node, graph, nodeMap(prepareAtModelBatch(graph, opts)))
        : rewriteFor(node, prepared, batch);
    if (typeof rw === "string") {
      changes.push({ ...base, kind: "none", before: "", after: "", applied: false, reason: rw, proof: null });
      continue;
    }
    const candidate = rw.apply(graph);
    const changed = changedAt(original, candidate, opts, [...swapped, ...(rw.swapped ?? [])]);
    const candLayers = changed ? [] : shapeAwareLayers(candidate, opts);
    const v = verdictOf(candLayers, node.id);
    const left = (rw.touched ?? []).map((id) => verdictOf(candLayers, id)).find((l) => l?.verdict !== "supported");
    const refused =
      changed ??
      (v?.verdict !== "supported"
        ? `the rewritten layer is still unsupported: ${v?.reason}`
        : left
          ? `'${left.name}', rewritten with it, is still unsupported: ${left.reason}`
          : undefined);
    const common = { ...base, kind: rw.kind, before: rw.before, after: rw.after };
    if (refused) {
      changes.push({ ...common, applied: false, reason: refused, proof: null });
      continue;
    }
    changes.push({
      ...common,
      applied: true,
      reason: "",
      proof: { sameAtBatch: batch, analysis: v!.reason, numeric: [] },
    });
    graph = candidate;
    layers = candLayers;
    swapped.push(...(rw.swapped ?? []));
  }
}
