/**
 * Graph → ONNX ModelProto (opset 18): the inverse of readers/onnx/ for the ops CNNs use.
 *
 * The input is a prepared graph (concrete shapes, constants folded). Folded values become
 * initializers, so FP16 weights leave as FP32 data and PriorBox as its boxes. Given the same graph
 * prepared at a second batch (`alt`), a folded value that differs between the two (ShapeOf of a
 * batched tensor) is written as ops instead, and axis 0 of the inputs becomes the symbolic dim
 * "N": ORT then accepts any batch. Every dynbatch tensor is FP32 at run time, so graph inputs are
 * written as FLOAT (with a Cast when the model declares another type).
 */
import { UnsupportedError } from "../../errors";
import { ConstTensor, DType, Graph, Node, PortRef, nodeMap } from "../../graph/graph";
import { isFloat, numel } from "../../graph/ops/util";
import { constOutput } from "../../graph/prepare";
import { ModelProtoType } from "../../readers/onnx/proto";
import { encodeValues } from "../tensor";
import { ONNX_TYPE, Obj, WriteCtx, WriterView, attr } from "./context";
import { CONVERTERS, NO_ONNX } from "./convert";

export const ONNX_OPSET = 18;
/** ModelProto.ir_version that opset 18 requires. */
const IR_VERSION = 8;

function sameTensor(a: ConstTensor, b: ConstTensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  for (let i = 0; i < a.data.length; i++) if (!Object.is(a.data[i], b.data[i])) return false;
  return true;
}

function tensorProto(name: string, t: ConstTensor): Obj {
  const stored: DType = t.dtype === "f16" ? "f32" : t.dtype;
  const bytes = encodeValues(stored, t.data);
  return { name, dims: t.shape, data_type: ONNX_TYPE[t.dtype], raw_data: bytes };
}

function key(ref: PortRef): string {
  return `${ref.node}:${ref.port}`;
}

/** Conv-like ops that take a bias input in ONNX. */
const BIASED = new Set(["Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData"]);

export class OnnxWriter implements WriterView {
  private readonly byId: Map<number, Node>;
  private readonly altById?: Map<number, Node>;
  private readonly nodes: Obj[] = [];
  private readonly inits: Obj[] = [];
  private readonly values = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly portNames = new Map<string, string>();
  private readonly initNames = new Map<string, string>();
  /** Ports read by a written node or a Result, with their reader count. */
  private readonly readers = new Map<string, number>();
  /** Conv node id → the Add node it absorbs (its constant operand becomes the ONNX bias). */
  private readonly fusedAdd = new Map<number, { add: Node; bias: ConstTensor }>();
  private readonly batch: number;
  private readonly altBatch: number;

  constructor(
    readonly g: Graph,
    readonly alt?: Graph,
  ) {
    this.byId = nodeMap(g);
    if (alt) this.altById = nodeMap(alt);
    const p = g.nodes.find((n) => n.type === "Parameter" && n.outputs[0].shape.length > 0);
    this.batch = p ? p.outputs[0].shape[0] : 1;
    this.altBatch = p && this.altById ? this.altById.get(p.id)!.outputs[0].shape[0] : this.batch;
  }

  /** The value of a port when it is the same constant at every batch. */
  constValue(ref: PortRef): ConstTensor | undefined {
    const v = constOutput(this.byId.get(ref.node)!, ref.port);
    if (!v || !this.altById) return v;
    const a = constOutput(this.altById.get(ref.node)!, ref.port);
    return a && sameTensor(v, a) ? v : undefined;
  }

  shapeOf(ref: PortRef): number[] {
    return this.byId.get(ref.node)!.outputs[ref.port].shape;
  }

  dtypeOf(ref: PortRef): DType {
    return this.byId.get(ref.node)!.outputs[ref.port].dtype;
  }

  /** Whether `axis` of a port changes with the batch. */
  varies(ref: PortRef, axis: number): boolean {
    if (!this.altById) return false;
    return this.altById.get(ref.node)!.outputs[ref.port].shape[axis] !== this.shapeOf(ref)[axis];
  }

  isUsed(ref: PortRef): boolean {
    return this.readers.has(key(ref));
  }

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.values.has(name) || name === ""; i++) name = `${base}_${i}`;
    this.values.add(name);
    return name;
  }

  /** The ONNX value name of a port: an initializer for constants, else the (unique) tensor or layer name. */
  name(ref: PortRef): string {
    const k = key(ref);
    const c = this.constValue(ref);
    const src = this.byId.get(ref.node)!;
    if (c) {
      let init = this.initNames.get(k);
      if (!init) {
        init = this.constant(src.outputs[ref.port].names[0] ?? src.name, c);
        this.initNames.set(k, init);
      }
      return init;
    }
    const fused = this.fusedAdd.get(ref.node);
    if (fused && ref.port === 0) return this.name({ node: fused.add.id, port: 0 });
    let s = this.portNames.get(k);
    if (!s) {
      const port = src.outputs[ref.port];
      const preferred =
        src.type === "Parameter" ? src.name : (port.names[0] ?? (src.outputs.length > 1 ? `${src.name}.${ref.port}` : src.name));
      s = this.unique(preferred);
      this.portNames.set(k, s);
    }
    return s;
  }

  /** Adds an initializer under a unique name. */
  constant(base: string, t: ConstTensor): string {
    const name = this.unique(base);
    this.inits.push(tensorProto(name, t));
    return name;
  }

  node(type: string, base: string, inputs: string[], outputs: string[], attrs: Obj[]): void {
    let name = base;
    for (let i = 1; this.nodeNames.has(name); i++) name = `${base}_${i}`;
    this.nodeNames.add(name);
    this.nodes.push({ op_type: type, name, input: inputs, output: outputs, attribute: attrs });
  }

  /** The bias input of a conv whose following Add was absorbed, if any. */
  biasOf(conv: Node): string | undefined {
    const f = this.fusedAdd.get(conv.id);
    if (!f) return undefined;
    return this.constant(`${conv.name}/bias`, { ...f.bias, shape: [numel(f.bias.shape)] });
  }

  /** Marks the nodes the outputs need (constants end the walk) and counts each port's readers. */
  private walk(): Set<number> {
    const needed = new Set<number>();
    const stack = this.g.nodes.filter((n) => n.type === "Result").map((n) => n.id);
    while (stack.length) {
      const id = stack.pop()!;
      if (needed.has(id)) continue;
      needed.add(id);
      for (const ref of this.byId.get(id)!.inputs) {
        if (this.constValue(ref)) continue;
        this.readers.set(key(ref), (this.readers.get(key(ref)) ?? 0) + 1);
        stack.push(ref.node);
      }
    }
    return needed;
  }

  /** Conv → Add(constant per-channel) pairs become one Conv with a bias, as exporters write them. */
  private fuseBiases(needed: Set<number>): Set<number> {
    const absorbed = new Set<number>();
    for (const add of this.g.nodes) {
      if (add.type !== "Add" || !needed.has(add.id)) continue;
      for (const [x, b] of [
        [0, 1],
        [1, 0],
      ]) {
        const src = this.byId.get(add.inputs[x].node)!;
        const bias = this.constValue(add.inputs[b]);
        if (!bias || !BIASED.has(src.type) || add.inputs[x].port !== 0 || this.fusedAdd.has(src.id)) continue;
        if (this.readers.get(key(add.inputs[x])) !== 1 || !isFloat(bias.dtype)) continue;
        const out = src.outputs[0].shape;
        const bs = [...new Array<number>(Math.max(out.length - bias.shape.length, 0)).fill(1), ...bias.shape];
        const perChannel = bs.length === out.length && bs.every((d, i) => (i === 1 ? d === out[1] : d === 1));
        if (!perChannel || add.outputs[0].shape.join() !== out.join()) continue;
        this.fusedAdd.set(src.id, { add, bias });
        absorbed.add(add.id);
        break;
      }
    }
    return absorbed;
  }

  private valueInfo(name: string, dtype: DType, shape: number[], altShape: number[] | undefined): Obj {
    const dim = shape.map((d, i) => {
      if (!altShape || altShape[i] === d) return { dim_value: d };
      if (i === 0 && d === this.batch && altShape[i] === this.altBatch) return { dim_param: "N" };
      return {};
    });
    return { name, type: { tensor_type: { elem_type: ONNX_TYPE[dtype], shape: { dim } } } };
  }

  encode(): Uint8Array {
    const needed = this.walk();
    const absorbed = this.fuseBiases(needed);
    const inputs: Obj[] = [];
    const outputs: Obj[] = [];
    const altShape = (ref: PortRef) => this.altById?.get(ref.node)!.outputs[ref.port].shape;

    // Inputs keep their names; then outputs claim theirs before any intermediate tensor does.
    for (const p of this.g.nodes.filter((n) => n.type === "Parameter")) {
      const ref = { node: p.id, port: 0 };
      const dtype = p.outputs[0].dtype;
      if (isFloat(dtype)) {
        inputs.push(this.valueInfo(this.name(ref), "f32", p.outputs[0].shape, altShape(ref)));
      } else {
        // dynbatch feeds every input as FP32: take FLOAT and cast to the declared type.
        const outer = this.unique(p.name);
        inputs.push(this.valueInfo(outer, "f32", p.outputs[0].shape, altShape(ref)));
        this.node("Cast", `${p.name}/cast`, [outer], [this.name(ref)], [attr.int("to", ONNX_TYPE[dtype])]);
      }
    }
    const results = this.g.nodes.filter((n) => n.type === "Result");
    const direct = new Map<number, string>();
    const claimed = new Set<string>();
    for (const r of results) {
      const ref = r.inputs[0];
      const src = this.byId.get(ref.node)!;
      if (this.constValue(ref) || src.type === "Parameter" || claimed.has(key(ref))) continue;
      claimed.add(key(ref));
      direct.set(r.id, this.name(ref));
    }

    for (const n of this.g.nodes) {
      if (!needed.has(n.id) || absorbed.has(n.id) || n.type === "Parameter" || n.type === "Result") continue;
      if (n.inputs.length === 0 || n.outputs.every((_, p) => this.constValue({ node: n.id, port: p }))) continue;
      const convert = CONVERTERS[n.type];
      if (!convert) {
        const why = NO_ONNX[n.type] ?? "the writer does not translate it";
        throw new UnsupportedError(this.g.file, `${n.type} cannot be written as ONNX: ${why}`, n.name);
      }
      convert(new WriteCtx(this, n));
    }

    for (const r of results) {
      const ref = r.inputs[0];
      let name = direct.get(r.id);
      if (!name) {
        // A constant, an input or a tensor already returned: a graph output needs its own node.
        name = this.unique(r.name.replace(/\/sink_port_\d+$/, ""));
        this.node("Identity", r.name, [this.name(ref)], [name], []);
      }
      outputs.push(this.valueInfo(name, this.dtypeOf(ref), this.shapeOf(ref), altShape(ref)));
    }

    const msg = ModelProtoType.fromObject({
      ir_version: IR_VERSION,
      producer_name: "dynbatch",
      opset_import: [{ domain: "", version: ONNX_OPSET }],
      graph: { name: this.g.name, node: this.nodes, initializer: this.inits, input: inputs, output: outputs },
    });
    return ModelProtoType.encode(msg).finish();
  }
}

/**
 * Encodes a prepared graph as an ONNX model. With `alt` (the same graph prepared at another
 * batch) the batch axis is symbolic; without it every shape is fixed.
 */
export function graphToONNX(g: Graph, alt?: Graph): Uint8Array {
  return new OnnxWriter(g, alt).encode();
}
