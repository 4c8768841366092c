/**
 * Lowers a prepared graph (shapes inferred at the maximum batch, constants folded) to the native
 * op set of native/OPS.md, for both plugins: every attribute resolved to plain numbers, weights as
 * constant tensors. One file per family of ops, each exporting its layer type → LowerFn table; a
 * new op adds its entry there.
 */
import { Graph, Node, nodeMap } from "../../graph/graph";
import { graphInputs, graphOutputs } from "../../graph/io";
import { AttributeError } from "../../graph/attrs";
import { numel } from "../../graph/ops/util";
import { ModelError, UnsupportedError } from "../../errors";
import { table } from "../../dict";
import { NativeProgramSpec, NativeTensorSpec } from "../native";
import { CompileOptions, ExecutedLayer, IoBinding, MAX_PROGRAM_BYTES } from "../plugin";
import { Lowering, LowerFn, portKey } from "./lowering";
import { ELEMENTWISE } from "./elementwise";
import { LINEAR } from "./linear";
import { POOLING } from "./pool";
import { NORMALIZE } from "./normalize";
import { LAYOUT } from "./layout";
import { INTERPOLATE } from "./interpolate";
import { DETECTION_OUTPUT } from "./detection_output";
import { QUANTIZE } from "./quantize";

export interface LoweredProgram {
  spec: NativeProgramSpec;
  inputs: IoBinding[];
  outputs: IoBinding[];
  layers: ExecutedLayer[];
}

/** Layer type → its lowering. */
const LOWERINGS: Record<string, LowerFn> = table({
  ...ELEMENTWISE,
  ...LINEAR,
  ...POOLING,
  ...NORMALIZE,
  ...LAYOUT,
  ...INTERPOLATE,
  ...DETECTION_OUTPUT,
  ...QUANTIZE,
});

function lowerNode(L: Lowering, n: Node): void {
  const lower = LOWERINGS[n.type];
  if (!lower) throw new UnsupportedError(L.file, `operation ${n.type} has no CPU implementation`, n.name);
  lower(L, n);
}

/** Nodes that contribute to a Result, excluding constants. */
function liveNodes(g: Graph): Set<number> {
  const byId = nodeMap(g);
  const live = new Set<number>();
  const stack = g.nodes.filter((n) => n.type === "Result").map((n) => n.id);
  while (stack.length) {
    const id = stack.pop()!;
    if (live.has(id)) continue;
    live.add(id);
    const n = byId.get(id)!;
    if (n.folded || n.type === "Const") continue;
    for (const r of n.inputs) stack.push(r.node);
  }
  return live;
}

/** Refuses networks whose activations cannot fit in memory, before the native side tries. */
function checkMemory(g: Graph, tensors: NativeTensorSpec[]): void {
  let floats = 0;
  for (const t of tensors) {
    if (t.shape.some((d) => !Number.isInteger(d) || d < 0))
      throw new ModelError(g.file, `tensor shape [${t.shape}] is not static; reshape the network first`);
    floats += numel(t.shape);
  }
  const bytes = floats * Float32Array.BYTES_PER_ELEMENT;
  if (bytes > MAX_PROGRAM_BYTES)
    throw new ModelError(
      g.file,
      `the network needs ${(bytes / 2 ** 30).toFixed(1)} GiB of tensors at this batch (limit ${MAX_PROGRAM_BYTES / 2 ** 30} GiB)`,
    );
}

export function lowerGraph(g: Graph, opts: CompileOptions): LoweredProgram {
  const L = new Lowering(g, opts);
  const live = liveNodes(g);
  for (const n of g.nodes) for (const r of n.inputs) if (live.has(n.id)) L.usedOutputs.add(portKey(r));

  const inputs: IoBinding[] = graphInputs(g).map((io) => ({
    name: io.name,
    aliases: io.aliases,
    shape: L.shapeOf(io.ref),
    batched: L.isBatched(io.ref),
    tensor: L.tensor(io.ref),
  }));
  for (const n of g.nodes) {
    if (!live.has(n.id) || n.type === "Parameter" || n.type === "Const" || n.folded || n.type === "Result") continue;
    try {
      lowerNode(L, n);
    } catch (e) {
      // prepare() checked every attribute read here; should one slip through, it still names the layer.
      if (e instanceof AttributeError) throw new ModelError(g.file, e.message, n.name);
      throw e;
    }
  }
  const outputs: IoBinding[] = graphOutputs(g).map((io) => {
    let t = L.tensor(io.ref);
    // A constant or an input that is also an output gets its own buffer so users can read it.
    if (L.tensors[t].data || inputs.some((i) => i.tensor === t)) {
      const copy = L.activation(L.tensors[t].shape, L.tensors[t].batched);
      const src = L.node(io.ref.node);
      L.emit({ ...src, name: `${src.name}/output_copy` }, "copy", [t], [copy], {});
      t = copy;
    }
    return { name: io.name, aliases: io.aliases, shape: L.shapeOf(io.ref), batched: L.isBatched(io.ref), tensor: t };
  });
  checkMemory(g, L.tensors);
  return {
    spec: {
      maxBatch: opts.maxBatch,
      threads: opts.threads,
      independentSamples: opts.independentSamples,
      parallel: opts.parallel,
      tensors: L.tensors,
      ops: L.ops,
      inputs: inputs.map((i) => i.tensor),
      outputs: outputs.map((o) => o.tensor),
    },
    inputs,
    outputs,
    layers: L.layers,
  };
}
