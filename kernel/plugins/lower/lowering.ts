/**
 * The program a lowering builds while it walks the graph: the tensor table, the op list and the
 * executed layers, with the graph lookups every op's lowering needs.
 */
import { ConstTensor, Graph, Node, nodeMap, PortRef } from "../../graph/graph";
import { UnsupportedError } from "../../errors";
import { NativeAttr, NativeOpSpec, NativeTensorSpec } from "../native";
import { CompileOptions, ExecutedLayer } from "../plugin";

/** Lowers one node of a type into native ops (see the tables in lower/index.ts). */
export type LowerFn = (L: Lowering, n: Node) => void;

export function portKey(ref: PortRef): string {
  return `${ref.node}:${ref.port}`;
}

export function toF32(t: ConstTensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export class Lowering {
  readonly tensors: NativeTensorSpec[] = [];
  readonly ops: NativeOpSpec[] = [];
  readonly layers: ExecutedLayer[] = [];
  /** "node:port" of every output some live node reads. */
  readonly usedOutputs = new Set<string>();
  private readonly ids = new Map<string, number>();
  private readonly byId: Map<number, Node>;

  constructor(
    private readonly g: Graph,
    private readonly opts: CompileOptions,
  ) {
    this.byId = nodeMap(g);
  }

  /** The model file, for errors. */
  get file(): string {
    return this.g.file;
  }

  node(id: number): Node {
    const n = this.byId.get(id);
    if (!n) throw new UnsupportedError(this.g.file, `dangling reference to node ${id}`);
    return n;
  }

  /** Constant value feeding input `i` of `n`, if that input is constant. */
  constOf(n: Node, i: number): ConstTensor | undefined {
    const ref = n.inputs[i];
    if (!ref) return undefined;
    const src = this.node(ref.node);
    if (src.folded) return src.folded[ref.port];
    if (src.type === "Const") return src.value;
    return undefined;
  }

  requireConst(n: Node, i: number, what: string): ConstTensor {
    const c = this.constOf(n, i);
    if (!c) throw new UnsupportedError(this.g.file, `${n.type} needs a constant ${what} (input ${i})`, n.name);
    return c;
  }

  constInts(n: Node, i: number, what: string): number[] {
    return Array.from(this.requireConst(n, i, what).data);
  }

  shapeOf(ref: PortRef): number[] {
    return this.node(ref.node).outputs[ref.port].shape;
  }

  inShape(n: Node, i: number): number[] {
    return this.shapeOf(n.inputs[i]);
  }

  isBatched(ref: PortRef): boolean {
    return this.opts.batched?.get(ref.node)?.[ref.port] ?? false;
  }

  /** Tensor id for a node output; constants become constant tensors on first use. */
  tensor(ref: PortRef): number {
    const key = portKey(ref);
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    const src = this.node(ref.node);
    const c = src.folded ? src.folded[ref.port] : src.type === "Const" ? src.value : undefined;
    const id = this.tensors.length;
    this.tensors.push(
      c
        ? { shape: c.shape, batched: false, data: toF32(c) }
        : { shape: src.outputs[ref.port].shape, batched: this.isBatched(ref) },
    );
    this.ids.set(key, id);
    return id;
  }

  /** A fresh constant tensor (reshaped weights, per-op parameters). */
  constTensor(shape: number[], data: Float32Array): number {
    this.tensors.push({ shape, batched: false, data });
    return this.tensors.length - 1;
  }

  /** A fresh activation that no graph output names (an explicit padding, a copy for an output). */
  activation(shape: number[], batched: boolean): number {
    this.tensors.push({ shape, batched });
    return this.tensors.length - 1;
  }

  out(n: Node, port = 0): number {
    return this.tensor({ node: n.id, port });
  }

  emit(n: Node, type: string, inputs: number[], outputs: number[], attrs: Record<string, NativeAttr>): void {
    this.ops.push({ type, name: n.name, inputs, outputs, attrs });
    this.layers.push({ name: n.name, type: n.type, execType: type });
  }
}
