/**
 * ONNX nodes no converter knows (another domain, or an op dynbatch does not implement) are kept
 * as layers of their own type, so the model still reads: an extension (ie.addExtension) can
 * then give them a shape rule and a computation, and without one, preparing the network names
 * the op and that call.
 */
import { UnsupportedError } from "../../errors";
import { Attrs, PortRef } from "../../graph/graph";
import { getOpDef } from "../../graph/ops/registry";
import { ReadCtx } from "./context";
import { ATTR, OnnxAttribute, toNum } from "./proto";

/** An attribute as IR writes it: numbers and lists as text ("1,2"), strings decoded; tensors and graphs are not kept. */
function attrText(a: OnnxAttribute): string | undefined {
  const text = (s: Uint8Array) => Buffer.from(s).toString("utf8");
  switch (a.type) {
    case ATTR.FLOAT:
      return String(a.f);
    case ATTR.INT:
      return String(toNum(a.i));
    case ATTR.STRING:
      return text(a.s);
    case ATTR.FLOATS:
      return a.floats.join(",");
    case ATTR.INTS:
      return a.ints.map(toNum).join(",");
    case ATTR.STRINGS:
      return a.strings.map(text).join(",");
    default:
      return undefined;
  }
}

/** The ONNX domain as the layer's version: what an extension's `domain` is matched against. */
export function domainOf(domain: string): string {
  return domain === "" || domain === "ai.onnx" ? "onnx" : domain;
}

export function customNode(c: ReadCtx): PortRef[] {
  const type = c.onnx.op_type;
  // A built-in opset op of the same name has other inputs and attributes: reading it as that op would be wrong.
  if (getOpDef(type))
    throw new UnsupportedError(c.file, `ONNX op '${type}' of domain '${c.onnx.domain}' is not supported`, c.name);
  const attrs: Attrs = {};
  for (const a of c.onnx.attribute) {
    const v = attrText(a);
    if (v !== undefined) attrs[a.name] = v;
  }
  const node = c.b.add(
    type,
    c.name,
    c.all(),
    attrs,
    c.onnx.output.map(() => ({ dtype: "f32" as const })),
  );
  node.version = domainOf(c.onnx.domain);
  return node.outputs.map((_, port) => ({ node: node.id, port }));
}
