/**
 * An OpenVINO IR (v10/v11) → ONNX converter for the tests' numeric references, written apart from
 * dynbatch's own readers and writers (kernel/readers, kernel/serialize) so that a misreading of
 * the IR cannot hide by being shared: the .xml is parsed here with fast-xml-parser, the weights
 * are decoded here from the .bin (FP16 upcast to FP32 exactly, as every FP16 value is an FP32
 * value), each op is mapped from the OpenVINO opset specification (opset1, MaxPool-8) to the ONNX
 * operator specification, and onnxruntime-node computes the reference. Only the protobuf message
 * layout is shared, through onnx_builder.ts; onnxruntime is what interprets it.
 * It covers the ops of landmarks-regression-retail-0009 and head-pose-estimation-adas-0001, and
 * throws on any other op or attribute value it does not map.
 */
import * as fs from "fs";
import { XMLParser } from "fast-xml-parser";
import { OnnxBuilder } from "./onnx_builder";

type Attrs = Record<string, string>;
interface Port {
  "@_id": string;
  dim?: string[];
}
interface Layer {
  "@_id": string;
  "@_name": string;
  "@_type": string;
  data?: Attrs;
  input?: { port: Port[] };
  output?: { port: Port[] };
}
interface Edge {
  "@_from-layer": string;
  "@_from-port": string;
  "@_to-layer": string;
  "@_to-port": string;
}

export interface ConvertedIr {
  /** The ONNX model, its batch axis symbolic. */
  onnx: Buffer;
  input: string;
  /** Graph outputs, named after the layer that produces each Result's input (as the Inference Engine keys outputs). */
  outputs: string[];
}

/** IEEE 754 binary16 → number: every half value is exact in binary32. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const ints = (s: string | undefined, what: string): number[] => {
  if (s === undefined) throw new Error(`ir_to_onnx: missing attribute '${what}'`);
  return s.split(",").map((v) => Number(v.trim()));
};
const dimsOf = (p: Port): number[] => (p.dim ?? []).map(Number);

function constValues(bin: Buffer, d: Attrs): number[] {
  const offset = Number(d.offset);
  const size = Number(d.size);
  const out: number[] = [];
  if (d.element_type === "f16") for (let i = 0; i < size; i += 2) out.push(halfToFloat(bin.readUInt16LE(offset + i)));
  else if (d.element_type === "f32") for (let i = 0; i < size; i += 4) out.push(bin.readFloatLE(offset + i));
  else if (d.element_type === "i64") for (let i = 0; i < size; i += 8) out.push(Number(bin.readBigInt64LE(offset + i)));
  else throw new Error(`ir_to_onnx: Const element_type '${d.element_type}' not covered`);
  return out;
}

/** Explicit padding only: the two networks carry their pads in the IR. */
function explicitPads(d: Attrs, layer: Layer): number[] {
  if (d.auto_pad !== undefined && d.auto_pad !== "explicit" && d.auto_pad !== "notset")
    throw new Error(`ir_to_onnx: ${layer["@_name"]}: auto_pad '${d.auto_pad}' not covered`);
  return [...ints(d.pads_begin, "pads_begin"), ...ints(d.pads_end, "pads_end")];
}

export function irToOnnx(xmlPath: string, binPath = xmlPath.replace(/\.xml$/, ".bin")): ConvertedIr {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    isArray: (name) => ["layer", "edge", "port", "dim"].includes(name),
  });
  const net = parser.parse(fs.readFileSync(xmlPath, "utf8")).net as { layers: { layer: Layer[] }; edges: { edge: Edge[] } };
  const bin = fs.readFileSync(binPath);
  // <data> attributes come prefixed like every attribute; strip the prefix once.
  const layers = net.layers.layer.map((l) => ({
    ...l,
    data: Object.fromEntries(Object.entries(l.data ?? {}).map(([k, v]) => [k.replace(/^@_/, ""), String(v)])),
  }));
  const byId = new Map(layers.map((l) => [l["@_id"], l]));
  const source = new Map(
    net.edges.edge.map((e) => [`${e["@_to-layer"]}:${e["@_to-port"]}`, `${e["@_from-layer"]}:${e["@_from-port"]}`]),
  );

  const b = new OnnxBuilder();
  /** ONNX tensor name of each IR output port "layer:port". */
  const tensor = new Map<string, string>();
  /** Values of the constants, for the ops whose ONNX form needs them reshaped. */
  const consts = new Map<string, { dims: number[]; values: number[] }>();
  const outputs: string[] = [];
  let input = "";

  const inputsOf = (l: Layer): string[] =>
    (l.input?.port ?? []).map((p) => {
      const from = source.get(`${l["@_id"]}:${p["@_id"]}`);
      if (!from) throw new Error(`ir_to_onnx: ${l["@_name"]} port ${p["@_id"]} has no edge`);
      return from;
    });

  // Depth-first from every layer: ONNX wants producers before consumers.
  const done = new Set<string>();
  const visit = (id: string): void => {
    if (done.has(id)) return;
    done.add(id);
    const l = byId.get(id)!;
    const ins = inputsOf(l);
    for (const from of ins) visit(from.split(":")[0]);
    emit(l, ins);
  };

  const emit = (l: Layer & { data: Attrs }, ins: string[]): void => {
    const d = l.data;
    const name = l["@_name"];
    const outPorts = l.output?.port ?? [];
    const x = ins.map((k) => {
      const t = tensor.get(k);
      if (t === undefined) throw new Error(`ir_to_onnx: ${name}: input ${k} has no tensor`);
      return t;
    });
    const inDims = (l.input?.port ?? []).map(dimsOf);
    const out = (t: string) => tensor.set(`${l["@_id"]}:${outPorts[0]["@_id"]}`, t);
    switch (l["@_type"]) {
      case "Parameter": {
        const shape = ints(d.shape, "shape");
        input = b.input(name, shape.slice(1));
        out(input);
        return;
      }
      case "Const": {
        const dims = dimsOf(outPorts[0]);
        const values = constValues(bin, d);
        consts.set(`${l["@_id"]}:${outPorts[0]["@_id"]}`, { dims, values });
        out(d.element_type === "i64" ? b.int64(values, dims) : b.weight(dims, 0, 0, values));
        return;
      }
      case "Convert": {
        // The FP16 constants were upcast when read; anything else is not covered.
        if (d.destination_type !== "f32" || !consts.has(ins[0]))
          throw new Error(`ir_to_onnx: ${name}: Convert to '${d.destination_type}' not covered`);
        consts.set(`${l["@_id"]}:${outPorts[0]["@_id"]}`, consts.get(ins[0])!);
        out(x[0]);
        return;
      }
      case "Add":
      case "Multiply":
        if ((d.auto_broadcast ?? "numpy") !== "numpy")
          throw new Error(`ir_to_onnx: ${name}: auto_broadcast '${d.auto_broadcast}' not covered`);
        out(b.op1(l["@_type"] === "Add" ? "Add" : "Mul", x));
        return;
      case "ReLU":
        out(b.op1("Relu", x));
        return;
      case "Sigmoid":
        out(b.op1("Sigmoid", x));
        return;
      case "PReLU": {
        // OpenVINO applies a 1-D slope of C values along axis 1; ONNX broadcasts from the last axis.
        const slope = inDims[1];
        const rank = inDims[0].length;
        const s =
          slope.length === 1 && slope[0] > 1 && rank > 2
            ? b.op1("Reshape", [x[1], b.int64([slope[0], ...Array(rank - 2).fill(1)])])
            : x[1];
        out(b.op1("PRelu", [x[0], s]));
        return;
      }
      case "Convolution":
      case "GroupConvolution": {
        let w = x[1];
        let group = 1;
        if (l["@_type"] === "GroupConvolution") {
          // [G, O/G, I/G, k…] → ONNX's [O, I/G, k…] with group = G.
          const [g, og, ...rest] = inDims[1];
          group = g;
          w = b.op1("Reshape", [w, b.int64([g * og, ...rest])]);
        }
        out(
          b.op1("Conv", [x[0], w], {
            strides: ints(d.strides, "strides"),
            dilations: ints(d.dilations, "dilations"),
            pads: explicitPads(d, l),
            group,
          }),
        );
        return;
      }
      case "MaxPool": {
        if (outPorts.length > 1 && [...source.values()].includes(`${l["@_id"]}:${outPorts[1]["@_id"]}`))
          throw new Error(`ir_to_onnx: ${name}: MaxPool indices output not covered`);
        const rounding = d.rounding_type ?? "floor";
        if (rounding !== "floor" && rounding !== "ceil")
          throw new Error(`ir_to_onnx: ${name}: rounding_type '${rounding}' not covered`);
        const kernel = ints(d.kernel, "kernel");
        out(
          b.op1("MaxPool", x, {
            kernel_shape: kernel,
            strides: ints(d.strides, "strides"),
            dilations: d.dilations ? ints(d.dilations, "dilations") : kernel.map(() => 1),
            pads: explicitPads(d, l),
            ceil_mode: rounding === "ceil" ? 1 : 0,
          }),
        );
        return;
      }
      case "Reshape": {
        const shape = consts.get(ins[1]);
        if (d.special_zero !== "true" && shape?.values.includes(0))
          throw new Error(`ir_to_onnx: ${name}: a literal 0 dim not covered`);
        // ONNX Reshape (allowzero = 0) copies a 0 dim from the input, as special_zero = true does.
        out(b.op1("Reshape", x));
        return;
      }
      case "MatMul": {
        const t = (v: string, dims: number[], flag: string | undefined) => {
          if (flag !== "true") return v;
          if (dims.length < 2) throw new Error(`ir_to_onnx: ${name}: transposing a 1-D operand not covered`);
          const perm = dims.map((_, i) => i);
          perm.splice(-2, 2, dims.length - 1, dims.length - 2);
          return b.op1("Transpose", [v], { perm });
        };
        out(b.op1("MatMul", [t(x[0], inDims[0], d.transpose_a), t(x[1], inDims[1], d.transpose_b)]));
        return;
      }
      case "Result": {
        const producer = byId.get(ins[0].split(":")[0])!["@_name"];
        b.op("Identity", x, {}, 1, producer);
        b.output(producer);
        outputs.push(producer);
        return;
      }
      default:
        throw new Error(`ir_to_onnx: ${name}: op '${l["@_type"]}' not covered`);
    }
  };

  for (const l of layers) visit(l["@_id"]);
  return { onnx: b.encode(), input, outputs };
}
