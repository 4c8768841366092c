/**
 * 1-D windows (Conv1d, pooling over a sequence) run as the 2-D native ops with a height of 1: a
 * copy gives the tensor a unit axis 2 and another takes it away again (same data, same order).
 */
import { Node } from "../../graph/graph";
import { Lowering } from "./lowering";

/** [N, C, L] → [N, C, 1, L]; `v` is what the added axis holds in per-axis attributes (0 for pads, 1 for strides). */
export function lift<T>(values: T[], v: T): T[] {
  return [v, ...values];
}

/** The input tensor `t` of shape [N, C, L] as a [N, C, 1, L] tensor. */
export function liftInput(L: Lowering, n: Node, t: number, shape: number[]): number {
  const lifted = L.activation([shape[0], shape[1], 1, ...shape.slice(2)], L.isBatched(n.inputs[0]));
  L.emit({ ...n, name: `${n.name}/to_2d` }, "copy", [t], [lifted], {});
  return lifted;
}

/** A [N, C, 1, L] tensor for the op to write, and the copy into its [N, C, L] output (emit it after the op). */
export function liftOutput(L: Lowering, n: Node): { tensor: number; finish: () => void } {
  const ys = n.outputs[0].shape;
  const t = L.activation([ys[0], ys[1], 1, ...ys.slice(2)], L.isBatched({ node: n.id, port: 0 }));
  return { tensor: t, finish: () => L.emit({ ...n, name: `${n.name}/from_2d` }, "copy", [t], [L.out(n)], {}) };
}
