/**
 * Draws the laid-out graph on a 2D canvas. Only what intersects the view is drawn; nodes of one
 * verdict share one path, so a frame costs a few fills whatever the node count; text appears
 * only once it is large enough to read. Model strings reach the canvas through fillText only.
 */
import type { Verdict } from "../../../kernel/schema";
import { NAME_MAX } from "../../../kernel/display/names";
import { Layout, NODE_H, NODE_W } from "./layout";
import type { ViewGraph } from "./model";
import type { Palette } from "./palette";
import type { Viewport } from "./viewport";

/** Text below this zoom would be under ~6px on screen: skipped. */
const LABEL_MIN_SCALE = 0.55;
/** Smallest on-screen box size in pixels, so a zoomed-out overview still shows every node… */
const MIN_BOX_PX = 2;
/** …and unsupported ones larger, since they are what the view is for. */
const MIN_BLOCKER_PX = 7;
const NAME_FONT_PX = 11;
const SUB_FONT_PX = 10;
const PADDING_X = 7;
const ARROW = 5;
const DRAW_ORDER: Verdict[] = ["constant", "supported", "unsupported"];
/** Boxes shorter than this on screen are drawn as plain fills: no outline or tint to rasterize. */
const SOLID_BELOW_PX = 4;

export interface DrawInput {
  graph: ViewGraph;
  layout: Layout;
  labels: LabelCache;
  viewport: Viewport;
  /** Canvas size in CSS pixels, and device pixels per CSS pixel. */
  width: number;
  height: number;
  dpr: number;
  palette: Palette;
  selected: number;
  hovered: number;
  /** 1 for nodes matching the current search. */
  matches: Uint8Array;
}

/** Per-node label lines shortened to the box width, measured once per font. */
export class LabelCache {
  private lines: ([string, string] | undefined)[] = [];
  private font = "";

  constructor(private readonly graph: ViewGraph) {}

  get(ctx: CanvasRenderingContext2D, i: number, palette: Palette): [string, string] {
    const font = `${palette.codeFont}|${palette.uiFont}`;
    if (font !== this.font) {
      this.lines = [];
      this.font = font;
    }
    let lines = this.lines[i];
    if (!lines) {
      const { layer, folded } = this.graph.nodes[i];
      const max = NODE_W - 2 * PADDING_X;
      ctx.font = nameFont(palette);
      const name = fitMiddle(ctx, layer.name, max);
      ctx.font = subFont(palette);
      const legacy = layer.legacyType && layer.legacyType !== layer.type ? ` → ${layer.legacyType}` : "";
      const mark = layer.verdict === "unsupported" ? "✗ " : "";
      const consts = folded.length ? `  +${folded.length} const` : "";
      lines = [name, fitEnd(ctx, `${mark}${layer.type}${legacy}${consts}`, max)];
      this.lines[i] = lines;
    }
    return lines;
  }
}

function nameFont(p: Palette): string {
  return `600 ${NAME_FONT_PX}px ${p.codeFont}`;
}

function subFont(p: Palette): string {
  return `${SUB_FONT_PX}px ${p.uiFont}`;
}

/**
 * Keeps the start and the end of a long name (layer names differ most at their ends). No box is wide
 * enough for NAME_MAX characters, so longer names are never measured whole (a name can be megabytes).
 */
function fitMiddle(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (text.length <= NAME_MAX && ctx.measureText(text).width <= max) return text;
  let lo = 0;
  let hi = Math.min(text.length, NAME_MAX);
  while (lo < hi) {
    const keep = Math.ceil((lo + hi) / 2);
    const candidate = text.slice(0, Math.ceil(keep / 2)) + "…" + text.slice(text.length - Math.floor(keep / 2));
    if (ctx.measureText(candidate).width <= max) lo = keep;
    else hi = keep - 1;
  }
  return text.slice(0, Math.ceil(lo / 2)) + "…" + text.slice(text.length - Math.floor(lo / 2));
}

function fitEnd(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (text.length <= NAME_MAX && ctx.measureText(text).width <= max) return text;
  let lo = 0;
  let hi = Math.min(text.length, NAME_MAX);
  while (lo < hi) {
    const keep = Math.ceil((lo + hi) / 2);
    if (ctx.measureText(text.slice(0, keep) + "…").width <= max) lo = keep;
    else hi = keep - 1;
  }
  return text.slice(0, lo) + "…";
}

export function drawGraph(ctx: CanvasRenderingContext2D, d: DrawInput): void {
  const { layout, viewport: vp, palette: p, graph } = d;
  const k = vp.k;
  ctx.setTransform(d.dpr, 0, 0, d.dpr, 0, 0);
  ctx.fillStyle = p.background;
  ctx.fillRect(0, 0, d.width, d.height);
  ctx.setTransform(d.dpr * k, 0, 0, d.dpr * k, d.dpr * vp.tx, d.dpr * vp.ty);
  const view = vp.visible(d.width, d.height);
  const x0 = view.x - NODE_W;
  const y0 = view.y - NODE_H;
  const x1 = view.x + view.width + NODE_W;
  const y1 = view.y + view.height + NODE_H;

  drawEdges(ctx, d, x0, y0, x1, y1);

  const visible: number[] = [];
  const paths: Record<Verdict, Path2D> = { supported: new Path2D(), unsupported: new Path2D(), constant: new Path2D() };
  for (let i = 0; i < layout.x.length; i++) {
    const x = layout.x[i];
    const y = layout.y[i];
    if (x > x1 || y > y1 || x + NODE_W < x0 || y + NODE_H < y0) continue;
    visible.push(i);
    const [bx, by, bw, bh] = box(d, i);
    paths[graph.nodes[i].layer.verdict].rect(bx, by, bw, bh);
  }
  const solid = k * NODE_H < SOLID_BELOW_PX;
  for (const v of DRAW_ORDER) {
    if (solid) {
      ctx.fillStyle = p.verdict[v];
      ctx.fill(paths[v]);
      continue;
    }
    ctx.fillStyle = p.nodeBackground;
    ctx.fill(paths[v]);
    ctx.globalAlpha = v === "constant" ? 0.12 : 0.2;
    ctx.fillStyle = p.verdict[v];
    ctx.fill(paths[v]);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = p.verdict[v];
    ctx.lineWidth = (v === "unsupported" ? 2 : 1) / k;
    ctx.setLineDash(v === "constant" ? [4 / k, 3 / k] : []);
    ctx.stroke(paths[v]);
  }
  ctx.setLineDash([]);

  outline(
    ctx,
    d,
    visible.filter((i) => graph.nodes[i].change),
    p.changed,
    2,
  );
  outline(
    ctx,
    d,
    visible.filter((i) => d.matches[i]),
    p.match,
    3,
  );
  if (d.hovered >= 0) outline(ctx, d, [d.hovered], p.text, 1.5);
  if (d.selected >= 0) outline(ctx, d, [d.selected], p.selected, 3);

  if (k >= LABEL_MIN_SCALE) drawLabels(ctx, d, visible);
}

/** The drawn box of node i: its layout box, grown to the minimum on-screen size when zoomed out. */
function box(d: DrawInput, i: number): [number, number, number, number] {
  const minPx = d.graph.nodes[i].layer.verdict === "unsupported" ? MIN_BLOCKER_PX : MIN_BOX_PX;
  const w = Math.max(NODE_W, minPx / d.viewport.k);
  const h = Math.max(NODE_H, minPx / d.viewport.k);
  return [d.layout.x[i] + (NODE_W - w) / 2, d.layout.y[i] + (NODE_H - h) / 2, w, h];
}

function outline(ctx: CanvasRenderingContext2D, d: DrawInput, nodes: number[], color: string, px: number): void {
  if (!nodes.length) return;
  const path = new Path2D();
  const grow = px / d.viewport.k;
  for (const i of nodes) {
    const [x, y, w, h] = box(d, i);
    path.rect(x - grow, y - grow, w + 2 * grow, h + 2 * grow);
  }
  ctx.strokeStyle = color;
  ctx.lineWidth = px / d.viewport.k;
  ctx.stroke(path);
}

function drawEdges(ctx: CanvasRenderingContext2D, d: DrawInput, x0: number, y0: number, x1: number, y1: number): void {
  const k = d.viewport.k;
  const lines = new Path2D();
  const bridges = new Path2D();
  const focus = new Path2D();
  const heads = new Path2D();
  const withHeads = k * ARROW >= 2;
  // An edge under a pixel long on screen would only blur the boxes it joins.
  const minExtent = 1 / k;
  for (const e of d.layout.edges) {
    if (e.minX > x1 || e.minY > y1 || e.maxX < x0 || e.maxY < y0) continue;
    if (e.maxX - e.minX < minExtent && e.maxY - e.minY < minExtent) continue;
    const path = e.from === d.selected || e.to === d.selected ? focus : e.throughConstants ? bridges : lines;
    const pts = e.points;
    path.moveTo(pts[0], pts[1]);
    for (let j = 2; j < pts.length; j += 2) path.lineTo(pts[j], pts[j + 1]);
    if (withHeads) arrowHead(heads, pts);
  }
  ctx.strokeStyle = d.palette.edge;
  ctx.lineWidth = 1 / k;
  ctx.stroke(lines);
  ctx.setLineDash([4 / k, 3 / k]);
  ctx.stroke(bridges);
  ctx.setLineDash([]);
  ctx.fillStyle = d.palette.edge;
  ctx.fill(heads);
  ctx.strokeStyle = d.palette.selected;
  ctx.lineWidth = 2 / k;
  ctx.stroke(focus);
}

/** A small triangle at the polyline's end, pointing along its last segment. */
function arrowHead(path: Path2D, pts: Float64Array): void {
  const n = pts.length;
  const ex = pts[n - 2];
  const ey = pts[n - 1];
  const dx = ex - pts[n - 4];
  const dy = ey - pts[n - 3];
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  path.moveTo(ex, ey);
  path.lineTo(ex - ux * ARROW * 1.6 - uy * ARROW, ey - uy * ARROW * 1.6 + ux * ARROW);
  path.lineTo(ex - ux * ARROW * 1.6 + uy * ARROW, ey - uy * ARROW * 1.6 - ux * ARROW);
  path.closePath();
}

function drawLabels(ctx: CanvasRenderingContext2D, d: DrawInput, visible: number[]): void {
  const p = d.palette;
  const lines = visible.map((i) => d.labels.get(ctx, i, p));
  ctx.textBaseline = "alphabetic";
  ctx.fillStyle = p.text;
  ctx.font = nameFont(p);
  visible.forEach((i, j) => ctx.fillText(lines[j][0], d.layout.x[i] + PADDING_X, d.layout.y[i] + 16));
  ctx.fillStyle = p.textMuted;
  ctx.font = subFont(p);
  visible.forEach((i, j) => ctx.fillText(lines[j][1], d.layout.x[i] + PADDING_X, d.layout.y[i] + 31));
}
