/**
 * Structure-aware IR mutations: the .xml is parsed (order preserved, so the rest of the file
 * round-trips unchanged), one element of its structure is changed, and it is written back.
 */
import { XMLBuilder, XMLParser } from "fast-xml-parser";
import { intBelow, pick, Rng } from "./rng";

type XNode = Record<string, unknown>;
type Attrs = Record<string, string>;

const XML_OPTIONS = {
  ignoreAttributes: false,
  preserveOrder: true,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  suppressEmptyNode: true,
};

export type IrMutation =
  | "ir-dim"
  | "ir-shape"
  | "ir-bin-offset"
  | "ir-element-type"
  | "ir-attribute"
  | "ir-edge-dangling"
  | "ir-edge-duplicate"
  | "ir-edge-cycle"
  | "ir-edge-self-loop"
  | "ir-layer-type"
  | "ir-version";

/** Values that break a number: zero, negative, huge, empty, non-numeric, fractional. */
const BAD_NUMBERS = ["0", "-1", "-3", "2147483647", "99999", "", "x", "1.5"];
const BAD_DIMS = BAD_NUMBERS.filter((v) => v !== "-1");

function tagOf(n: XNode): string | undefined {
  return Object.keys(n).find((k) => k !== ":@" && k !== "#text");
}

function kids(n: XNode): XNode[] {
  const t = tagOf(n);
  return t ? (n[t] as XNode[]) : [];
}

function elems(list: XNode[], tag: string): XNode[] {
  return list.filter((k) => tagOf(k) === tag);
}

function child(n: XNode, tag: string): XNode | undefined {
  return elems(kids(n), tag)[0];
}

function attrs(n: XNode): Attrs {
  return ((n[":@"] as Attrs | undefined) ?? (n[":@"] = {})) as Attrs;
}

/** Removes `victim` from the children of `parent`. */
function remove(parent: XNode, victim: XNode): void {
  const list = kids(parent);
  list.splice(list.indexOf(victim), 1);
}

interface Ir {
  doc: XNode[];
  net: XNode;
  layersEl: XNode;
  layers: XNode[];
  edgesEl: XNode;
  edges: XNode[];
  /** Set by a mutation that wrote a value no reader may accept (see `malformedInts`). */
  malformed: boolean;
}

function parseIr(xml: Buffer): Ir {
  const doc = new XMLParser(XML_OPTIONS).parse(xml.toString("utf8")) as XNode[];
  const net = doc.find((n) => tagOf(n) === "net");
  if (!net) throw new Error("fuzz corpus IR has no <net>");
  const layersEl = child(net, "layers")!;
  const edgesEl = child(net, "edges")!;
  return {
    doc,
    net,
    layersEl,
    layers: elems(kids(layersEl), "layer"),
    edgesEl,
    edges: elems(kids(edgesEl), "edge"),
    malformed: false,
  };
}

function ports(layer: XNode, side: "input" | "output"): XNode[] {
  const el = child(layer, side);
  return el ? elems(kids(el), "port") : [];
}

function layerName(layer: XNode): string {
  return `layer ${attrs(layer).id} (${attrs(layer).type})`;
}

/** Sets or (for `undefined`) deletes an attribute. */
function setAttr(el: XNode, key: string, value: string | undefined): string {
  const a = attrs(el);
  if (value === undefined) delete a[key];
  else a[key] = value;
  return value === undefined ? `${key} removed` : `${key}="${value}"`;
}

function mutateDim(ir: Ir, r: Rng): string {
  const withDims = ir.layers.flatMap((l) => [...ports(l, "input"), ...ports(l, "output")].map((p) => ({ l, p })));
  const { l, p } = pick(r, withDims);
  const dims = elems(kids(p), "dim");
  const where = `${layerName(l)} port ${attrs(p).id}`;
  const op = intBelow(r, 4);
  if (op === 0 || dims.length === 0) {
    (p.port as XNode[]).push({ dim: [{ "#text": "1" }] });
    return `${where}: extra dim`;
  }
  const dim = pick(r, dims);
  if (op === 1) {
    remove(p, dim);
    return `${where}: dim removed`;
  }
  const text = (dim.dim as XNode[])[0] as { "#text": string };
  const orig = Number(text["#text"]);
  // -1 is a legal dynamic dim in IR v10/v11 (it agrees with any size), so no edit writes it here.
  const value = op === 2 ? pick(r, BAD_DIMS) : String(pick(r, [-orig - 1, orig * 2, orig + 1]));
  dim.dim = [{ "#text": value }];
  return `${where}: dim ${orig} -> "${value}"`;
}

/** Attributes that are integers or lists of integers in every op of the corpus. */
const INTEGER_KEYS = new Set(["shape", "strides", "dilations", "pads_begin", "pads_end", "kernel", "axis", "group"]);

/**
 * Whether `value`, written where `orig` (integers) was, can never be read: a non-numeric or
 * empty item in a list, or a fraction in an attribute that only takes integers. A whole empty
 * value is left out: it is a scalar's shape.
 */
function malformedInts(key: string, orig: string, value: string | undefined): boolean {
  if (value === undefined || value === "" || !/^-?\d+(\s*,\s*-?\d+)*$/.test(orig)) return false;
  const items = value.split(",").map((s) => s.trim());
  return items.some((x) => x === "" || !/^-?\d+(\.\d+)?$/.test(x) || (INTEGER_KEYS.has(key) && x.includes(".")));
}

function mutateList(orig: string, r: Rng): string {
  const items = orig.split(",").map((s) => s.trim());
  const op = intBelow(r, 4);
  if (op === 0) items.splice(intBelow(r, items.length), 1);
  else if (op === 1) items.push("1");
  else if (op === 2) return pick(r, BAD_NUMBERS);
  else items[intBelow(r, items.length)] = pick(r, [...BAD_NUMBERS, "2", "7"]);
  return items.join(",");
}

function dataOf(layer: XNode): XNode | undefined {
  return child(layer, "data");
}

function mutateShape(ir: Ir, r: Rng): string {
  const shaped = ir.layers.filter((x) => dataOf(x) && attrs(dataOf(x)!).shape !== undefined);
  // Half the time the input's shape: Consts outnumber Parameters a hundredfold.
  const params = shaped.filter((x) => attrs(x).type === "Parameter");
  const l = pick(r, r() < 0.5 && params.length ? params : shaped);
  const d = dataOf(l)!;
  const orig = attrs(d).shape;
  const value = mutateList(orig, r);
  ir.malformed = malformedInts("shape", orig, value);
  return `${layerName(l)}: shape "${orig}" -> ${setAttr(d, "shape", value)}`;
}

function mutateBinOffset(ir: Ir, r: Rng): string {
  const l = pick(
    r,
    ir.layers.filter((x) => attrs(x).type === "Const"),
  );
  const d = dataOf(l)!;
  const key = pick(r, ["offset", "size"]);
  const orig = Number(attrs(d)[key]);
  const size = Number(attrs(d).size);
  const choices: (string | undefined)[] = [
    ...BAD_NUMBERS,
    undefined,
    String(orig + 1),
    String(orig - 1),
    String(orig + size),
    String(2 ** 40),
    String(Math.max(0, orig - size)),
  ];
  return `${layerName(l)}: ${key} ${orig} -> ${setAttr(d, key, pick(r, choices))}`;
}

function mutateElementType(ir: Ir, r: Rng): string {
  if (r() < 0.25) {
    const withPorts = ir.layers.flatMap((l) => [...ports(l, "input"), ...ports(l, "output")].map((p) => ({ l, p })));
    const { l, p } = pick(r, withPorts);
    return `${layerName(l)} port ${attrs(p).id}: ${setAttr(p, "precision", pick(r, ["FP16", "FP32", "I64", "U8", "BOOL", "XYZ", "", undefined]))}`;
  }
  const l = pick(
    r,
    ir.layers.filter((x) => dataOf(x) && attrs(dataOf(x)!).element_type !== undefined),
  );
  const value = pick(r, ["f16", "f32", "f64", "i64", "i32", "i8", "u8", "u1", "boolean", "bf16", "xyz", "", undefined]);
  return `${layerName(l)}: ${setAttr(dataOf(l)!, "element_type", value)}`;
}

/** Attributes that describe the data of Parameter/Const (mutated by other kinds) rather than an op. */
const DATA_KEYS = new Set(["shape", "element_type", "offset", "size"]);

function mutateAttribute(ir: Ir, r: Rng): string {
  const candidates = ir.layers.flatMap((l) => {
    const d = dataOf(l);
    return d
      ? Object.keys(attrs(d))
          .filter((k) => !DATA_KEYS.has(k))
          .map((k) => ({ l, d, k }))
      : [];
  });
  const { l, d, k } = pick(r, candidates);
  const orig = attrs(d)[k];
  const value =
    r() < 0.2 ? undefined : orig.includes(",") ? mutateList(orig, r) : pick(r, [...BAD_NUMBERS, "same_upper", "valid"]);
  ir.malformed = malformedInts(k, orig, value);
  return `${layerName(l)}: ${k} "${orig}" -> ${setAttr(d, k, value)}`;
}

function edgeText(e: XNode): string {
  const a = attrs(e);
  return `${a["from-layer"]}:${a["from-port"]}->${a["to-layer"]}:${a["to-port"]}`;
}

function mutateEdgeDangling(ir: Ir, r: Rng): string {
  const op = intBelow(r, 4);
  if (op === 0) {
    const e = pick(r, ir.edges);
    remove(ir.edgesEl, e);
    return `edge ${edgeText(e)} removed`;
  }
  if (op === 1) {
    const l = pick(r, ir.layers);
    remove(ir.layersEl, l);
    return `${layerName(l)} removed, its edges kept`;
  }
  const e = pick(r, ir.edges);
  const before = edgeText(e);
  const key = pick(r, ["from-layer", "from-port", "to-layer", "to-port"]);
  setAttr(e, key, pick(r, ["9999", "-1", "", "x", undefined]));
  return `edge ${before} -> ${edgeText(e)}`;
}

function cloneEdge(e: XNode): XNode {
  return { edge: [], ":@": { ...attrs(e) } };
}

function mutateEdgeDuplicate(ir: Ir, r: Rng): string {
  const e = pick(r, ir.edges);
  const copy = cloneEdge(e);
  if (r() < 0.5) {
    // A second producer for the same input port.
    const other = pick(r, ir.edges);
    attrs(copy)["from-layer"] = attrs(other)["from-layer"];
    attrs(copy)["from-port"] = attrs(other)["from-port"];
  }
  (ir.edgesEl.edges as XNode[]).push(copy);
  return `edge ${edgeText(copy)} added beside ${edgeText(e)}`;
}

/** Ids of the layers reachable from `start` along the edges. */
function downstream(ir: Ir, start: string): string[] {
  const seen = new Set([start]);
  const todo = [start];
  while (todo.length) {
    const id = todo.pop()!;
    for (const e of ir.edges) {
      const to = attrs(e)["to-layer"];
      if (attrs(e)["from-layer"] === id && !seen.has(to)) {
        seen.add(to);
        todo.push(to);
      }
    }
  }
  return [...seen];
}

function outputPortOf(ir: Ir, id: string): string | undefined {
  const l = ir.layers.find((x) => attrs(x).id === id);
  const p = l ? ports(l, "output") : [];
  return p.length ? attrs(p[0]).id : undefined;
}

function mutateEdgeCycle(ir: Ir, r: Rng): string {
  const e = pick(r, ir.edges);
  const before = edgeText(e);
  // A producer downstream of the consumer (other than the consumer itself) closes a cycle.
  const later = downstream(ir, attrs(e)["to-layer"])
    .slice(1)
    .filter((id) => outputPortOf(ir, id) !== undefined);
  if (later.length === 0) return mutateEdgeSelfLoop(ir, r);
  const from = pick(r, later);
  attrs(e)["from-layer"] = from;
  attrs(e)["from-port"] = outputPortOf(ir, from)!;
  return `edge ${before} -> ${edgeText(e)} (cycle)`;
}

function mutateEdgeSelfLoop(ir: Ir, r: Rng): string {
  const e = pick(
    r,
    ir.edges.filter((x) => outputPortOf(ir, attrs(x)["to-layer"]) !== undefined),
  );
  const before = edgeText(e);
  attrs(e)["from-layer"] = attrs(e)["to-layer"];
  attrs(e)["from-port"] = outputPortOf(ir, attrs(e)["to-layer"])!;
  return `edge ${before} -> ${edgeText(e)} (self-loop)`;
}

function mutateLayerType(ir: Ir, r: Rng): string {
  const l = pick(r, ir.layers);
  const before = layerName(l);
  const types = [
    ...new Set(ir.layers.map((x) => attrs(x).type)),
    "Foo",
    "",
    "Parameter",
    "Const",
    "Result",
    "Convolution",
    "Reshape",
    "Concat",
    "SoftMax",
  ];
  return `${before}: ${setAttr(l, "type", pick(r, types))}`;
}

function mutateVersion(ir: Ir, r: Rng): string {
  if (r() < 0.5)
    return `net: ${setAttr(ir.net, "version", pick(r, ["1", "2", "5", "6", "7", "9", "10", "12", "99", "-1", "x", "", undefined]))}`;
  const l = pick(r, ir.layers);
  return `${layerName(l)}: ${setAttr(l, "version", pick(r, ["opset0", "opset99", "", "x", "experimental", undefined]))}`;
}

const IR_MUTATORS: Record<IrMutation, (ir: Ir, r: Rng) => string> = {
  "ir-dim": mutateDim,
  "ir-shape": mutateShape,
  "ir-bin-offset": mutateBinOffset,
  "ir-element-type": mutateElementType,
  "ir-attribute": mutateAttribute,
  "ir-edge-dangling": mutateEdgeDangling,
  "ir-edge-duplicate": mutateEdgeDuplicate,
  "ir-edge-cycle": mutateEdgeCycle,
  "ir-edge-self-loop": mutateEdgeSelfLoop,
  "ir-layer-type": mutateLayerType,
  "ir-version": mutateVersion,
};

/**
 * Applies one structural mutation of `kind` to the IR text; returns the new text, what changed,
 * and whether the value written is malformed (a model that loads with it was misread).
 */
export function mutateIr(xml: Buffer, kind: IrMutation, r: Rng): { bytes: Buffer; detail: string; malformed: boolean } {
  const ir = parseIr(xml);
  const detail = IR_MUTATORS[kind](ir, r);
  return { bytes: Buffer.from(new XMLBuilder(XML_OPTIONS).build(ir.doc) as string, "utf8"), detail, malformed: ir.malformed };
}
