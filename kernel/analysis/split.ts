/**
 * Rewrite 2 of fixForDynamicBatch: a network whose tail mixes samples (DetectionOutput, a Softmax
 * or Reduce over axis 0, a Concat or Reshape that folds the batch into one list) is split into a
 * batchable body and a per-sample tail. The tail is everything downstream of the layers the
 * shape-aware analysis cannot prove; the body is the rest, with the tensors the tail reads from it
 * (the cut) as extra outputs. The body runs with setBatch(n); the tail runs at batch 1 once per
 * sample on that sample's slice of the cut, which is exactly what a batch-1 run of the original
 * computes there. The runtime half (compiling, running, the numeric check) is kernel/runtime/split*.ts.
 */
import { ConstTensor, Graph, Node, PortRef, nodeMap } from "../graph/graph";
import { prepare } from "../graph/prepare";
import { DynbatchError } from "../errors";
import { LayerVerdict } from "../schema";
import { analyze } from "./index";
import { modelBatch, prepareAtModelBatch, prune } from "./fix";
import { shapeAwareLayers } from "./shape_aware";
import { formatShape, isN, ShapeOptions, SymbolicGraph } from "./symbolic";

/** How n per-sample results of one tail output are put together. */
export type SplitJoin =
  /** Along axis 0: per-sample [s0, …] → [n·s0, …] (n batch-1 runs, one after the other). */
  | "concat"
  /** DetectionOutput rows [image_id, label, conf, box×4]: valid rows packed, image_id = the sample, −1 after the last (OpenVINO's batch-N layout). */
  | "detections";

/** A tensor the tail reads from the body: output `bodyOutput` of the body, input `tailInput` of the tail. */
export interface SplitCut {
  /** The tensor, as its producer's output names it. */
  name: string;
  bodyOutput: string;
  tailInput: string;
  /** Per sample (batch 1). */
  shape: number[];
}

/** One output of the original network, in its order: which part computes it and how samples join. */
export interface SplitOutput {
  /** The Result's name in the original (and in the part that computes it). */
  result: string;
  from: "body" | "tail";
  join: SplitJoin;
  /** The tail output's shape for one sample (empty for a body output). */
  perSample: number[];
}

export interface SplitPlan {
  /** Raw graph: the original's layers outside the tail, plus a Result per cut tensor. */
  body: Graph;
  /** Raw graph at batch 1: a Parameter per cut tensor, the tail's layers, its inputs that are not data as batch-1 constants. */
  tail: Graph;
  cuts: SplitCut[];
  outputs: SplitOutput[];
  /** The layers the analysis could not prove, which start the tail. */
  mixing: LayerVerdict[];
  /** Names of the tail's layers (Results and constants left out). */
  tailLayers: string[];
  /** The tail's layers as the analysis of the split network shows them: supported, run per sample. */
  tailVerdicts: LayerVerdict[];
  /** The body's shape-aware proof: how many layers it proves per sample. */
  bodyProof: string;
}

const show = (s: number[]) => `[${s.join(",")}]`;

/** Every node downstream of `seeds` (the seeds included), by any edge. */
function downstream(g: Graph, seeds: Set<number>): Set<number> {
  const tail = new Set(seeds);
  for (const n of g.nodes) if (n.inputs.some((r) => tail.has(r.node))) tail.add(n.id);
  return tail;
}

function constNode(id: number, name: string, value: ConstTensor): Node {
  return {
    id,
    name,
    type: "Const",
    version: "opset1",
    attrs: { element_type: value.dtype, shape: value.shape.join(",") },
    inputs: [],
    outputs: [{ names: [], dtype: value.dtype, shape: [...value.shape] }],
    value,
  };
}

function paramNode(id: number, name: string, shape: number[]): Node {
  return {
    id,
    name,
    type: "Parameter",
    version: "opset1",
    attrs: { element_type: "f32", shape: shape.join(",") },
    inputs: [],
    outputs: [{ names: [name], dtype: "f32", shape: [...shape] }],
  };
}

function resultNode(id: number, name: string, ref: PortRef): Node {
  return { id, name, type: "Result", version: "opset1", attrs: {}, inputs: [ref], outputs: [] };
}

const refKey = (r: PortRef) => `${r.node}:${r.port}`;

/**
 * The split of raw graph `g` (its Reshape/Flatten/Transpose rewrites already applied), or why there is
 * none. Never throws for a topology it cannot split: every refusal is a sentence.
 */
export function planSplit(g: Graph, opts: ShapeOptions = {}): SplitPlan | string {
  const batch = modelBatch(g);
  if (batch === undefined) return "no input has a batch axis";
  if (batch !== 1)
    return `the model's own batch is ${batch}: the tail would combine ${batch} samples there, and a per-sample tail would change what it computes`;
  const layers = shapeAwareLayers(g, opts);
  const blocked = layers.filter((l) => l.verdict === "unsupported");
  if (blocked.length === 0) return "every layer is already proven per sample: nothing to split";
  const tailIds = downstream(g, new Set(blocked.map((l) => l.id)));
  // The layers that start the tail: a blocked layer behind another one is only cut off by it.
  const mixing = blocked.filter((l) => !l.inputs.some((i) => tailIds.has(i)));
  const sym = new SymbolicGraph(g, opts);
  let one: Graph;
  try {
    one = prepareAtModelBatch(g, opts);
  } catch (e) {
    if (e instanceof DynbatchError) return `the original does not prepare at batch 1: ${e.message}`;
    throw e;
  }
  const atOne = nodeMap(one);
  const byId = nodeMap(g);
  let nextId = Math.max(...g.nodes.map((n) => n.id)) + 1;

  // The tail's inputs from outside it: data tensors become cut tensors, the rest batch-1 constants.
  const cuts: (SplitCut & { ref: PortRef })[] = [];
  const replaced = new Map<string, number>();
  const tailHead: Node[] = [];
  for (const n of g.nodes) {
    if (!tailIds.has(n.id)) continue;
    for (const r of n.inputs) {
      if (tailIds.has(r.node) || replaced.has(refKey(r))) continue;
      const src = byId.get(r.node)!;
      const label = src.outputs.length > 1 ? `${src.name}.${r.port}` : src.name;
      if (sym.kind(r) !== "data") {
        const p = atOne.get(r.node);
        const value = p?.type === "Const" ? p.value : p?.folded?.[r.port];
        if (!value) return `'${n.name}' reads '${label}', a value computed at run time from shapes, not a constant at batch 1`;
        replaced.set(refKey(r), nextId);
        tailHead.push(constNode(nextId++, `${label}/batch1`, value));
        continue;
      }
      const dims = sym.dims(r);
      if (!dims || dims.length === 0 || !isN(dims[0]))
        return `'${n.name}' reads '${label}' ${formatShape(dims)}, whose axis 0 is not the batch: it cannot be sliced by sample`;
      const shape = atOne.get(r.node)!.outputs[r.port].shape;
      const name = src.outputs[r.port].names[0] ?? label;
      replaced.set(refKey(r), nextId);
      tailHead.push(paramNode(nextId++, name, shape));
      cuts.push({ name, bodyOutput: `${label}/split_cut`, tailInput: name, shape, ref: r });
    }
  }
  if (cuts.every((c) => byId.get(c.ref.node)!.type === "Parameter"))
    return `'${mixing[0].name}' reads the network's input directly: the body would compute nothing, so there is nothing to batch`;

  const outputs: SplitOutput[] = [];
  for (const n of g.nodes.filter((x) => x.type === "Result")) {
    if (!tailIds.has(n.id)) {
      outputs.push({ result: n.name, from: "body", join: "concat", perSample: [] });
      continue;
    }
    const src = atOne.get(n.inputs[0].node);
    const perSample = src?.outputs[n.inputs[0].port]?.shape ?? [];
    if (perSample.length === 0)
      return `output '${n.name}' is a scalar per sample: n of them have no axis to be concatenated along`;
    const join: SplitJoin = src?.type === "DetectionOutput" && perSample.length === 4 ? "detections" : "concat";
    outputs.push({ result: n.name, from: "tail", join, perSample });
  }

  const remap = (r: PortRef): PortRef => (replaced.has(refKey(r)) ? { node: replaced.get(refKey(r))!, port: 0 } : r);
  const tailNodes = g.nodes.filter((n) => tailIds.has(n.id)).map((n) => ({ ...n, inputs: n.inputs.map(remap) }));
  const tail: Graph = { ...g, name: `${g.name}/tail`, nodes: [...tailHead, ...tailNodes] };
  const body = prune({
    ...g,
    nodes: [...g.nodes.filter((n) => !tailIds.has(n.id)), ...cuts.map((c) => resultNode(nextId++, c.bodyOutput, c.ref))],
  });

  // The proof: the body alone is batch-independent, and the tail prepares at batch 1.
  const report = analyze(body, { mode: "shape-aware", inputShapes: opts.inputShapes });
  if (!report.supported)
    return `the body is not proven per sample: ${report.summary.blocking.join(", ")} still block (a layer the split cannot isolate)`;
  try {
    prepare(tail, {});
  } catch (e) {
    if (e instanceof DynbatchError) return `the per-sample tail does not prepare at batch 1: ${e.message}`;
    throw e;
  }
  const cutShapes = cuts.map((c) => `${c.name} ${show(c.shape)}`).join(", ");
  return {
    body,
    tail,
    cuts: cuts.map(({ ref: _ref, ...c }) => c),
    outputs,
    mixing,
    tailLayers: tailNodes.filter((n) => n.type !== "Result").map((n) => n.name),
    tailVerdicts: layers
      .filter((l) => tailIds.has(l.id))
      .map((l) => ({
        ...l,
        verdict: "supported",
        reason: `per-sample tail: runs at batch 1 once per sample (alone: ${l.reason})`,
      })),
    bodyProof: `body: ${report.summary.supported} layer(s) proven per sample by the shape-aware analysis; cut at ${cutShapes} per sample`,
  };
}
