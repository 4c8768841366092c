import { ModelError } from "../../errors";
import { Attrs, ConstTensor, DimSpec, DType, Node, PortRef } from "../../graph/graph";
import { table } from "../../dict";
import { makeConst } from "../tensor";
import { list } from "./format";
import { OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo, toNum } from "./proto";
import { tensorFromProto } from "./tensor_proto";

/** Opset version recorded on produced nodes (informational, as in IR). */
const OP_VERSION: Record<string, string> = table({
  MaxPool: "opset8",
  SoftMax: "opset8",
  Slice: "opset8",
  Gather: "opset8",
  Interpolate: "opset4",
  BatchNormInference: "opset5",
  LogSoftmax: "opset5",
  HSwish: "opset4",
  HSigmoid: "opset5",
  ShapeOf: "opset3",
  Broadcast: "opset3",
  Flatten: "dynbatch",
});

interface OutSpec {
  dtype: DType;
  names?: string[];
}

/** Builds the Graph: node ids, value-name bindings, constants and known ranks/shapes. */
export class Builder {
  readonly nodes: Node[] = [];
  private readonly byId = new Map<number, Node>();
  /** ONNX value name → producing port. */
  readonly values = new Map<string, PortRef>();
  /** Initializers not yet turned into Const nodes (created on first use, so unused ones leave no dead nodes). */
  readonly initializers = new Map<string, OnnxTensor>();
  /** Shapes from graph inputs/outputs/value_info (-1 for symbolic dims). */
  readonly declaredShapes = new Map<string, number[]>();
  private readonly ranks = new Map<string, number>();
  /** ONNX value name → the node producing it, and → its consumers ("output" for a graph output): QDQ pairs look both ways. */
  readonly producers = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, (OnnxNode | "output")[]>();

  /** Converts a subgraph's nodes into this graph (set by the reader, which owns the node loop). */
  inline: (g: OnnxGraph) => void = () => {
    throw new ModelError(this.file, "subgraphs cannot be inlined here");
  };
  /** Frozen inputs and the conditions of the Ifs folded at read: what only they fed is dropped at the end. */
  readonly droppable: PortRef[] = [];

  constructor(readonly file: string) {}

  add(type: string, name: string, inputs: PortRef[], attrs: Attrs, outs: OutSpec[], value?: ConstTensor): Node {
    const node: Node = {
      id: this.nodes.length,
      name,
      type,
      version: OP_VERSION[type] ?? "opset1",
      attrs,
      inputs,
      outputs: outs.map((o) => ({ names: o.names ?? [], dtype: o.dtype, shape: value ? value.shape.slice() : [] })),
    };
    if (value) {
      node.value = value;
      this.setRank({ node: node.id, port: 0 }, value.shape.length);
    }
    this.nodes.push(node);
    this.byId.set(node.id, node);
    return node;
  }

  /** Adds one single-output op whose output dtype follows its first input. */
  op(type: string, name: string, inputs: PortRef[], attrs: Attrs = {}, dtype?: DType): PortRef {
    const n = this.add(type, name, inputs, attrs, [{ dtype: dtype ?? this.dtype(inputs[0]) }]);
    return { node: n.id, port: 0 };
  }

  constant(name: string, value: ConstTensor): PortRef {
    const n = this.add(
      "Const",
      name,
      [],
      { element_type: value.dtype, shape: list(value.shape) },
      [{ dtype: value.dtype }],
      value,
    );
    return { node: n.id, port: 0 };
  }

  i64(name: string, values: number[], shape: number[] = [values.length]): PortRef {
    return this.constant(name, makeConst("i64", shape, values));
  }

  f32(name: string, values: number[], shape: number[] = [values.length]): PortRef {
    return this.constant(name, makeConst("f32", shape, values));
  }

  node(ref: PortRef): Node {
    return this.byId.get(ref.node)!;
  }

  dtype(ref: PortRef): DType {
    return this.node(ref).outputs[ref.port].dtype;
  }

  /** The constant behind a port, when it is a Const node. */
  constOf(ref: PortRef | undefined): ConstTensor | undefined {
    return ref ? this.node(ref).value : undefined;
  }

  private key(ref: PortRef): string {
    return `${ref.node}:${ref.port}`;
  }

  rank(ref: PortRef | undefined): number | undefined {
    return ref ? this.ranks.get(this.key(ref)) : undefined;
  }

  setRank(ref: PortRef, r: number | undefined): void {
    if (r !== undefined && r >= 0) this.ranks.set(this.key(ref), r);
  }

  private readonly decoded = new Map<string, ConstTensor>();

  /**
   * The constant value of an ONNX value without adding a node, so a translation that needs
   * the value reshaped or scaled does not leave the original initializer behind as a dead Const.
   */
  peek(name: string): ConstTensor | undefined {
    const ref = this.values.get(name);
    if (ref) return this.node(ref).value;
    const init = this.initializers.get(name);
    if (!init) return undefined;
    let v = this.decoded.get(name);
    if (!v) {
      v = tensorFromProto(init, this.file, name);
      this.decoded.set(name, v);
    }
    return v;
  }

  /** Whether `name` is a value already produced, or an initializer. */
  knows(name: string): boolean {
    return this.values.has(name) || this.initializers.has(name);
  }

  /** Resolves an ONNX value name; materializes an initializer as a Const on first use. */
  resolve(name: string, layer: string): PortRef {
    const ref = this.values.get(name);
    if (ref) return ref;
    if (this.initializers.has(name)) {
      const r = this.constant(name, this.peek(name)!);
      this.node(r).outputs[0].names.push(name);
      this.values.set(name, r);
      return r;
    }
    throw new ModelError(this.file, `input '${name}' is not produced by any node, initializer or graph input`, layer);
  }

  /** Binds an ONNX value name to a port and records it as the port's tensor name. */
  bind(name: string, ref: PortRef): void {
    const port = this.node(ref).outputs[ref.port];
    if (!port.names.includes(name)) port.names.push(name);
    this.values.set(name, ref);
    const declared = this.declaredShapes.get(name);
    if (declared) {
      if (port.shape.length === 0 && !this.node(ref).value) port.shape = declared.slice();
      this.setRank(ref, declared.length);
    }
  }
}

export function shapeOfValueInfo(v: OnnxValueInfo): number[] | undefined {
  return dimsOfValueInfo(v)?.map((d) => d.size);
}

/** The dims a value_info declares: `dim_value`, or free (-1) with its `dim_param` name when it has one. */
export function dimsOfValueInfo(v: OnnxValueInfo): DimSpec[] | undefined {
  const shape = v.type?.tensor_type?.shape;
  if (!shape) return undefined;
  return shape.dim.map((d) => {
    if (Object.prototype.hasOwnProperty.call(d, "dim_value")) return { size: toNum(d.dim_value) };
    return d.dim_param ? { size: -1, name: d.dim_param } : { size: -1 };
  });
}
