/**
 * ONNX ModelProto → Graph. Each ONNX node becomes one or more OpenVINO opset ops with IR
 * attribute names, so later stages see a single vocabulary. Produced nodes keep the ONNX node
 * name (helpers get "<name>/<role>") and the ONNX value names as output tensor names.
 */
import * as fs from "fs";
import { ModelError, UnsupportedError } from "../../errors";
import { isFloat } from "../../graph/ops/util";
import { Graph } from "../../graph/graph";
import { Builder, dimsOfValueInfo, shapeOfValueInfo } from "./builder";
import { customNode } from "./ops_custom";
import { ReadCtx } from "./context";
import { CONVERTERS, outputRank } from "./convert";
import { list } from "./format";
import { checkFreezeNames, FreezeValues, frozenConst, isFrozen } from "../freeze";
import { dropDead } from "./ops_if";
import { DTYPE_OF_ONNX } from "./op_table";
import { ModelProtoType, OnnxGraph, OnnxModel, OnnxNode, toNum } from "./proto";

export const MIN_OPSET = 7;
export const MAX_OPSET = 21;
/** ONNX IR versions this reader knows: 3 (ONNX 1.0's opset imports) to 11 (ONNX 1.18). */
export const MIN_IR_VERSION = 3;
export const MAX_IR_VERSION = 11;

/** ONNX requires topologically sorted nodes, but exporters do not always comply; order them stably. */
function sortNodes(g: OnnxGraph, file: string): OnnxNode[] {
  const producer = new Map<string, number>();
  g.node.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const deps = g.node.map((n) => [
    ...new Set([...n.input, ...outerInputs(n)].filter((i) => producer.has(i)).map((i) => producer.get(i)!)),
  ]);
  const state = new Uint8Array(g.node.length);
  const order: OnnxNode[] = [];
  for (let start = 0; start < g.node.length; start++) {
    if (state[start]) continue;
    // Iterative DFS so deep chains cannot overflow the stack.
    const stack: [number, number][] = [[start, 0]];
    state[start] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [i, k] = top;
      if (k < deps[i].length) {
        top[1]++;
        const d = deps[i][k];
        if (state[d] === 1) throw new ModelError(file, "the graph has a cycle", g.node[d].name || g.node[d].output[0]);
        if (state[d] === 0) {
          state[d] = 1;
          stack.push([d, 0]);
        }
      } else {
        state[i] = 2;
        order.push(g.node[i]);
        stack.pop();
      }
    }
  }
  return order;
}

/** The subgraphs of a node (If branches). */
function subgraphs(n: OnnxNode): OnnxGraph[] {
  return n.attribute.flatMap((a) => (a.g ? [a.g] : []));
}

/** Values a node's subgraphs read from the enclosing scopes (an If branch may use any outer value by name). */
function outerInputs(n: OnnxNode): string[] {
  return subgraphs(n).flatMap((g) => {
    const own = new Set([...g.initializer.map((t) => t.name), ...g.input.map((v) => v.name)]);
    g.node.forEach((m) => m.output.forEach((o) => own.add(o)));
    return g.node.flatMap((m) => [...m.input, ...outerInputs(m)]).filter((i) => i !== "" && !own.has(i));
  });
}

/** Records producers and consumers of `g`'s nodes and of its subgraphs' nodes, whichever branch is taken later. */
function indexNodes(b: Builder, g: OnnxGraph): void {
  const consume = (name: string, n: OnnxNode | "output") => b.consumers.set(name, [...(b.consumers.get(name) ?? []), n]);
  for (const n of g.node) {
    n.output.forEach((o) => o && b.producers.set(o, n));
    [...n.input, ...outerInputs(n)].forEach((i) => i && consume(i, n));
    subgraphs(n).forEach((sub) => indexNodes(b, sub));
  }
  for (const v of g.output) consume(v.name, "output");
}

/** Makes `g`'s initializers and declared shapes known (ONNX value names are unique across a graph and its subgraphs). */
function declare(b: Builder, g: OnnxGraph): void {
  for (const t of g.initializer) b.initializers.set(t.name, t);
  for (const v of [...g.input, ...g.value_info, ...g.output]) {
    const s = shapeOfValueInfo(v);
    if (s) b.declaredShapes.set(v.name, s);
  }
}

/** Converts `g`'s nodes in order; an If converts its taken branch through this again (b.inline). */
function convertNodes(b: Builder, g: OnnxGraph, opset: number): void {
  const path = b.file;
  for (const n of sortNodes(g, path)) {
    const layer = n.name || n.output.find((o) => o !== "") || n.op_type;
    // Converters read only the inputs they know: a name no value carries must not pass unnoticed.
    const unknown = n.input.find((input) => input !== "" && !b.knows(input));
    if (unknown !== undefined)
      throw new ModelError(path, `input '${unknown}' is not produced by any node, initializer or graph input`, layer);
    const builtIn = n.domain === "" || n.domain === "ai.onnx";
    const convert = (builtIn ? CONVERTERS[n.op_type] : undefined) ?? customNode;
    const c = new ReadCtx(b, n, opset);
    const outs = convert(c);
    const rank = outputRank(c);
    n.output.forEach((name, i) => {
      if (name === "") return;
      const ref = outs[i];
      if (!ref) throw c.unsupported(`output ${i} ('${name}') is not supported`);
      if (i === 0 && b.rank(ref) === undefined) b.setRank(ref, rank);
      b.bind(name, ref);
    });
  }
}

function decodeModel(path: string): OnnxModel {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (e) {
    throw new ModelError(path, `cannot read the model file: ${(e as Error).message}`);
  }
  try {
    return ModelProtoType.decode(buf) as unknown as OnnxModel;
  } catch (e) {
    throw new ModelError(path, `malformed or truncated ONNX protobuf: ${(e as Error).message}`);
  }
}

/** Reads an ONNX file; the graph inputs named in `freeze` become constants of those values. */
export function readONNX(path: string, freeze: FreezeValues = {}): Graph {
  const model = decodeModel(path);
  const g = model.graph;
  if (!g) throw new ModelError(path, "the ONNX model has no graph");
  const irVersion = toNum(model.ir_version);
  if (irVersion < MIN_IR_VERSION) throw new ModelError(path, `ir_version ${irVersion} is not a valid ONNX IR version`);
  if (irVersion > MAX_IR_VERSION)
    throw new UnsupportedError(
      path,
      `ONNX IR version ${irVersion} is newer than this reader knows (${MIN_IR_VERSION}..${MAX_IR_VERSION})`,
    );
  const opsetEntry = model.opset_import.find((o) => o.domain === "" || o.domain === "ai.onnx");
  if (!opsetEntry) throw new ModelError(path, "the ONNX model imports no default-domain opset");
  const opset = toNum(opsetEntry.version);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UnsupportedError(path, `ONNX opset ${opset} is not supported (${MIN_OPSET}..${MAX_OPSET} are)`);
  }

  const b = new Builder(path);
  b.inline = (sub) => {
    declare(b, sub);
    convertNodes(b, sub, opset);
  };
  indexNodes(b, g);
  checkFreezeNames(
    path,
    freeze,
    g.input.filter((v) => !g.initializer.some((t) => t.name === v.name)).map((v) => v.name),
  );
  declare(b, g);

  for (const v of g.input) {
    if (b.initializers.has(v.name)) continue;
    const tt = v.type?.tensor_type;
    if (!tt) throw new UnsupportedError(path, "only tensor graph inputs are supported", v.name);
    const dtype = DTYPE_OF_ONNX[tt.elem_type];
    if (isFrozen(freeze, v.name)) {
      if (!dtype) throw new UnsupportedError(path, `input element type ${tt.elem_type} cannot be frozen`, v.name);
      const ref = b.constant(v.name, frozenConst(path, v.name, dtype, shapeOfValueInfo(v), freeze[v.name]));
      b.bind(v.name, ref);
      b.droppable.push(ref);
      continue;
    }
    // Requests feed Float32Array data: an integer input (token ids, indices) cannot be fed.
    if (!dtype || !isFloat(dtype))
      throw new UnsupportedError(
        path,
        `input element type ${dtype ?? tt.elem_type} is not supported (inputs are floating point; ` +
          `ie.readNetwork(path, { freeze: { ${JSON.stringify(v.name)}: [...] } }) makes it a constant)`,
        v.name,
      );
    const dims = dimsOfValueInfo(v);
    if (!dims) throw new ModelError(path, "graph input has no shape", v.name);
    // dim_value is a size; exporters write -1 for "unknown", which reads as a free dim.
    const bad = v.type!.tensor_type!.shape!.dim.find(
      (d) => d.dim_value !== undefined && d.dim_value !== null && toNum(d.dim_value) < -1,
    );
    if (bad) throw new ModelError(path, `graph input dim ${toNum(bad.dim_value!)} is not a size`, v.name);
    const shape = dims.map((d) => d.size);
    const p = b.add("Parameter", v.name, [], { shape: list(shape), element_type: dtype }, [{ dtype }]);
    p.outputs[0].shape = shape.slice();
    p.dims = dims;
    b.bind(v.name, { node: p.id, port: 0 });
  }

  convertNodes(b, g, opset);

  for (const v of g.output) {
    const ref = b.resolve(v.name, v.name);
    b.add("Result", `${v.name}/sink_port_0`, [ref], {}, []);
  }

  return { name: g.name, file: path, format: "onnx", nodes: dropDead(b.nodes, b.droppable) };
}
