import { ModelError, UnsupportedError } from "../../errors";
import { Attrs, ConstTensor, DType, PortRef } from "../../graph/graph";
import { Builder } from "./builder";
import { ATTR, OnnxAttribute, OnnxGraph, OnnxNode, toNum } from "./proto";
import { tensorFromProto } from "./tensor_proto";

/** Per-node view: attributes, inputs (absent optional inputs are undefined), opset. */
export class ReadCtx {
  readonly name: string;
  private readonly resolved = new Map<number, PortRef>();
  private readonly attrs = new Map<string, OnnxAttribute>();

  constructor(
    readonly b: Builder,
    readonly onnx: OnnxNode,
    readonly opset: number,
  ) {
    this.name = onnx.name || onnx.output.find((o) => o !== "") || onnx.op_type;
    for (const a of onnx.attribute) this.attrs.set(a.name, a);
  }

  /** Optional input i (undefined when absent or ""); resolved on use so ignored inputs (Resize roi) leave no nodes. */
  opt(i: number): PortRef | undefined {
    const name = this.onnx.input[i];
    if (name === undefined || name === "") return undefined;
    let r = this.resolved.get(i);
    if (!r) {
      r = this.b.resolve(name, this.name);
      this.resolved.set(i, r);
    }
    return r;
  }

  /** The constant value of input i, without materializing it as a node. */
  peek(i: number): ConstTensor | undefined {
    const name = this.onnx.input[i];
    return name ? this.b.peek(name) : undefined;
  }

  /** All present inputs, in order (variadic ops). */
  all(): PortRef[] {
    return this.onnx.input.map((_, i) => this.opt(i)).filter((r): r is PortRef => r !== undefined);
  }

  get file(): string {
    return this.b.file;
  }

  has(name: string): boolean {
    return this.attrs.has(name);
  }

  int(name: string, def?: number): number {
    const a = this.attrs.get(name);
    if (!a) return this.required(name, def);
    return toNum(a.i);
  }

  float(name: string, def?: number): number {
    const a = this.attrs.get(name);
    if (!a) return this.required(name, def);
    return a.type === ATTR.INT ? toNum(a.i) : a.f;
  }

  str(name: string, def?: string): string {
    const a = this.attrs.get(name);
    if (!a) return this.required(name, def);
    return Buffer.from(a.s).toString("utf8");
  }

  ints(name: string, def?: number[]): number[] {
    const a = this.attrs.get(name);
    if (!a) return this.required(name, def);
    return a.ints.map(toNum);
  }

  floats(name: string, def?: number[]): number[] {
    const a = this.attrs.get(name);
    if (!a) return this.required(name, def);
    return a.floats.slice();
  }

  /** A graph attribute (an If branch). */
  graph(name: string): OnnxGraph {
    const g = this.attrs.get(name)?.g;
    if (!g) throw new ModelError(this.file, `${this.onnx.op_type} is missing graph attribute '${name}'`, this.name);
    return g;
  }

  tensor(name: string): ConstTensor | undefined {
    const a = this.attrs.get(name);
    return a?.t ? tensorFromProto(a.t, this.file, this.name) : undefined;
  }

  private required<T>(name: string, def: T | undefined): T {
    if (def === undefined) throw new ModelError(this.file, `${this.onnx.op_type} is missing attribute '${name}'`, this.name);
    return def;
  }

  input(i: number, what: string): PortRef {
    const r = this.opt(i);
    if (!r) throw new ModelError(this.file, `${this.onnx.op_type} is missing input ${i} (${what})`, this.name);
    return r;
  }

  /** Constant integer values of an optional input (e.g. axes), or undefined when absent. */
  constInts(i: number): number[] | undefined {
    const c = this.peek(i);
    return c ? Array.from(c.data) : undefined;
  }

  unsupported(reason: string): UnsupportedError {
    return new UnsupportedError(this.file, `${this.onnx.op_type}: ${reason}`, this.name);
  }

  /** The rank of input i when known (declared shapes, constants, propagated). */
  rank(i: number): number | undefined {
    return this.b.rank(this.opt(i));
  }

  requireRank(i: number, why: string): number {
    const r = this.rank(i);
    if (r === undefined) throw this.unsupported(`the rank of input ${i} is unknown (needed for ${why})`);
    return r;
  }

  op(type: string, inputs: PortRef[], attrs: Attrs = {}, suffix = "", dtype?: DType): PortRef {
    return this.b.op(type, suffix ? `${this.name}/${suffix}` : this.name, inputs, attrs, dtype);
  }

  i64(suffix: string, values: number[], shape?: number[]): PortRef {
    return this.b.i64(`${this.name}/${suffix}`, values, shape);
  }

  f32(suffix: string, values: number[], shape?: number[]): PortRef {
    return this.b.f32(`${this.name}/${suffix}`, values, shape);
  }
}

export type Converter = (c: ReadCtx) => PortRef[];

export const NUMPY = { auto_broadcast: "numpy" };

/** Axes from the attribute (older opsets) or the optional input `index`; undefined = none given. */
export function axesOf(c: ReadCtx, index: number): PortRef | undefined {
  if (c.has("axes")) return c.i64("axes", c.ints("axes"));
  return c.opt(index);
}
