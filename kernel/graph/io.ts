/**
 * Names of a graph's inputs and outputs. A user may address an output by its tensor name
 * (IR v11 `names`, ONNX value name), by the producing layer's name (Inference Engine style,
 * "layer.port" for multi-output layers) or by the Result's name.
 */
import { Graph, PortRef, nodeMap } from "./graph";

export interface GraphIo {
  /** Primary name: the first of `aliases`. */
  name: string;
  aliases: string[];
  /** The tensor: for an input, the Parameter's output; for an output, what the Result reads. */
  ref: PortRef;
}

function named(candidates: string[], ref: PortRef): GraphIo {
  const aliases = [...new Set(candidates.filter((s) => s.length > 0))];
  return { name: aliases[0], aliases, ref };
}

export function graphInputs(g: Graph): GraphIo[] {
  return g.nodes
    .filter((n) => n.type === "Parameter")
    .map((n) => named([n.name, ...n.outputs[0].names], { node: n.id, port: 0 }));
}

export function graphOutputs(g: Graph): GraphIo[] {
  const byId = nodeMap(g);
  return g.nodes
    .filter((n) => n.type === "Result")
    .map((n) => {
      const ref = n.inputs[0];
      const src = byId.get(ref.node)!;
      const producer = src.outputs.length > 1 ? `${src.name}.${ref.port}` : src.name;
      return named([...src.outputs[ref.port].names, producer, n.name.replace(/\/sink_port_\d+$/, ""), n.name], ref);
    });
}

/** Finds the input or output that `name` addresses. */
export function findIo(list: GraphIo[], name: string): GraphIo | undefined {
  return list.find((io) => io.aliases.includes(name));
}
