import { ModelError } from "../errors";
import { Node } from "../graph/graph";

/**
 * Stable topological order: among ready nodes the one that came first in the file goes first,
 * so an already-ordered file keeps its order. A cycle is a malformed model.
 */
export function topoSort(nodes: Node[], file: string): Node[] {
  const pos = new Map(nodes.map((n, i) => [n.id, i]));
  const pending = nodes.map((n) => new Set(n.inputs.map((r) => r.node)).size);
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const src of new Set(n.inputs.map((r) => r.node))) {
      const j = pos.get(src);
      if (j === undefined) throw new ModelError(file, `input refers to missing node ${src}`, n.name);
      users[j].push(i);
    }
  });
  // A binary heap keyed by file position keeps the order stable in O(n log n).
  const heap: number[] = [];
  const push = (v: number) => {
    heap.push(v);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p] <= heap[i]) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l] < heap[m]) m = l;
        if (r < heap.length && heap[r] < heap[m]) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
    return top;
  };
  pending.forEach((c, i) => c === 0 && push(i));
  const out: Node[] = [];
  while (heap.length > 0) {
    const i = pop();
    out.push(nodes[i]);
    for (const u of users[i]) if (--pending[u] === 0) push(u);
  }
  if (out.length !== nodes.length) {
    const stuck = nodes.find((_, i) => pending[i] > 0)!;
    throw new ModelError(file, "the graph has a cycle", stuck.name);
  }
  return out;
}
