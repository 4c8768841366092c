/**
 * Graph → OpenVINO IR v11 (.xml topology + .bin weights), the inverse of readers/ir.ts.
 *
 * Every node is written as the op it is (constant subgraphs are not folded, so the file keeps the
 * model's structure); Const data keeps its element type (FP16 stays FP16). Port dims come from the
 * prepared graph: the file describes the network at its current input shapes.
 */
import { DType, Graph, Node, nodeMap } from "../graph/graph";
import { encodeValues } from "./tensor";

const PRECISION: Record<DType, string> = {
  f32: "FP32",
  f16: "FP16",
  f64: "FP64",
  i64: "I64",
  i32: "I32",
  i16: "I16",
  i8: "I8",
  u8: "U8",
  u16: "U16",
  u32: "U32",
  u64: "U64",
  boolean: "BOOL",
};

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

function attrs(a: Record<string, string>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join("");
}

function dims(shape: number[], indent: string): string {
  return shape.map((d) => `${indent}<dim>${d}</dim>\n`).join("");
}

/** Encodes a prepared graph as IR v11: the xml text and the weights. */
export function graphToIR(g: Graph): { xml: string; bin: Buffer } {
  const byId = nodeMap(g);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const layers: string[] = [];
  const edges: string[] = [];
  for (const n of g.nodes) {
    const data: Record<string, string> = { ...n.attrs };
    if (n.type === "Const" && n.value) {
      const bytes = encodeValues(n.value.dtype, n.value.data);
      Object.assign(data, {
        element_type: n.value.dtype,
        shape: n.value.shape.join(","),
        offset: String(offset),
        size: String(bytes.length),
      });
      chunks.push(bytes);
      offset += bytes.length;
    }
    if (n.type === "Parameter") Object.assign(data, { shape: n.outputs[0].shape.join(","), element_type: n.outputs[0].dtype });
    let xml = `\t\t<layer${attrs({ id: String(n.id), name: n.name, type: n.type, version: n.version || "opset1" })}>\n`;
    if (Object.keys(data).length) xml += `\t\t\t<data${attrs(data)}/>\n`;
    if (n.inputs.length) {
      xml += "\t\t\t<input>\n";
      n.inputs.forEach((ref, i) => {
        const src = byId.get(ref.node)!.outputs[ref.port];
        xml += `\t\t\t\t<port id="${i}" precision="${PRECISION[src.dtype]}">\n${dims(src.shape, "\t\t\t\t\t")}\t\t\t\t</port>\n`;
        edges.push(
          `\t\t<edge from-layer="${ref.node}" from-port="${portId(byId.get(ref.node)!, ref.port)}" to-layer="${n.id}" to-port="${i}"/>\n`,
        );
      });
      xml += "\t\t\t</input>\n";
    }
    if (n.outputs.length) {
      xml += "\t\t\t<output>\n";
      n.outputs.forEach((o, p) => {
        // A comma inside a tensor name is written "\,".
        const port: Record<string, string> = { id: String(portId(n, p)), precision: PRECISION[o.dtype] };
        if (o.names.length) port.names = o.names.map((s) => s.replace(/,/g, "\\,")).join(",");
        xml += `\t\t\t\t<port${attrs(port)}>\n${dims(o.shape, "\t\t\t\t\t")}\t\t\t\t</port>\n`;
      });
      xml += "\t\t\t</output>\n";
    }
    layers.push(xml + "\t\t</layer>\n");
  }
  const xml =
    `<?xml version="1.0"?>\n<net${attrs({ name: g.name, version: "11" })}>\n` +
    `\t<layers>\n${layers.join("")}\t</layers>\n\t<edges>\n${edges.join("")}\t</edges>\n</net>\n`;
  return { xml, bin: Buffer.concat(chunks) };
}

/** Output ports are numbered after the input ports, as OpenVINO writes them. */
function portId(n: Node, port: number): number {
  return n.inputs.length + port;
}
