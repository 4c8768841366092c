/**
 * One node's shape inference and constant folding through its OpDef, shared by prepare() (every
 * node of a bound graph) and by readers that need one value at read time (an ONNX If condition),
 * so there is a single evaluator of the ops.
 */
import { ConstTensor, Node, PortRef } from "./graph";
import { ModelError, ShapeError } from "../errors";
import { getOpDef } from "./ops/registry";
import type { InferCtx, OpDef, OutputInfo } from "./ops/types";
import { checkAttrs } from "./ops/attr_spec";
import { AttributeError } from "./attrs";
import { numel } from "./ops/util";

/** Constant folding is skipped for outputs larger than this (elements), to bound memory. */
const FOLD_LIMIT = 1 << 25;

/**
 * Infers `ctx.node`'s outputs and, when `def` can fold them (every input constant, or ShapeOf of a
 * known shape) and they are small enough, their constant values.
 */
export function inferNode(def: OpDef, ctx: InferCtx): { infos: OutputInfo[]; folded?: ConstTensor[] } {
  const node = ctx.node;
  try {
    const infos = def.infer(ctx);
    checkAttrs(node.type, node.attrs);
    if (infos.length < node.outputs.length) {
      throw new ShapeError(
        ctx.file,
        node.name,
        `${node.type} produces ${infos.length} outputs, the node has ${node.outputs.length}`,
      );
    }
    const foldable =
      def.fold !== undefined &&
      node.type !== "Const" &&
      (node.type === "ShapeOf" || ctx.consts.every((c) => c !== undefined)) &&
      infos.reduce((s, o) => s + numel(o.shape), 0) <= FOLD_LIMIT;
    return { infos, folded: foldable ? def.fold!(ctx) : undefined };
  } catch (e) {
    // A missing or malformed attribute is a bad model; anything else untyped is a bug and surfaces as such.
    if (e instanceof AttributeError) throw new ModelError(ctx.file, e.message, node.name);
    throw e;
  }
}

/** What a port computes from constants alone, or the graph inputs (Parameters) that keep it from being constant. */
export interface ConstEval {
  value?: ConstTensor;
  /** Names of the Parameters whose values it depends on (empty when `value` is set, or when an op cannot fold). */
  inputs: string[];
  /** Names of the Parameters it depends on only through their shape (ShapeOf), which is not known before they are bound. */
  shapeInputs: string[];
}

/**
 * Folds the value of `ref` on demand, before any shape is bound: only constants feed it, so each
 * ancestor's shapes are those of its constant inputs. `nodeOf` finds a node by id.
 */
export function evaluateConst(nodeOf: (id: number) => Node, ref: PortRef, file: string): ConstEval {
  // Ancestors in post-order (inputs first), by an iterative DFS so long chains cannot overflow the stack.
  const order: Node[] = [];
  const seen = new Set<number>([ref.node]);
  const stack: [Node, number][] = [[nodeOf(ref.node), 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [n, i] = top;
    if (i < n.inputs.length) {
      top[1]++;
      const src = n.inputs[i].node;
      if (!seen.has(src)) {
        seen.add(src);
        stack.push([nodeOf(src), 0]);
      }
    } else {
      order.push(n);
      stack.pop();
    }
  }
  const values = new Map<number, ConstTensor[] | undefined>();
  // Per node, the Parameters it reads by value and those it reads only by shape.
  const byValue = new Map<number, Set<string>>();
  const byShape = new Map<number, Set<string>>();
  for (const n of order) {
    const ins = n.inputs.map((r) => r.node);
    const union = (m: Map<number, Set<string>>) => new Set(ins.flatMap((id) => [...(m.get(id) ?? [])]));
    const valueDeps = n.type === "Parameter" ? new Set([n.name]) : union(byValue);
    const shapeDeps = union(byShape);
    if (n.type === "ShapeOf") valueDeps.forEach((p) => shapeDeps.add(p));
    byValue.set(n.id, n.type === "ShapeOf" ? new Set() : valueDeps);
    byShape.set(n.id, shapeDeps);
    if (n.type === "Const") {
      values.set(n.id, n.value ? [n.value] : undefined);
      continue;
    }
    const consts = n.inputs.map((r) => values.get(r.node)?.[r.port]);
    const def = getOpDef(n.type);
    if (n.type === "Parameter" || !def?.fold || consts.some((c) => c === undefined)) {
      values.set(n.id, undefined);
      continue;
    }
    const ctx: InferCtx = {
      node: n,
      shapes: consts.map((c) => c!.shape),
      dtypes: consts.map((c) => c!.dtype),
      consts,
      file,
    };
    values.set(n.id, inferNode(def, ctx).folded);
  }
  const value = values.get(ref.node)?.[ref.port];
  if (value) return { value, inputs: [], shapeInputs: [] };
  const inputs = [...byValue.get(ref.node)!];
  return { inputs, shapeInputs: [...byShape.get(ref.node)!].filter((p) => !inputs.includes(p)) };
}
