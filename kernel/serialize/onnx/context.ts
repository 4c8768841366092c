import { UnsupportedError } from "../../errors";
import { ConstTensor, DType, Graph, Node, PortRef } from "../../graph/graph";
import { isFloat } from "../../graph/ops/util";
import { ONNX_TYPE_OF } from "../../readers/onnx/op_table";
import { ATTR, ONNX_DTYPE } from "../../readers/onnx/proto";

/** f16 tensors are written as FLOAT: dynbatch decompresses FP16 at read and computes in FP32. */
export const ONNX_TYPE: Record<DType, number> = { ...ONNX_TYPE_OF, f16: ONNX_DTYPE.FLOAT };

/** A NodeProto or AttributeProto as protobufjs's fromObject takes it. */
export type Obj = Record<string, unknown>;

export const attr = {
  int: (name: string, i: number): Obj => ({ name, type: ATTR.INT, i }),
  float: (name: string, f: number): Obj => ({ name, type: ATTR.FLOAT, f }),
  str: (name: string, s: string): Obj => ({ name, type: ATTR.STRING, s: Buffer.from(s) }),
  ints: (name: string, ints: number[]): Obj => ({ name, type: ATTR.INTS, ints }),
};

/** What a converter may ask of the writer (OnnxWriter implements it). */
export interface WriterView {
  readonly g: Graph;
  name(ref: PortRef): string;
  constValue(ref: PortRef): ConstTensor | undefined;
  shapeOf(ref: PortRef): number[];
  dtypeOf(ref: PortRef): DType;
  varies(ref: PortRef, axis: number): boolean;
  isUsed(ref: PortRef): boolean;
  unique(base: string): string;
  constant(base: string, t: ConstTensor): string;
  node(type: string, base: string, inputs: string[], outputs: string[], attrs: Obj[]): void;
  biasOf(conv: Node): string | undefined;
}

/** Per-node translation context: one graph node and the writer that emits it. */
export class WriteCtx {
  constructor(
    readonly w: WriterView,
    readonly n: Node,
  ) {}

  in(i: number): string {
    return this.w.name(this.n.inputs[i]);
  }
  c(i: number): ConstTensor | undefined {
    return i < this.n.inputs.length ? this.w.constValue(this.n.inputs[i]) : undefined;
  }
  /** The values of constant input i; throws when it is computed at run time. */
  values(i: number, what: string): number[] {
    const v = this.c(i);
    if (!v) throw this.unsupported(`${what} (input ${i}) must be a constant`);
    return Array.from(v.data);
  }
  shape(i: number): number[] {
    return this.w.shapeOf(this.n.inputs[i]);
  }
  dtype(i: number): DType {
    return this.w.dtypeOf(this.n.inputs[i]);
  }
  out(p = 0): string {
    return this.w.name({ node: this.n.id, port: p });
  }
  outShape(p = 0): number[] {
    return this.n.outputs[p].shape;
  }
  /** A value name for an intermediate result of this node's translation. */
  tmp(suffix: string): string {
    return this.w.unique(`${this.n.name}/${suffix}`);
  }
  emit(type: string, inputs: string[], attrs: Obj[] = [], outputs: string[] = [this.out()]): string {
    this.w.node(type, this.n.name, inputs, outputs, attrs);
    return outputs[0];
  }
  /** Emits an intermediate node whose single output is a fresh name. */
  step(type: string, inputs: string[], suffix: string, attrs: Obj[] = []): string {
    return this.emit(type, inputs, attrs, [this.tmp(suffix)]);
  }
  i64(suffix: string, values: number[], shape = [values.length]): string {
    return this.w.constant(`${this.n.name}/${suffix}`, { dtype: "i64", shape, data: Float64Array.from(values) });
  }
  /** A scalar constant of the given type (Clip bounds, decomposition factors). */
  scalar(suffix: string, v: number, dtype: DType = "f32"): string {
    const data = isFloat(dtype) ? Float32Array.of(v) : Float64Array.of(v);
    return this.w.constant(`${this.n.name}/${suffix}`, { dtype, shape: [], data });
  }
  unsupported(reason: string): UnsupportedError {
    return new UnsupportedError(this.w.g.file, `${this.n.type} cannot be written as ONNX: ${reason}`, this.n.name);
  }
}

export type Converter = (c: WriteCtx) => void;

/** Integer inputs that ONNX wants as int64 (shapes, axes) are cast when they are not. */
export function asI64(c: WriteCtx, i: number, suffix: string): string {
  return c.dtype(i) === "i64" ? c.in(i) : c.step("Cast", [c.in(i)], suffix, [attr.int("to", ONNX_DTYPE.INT64)]);
}
