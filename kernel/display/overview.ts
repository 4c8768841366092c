/**
 * A large graph drawn small, for the static fallbacks: the topology layout scaled to a fixed width,
 * boxes without labels, the boxes of one colour in one <path> and all edges in another. That costs
 * about 40 bytes a layer instead of 300, so a 200-layer network's picture stays a few KB in the
 * notebook file. Boxes that matter (blocking layers, the hottest layers) keep a hover tooltip.
 */
import { escapeHtml } from "./format";
import { BOX_W, GraphNode, layoutLayers } from "./layout";

/** Width of the overview in pixels: a notebook column on a code host. */
export const OVERVIEW_W = 720;
/**
 * Height the overview aims at: a deep network's rows are squeezed (down to MIN_ROW pixels) so
 * that the whole graph, where the blocking layers usually sit at the end, shows without scrolling.
 */
const FIT_H = 540;
const MIN_ROW = 4;
const MAX_ROW = 10;
const PAD = 4;

/**
 * How one box is drawn: a filled box with an outline, or with `bar` a solid bar in the stroke
 * colour (half the bytes; right when the stroke colours alone tell the classes apart). Boxes with
 * a title are drawn as their own element so they can carry it.
 */
export interface OverviewStyle {
  fill: string;
  stroke: string;
  bar?: boolean;
  title?: string;
}

/** One decimal: sub-pixel enough, and short. */
function r1(v: number): number {
  return Math.round(10 * v) / 10;
}

/** The layered graph, scaled to at most OVERVIEW_W pixels wide, as a standalone SVG element. */
export function overviewSvg<T extends GraphNode>(layers: T[], style: (layer: T) => OverviewStyle): string {
  const { placed, width, rows } = layoutLayers(layers);
  const sx = Math.min(1, OVERVIEW_W / width);
  const rowH = Math.round(10 * Math.min(MAX_ROW, Math.max(MIN_ROW, (FIT_H - 2 * PAD) / rows))) / 10;
  const boxH = Math.round(6 * rowH) / 10;
  // Even, so that a box's centre (where edges meet it) is a whole pixel.
  const w = Math.max(2, 2 * Math.round((BOX_W * sx) / 2));
  const boxes = placed.map((p) => ({
    layer: p.layer,
    x: Math.round(p.x * sx),
    y: Math.round(10 * (PAD + p.row * rowH)) / 10,
  }));
  const at = new Map(boxes.map((b) => [b.layer.id, b]));
  const edges: string[] = [];
  for (const b of boxes)
    for (const i of new Set(b.layer.inputs)) {
      const a = at.get(i);
      if (a) edges.push(`M${a.x + w / 2} ${r1(a.y + boxH)}l${b.x - a.x} ${r1(b.y - a.y - boxH)}`);
    }
  const plain = new Map<string, string[]>();
  const titled: string[] = [];
  for (const b of boxes) {
    const s = style(b.layer);
    const key = s.bar ? `stroke="${s.stroke}" stroke-width="${boxH}"` : `fill="${s.fill}" stroke="${s.stroke}"`;
    const d = s.bar ? `M${b.x} ${r1(b.y + boxH / 2)}h${w}` : `M${b.x} ${b.y}h${w}v${boxH}h-${w}z`;
    if (s.title !== undefined) titled.push(`<path ${key} d="${d}"><title>${escapeHtml(s.title)}</title></path>`);
    else (plain.get(key) ?? plain.set(key, []).get(key)!).push(d);
  }
  const W = Math.round(width * sx);
  const H = Math.ceil(2 * PAD + rows * rowH - (rowH - boxH));
  const paths = [...plain].map(([key, d]) => `<path ${key} d="${d.join("")}"/>`);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">` +
    (edges.length ? `<path fill="none" stroke="#bbb" stroke-width="0.6" d="${edges.join("")}"/>` : "") +
    `<g stroke-width="0.6">${paths.join("")}${titled.join("")}</g></svg>`
  );
}
