/**
 * Structure-aware ONNX mutations: the model is decoded with the reader's own protobuf schema,
 * one field of its structure is changed, and it is encoded again.
 */
import { Int64, ModelProtoType, OnnxAttribute, OnnxModel, OnnxNode, OnnxValueInfo } from "../readers/onnx/proto";
import { intBelow, pick, Rng } from "./rng";

export type OnnxMutation =
  "onnx-dims" | "onnx-initializer" | "onnx-dtype" | "onnx-attribute" | "onnx-node-io" | "onnx-op-type" | "onnx-opset";

type Graph = NonNullable<OnnxModel["graph"]>;

/** Set by a mutation whose result no reader may accept (a dangling name, two producers of one tensor). */
interface Verdict {
  malformed: boolean;
}

/** Element types dynbatch's float kernels cannot take in place of a float tensor. */
const NON_FLOAT_TYPES = new Set([2, 3, 6, 7, 9]);

/** Values that break an integer field: zero, negative, huge. */
const BAD_INTS = [0, -1, -3, 2147483647, 99999];

function num(x: Int64 | undefined): number {
  return x === undefined ? 0 : typeof x === "number" ? x : x.toNumber();
}

function valueInfos(g: Graph): { where: string; v: OnnxValueInfo }[] {
  return [
    ...g.input.map((v) => ({ where: "input", v })),
    ...g.output.map((v) => ({ where: "output", v })),
    ...g.value_info.map((v) => ({ where: "value_info", v })),
  ].filter((x) => x.v.type?.tensor_type?.shape);
}

function mutateDims(g: Graph, r: Rng): string {
  const { where, v } = pick(r, valueInfos(g));
  const tt = v.type!.tensor_type!;
  const dims = tt.shape!.dim;
  const label = `${where} '${v.name}'`;
  const op = intBelow(r, 5);
  if (op === 0 || dims.length === 0) {
    dims.push({ dim_value: 1 });
    return `${label}: extra dim`;
  }
  const i = intBelow(r, dims.length);
  if (op === 1) {
    dims.splice(i, 1);
    return `${label}: dim ${i} removed`;
  }
  if (op === 2) {
    dims[i] = { dim_param: pick(r, ["N", "batch", ""]) };
    return `${label}: dim ${i} -> symbolic '${dims[i].dim_param}'`;
  }
  const orig = num(dims[i].dim_value);
  const value = op === 3 ? pick(r, BAD_INTS) : pick(r, [orig * 2, orig + 1]);
  dims[i] = { dim_value: value };
  return `${label}: dim ${i} ${orig} -> ${value}`;
}

function mutateInitializer(g: Graph, r: Rng): string {
  const t = pick(r, g.initializer);
  const label = `initializer '${t.name}'`;
  const op = intBelow(r, 4);
  if (op === 0 && t.dims.length) {
    const i = intBelow(r, t.dims.length);
    const orig = num(t.dims[i]);
    t.dims[i] = pick(r, [...BAD_INTS, orig * 2, orig + 1]);
    return `${label}: dim ${i} ${orig} -> ${num(t.dims[i])}`;
  }
  if (op === 1) {
    t.dims.push(pick(r, [1, 2]));
    return `${label}: extra dim`;
  }
  if (t.raw_data?.length) {
    const orig = t.raw_data.length;
    const n = pick(r, [0, orig - 1, orig - 4, orig + 4, Math.floor(orig / 2)]);
    const next = new Uint8Array(Math.max(0, n));
    next.set(t.raw_data.subarray(0, next.length));
    t.raw_data = next;
    return `${label}: raw_data ${orig} -> ${next.length} bytes`;
  }
  t.float_data = t.float_data.slice(0, Math.floor(t.float_data.length / 2));
  t.int64_data = t.int64_data.slice(0, Math.floor(t.int64_data.length / 2));
  return `${label}: typed data halved`;
}

function mutateDtype(g: Graph, r: Rng, v: Verdict): string {
  const value = pick(r, [0, 2, 3, 6, 7, 9, 10, 11, 13, 16, 99, -1]);
  if (r() < 0.3) {
    const input = pick(
      r,
      g.input.filter((x) => x.type?.tensor_type),
    );
    input.type!.tensor_type!.elem_type = value;
    // An integer or bool image: the reader must refuse it rather than read the caller's floats.
    v.malformed = NON_FLOAT_TYPES.has(value);
    return `input '${input.name}': elem_type -> ${value}`;
  }
  const t = pick(r, g.initializer);
  const orig = t.data_type;
  t.data_type = value;
  // Float weights relabelled as integers: the bytes would be read as other numbers.
  v.malformed = orig === 1 && NON_FLOAT_TYPES.has(value);
  return `initializer '${t.name}': data_type ${orig} -> ${value}`;
}

function mutateAttribute(g: Graph, r: Rng): string {
  const candidates = g.node.flatMap((n) => n.attribute.map((a) => ({ n, a })));
  const { n, a } = pick(r, candidates);
  const label = `node '${n.name}' (${n.op_type}) attribute '${a.name}'`;
  const op = intBelow(r, 6);
  if (op === 0) {
    n.attribute.splice(n.attribute.indexOf(a), 1);
    return `${label} removed`;
  }
  if (op === 1) {
    const orig = a.type;
    a.type = pick(r, [0, 1, 2, 3, 4, 6, 7, 8, 99]);
    return `${label}: type ${orig} -> ${a.type}`;
  }
  if (op === 2) {
    n.attribute.push({ ...a } as OnnxAttribute);
    return `${label} duplicated`;
  }
  if (op === 3 && a.ints.length) {
    const i = intBelow(r, a.ints.length);
    const orig = num(a.ints[i]);
    a.ints[i] = pick(r, BAD_INTS);
    return `${label}: ints[${i}] ${orig} -> ${num(a.ints[i])}`;
  }
  if (op === 4 && a.ints.length) {
    if (r() < 0.5) a.ints.pop();
    else a.ints.push(1);
    return `${label}: ${a.ints.length} ints`;
  }
  const orig = num(a.i);
  a.i = pick(r, BAD_INTS);
  a.f = pick(r, [0, -1, 1e30]);
  return `${label}: i ${orig} -> ${num(a.i)}, f -> ${a.f}`;
}

function mutateNodeIo(g: Graph, r: Rng, v: Verdict): string {
  const i = intBelow(r, g.node.length);
  const n: OnnxNode = g.node[i];
  const label = `node '${n.name}' (${n.op_type})`;
  const laterOutputs = g.node.slice(i + 1).flatMap((x) => x.output);
  const op = intBelow(r, 7);
  if (op === 0 && n.input.length) {
    n.input.splice(intBelow(r, n.input.length), 1);
    return `${label}: an input removed`;
  }
  if (op === 1) {
    n.input.push(pick(r, [...n.input, "no_such_tensor"]));
    v.malformed = n.input.at(-1) === "no_such_tensor";
    return `${label}: extra input '${n.input.at(-1)}'`;
  }
  if (op === 2) {
    // A second producer of a tensor that another node already writes.
    const other = pick(
      r,
      g.node.flatMap((x) => x.output),
    );
    v.malformed = other !== n.output[0];
    n.output[0] = other;
    return `${label}: output renamed to existing '${other}'`;
  }
  if (!n.input.length) n.input.push("");
  const k = intBelow(r, n.input.length);
  const value =
    op === 3 && laterOutputs.length ? pick(r, laterOutputs) : op === 4 ? n.output[0] : op === 5 ? "" : "no_such_tensor";
  n.input[k] = value;
  // A name nothing produces, a later node's output (a cycle) or the node's own output; "" only omits an optional input.
  v.malformed = value !== "";
  return `${label}: input ${k} -> '${value}'`;
}

function mutateOpType(g: Graph, r: Rng): string {
  const n = pick(r, g.node);
  const label = `node '${n.name}' (${n.op_type})`;
  if (r() < 0.2) {
    n.domain = pick(r, ["com.microsoft", "foo", "ai.onnx.ml"]);
    return `${label}: domain -> '${n.domain}'`;
  }
  n.op_type = pick(r, [
    ...new Set(g.node.map((x) => x.op_type)),
    "Foo",
    "",
    "Conv",
    "Reshape",
    "Concat",
    "Softmax",
    "Gemm",
    "MaxPool",
  ]);
  return `${label}: op_type -> '${n.op_type}'`;
}

function mutateOpset(m: OnnxModel, r: Rng, v: Verdict): string {
  const op = intBelow(r, 4);
  if (op === 0) {
    m.opset_import = [];
    return "opset_import removed";
  }
  if (op === 1) {
    m.ir_version = pick(r, [0, 1, 2, 99, -1]);
    // No IR version 0, none negative, and none this far ahead of the readers.
    v.malformed = num(m.ir_version) <= 0 || num(m.ir_version) === 99;
    return `ir_version -> ${num(m.ir_version)}`;
  }
  const entry = m.opset_import[0] ?? (m.opset_import[0] = { domain: "", version: 13 });
  if (op === 2) {
    entry.domain = pick(r, ["foo", "ai.onnx.ml", "com.microsoft"]);
    return `opset domain -> '${entry.domain}'`;
  }
  entry.version = pick(r, [0, 1, 6, 7, 99, -1]);
  return `opset version -> ${num(entry.version)}`;
}

const GRAPH_MUTATORS: Record<Exclude<OnnxMutation, "onnx-opset">, (g: Graph, r: Rng, v: Verdict) => string> = {
  "onnx-dims": mutateDims,
  "onnx-initializer": mutateInitializer,
  "onnx-dtype": mutateDtype,
  "onnx-attribute": mutateAttribute,
  "onnx-node-io": mutateNodeIo,
  "onnx-op-type": mutateOpType,
};

/**
 * Applies one structural mutation of `kind` to the ONNX bytes; returns the new bytes, what
 * changed, and whether the result is malformed (a model that loads with it was misread).
 */
export function mutateOnnx(bytes: Buffer, kind: OnnxMutation, r: Rng): { bytes: Buffer; detail: string; malformed: boolean } {
  const model = ModelProtoType.decode(bytes) as unknown as OnnxModel;
  if (!model.graph) throw new Error("fuzz corpus ONNX has no graph");
  const v: Verdict = { malformed: false };
  const detail = kind === "onnx-opset" ? mutateOpset(model, r, v) : GRAPH_MUTATORS[kind](model.graph, r, v);
  return { bytes: Buffer.from(ModelProtoType.encode(model as never).finish()), detail, malformed: v.malformed };
}
