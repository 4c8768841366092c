/**
 * TopologyReport → MIME bundle. The static HTML is a verdict line, the blocking layers as a
 * table, and the graph as an SVG layered by topological depth (constants, folded at load, are
 * left out), colored by verdict; hovering a box shows its name, shape and reason.
 */
import { LayerVerdict, TopologyReport } from "../schema";
import { InputError } from "../errors";
import { MimeBundle, TOPOLOGY_MIME } from "./bundle";
import { clip, escapeHtml, htmlTable, shapeText } from "./format";
import { displayName, TOOLTIP_NAME_MAX } from "./names";

const COLORS: Record<LayerVerdict["verdict"], { fill: string; stroke: string }> = {
  supported: { fill: "#e3f4e4", stroke: "#2e7d32" },
  unsupported: { fill: "#fde0e0", stroke: "#c62828" },
  constant: { fill: "#eeeeee", stroke: "#9e9e9e" },
};

/** Size of a layer's box in the SVG graphs (the profile view draws on the same layout). */
export const BOX_W = 128;
export const BOX_H = 20;
const GAP_X = 10;
const GAP_Y = 16;
const PAD = 8;
/** Above this many layers the SVG would be too large to be useful; the tables remain. */
const MAX_GRAPH_LAYERS = 1500;

/** What the layout reads of a node: the topology and profile reports both have it. */
export interface GraphNode {
  id: number;
  type: string;
  inputs: number[];
}

interface Placed<T extends GraphNode> {
  layer: T;
  x: number;
  y: number;
}

/**
 * Rows by longest path from the inputs; within a row, boxes ordered by the mean position of
 * their parents (one barycentric pass), which keeps branches side by side.
 */
export function layoutLayers<T extends GraphNode>(layers: T[]): { placed: Placed<T>[]; width: number; height: number } {
  const depth = new Map<number, number>();
  for (const l of layers) {
    let d = 0;
    for (const i of l.inputs) {
      const di = depth.get(i);
      if (di !== undefined) d = Math.max(d, di + 1);
    }
    depth.set(l.id, d);
  }
  // A layer fed only by constants (PriorBox in strict mode) sits just above its first consumer
  // rather than beside the network input.
  const consumers = new Map<number, number[]>();
  for (const l of layers)
    for (const i of l.inputs) if (depth.has(i)) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(l.id);
  for (const l of [...layers].reverse()) {
    const uses = consumers.get(l.id);
    if (l.type === "Parameter" || !uses || l.inputs.some((i) => depth.has(i))) continue;
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
  }));
  const height = PAD * 2 + rows.length * (BOX_H + GAP_Y) - GAP_Y;
  return { placed, width, height };
}

function tooltip(l: LayerVerdict): string {
  return `${displayName(l.name, TOOLTIP_NAME_MAX)}\n${l.type} → ${l.legacyType}  ${shapeText(l.outputShape)}\n${l.verdict}: ${l.reason}`;
}

/** The layered graph of the non-constant layers as a standalone SVG element. */
export function topologySvg(report: TopologyReport): string {
  const layers = report.layers.filter((l) => l.verdict !== "constant");
  const { placed, width, height } = layoutLayers(layers);
  const at = new Map(placed.map((p) => [p.layer.id, p]));
  const edges: string[] = [];
  for (const p of placed) {
    for (const i of new Set(p.layer.inputs)) {
      const q = at.get(i);
      if (!q) continue;
      edges.push(`<line x1="${q.x + BOX_W / 2}" y1="${q.y + BOX_H}" x2="${p.x + BOX_W / 2}" y2="${p.y}"/>`);
    }
  }
  const boxes = placed.map(({ layer, x, y }) => {
    const c = COLORS[layer.verdict];
    return (
      `<g><title>${escapeHtml(tooltip(layer))}</title>` +
      `<rect x="${x}" y="${y}" width="${BOX_W}" height="${BOX_H}" rx="3" fill="${c.fill}" stroke="${c.stroke}"/>` +
      `<text x="${x + BOX_W / 2}" y="${y + BOX_H / 2 + 4}">${escapeHtml(clip(layer.type, 20))}</text></g>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<g stroke="#9e9e9e">${edges.join("")}</g>` +
    `<g font-size="11" font-family="sans-serif" text-anchor="middle" fill="#222">${boxes.join("")}</g></svg>`
  );
}

function verdictLine(r: TopologyReport): string {
  return r.supported
    ? "✓ can run with a dynamic batch"
    : `✗ cannot run with a dynamic batch: ${r.summary.unsupported} blocking layer(s)`;
}

/** Blocking layers grouped by type and reason: the strict rule gives one reason per type. */
function blockingGroups(layers: LayerVerdict[]): { type: string; reason: string; names: string[] }[] {
  const groups = new Map<string, { type: string; reason: string; names: string[] }>();
  for (const l of layers.filter((x) => x.verdict === "unsupported")) {
    const type = `${l.type} → ${l.legacyType}`;
    const key = JSON.stringify([type, l.reason]);
    if (!groups.has(key)) groups.set(key, { type, reason: l.reason, names: [] });
    groups.get(key)!.names.push(displayName(l.name));
  }
  return [...groups.values()];
}

/** Blocking Reshapes and Flattens may hard-code the batch, which fixForDynamicBatch() rewrites and proves. */
const REWRITABLE = new Set(["Reshape", "Flatten"]);
const FIX_HINT =
  "Reshape/Flatten targets that hard-code the batch: `await net.fixForDynamicBatch()` rewrites them to keep axis 0 and proves each change (display(changes) shows them).";

function hasRewritable(r: TopologyReport): boolean {
  return r.layers.some((l) => l.verdict === "unsupported" && REWRITABLE.has(l.type));
}

function layerRows(layers: LayerVerdict[]): string[][] {
  return layers.map((l) => [
    escapeHtml(displayName(l.name)),
    `${escapeHtml(l.type)} → ${escapeHtml(l.legacyType)}`,
    escapeHtml(shapeText(l.outputShape)),
    `<span style="color:${COLORS[l.verdict].stroke}">${escapeHtml(l.verdict)}</span>`,
    escapeHtml(l.reason),
  ]);
}

export function topologyHtml(r: TopologyReport): string {
  const groups = blockingGroups(r.layers);
  const nonConstant = r.layers.filter((l) => l.verdict !== "constant");
  const headers = ["layer", "type → legacy type", "output shape", "verdict", "reason"];
  const parts = [
    `<div style="font-family:sans-serif;font-size:13px;line-height:1.4">`,
    `<div><b>${escapeHtml(displayName(r.model))}</b> · ${escapeHtml(r.mode)} analysis · ` +
      `<b style="color:${r.supported ? COLORS.supported.stroke : COLORS.unsupported.stroke}">${escapeHtml(verdictLine(r))}</b></div>`,
    `<div style="color:#555">${r.summary.total} nodes: ${r.summary.supported} supported, ` +
      `${r.summary.unsupported} unsupported, ${r.summary.constant} constant (folded at load)</div>`,
  ];
  if (groups.length) {
    const rows = groups.map((g) => [escapeHtml(g.type), escapeHtml(g.names.join(", ")), escapeHtml(g.reason)]);
    parts.push(
      `<div style="margin-top:6px"><b>Blocking layers</b></div>`,
      htmlTable(["type → legacy type", "layers", "why"], rows),
    );
    if (hasRewritable(r)) parts.push(`<div><b>Fix:</b> ${escapeHtml(FIX_HINT)}</div>`);
  }
  if (nonConstant.length && nonConstant.length <= MAX_GRAPH_LAYERS) {
    parts.push(
      `<details open style="margin-top:6px"><summary>Graph (${nonConstant.length} layers; ` +
        `<span style="color:${COLORS.unsupported.stroke}">red</span> blocks a dynamic batch; hover a box for its reason)</summary>`,
      `<div style="max-height:560px;overflow:auto;border:1px solid #ddd">${topologySvg(r)}</div></details>`,
    );
  }
  parts.push(
    `<details style="margin-top:6px"><summary>All ${nonConstant.length} layers</summary>`,
    htmlTable(headers, layerRows(nonConstant)),
    `</details></div>`,
  );
  return parts.join("");
}

export function topologyText(r: TopologyReport): string {
  const head =
    `${displayName(r.model)} (${r.mode}): ${verdictLine(r)}\n` +
    `${r.summary.total} nodes: ${r.summary.supported} supported, ${r.summary.unsupported} unsupported, ` +
    `${r.summary.constant} constant`;
  const groups = blockingGroups(r.layers);
  if (!groups.length) return head;
  const lines = groups.map((g) => `✗ ${g.type} (${g.names.length}): ${g.names.join(", ")}\n    why: ${g.reason}`);
  return `${head}\n${lines.join("\n")}${hasRewritable(r) ? `\nfix: ${FIX_HINT}` : ""}`;
}

/**
 * The bundle for a topology report; the JSON part is the report itself. With a second report (the
 * same network in the other mode) the JSON carries it as `alternate` and the fallbacks show both.
 */
export function topologyBundle(report: TopologyReport, alternate?: TopologyReport): MimeBundle {
  if (!alternate) {
    return {
      [TOPOLOGY_MIME]: JSON.parse(JSON.stringify(report)),
      "text/html": topologyHtml(report),
      "text/plain": topologyText(report),
    };
  }
  if (alternate.mode === report.mode || alternate.model !== report.model)
    throw new InputError(
      `display([a, b]) of topology reports takes one network in both modes; got ${report.model} (${report.mode}) and ${alternate.model} (${alternate.mode})`,
    );
  const { alternate: _a, ...primary } = report;
  const { alternate: _b, ...other } = alternate;
  return {
    [TOPOLOGY_MIME]: JSON.parse(JSON.stringify({ ...primary, alternate: other })),
    "text/html": topologyHtml(primary) + topologyHtml(other),
    "text/plain": `${topologyText(primary)}\n\n${topologyText(other)}`,
  };
}
