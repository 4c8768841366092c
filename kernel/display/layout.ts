/**
 * The layered layout every graph of the display shares (topology and profile, static SVG and the
 * JupyterLab views): rows by longest path from the inputs, boxes of a fixed size.
 */

/** Size of a layer's box in the SVG graphs (the profile view draws on the same layout). */
export const BOX_W = 128;
export const BOX_H = 20;
const GAP_X = 10;
const GAP_Y = 16;
const PAD = 8;
/** What the layout reads of a node: the topology and profile reports both have it. */
export interface GraphNode {
  id: number;
  type: string;
  inputs: number[];
}

export interface Placed<T extends GraphNode> {
  layer: T;
  x: number;
  y: number;
  /** Row index (longest path from the inputs, as laid out). */
  row: number;
}

/**
 * Rows by longest path from the inputs; within a row, boxes ordered by the mean position of
 * their parents (one barycentric pass), which keeps branches side by side.
 */
export function layoutLayers<T extends GraphNode>(
  layers: T[],
): { placed: Placed<T>[]; width: number; height: number; rows: number } {
  const depth = new Map<number, number>();
  for (const l of layers) {
    let d = 0;
    for (const i of l.inputs) {
      const di = depth.get(i);
      if (di !== undefined) d = Math.max(d, di + 1);
    }
    depth.set(l.id, d);
  }
  // Layers no network input reaches (PriorBox in strict mode, fed by constants, and what they
  // feed until an input's path joins) sit just above their first consumer rather than beside
  // the network input: in reverse order, so a chain of them moves down together.
  const consumers = new Map<number, number[]>();
  for (const l of layers)
    for (const i of l.inputs) if (depth.has(i)) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(l.id);
  const fed = new Set<number>();
  for (const l of layers) if (l.type === "Parameter" || l.inputs.some((i) => fed.has(i))) fed.add(l.id);
  for (const l of [...layers].reverse()) {
    const uses = consumers.get(l.id);
    if (fed.size === 0 || fed.has(l.id) || !uses) continue;
    depth.set(l.id, Math.max(0, Math.min(...uses.map((u) => depth.get(u)!)) - 1));
  }
  const rows: T[][] = [];
  for (const l of layers) (rows[depth.get(l.id)!] ??= []).push(l);
  const column = new Map<number, number>();
  for (const row of rows) {
    if (!row) continue;
    const key = (l: T) => {
      const xs = l.inputs.map((i) => column.get(i)).filter((x): x is number => x !== undefined);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
    };
    const order = row.map((l, i) => ({ l, i, k: key(l) })).sort((a, b) => a.k - b.k || a.i - b.i);
    order.forEach((o, i) => column.set(o.l.id, i - (row.length - 1) / 2));
  }
  const widest = Math.max(1, ...rows.map((r) => (r ? r.length : 0)));
  const width = widest * (BOX_W + GAP_X) - GAP_X + 2 * PAD;
  const center = width / 2;
  const placed = layers.map((layer) => ({
    layer,
    x: center + column.get(layer.id)! * (BOX_W + GAP_X) - BOX_W / 2,
    y: PAD + depth.get(layer.id)! * (BOX_H + GAP_Y),
    row: depth.get(layer.id)!,
  }));
  const height = PAD * 2 + rows.length * (BOX_H + GAP_Y) - GAP_Y;
  return { placed, width, height, rows: rows.length };
}
