/**
 * TopologyReport → MIME bundle. The static HTML is a verdict line, the blocking layers as a
 * table, and the graph as an SVG layered by topological depth (constants, folded at load, are
 * left out), colored by verdict; hovering a box shows its name, shape and reason.
 */
import { LayerVerdict, TopologyReport } from "../schema";
import { InputError } from "../errors";
import { MimeBundle, TOPOLOGY_MIME } from "./bundle";
import { clip, escapeHtml, htmlTable, moreText, shapeText } from "./format";
import { displayName, TOOLTIP_NAME_MAX } from "./names";
import { BOX_H, BOX_W, layoutLayers } from "./layout";
import { overviewSvg } from "./overview";
import { topologyFixHint } from "./fix_hint";
import { fixesTableHtml, fixesTableText } from "./fixes";

export { BOX_H, BOX_W, layoutLayers } from "./layout";
export type { GraphNode } from "./layout";

/** Title of the section listing the changes a fixed network's report carries. */
const FIXES_TITLE = "Changes by fixForDynamicBatch()";

/** Above this many layers even the overview would be too large to be useful; the tables remain. */
const MAX_GRAPH_LAYERS = 1500;
/** Up to this many layers the graph is drawn full size with labels; above, as a scaled-down overview. */
export const FULL_GRAPH_LAYERS = 64;
/** Names listed per group of blocking layers before "… N more". */
const GROUP_NAMES = 12;

const COLORS: Record<LayerVerdict["verdict"], { fill: string; stroke: string }> = {
  supported: { fill: "#e3f4e4", stroke: "#2e7d32" },
  unsupported: { fill: "#fde0e0", stroke: "#c62828" },
  constant: { fill: "#eeeeee", stroke: "#9e9e9e" },
};

function tooltip(l: LayerVerdict): string {
  return `${displayName(l.name, TOOLTIP_NAME_MAX)}\n${l.type} → ${l.legacyType}  ${shapeText(l.outputShape)}\n${l.verdict}: ${l.reason}`;
}

/**
 * The layers that are drawn: the non-constant ones, each reading the non-constant layers behind
 * the constants it reads. Folding leaves a PriorBox feeding DetectionOutput through a constant
 * Concat, and reading a feature map's shape through a constant ShapeOf; drawn without those
 * paths it would float at the top of the graph, unconnected.
 */
export function drawnLayers(report: TopologyReport): LayerVerdict[] {
  const byId = new Map(report.layers.map((l) => [l.id, l]));
  const behind = new Map<number, number[]>();
  const sources = (id: number): number[] => {
    const l = byId.get(id);
    if (!l) return [];
    if (l.verdict !== "constant") return [id];
    let known = behind.get(id);
    if (!known) {
      behind.set(id, []);
      known = [...new Set(l.inputs.flatMap(sources))];
      behind.set(id, known);
    }
    return known;
  };
  return report.layers
    .filter((l) => l.verdict !== "constant")
    .map((l) => ({ ...l, inputs: [...new Set(l.inputs.flatMap(sources))] }));
}

/** The layered graph of the non-constant layers as a standalone SVG element. */
export function topologySvg(report: TopologyReport): string {
  const layers = drawnLayers(report);
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

/** The first names of a group, then how many more. */
function namesText(names: string[]): string {
  const more = names.length > GROUP_NAMES ? `, ${moreText(names.length - GROUP_NAMES, "")}`.trimEnd() : "";
  return names.slice(0, GROUP_NAMES).join(", ") + more;
}

/**
 * A large graph as a scaled-down overview in verdict colours. A blocking box's tooltip is its name
 * and type only: the reason is in the blocking table, and a tooltip per box is most of the size.
 */
function topologyOverview(layers: LayerVerdict[]): string {
  return overviewSvg(layers, (l) => ({
    ...COLORS[l.verdict],
    bar: true,
    ...(l.verdict === "unsupported" ? { title: `${displayName(l.name)} (${l.type})` } : {}),
  }));
}

function graphHtml(nonConstant: LayerVerdict[], r: TopologyReport): string {
  const red = `<span style="color:${COLORS.unsupported.stroke}">red</span>`;
  if (nonConstant.length <= FULL_GRAPH_LAYERS)
    return (
      `<details open style="margin-top:6px"><summary>Graph (${nonConstant.length} layers; ` +
      `${red} blocks a dynamic batch; hover a box for its reason)</summary>` +
      `<div style="max-height:560px;overflow:auto;border:1px solid #ddd">${topologySvg(r)}</div></details>`
    );
  return (
    `<details style="margin-top:6px"><summary>Graph overview (${nonConstant.length} layers, scaled down; ` +
    `${red} blocks a dynamic batch; hover a red box for its reason; the JupyterLab view is interactive)</summary>` +
    `<div style="max-height:560px;overflow:auto;border:1px solid #ddd">${topologyOverview(nonConstant)}</div></details>`
  );
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

/** `other`: the same network in the other mode, when the display carries both (it shapes the fix hint). */
export function topologyHtml(r: TopologyReport, other?: TopologyReport): string {
  const fix = topologyFixHint(r, other);
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
    const rows = groups.map((g) => [escapeHtml(g.type), escapeHtml(namesText(g.names)), escapeHtml(g.reason)]);
    parts.push(
      `<div style="margin-top:6px"><b>Blocking layers</b></div>`,
      htmlTable(["type → legacy type", "layers", "why"], rows),
    );
    if (fix) parts.push(`<div><b>Fix:</b> ${escapeHtml(fix)}</div>`);
  }
  if (r.fixes?.length) parts.push(`<div style="margin-top:6px"><b>${FIXES_TITLE}</b></div>`, fixesTableHtml(r.fixes));
  if (nonConstant.length && nonConstant.length <= MAX_GRAPH_LAYERS) parts.push(graphHtml(drawnLayers(r), r));
  // Blocking layers first: a capped table then still shows every layer that matters.
  const ordered = [
    ...nonConstant.filter((l) => l.verdict === "unsupported"),
    ...nonConstant.filter((l) => l.verdict !== "unsupported"),
  ];
  parts.push(
    `<details style="margin-top:6px"><summary>All ${nonConstant.length} layers (blocking first)</summary>`,
    htmlTable(headers, layerRows(ordered)),
    `</details></div>`,
  );
  return parts.join("");
}

export function topologyText(r: TopologyReport, other?: TopologyReport): string {
  const head =
    `${displayName(r.model)} (${r.mode}): ${verdictLine(r)}\n` +
    `${r.summary.total} nodes: ${r.summary.supported} supported, ${r.summary.unsupported} unsupported, ` +
    `${r.summary.constant} constant`;
  const groups = blockingGroups(r.layers);
  const lines = groups.map((g) => `✗ ${g.type} (${g.names.length}): ${namesText(g.names)}\n    why: ${g.reason}`);
  const fix = groups.length ? topologyFixHint(r, other) : undefined;
  const fixes = r.fixes?.length ? [`${FIXES_TITLE}:\n${fixesTableText(r.fixes)}`] : [];
  return [head, ...lines, ...(fix ? [`fix: ${fix}`] : []), ...fixes].join("\n");
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
  // Both modes judge the same network, so its changes are the same: shown once, with the first.
  const { fixes: _f, ...otherShown } = other;
  return {
    [TOPOLOGY_MIME]: JSON.parse(JSON.stringify({ ...primary, alternate: other })),
    "text/html": topologyHtml(primary, other) + topologyHtml(otherShown, primary),
    "text/plain": `${topologyText(primary, other)}\n\n${topologyText(otherShown, primary)}`,
  };
}
