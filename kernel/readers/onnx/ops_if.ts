/**
 * ONNX If, when its condition is a constant at read (a frozen input, an initializer, or what folds
 * from them): the taken branch's nodes are converted inline and the If's outputs are that branch's
 * outputs; the other branch is dropped, as OpenVINO's convert_model does for a frozen input. An If
 * whose condition depends on a network input is refused, naming the inputs to freeze.
 */
import { ModelError } from "../../errors";
import { evaluateConst } from "../../graph/evaluate";
import { Node, PortRef } from "../../graph/graph";
import { numel } from "../../graph/ops/util";
import { ReadCtx } from "./context";

export function ifNode(c: ReadCtx): PortRef[] {
  const cond = c.input(0, "cond");
  const { value, inputs, shapeInputs } = evaluateConst((id) => c.b.node({ node: id, port: 0 }), cond, c.file);
  if (!value) {
    const names = (l: string[]) => l.map((i) => `'${i}'`).join(", ");
    const freeze = inputs.map((i) => `${JSON.stringify(i)}: [...]`).join(", ");
    throw c.unsupported(
      inputs.length > 0
        ? `the condition depends on the graph input(s) ${names(inputs)} and is not a constant at read; ` +
            `freeze them with ie.readNetwork(path, { freeze: { ${freeze} } }) to keep one branch`
        : shapeInputs.length > 0
          ? `the condition depends on the shape of the graph input(s) ${names(shapeInputs)}, which is not known at read; ` +
            "an If decided by a shape is not supported"
          : "the condition is not a constant at read (an op on its path cannot be folded)",
    );
  }
  if (numel(value.shape) !== 1)
    throw new ModelError(c.file, `If: the condition has ${numel(value.shape)} values, not one`, c.name);
  const branch = c.graph(value.data[0] !== 0 ? "then_branch" : "else_branch");
  const want = c.onnx.output.length;
  if (branch.output.length !== want)
    throw new ModelError(c.file, `If: the taken branch has ${branch.output.length} outputs, the If ${want}`, c.name);
  c.b.inline(branch);
  c.b.droppable.push(cond);
  return branch.output.map((o, i) => {
    const ref = c.b.resolve(o.name, c.name);
    // The If's output name comes first, so the network's output is called what the file calls it.
    const names = c.b.node(ref).outputs[ref.port].names;
    if (c.onnx.output[i]) names.unshift(c.onnx.output[i]);
    return ref;
  });
}

/**
 * Drops the nodes that only computed folded If conditions (a frozen input's Reshape → Gather →
 * Equal) and frozen inputs only a dropped branch read, then numbers the nodes again from 0 so ids
 * stay their positions.
 */
export function dropDead(nodes: Node[], roots: PortRef[]): Node[] {
  if (roots.length === 0) return nodes;
  const users = new Map<number, number>();
  for (const n of nodes) for (const r of n.inputs) users.set(r.node, (users.get(r.node) ?? 0) + 1);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const dead = new Set<number>();
  const queue = roots.map((r) => r.node);
  while (queue.length > 0) {
    const id = queue.pop()!;
    const n = byId.get(id)!;
    // A Parameter stays an input even when only the dropped branch read it.
    if (dead.has(id) || (users.get(id) ?? 0) > 0 || n.type === "Parameter") continue;
    dead.add(id);
    for (const r of n.inputs) {
      users.set(r.node, users.get(r.node)! - 1);
      queue.push(r.node);
    }
  }
  const kept = nodes.filter((n) => !dead.has(n.id));
  const index = new Map(kept.map((n, i) => [n.id, i]));
  return kept.map((n) => ({
    ...n,
    id: index.get(n.id)!,
    inputs: n.inputs.map((r) => ({ node: index.get(r.node)!, port: r.port })),
  }));
}
