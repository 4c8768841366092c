/**
 * ProfileReport → MIME bundle. The static HTML is the network's graph (the topology view's
 * layout) coloured by each layer's time at the largest measured batch on a sequential scale, with
 * a legend in µs and % of the request, then the top layers and where each batch's time went as
 * tables. The text is the same two tables.
 */
import { ProfileLayer, ProfileNode, ProfileReport } from "../schema";
import { MimeBundle, PROFILE_MIME } from "./bundle";
import { escapeHtml, htmlTable, num, textTable } from "./format";
import { displayName, TOOLTIP_NAME_MAX } from "./names";
import { BOX_H, BOX_W, layoutLayers } from "./layout";
import { overviewSvg } from "./overview";
import { boxLabel, CHIP_GAP, CHIP_W, CHIPS, chipsSpace, foldFused } from "./fused";
import { FULL_GRAPH_LAYERS } from "./topology";

/** Light to dark: more time is darker (ColorBrewer's sequential "Oranges"). */
const SCALE = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
/** A node that has no time of its own: an input, an output, or a layer fused into another. */
const IDLE = { fill: "#ffffff", stroke: "#9e9e9e" };
/** Rows of the top-layers table. */
export const TOP_LAYERS = 15;
/** As in the topology view: above this many nodes the SVG would be too large to be useful. */
const MAX_GRAPH_NODES = 1500;

function hex(c: string): number[] {
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
}

/** The scale's colour at `t` in [0, 1], interpolated between its stops. */
export function heatColor(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (SCALE.length - 1);
  const i = Math.min(SCALE.length - 2, Math.floor(x));
  const [a, b] = [hex(SCALE[i]), hex(SCALE[i + 1])];
  return `#${a
    .map((v, k) =>
      Math.round(v + (b[k] - v) * (x - i))
        .toString(16)
        .padStart(2, "0"),
    )
    .join("")}`;
}

/** Median time of a layer at the batch of index k (0 for a fused layer). */
function timeAt(l: ProfileLayer, k: number): number {
  return l.timeUs ? l.timeUs[k].median : 0;
}

/** Layers that ran, by time at batch index k, slowest first (ties in execution order). */
export function topLayers(r: ProfileReport, k: number): ProfileLayer[] {
  return r.layers
    .map((l, i) => ({ l, i }))
    .filter(({ l }) => l.timeUs)
    .sort((a, b) => timeAt(b.l, k) - timeAt(a.l, k) || a.i - b.i)
    .map(({ l }) => l);
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "–";
}

function fusedIn(r: ProfileReport, host: string): string[] {
  return r.layers.filter((l) => l.fusedInto === host).map((l) => displayName(l.name));
}

/** The top-layers table's cells (plain text) at batch index k. */
function topRows(r: ProfileReport, k: number): string[][] {
  const wall = r.totals[k].wallUs;
  return topLayers(r, k)
    .slice(0, TOP_LAYERS)
    .map((l, rank) => [
      String(rank + 1),
      displayName(l.name),
      l.type,
      l.execType,
      l.precision ?? "–",
      num(timeAt(l, k)),
      percent(timeAt(l, k), wall),
      l.fit ? num(l.fit.perSampleUs) : "–",
      l.fit ? num(l.fit.fixedUs) : "–",
      l.fit ? l.fit.r2.toFixed(3) : "–",
      fusedIn(r, l.name).join(", "),
    ]);
}

function topHeaders(r: ProfileReport, k: number): string[] {
  return [
    "#",
    "layer",
    "type",
    "implementation",
    "precision",
    `µs at n=${r.batches[k]}`,
    "% of request",
    "µs/sample",
    "fixed µs",
    "R²",
    "fused in",
  ];
}

function totalRows(r: ProfileReport): string[][] {
  return r.totals.map((t) => [
    String(t.batch),
    num(t.wallUs),
    num(t.layersUs),
    num(t.outsideUs),
    percent(t.outsideUs, t.wallUs),
    num(t.wallUs / t.batch),
  ]);
}

const TOTAL_HEADERS = ["n", "request µs", "layers µs", "outside layers µs", "outside %", "µs/sample"];

/** Time of each graph node at batch index k: the layers of that name that ran. */
function nodeTimes(r: ProfileReport, k: number): Map<number, number> {
  const t = new Map<number, number>();
  for (const l of r.layers) if (l.node !== undefined && l.timeUs) t.set(l.node, (t.get(l.node) ?? 0) + timeAt(l, k));
  return t;
}

function nodeTooltip(node: ProfileNode, layer: ProfileLayer | undefined, us: number | undefined, wall: number): string {
  const head = `${displayName(node.name, TOOLTIP_NAME_MAX)}\n${node.type}`;
  if (layer?.fusedInto !== undefined) return `${head}\nfused into ${displayName(layer.fusedInto, TOOLTIP_NAME_MAX)}`;
  if (us === undefined) return `${head}\nno time of its own`;
  const fit = layer?.fit
    ? `\n≈ ${num(layer.fit.fixedUs)} µs + ${num(layer.fit.perSampleUs)} µs · n (R² ${layer.fit.r2.toFixed(3)})`
    : "";
  const impl = [layer?.execType, layer?.precision].filter((x) => x !== undefined).join(" ");
  return `${head}  ${impl}\n${num(us)} µs (${percent(us, wall)} of the request)${fit}`;
}

/** The dashed chips of the layers fused into a host box at (x, y), with their tooltips. */
function chipsSvg(host: ProfileNode, guests: ProfileNode[], x: number, y: number): string {
  const shown = guests.slice(0, CHIPS);
  const chips = shown.map((g, i) => {
    const cx = x + BOX_W - (CHIP_W + CHIP_GAP) * (shown.length - i) - 1;
    const tip = `${displayName(g.name, TOOLTIP_NAME_MAX)}\n${g.type}, fused into ${displayName(host.name, TOOLTIP_NAME_MAX)}`;
    return (
      `<rect x="${cx}" y="${y + 3}" width="${CHIP_W}" height="${BOX_H - 6}" rx="1" fill="${IDLE.fill}" stroke="${IDLE.stroke}" ` +
      `stroke-dasharray="3 2"><title>${escapeHtml(tip)}</title></rect>`
    );
  });
  const more =
    guests.length > shown.length
      ? `<text x="${x + BOX_W - (CHIP_W + CHIP_GAP) * shown.length - 4}" y="${y + BOX_H - 5}" font-size="9" text-anchor="end">+${guests.length - shown.length}</text>`
      : "";
  return chips.join("") + more;
}

/**
 * The graph coloured by each node's time at batch index k, as a standalone SVG element. Layers
 * fused into another are chips inside their host's box (kernel/display/fused.ts).
 */
export function profileSvg(r: ProfileReport, k: number): string {
  const drawn = foldFused(r);
  const { placed, width, height } = layoutLayers(drawn.nodes);
  const times = nodeTimes(r, k);
  const hottest = Math.max(0, ...times.values());
  const byNode = new Map(r.layers.filter((l) => l.node !== undefined).map((l) => [l.node!, l]));
  const at = new Map(placed.map((p) => [p.layer.id, p]));
  const edges: string[] = [];
  for (const p of placed)
    for (const i of new Set(p.layer.inputs)) {
      const q = at.get(i);
      if (q) edges.push(`<line x1="${q.x + BOX_W / 2}" y1="${q.y + BOX_H}" x2="${p.x + BOX_W / 2}" y2="${p.y}"/>`);
    }
  const boxes = placed.map(({ layer: node, x, y }) => {
    const us = times.get(node.id);
    const layer = byNode.get(node.id);
    // A fused layer whose host has no node of its own keeps a dashed box.
    const fused = layer?.fusedInto !== undefined;
    const guests = drawn.fused.get(node.id) ?? [];
    const fill = us === undefined ? IDLE.fill : heatColor(hottest > 0 ? us / hottest : 0);
    const stroke = us === undefined ? IDLE.stroke : "#7f2704";
    // Dark boxes take white text, centred in the part of the box the chips leave free.
    const ink = us !== undefined && hottest > 0 && us / hottest > 0.6 ? "#fff" : "#222";
    const label = boxLabel(node.type, us === undefined ? undefined : num(us), BOX_W - chipsSpace(guests.length));
    return (
      `<g><title>${escapeHtml(nodeTooltip(node, layer, us, r.totals[k].wallUs))}</title>` +
      `<rect x="${x}" y="${y}" width="${BOX_W}" height="${BOX_H}" rx="3" fill="${fill}" stroke="${stroke}"` +
      `${fused ? ` stroke-dasharray="3 2"` : ""}/>` +
      `<text x="${x + (BOX_W - chipsSpace(guests.length)) / 2}" y="${y + BOX_H / 2 + 4}" fill="${ink}">${escapeHtml(label)}</text>` +
      `${chipsSvg(node, guests, x, y)}</g>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<g stroke="#9e9e9e">${edges.join("")}</g>` +
    `<g font-size="11" font-family="sans-serif" text-anchor="middle">${boxes.join("")}</g></svg>`
  );
}

/** Heat levels of the overview: one <path> per level keeps a large graph a few KB. */
const OVERVIEW_LEVELS = 8;

/** A large graph as a scaled-down overview coloured by time; the top layers keep their tooltip. */
export function profileOverview(r: ProfileReport, k: number): string {
  const times = nodeTimes(r, k);
  const hottest = Math.max(0, ...times.values());
  const byNode = new Map(r.layers.filter((l) => l.node !== undefined).map((l) => [l.node!, l]));
  const top = new Set(topLayers(r, k).slice(0, TOP_LAYERS));
  return overviewSvg(foldFused(r).nodes, (node) => {
    const us = times.get(node.id);
    if (us === undefined) return IDLE;
    const level = hottest > 0 ? Math.round((us / hottest) * OVERVIEW_LEVELS) / OVERVIEW_LEVELS : 0;
    const layer = byNode.get(node.id);
    const title = layer && top.has(layer) ? { title: nodeTooltip(node, layer, us, r.totals[k].wallUs) } : {};
    return { fill: heatColor(level), stroke: "#7f2704", ...title };
  });
}

/** The colour scale from 0 to the hottest node's time, labelled in µs and % of the request. */
function legendSvg(hottest: number, wall: number): string {
  const steps = SCALE.length;
  const sw = 96;
  const swatches = Array.from({ length: steps }, (_, i) => {
    const t = i / (steps - 1);
    const x = i * sw;
    return (
      `<rect x="${x}" y="0" width="${sw}" height="12" fill="${heatColor(t)}" stroke="#ccc"/>` +
      `<text x="${x + 2}" y="26">${escapeHtml(`${num(t * hottest)} µs · ${percent(t * hottest, wall)}`)}</text>`
    );
  });
  const w = steps * sw;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="30" viewBox="0 0 ${w} 30">` +
    `<g font-size="10" font-family="sans-serif" fill="#222">${swatches.join("")}</g></svg>`
  );
}

/** What was measured, after the model's name. */
function context(r: ProfileReport): string {
  return `${r.device} · ${r.layers.filter((l) => l.timeUs).length} layers ran · median of ${r.runs} runs per batch`;
}

export function profileHtml(r: ProfileReport): string {
  const k = r.batches.length - 1;
  const n = r.batches[k];
  const graph = r.graph ?? [];
  const hottest = Math.max(0, ...nodeTimes(r, k).values());
  const parts = [
    `<div style="font-family:sans-serif;font-size:13px;line-height:1.4">`,
    `<div><b>${escapeHtml(displayName(r.model))}</b> · ${escapeHtml(context(r))}</div>`,
  ];
  if (graph.length && graph.length <= FULL_GRAPH_LAYERS) {
    parts.push(
      `<details open style="margin-top:6px"><summary>Graph at n = ${n}: darker boxes take more time ` +
        `(dashed chips: layers fused into the box's layer; hover a box for its time and fit)</summary>`,
      legendSvg(hottest, r.totals[k].wallUs),
      `<div style="max-height:560px;overflow:auto;border:1px solid #ddd">${profileSvg(r, k)}</div></details>`,
    );
  } else if (graph.length && graph.length <= MAX_GRAPH_NODES) {
    parts.push(
      `<details style="margin-top:6px"><summary>Graph overview at n = ${n} (${graph.length} nodes, scaled down): ` +
        `darker boxes take more time; hover one of the top ${TOP_LAYERS} for its time and fit; the JupyterLab view is interactive</summary>`,
      legendSvg(hottest, r.totals[k].wallUs),
      `<div style="max-height:560px;overflow:auto;border:1px solid #ddd">${profileOverview(r, k)}</div></details>`,
    );
  }
  const numeric = [0, 5, 6, 7, 8, 9];
  parts.push(
    `<div style="margin-top:6px"><b>Top layers at n = ${n}</b></div>`,
    htmlTable(
      topHeaders(r, k),
      topRows(r, k).map((row) => row.map(escapeHtml)),
      numeric,
    ),
    `<div style="margin-top:6px"><b>Where each request's time went</b></div>`,
    htmlTable(
      TOTAL_HEADERS,
      totalRows(r).map((row) => row.map(escapeHtml)),
      [0, 1, 2, 3, 4, 5],
    ),
    `</div>`,
  );
  return parts.join("");
}

export function profileText(r: ProfileReport): string {
  const k = r.batches.length - 1;
  return [
    `${displayName(r.model)} · ${context(r)}`,
    `Top layers at n = ${r.batches[k]}:`,
    textTable(topHeaders(r, k), topRows(r, k)),
    `Where each request's time went:`,
    textTable(TOTAL_HEADERS, totalRows(r)),
  ].join("\n");
}

/** The bundle for a profile; the JSON part is the report itself. */
export function profileBundle(report: ProfileReport): MimeBundle {
  return {
    [PROFILE_MIME]: JSON.parse(JSON.stringify(report)),
    "text/html": profileHtml(report),
    "text/plain": profileText(report),
  };
}
