import { ConstTensor, DType, Graph, Node, PortRef } from "../../kernel/graph/graph";
import { numel } from "../../kernel/graph/ops/util";
import { prepare, PrepareOptions } from "../../kernel/graph/prepare";

type AttrValue = string | number | boolean | number[];

const FLOATS = new Set<DType>(["f32", "f16", "f64"]);

/**
 * Builds small graphs by hand for tests, in the form the readers produce: every method returns the
 * produced port(s); a node is named after its type and id unless a name is given.
 */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  private nextId = 0;

  constructor(
    readonly name = "test",
    readonly file = `${name}.xml`,
  ) {}

  private add(
    type: string,
    inputs: PortRef[],
    attrs: Record<string, AttrValue>,
    outputs: number,
    version: string,
    name?: string,
  ): Node {
    const id = this.nextId++;
    const node: Node = {
      id,
      name: name ?? `${type.toLowerCase()}_${id}`,
      type,
      version,
      attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)])),
      inputs,
      outputs: Array.from({ length: outputs }, () => ({ names: [], dtype: "f32" as DType, shape: [] })),
    };
    this.nodes.push(node);
    return node;
  }

  param(name: string, shape: number[], dtype: DType = "f32"): PortRef {
    const n = this.add("Parameter", [], { shape, element_type: dtype }, 1, "opset1", name);
    n.outputs[0] = { names: [`${name}:0`], dtype, shape: [...shape] };
    return { node: n.id, port: 0 };
  }

  /** A constant; integer dtypes hold their values in a Float64Array like the readers do. */
  constant(values: ArrayLike<number>, shape: number[], dtype: DType = "i64", name?: string): PortRef {
    const data = FLOATS.has(dtype) ? Float32Array.from(values) : Float64Array.from(values);
    const value: ConstTensor = { dtype, shape: [...shape], data };
    const n = this.add("Const", [], {}, 1, "opset1", name);
    n.value = value;
    n.outputs[0] = { names: [], dtype, shape: [...shape] };
    return { node: n.id, port: 0 };
  }

  /** A 1-D i64 constant. */
  ints(values: number[], name?: string): PortRef {
    return this.constant(values, [values.length], "i64", name);
  }

  /** A float constant of the given shape filled with zeros (weights whose values do not matter). */
  weights(shape: number[]): PortRef {
    return this.constant(new Float32Array(numel(shape)), shape, "f32");
  }

  op(
    type: string,
    inputs: PortRef[],
    attrs: Record<string, AttrValue> = {},
    opts: { outputs?: number; version?: string; name?: string } = {},
  ): PortRef {
    return this.opN(type, inputs, attrs, opts)[0];
  }

  opN(
    type: string,
    inputs: PortRef[],
    attrs: Record<string, AttrValue> = {},
    opts: { outputs?: number; version?: string; name?: string } = {},
  ): PortRef[] {
    const n = this.add(type, inputs, attrs, opts.outputs ?? 1, opts.version ?? "opset1", opts.name);
    return n.outputs.map((_, port) => ({ node: n.id, port }));
  }

  result(ref: PortRef, name?: string): void {
    this.add("Result", [ref], {}, 0, "opset1", name);
  }

  build(): Graph {
    return { name: this.name, file: this.file, format: "ir11", nodes: this.nodes };
  }
}

/** Prepares the built graph and returns the shape of `ref`. */
export function inferShape(b: GraphBuilder, ref: PortRef, opts?: PrepareOptions): number[] {
  const g = prepare(b.build(), opts);
  return g.nodes.find((n) => n.id === ref.node)!.outputs[ref.port].shape;
}

/** Prepares the built graph and returns the folded constant of `ref`. */
export function folded(b: GraphBuilder, ref: PortRef, opts?: PrepareOptions): ConstTensor {
  const g = prepare(b.build(), opts);
  const n = g.nodes.find((x) => x.id === ref.node)!;
  if (!n.folded) throw new Error(`node ${n.name} was not folded`);
  return n.folded[ref.port];
}
