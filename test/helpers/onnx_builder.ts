/** Builds tiny ONNX models in tests (protobufjs with the readers' schema) and writes them to a tmp dir. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ModelProtoType } from "../../kernel/readers/onnx/proto";
import { numel, randomData } from "./models";

const FLOAT = 1;
const INT64 = 7;

type Obj = Record<string, unknown>;

/** An attribute value: numbers are INT unless listed as floats with `f()` / `floats()`. */
export type AttrValue = number | number[] | string | { f: number } | { fs: number[] };

export const f = (v: number) => ({ f: v });
export const floats = (v: number[]) => ({ fs: v });

function attribute(name: string, v: AttrValue): Obj {
  if (typeof v === "number") return { name, type: 2, i: v };
  if (typeof v === "string") return { name, type: 3, s: Buffer.from(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ("f" in v) return { name, type: 1, f: v.f };
  return { name, type: 6, floats: v.fs };
}

function valueInfo(name: string, dims?: (number | string)[]): Obj {
  const tensorType: Obj = { elem_type: FLOAT };
  // "" is a dim with neither value nor name (exporters write those too).
  const dim = (d: number | string) => (typeof d === "number" ? { dim_value: d } : d === "" ? {} : { dim_param: d });
  if (dims) tensorType.shape = { dim: dims.map(dim) };
  return { name, type: { tensor_type: tensorType } };
}

export class OnnxBuilder {
  private readonly nodes: Obj[] = [];
  private readonly inits: Obj[] = [];
  private readonly inputs: Obj[] = [];
  private readonly outputs: Obj[] = [];
  /** Per-sample input shapes (without the batch), by input name. */
  readonly inputShapes: Record<string, number[]> = Object.create(null);
  readonly outputNames: string[] = [];
  private seed = 1000;
  private readonly domains = new Set<string>();
  private count = 0;

  constructor(readonly opset = 13) {}

  /** A graph input with the symbolic batch dim "N" in front of `sample`. */
  input(name: string, sample: number[]): string {
    this.inputs.push(valueInfo(name, ["N", ...sample]));
    this.inputShapes[name] = sample;
    return name;
  }

  /** A graph input with exactly these dims: numbers fixed, names symbolic (`dim_param`), "" missing. */
  inputDims(name: string, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** A float initializer (raw_data) with values in [lo, hi), or the given values. */
  weight(dims: number[], lo = -1, hi = 1, values?: number[]): string {
    const data = values ? Float32Array.from(values) : randomData(numel(dims), this.seed++, lo, hi);
    const name = `w${this.count++}`;
    this.inits.push({ name, dims, data_type: FLOAT, raw_data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  /** An int64 initializer (raw_data), 1-D unless `dims` says otherwise. */
  int64(values: number[], dims = [values.length]): string {
    const raw = Buffer.alloc(values.length * 8);
    values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
    const name = `i${this.count++}`;
    this.inits.push({ name, dims, data_type: INT64, raw_data: raw });
    return name;
  }

  /**
   * An integer initializer of ONNX type uint8 (2), int8 (3) or int32 (6), a scalar when `dims` is [];
   * in raw_data, or in int32_data (where ONNX stores small integer types too) with `int32Data`.
   */
  integers(values: number[], dims: number[], dataType: 2 | 3 | 6, int32Data = false): string {
    if (int32Data) {
      const name = `q${this.count++}`;
      this.inits.push({ name, dims, data_type: dataType, int32_data: values });
      return name;
    }
    const size = dataType === 6 ? 4 : 1;
    const raw = Buffer.alloc(values.length * size);
    values.forEach((v, i) =>
      dataType === 2 ? raw.writeUInt8(v, i) : dataType === 3 ? raw.writeInt8(v, i) : raw.writeInt32LE(v, i * 4),
    );
    const name = `q${this.count++}`;
    this.inits.push({ name, dims, data_type: dataType, raw_data: raw });
    return name;
  }

  /** Adds a node and returns its first output (named `out` or generated). */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1, out?: string): string[] {
    const names = Array.from({ length: outputs }, (_, i) => (i === 0 && out ? out : `t${this.count++}`));
    const attribute_ = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    this.nodes.push({ op_type: type, input: inputs, output: names, name: `${type}_${this.count++}`, attribute: attribute_ });
    return names;
  }

  /** A one-output node of another domain (a custom op), which the model then imports at version 1. */
  custom(domain: string, type: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    const out = this.op1(type, inputs, attrs);
    this.nodes[this.nodes.length - 1].domain = domain;
    this.domains.add(domain);
    return out;
  }

  /** Shorthand for a one-output node. */
  op1(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.op(type, inputs, attrs)[0];
  }

  /** Marks tensors as graph outputs (shape left to inference). */
  output(...names: string[]): void {
    for (const n of names) {
      this.outputs.push(valueInfo(n));
      this.outputNames.push(n);
    }
  }

  /** Marks one tensor of ONNX element type `elemType` (an integer QuantizeLinear result) as a graph output. */
  typedOutput(name: string, elemType: number): void {
    this.outputs.push({ name, type: { tensor_type: { elem_type: elemType } } });
    this.outputNames.push(name);
  }

  encode(): Buffer {
    const msg = ModelProtoType.fromObject({
      // Opset 21 needs IR version 10; older opsets keep the IR version 7 the other tests were written with.
      ir_version: this.opset >= 21 ? 10 : 7,
      opset_import: [{ domain: "", version: this.opset }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))],
      graph: {
        name: "g",
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return Buffer.from(ModelProtoType.encode(msg).finish());
  }

  /** Writes the model under a fresh tmp dir and returns its path. */
  save(dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-onnx-ops-"))): string {
    const file = path.join(dir, `m${this.count++}.onnx`);
    fs.writeFileSync(file, this.encode());
    return file;
  }
}
