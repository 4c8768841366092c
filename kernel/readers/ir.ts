import * as fs from "fs";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ModelError, UnsupportedError } from "../errors";
import { Attrs, DimSpec, DType, Graph, Node, OutputPort, PortRef, nodeMap } from "../graph/graph";
import { numel } from "../graph/ops/util";
import { ELEMENT_BYTES, decodeRaw } from "./tensor";
import { topoSort } from "./topo";
import { table } from "../dict";

/** OpenVINO IR v10/v11 (.xml topology + .bin weights) → Graph. */

const SUPPORTED_VERSIONS = [10, 11];

/** IR `element_type` spellings (Const/Parameter `<data>`). */
const ELEMENT_TYPES: Record<string, DType> = table({
  f32: "f32",
  f16: "f16",
  f64: "f64",
  i64: "i64",
  i32: "i32",
  i16: "i16",
  i8: "i8",
  u8: "u8",
  u16: "u16",
  u32: "u32",
  u64: "u64",
  boolean: "boolean",
});

/** IR port `precision` spellings. */
const PRECISIONS: Record<string, DType> = table({
  FP32: "f32",
  FP16: "f16",
  FP64: "f64",
  I64: "i64",
  I32: "i32",
  I16: "i16",
  I8: "i8",
  U8: "u8",
  U16: "u16",
  U32: "u32",
  U64: "u64",
  BOOL: "boolean",
  BOOLEAN: "boolean",
});

type XmlAttrs = Record<string, string>;
interface XmlPort {
  "@"?: XmlAttrs;
  dim?: (string | { "#text"?: string })[];
}
interface XmlLayer {
  "@"?: XmlAttrs;
  data?: { "@"?: XmlAttrs } | string;
  input?: { port?: XmlPort[] } | string;
  output?: { port?: XmlPort[] } | string;
}

/**
 * "-1", "?" and ranges ("1..10", "..10", "2..") are dynamic dims, kept as -1 until reshape/shape
 * inference; NaN for anything else (OpenVINO refuses negative dims other than -1).
 */
function parseDim(s: string): number {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t);
  if (t === "-1" || t === "?" || /^\d*\.\.\d*$/.test(t)) return -1;
  return NaN;
}

/** A Parameter's dim: a size, or free (-1) with the bounds of a range ("1..10", "..10", "2.."). */
function parseDimSpec(s: string, file: string, layer: string): DimSpec {
  const size = parseDim(s);
  const range = /^(\d*)\.\.(\d*)$/.exec(s.trim());
  if (!range) return { size };
  const spec: DimSpec = { size };
  if (range[1] !== "") spec.min = Number(range[1]);
  if (range[2] !== "") spec.max = Number(range[2]);
  if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max)
    throw new ModelError(file, `dimension range '${s.trim()}' is empty`, layer);
  return spec;
}

function splitShape(s: string): string[] {
  const t = s.trim();
  return t === "" || t === "[]" ? [] : t.replace(/^\[|\]$/g, "").split(",");
}

function checkDims(dims: number[], raw: string, what: string, file: string, layer: string): number[] {
  if (dims.some(Number.isNaN))
    throw new ModelError(file, `${what} '${raw}' has a dimension that is neither a size, -1, ? nor a range`, layer);
  return dims;
}

function parseShapeAttr(s: string, file: string, layer: string): number[] {
  return checkDims(splitShape(s).map(parseDim), s, "shape", file, layer);
}

/** Whether two declared shapes agree, a dynamic dim (-1) agreeing with any size. */
function dimsAgree(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i] || d < 0 || b[i] < 0);
}

const fmt = (dims: number[]) => `[${dims.map((d) => (d < 0 ? "?" : d)).join(",")}]`;

/** v11 `names="a,b"`; a comma inside a name is written "\,". */
export function splitNames(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && s[i + 1] === ",") {
      cur += ",";
      i++;
    } else if (s[i] === ",") {
      out.push(cur.trim());
      cur = "";
    } else cur += s[i];
  }
  out.push(cur.trim());
  return out.filter((n) => n !== "");
}

const dimText = (d: string | { "#text"?: string }): string => (typeof d === "string" ? d : (d["#text"] ?? ""));

function portDims(p: XmlPort, file: string, layer: string): number[] {
  const raw = (p.dim ?? []).map(dimText);
  return checkDims(raw.map(parseDim), raw.join(","), `port ${p["@"]?.id} dims`, file, layer);
}

function ports(x: { port?: XmlPort[] } | string | undefined): XmlPort[] {
  return typeof x === "object" && x.port ? x.port : [];
}

function lineOf(xml: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < xml.length; i++) if (xml.charCodeAt(i) === 10) line++;
  return line;
}

export function readIR(xmlPath: string, binPath?: string): Graph {
  const bin = binPath ?? xmlPath.replace(/\.xml$/i, "") + ".bin";
  let xml: string;
  try {
    xml = fs.readFileSync(xmlPath, "utf8");
  } catch (e) {
    throw new ModelError(xmlPath, `cannot read the model file: ${(e as Error).message}`);
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new ModelError(xmlPath, `malformed XML at line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`);
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    attributesGroupName: "@",
    parseAttributeValue: false,
    parseTagValue: false,
    isArray: (name) => name === "layer" || name === "edge" || name === "port" || name === "dim",
  });
  let doc: { net?: { "@"?: XmlAttrs; layers?: { layer?: XmlLayer[] }; edges?: { edge?: { "@"?: XmlAttrs }[] } } };
  try {
    doc = parser.parse(xml);
  } catch (e) {
    throw new ModelError(xmlPath, `malformed XML: ${(e as Error).message}`);
  }
  const net = doc.net;
  if (!net || typeof net !== "object") {
    const at = xml.search(/<[A-Za-z]/);
    throw new ModelError(xmlPath, `not an OpenVINO IR: no <net> root element (line ${lineOf(xml, Math.max(at, 0))})`);
  }
  const versionStr = net["@"]?.version;
  const version = Number(versionStr);
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw new UnsupportedError(
      xmlPath,
      `IR version ${versionStr ?? "(missing)"} is not supported (${SUPPORTED_VERSIONS.join(", ")} are)`,
    );
  }

  const layers = typeof net.layers === "object" ? (net.layers.layer ?? []) : [];
  const nodes: Node[] = [];
  // Per layer id: input port id → input index, output port id → output index.
  const inIndex = new Map<number, Map<string, number>>();
  // Per layer id: the dims each input port declares, checked against the producer's output port.
  const inDims = new Map<number, number[][]>();
  const outIndex = new Map<number, Map<string, number>>();
  const byId = new Map<number, Node>();
  let weights: Buffer | undefined;
  const loadWeights = (layer: string): Buffer => {
    if (!weights) {
      try {
        weights = fs.readFileSync(bin);
      } catch (e) {
        throw new ModelError(bin, `cannot read the weights file: ${(e as Error).message}`, layer);
      }
    }
    return weights;
  };

  for (const l of layers) {
    const a = l["@"] ?? {};
    const name = a.name ?? "";
    const id = Number(a.id);
    if (a.id === undefined || !/^\d+$/.test(a.id.trim()))
      throw new ModelError(xmlPath, `layer has no valid id ('${a.id}')`, name);
    if (byId.has(id)) throw new ModelError(xmlPath, `duplicate layer id ${id}`, name);
    const type = a.type ?? "";
    if (!type) throw new ModelError(xmlPath, `layer ${id} has no type`, name);
    const attrs: Attrs = typeof l.data === "object" ? { ...(l.data["@"] ?? {}) } : {};

    const ins = ports(l.input);
    inIndex.set(id, new Map(ins.map((p, i) => [p["@"]?.id ?? "", i])));
    inDims.set(
      id,
      ins.map((p) => portDims(p, xmlPath, name)),
    );
    const outs = ports(l.output);
    outIndex.set(id, new Map(outs.map((p, i) => [p["@"]?.id ?? "", i])));
    const outputs: OutputPort[] = outs.map((p) => {
      const pa = p["@"] ?? {};
      const prec = (pa.precision ?? "FP32").toUpperCase();
      const dtype = PRECISIONS[prec];
      if (!dtype) throw new UnsupportedError(xmlPath, `output port ${pa.id} has unsupported precision '${pa.precision}'`, name);
      return { names: pa.names ? splitNames(pa.names) : [], dtype, shape: portDims(p, xmlPath, name) };
    });

    const node: Node = { id, name, type, version: a.version ?? "", attrs, inputs: [], outputs };
    if (type === "Const") readConst(node, xmlPath, bin, loadWeights);
    if (type === "Parameter") {
      const et = attrs.element_type;
      if (et !== undefined) {
        const dtype = ELEMENT_TYPES[et];
        if (!dtype) throw new UnsupportedError(xmlPath, `Parameter element_type '${et}' is not supported`, name);
        if (outputs[0]) outputs[0].dtype = dtype;
      }
      if (!outputs[0]) throw new ModelError(xmlPath, "Parameter has no output port", name);
      if (attrs.shape !== undefined) {
        const shape = parseShapeAttr(attrs.shape, xmlPath, name);
        // The port must agree with the shape (OpenVINO writes both; a port without <dim> is a scalar).
        const port = outputs[0].shape;
        if (!dimsAgree(shape, port)) {
          throw new ModelError(xmlPath, `Parameter shape ${fmt(shape)} contradicts its output port dims ${fmt(port)}`, name);
        }
        outputs[0].shape = shape;
      }
      // Names and bounds of the free dims, for reshape to check and for errors to show.
      const raw = attrs.shape !== undefined ? splitShape(attrs.shape) : (outs[0].dim ?? []).map(dimText);
      node.dims = raw.map((d) => parseDimSpec(d, xmlPath, name));
    }
    byId.set(id, node);
    nodes.push(node);
  }

  const edges = typeof net.edges === "object" ? (net.edges.edge ?? []) : [];
  const filled = new Map<number, (PortRef | undefined)[]>();
  for (const n of nodes) filled.set(n.id, new Array<PortRef | undefined>(inIndex.get(n.id)!.size).fill(undefined));
  for (const e of edges) {
    const a = e["@"] ?? {};
    // An edge names its ends with four non-negative integers; Number("") would read an empty id as layer 0.
    const missing = EDGE_ENDS.filter((k) => a[k] === undefined || !/^\d+$/.test(a[k].trim()));
    const desc = `edge ${EDGE_ENDS.map((k) => a[k] ?? "?").join(" ")}`;
    if (missing.length)
      throw new ModelError(xmlPath, `${desc}: ${missing.map((k) => `'${k}'`).join(", ")} missing or not a layer/port id`);
    const from = Number(a["from-layer"]);
    const to = Number(a["to-layer"]);
    const src = byId.get(from);
    const dst = byId.get(to);
    if (!src || !dst) throw new ModelError(xmlPath, `${desc} refers to a missing layer`);
    const port = outIndex.get(from)!.get(a["from-port"] ?? "");
    if (port === undefined)
      throw new ModelError(xmlPath, `${desc}: layer ${from} has no output port ${a["from-port"]}`, src.name);
    const idx = inIndex.get(to)!.get(a["to-port"] ?? "");
    if (idx === undefined) throw new ModelError(xmlPath, `${desc}: layer ${to} has no input port ${a["to-port"]}`, dst.name);
    const slots = filled.get(to)!;
    if (slots[idx]) throw new ModelError(xmlPath, `${desc}: input port ${a["to-port"]} has two incoming edges`, dst.name);
    slots[idx] = { node: from, port };
    const declared = inDims.get(to)![idx];
    const produced = src.outputs[port].shape;
    if (!dimsAgree(declared, produced)) {
      throw new ModelError(
        xmlPath,
        `input port ${a["to-port"]} dims ${fmt(declared)} disagree with ${fmt(produced)} of output port ${a["from-port"]} of '${src.name}'`,
        dst.name,
      );
    }
  }
  for (const n of nodes) {
    const slots = filled.get(n.id)!;
    const missing = slots.findIndex((s) => s === undefined);
    if (missing >= 0) {
      const portId = [...inIndex.get(n.id)!.entries()].find(([, i]) => i === missing)![0];
      throw new ModelError(xmlPath, `input port ${portId} has no incoming edge`, n.name);
    }
    n.inputs = slots as PortRef[];
  }

  return {
    name: net["@"]?.name ?? "",
    file: xmlPath,
    format: `ir${version}`,
    nodes: topoSort(nodes, xmlPath),
  };
}

/** The attributes of an <edge>, in the order a message lists them. */
const EDGE_ENDS = ["from-layer", "from-port", "to-layer", "to-port"] as const;

function readConst(node: Node, xmlPath: string, bin: string, loadWeights: (layer: string) => Buffer): void {
  const a = node.attrs;
  const et = a.element_type;
  if (et === undefined) throw new ModelError(xmlPath, "Const has no element_type", node.name);
  const dtype = ELEMENT_TYPES[et];
  if (!dtype) throw new UnsupportedError(xmlPath, `Const element_type '${et}' is not supported`, node.name);
  const shape = a.shape !== undefined ? parseShapeAttr(a.shape, xmlPath, node.name) : (node.outputs[0]?.shape ?? []);
  if (shape.some((d) => d < 0)) throw new ModelError(xmlPath, `Const has a dynamic shape '${a.shape}'`, node.name);
  for (const key of ["offset", "size"]) {
    if (a[key] === undefined) throw new ModelError(xmlPath, `Const has no '${key}' attribute`, node.name);
    if (!/^\d+$/.test(a[key].trim()))
      throw new ModelError(xmlPath, `Const '${key}' must be a non-negative integer, not '${a[key]}'`, node.name);
  }
  const offset = Number(a.offset);
  const size = Number(a.size);
  const expected = numel(shape) * ELEMENT_BYTES[dtype];
  if (size !== expected) {
    throw new ModelError(
      xmlPath,
      `Const size ${size} bytes does not match shape [${shape.join(", ")}] of ${et} (${expected} bytes)`,
      node.name,
    );
  }
  const w = loadWeights(node.name);
  if (offset + size > w.length) {
    throw new ModelError(
      bin,
      `Const data [${offset}, ${offset + size}) lies past the end of the weights file (${w.length} bytes): ` +
        `the .bin is truncated or the offset is wrong`,
      node.name,
    );
  }
  node.value = { dtype, shape, data: decodeRaw(dtype, w.subarray(offset, offset + size)) };
  // The port must agree with the shape (OpenVINO writes both; a port without <dim> is a scalar).
  if (node.outputs[0] && a.shape !== undefined && !dimsAgree(shape, node.outputs[0].shape)) {
    throw new ModelError(
      xmlPath,
      `Const shape ${fmt(shape)} contradicts its output port dims ${fmt(node.outputs[0].shape)}`,
      node.name,
    );
  }
  if (node.outputs[0]) {
    node.outputs[0].dtype = dtype;
    node.outputs[0].shape = shape.slice();
  } else node.outputs.push({ names: [], dtype, shape: shape.slice() });
}

/**
 * Checks the output port dims an IR declares against the shapes inferred for it (`inferred`:
 * `declared` prepared at its own input shapes). Input ports were checked against their producer's
 * output port at read, so they are covered too. A dynamic dim (-1, ?) agrees with any size.
 */
export function checkDeclaredShapes(declared: Graph, inferred: Graph): void {
  const byId = nodeMap(inferred);
  for (const n of declared.nodes) {
    const got = byId.get(n.id);
    if (!got) continue;
    n.outputs.forEach((o, i) => {
      const shape = got.outputs[i]?.shape;
      if (shape && !dimsAgree(o.shape, shape)) {
        throw new ModelError(
          declared.file,
          `output port ${i} declares dims ${fmt(o.shape)} but shape inference gives ${fmt(shape)}`,
          n.name,
        );
      }
    });
  }
}
