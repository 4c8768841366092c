/** Hand-written ONNX models for the reader tests: protobuf objects, encoded to a temporary file and read back. */
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ModelError } from "../../kernel/errors";
import { Graph, Node } from "../../kernel/graph/graph";
import { readONNX } from "../../kernel/readers/onnx";
import { ATTR, ModelProtoType, ONNX_DTYPE } from "../../kernel/readers/onnx/proto";

export const { FLOAT, INT64, FLOAT16 } = ONNX_DTYPE;

export type Obj = Record<string, unknown>;

export function valueInfo(name: string, dims: (number | string)[], elemType: number = FLOAT): Obj {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export function floatTensor(name: string, dims: number[], values: number[]): Obj {
  return { name, dims, data_type: FLOAT, float_data: values };
}

export function int64Tensor(name: string, values: number[]): Obj {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
  return { name, dims: [values.length], data_type: INT64, raw_data: raw };
}

export function node(op: string, inputs: string[], outputs: string[], attrs: Obj[] = [], name = ""): Obj {
  return { op_type: op, input: inputs, output: outputs, name, attribute: attrs };
}

export const ints = (name: string, v: number[]) => ({ name, type: ATTR.INTS, ints: v });
export const int = (name: string, v: number) => ({ name, type: ATTR.INT, i: v });
export const float = (name: string, v: number) => ({ name, type: ATTR.FLOAT, f: v });
export const str = (name: string, v: string) => ({ name, type: ATTR.STRING, s: Buffer.from(v) });

export interface Spec {
  nodes: Obj[];
  inits?: Obj[];
  inputs: Obj[];
  outputs: Obj[];
  opset?: number;
  valueInfo?: Obj[];
}

export function encode(spec: Spec): Buffer {
  const msg = ModelProtoType.fromObject({
    ir_version: 7,
    opset_import: [{ domain: "", version: spec.opset ?? 13 }],
    graph: {
      name: "g",
      node: spec.nodes,
      initializer: spec.inits ?? [],
      input: spec.inputs,
      output: spec.outputs,
      value_info: spec.valueInfo ?? [],
    },
  });
  return Buffer.from(ModelProtoType.encode(msg).finish());
}

export function write(bytes: Buffer): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-onnx-")), "m.onnx");
  fs.writeFileSync(file, bytes);
  return file;
}

export function build(spec: Spec): Graph {
  return readONNX(write(encode(spec)));
}

export function byName(g: Graph, name: string): Node {
  const n = g.nodes.find((x) => x.name === name);
  assert.ok(n, `node '${name}' exists`);
  return n;
}

export function producer(g: Graph, n: Node, i: number): Node {
  return g.nodes.find((x) => x.id === n.inputs[i].node)!;
}

export function assertTopological(g: Graph): void {
  const seen = new Set<number>();
  for (const n of g.nodes) {
    for (const r of n.inputs) assert.ok(seen.has(r.node), `${n.name}: input ${r.node} comes later`);
    seen.add(n.id);
  }
}

export function throwsModel(fn: () => unknown, cls: typeof ModelError, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    for (const p of patterns) assert.match((e as Error).message, p);
    return true;
  });
}
