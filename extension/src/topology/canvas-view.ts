/**
 * The interactive canvas: wheel zooms around the pointer, drag pans, a click selects the node
 * under it (hit-tested against the layout, nothing in the DOM per node), keys zoom and pan when
 * the canvas has focus. Frames are drawn on requestAnimationFrame, at most one per frame.
 */
import { displayName, TOOLTIP_NAME_MAX } from "../../../kernel/display/names";
import { drawGraph, LabelCache } from "./draw";
import { Layout, nodeAt, NODE_H, NODE_W } from "./layout";
import type { ViewGraph } from "./model";
import type { Palette } from "./palette";
import { Viewport } from "./viewport";

/** A pointer that moves less than this between press and release clicked rather than dragged. */
const CLICK_SLOP_PX = 4;
/** Hit area around each box, in screen pixels, so small boxes stay clickable. */
const HIT_SLOP_PX = 3;
const KEY_PAN_PX = 80;

/** Time spent drawing frames (the JavaScript side: building paths and issuing canvas calls). */
export interface FrameStats {
  frames: number;
  lastMs: number;
  maxMs: number;
  totalMs: number;
}

interface Scene {
  graph: ViewGraph;
  layout: Layout;
  labels: LabelCache;
}

interface Drag {
  pointer: number;
  x: number;
  y: number;
  moved: boolean;
}

export class GraphCanvas {
  readonly canvas = document.createElement("canvas");
  readonly viewport = new Viewport();
  readonly stats: FrameStats = { frames: 0, lastMs: 0, maxMs: 0, totalMs: 0 };
  selected = -1;
  /** True while the view shows the whole graph as fit() placed it (no zoom or pan since). */
  fitted = false;
  /** 1 for nodes matching the search. */
  matches = new Uint8Array(0);
  private hovered = -1;
  private scene: Scene | null = null;
  private width = 0;
  private height = 0;
  private frame = 0;
  private fitWhenSized = false;
  private drag: Drag | null = null;
  private readonly resizeObserver: ResizeObserver;
  private palette: Palette;

  /** `readPalette` is called again whenever the canvas is resized (e.g. first attached). */
  constructor(
    private readonly host: HTMLElement,
    private readonly readPalette: () => Palette,
    private readonly onSelect: (index: number) => void,
  ) {
    this.palette = readPalette();
    this.canvas.className = "dynbatch-canvas";
    this.canvas.tabIndex = 0;
    // Arrows, +, - and 0 are notebook shortcuts too (select cell, restart kernel…): not while the graph has focus.
    this.canvas.setAttribute("data-lm-suppress-shortcuts", "");
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", "Network graph: drag to pan, wheel to zoom, click a layer for details");
    host.appendChild(this.canvas);
    this.canvas.addEventListener("wheel", this.onWheel, { passive: false });
    this.canvas.addEventListener("pointerdown", this.onPointerDown);
    this.canvas.addEventListener("pointermove", this.onPointerMove);
    this.canvas.addEventListener("pointerup", this.onPointerUp);
    this.canvas.addEventListener("pointercancel", this.onPointerCancel);
    this.canvas.addEventListener("pointerleave", this.onPointerLeave);
    this.canvas.addEventListener("keydown", this.onKeyDown);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(host);
  }

  get hasScene(): boolean {
    return this.scene !== null;
  }

  /** Shows a new graph; the caller then places the view (fit, or centerOn to keep context). */
  setScene(graph: ViewGraph, layout: Layout): void {
    this.scene = { graph, layout, labels: new LabelCache(graph) };
    this.matches = new Uint8Array(graph.nodes.length);
    this.selected = -1;
    this.hovered = -1;
  }

  setPalette(palette: Palette): void {
    this.palette = palette;
    this.redraw();
  }

  fit(): void {
    const s = this.scene;
    if (!s) return;
    if (!this.width || !this.height) {
      this.fitWhenSized = true;
      return;
    }
    this.viewport.fit({ x: 0, y: 0, width: s.layout.width, height: s.layout.height }, this.width, this.height);
    this.fitted = true;
    this.redraw();
  }

  /** Zooms around the canvas center. */
  zoomBy(factor: number): void {
    this.fitted = false;
    this.viewport.zoomAt(this.width / 2, this.height / 2, factor);
    this.redraw();
  }

  /** Centers node `index`, zooming in to at least `minScale` so that it can be read and clicked. */
  centerOn(index: number, minScale = 0): void {
    const s = this.scene;
    if (!s || index < 0) return;
    this.fitWhenSized = false;
    this.fitted = false;
    const k = Math.max(this.viewport.k, minScale);
    this.viewport.centerOn(s.layout.x[index] + NODE_W / 2, s.layout.y[index] + NODE_H / 2, this.width, this.height, k);
    this.redraw();
  }

  /** The node whose center is nearest the canvas center, or -1 without a scene. */
  nodeNearestCenter(): number {
    const s = this.scene;
    if (!s) return -1;
    const [cx, cy] = this.viewport.toWorld(this.width / 2, this.height / 2);
    let best = -1;
    let bestDistance = Infinity;
    for (let i = 0; i < s.layout.x.length; i++) {
      const d = Math.hypot(s.layout.x[i] + NODE_W / 2 - cx, s.layout.y[i] + NODE_H / 2 - cy);
      if (d < bestDistance) {
        bestDistance = d;
        best = i;
      }
    }
    return best;
  }

  /** Node `index`'s center in client (viewport) coordinates, as drawn now. */
  clientCenterOf(index: number): { x: number; y: number } | null {
    const s = this.scene;
    if (!s || index < 0) return null;
    const [sx, sy] = this.viewport.toScreen(s.layout.x[index] + NODE_W / 2, s.layout.y[index] + NODE_H / 2);
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + sx, y: rect.top + sy };
  }

  /** Schedules one frame. */
  redraw(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.drawNow());
  }

  drawNow(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    const s = this.scene;
    const ctx = this.canvas.getContext("2d");
    if (!s || !ctx || !this.width || !this.height) return;
    const start = performance.now();
    drawGraph(ctx, {
      graph: s.graph,
      layout: s.layout,
      labels: s.labels,
      viewport: this.viewport,
      width: this.width,
      height: this.height,
      dpr: window.devicePixelRatio || 1,
      palette: this.palette,
      selected: this.selected,
      hovered: this.hovered,
      matches: this.matches,
    });
    const ms = performance.now() - start;
    this.stats.frames += 1;
    this.stats.lastMs = ms;
    this.stats.maxMs = Math.max(this.stats.maxMs, ms);
    this.stats.totalMs += ms;
  }

  dispose(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.resizeObserver.disconnect();
  }

  /**
   * Matches the canvas to its host's size now; the ResizeObserver does it too, but late when the
   * host was off screen (JupyterLab's windowed notebook leaves off-screen outputs unmeasured).
   */
  resize(): void {
    const width = this.host.clientWidth;
    const height = this.host.clientHeight;
    if (width === this.width && height === this.height) return;
    const dpr = window.devicePixelRatio || 1;
    // Keep the same layout point at the center when the canvas changes size.
    const [cx, cy] = this.viewport.toWorld(this.width / 2, this.height / 2);
    const hadSize = this.width > 0 && this.height > 0;
    this.palette = this.readPalette();
    this.width = width;
    this.height = height;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    if (this.fitWhenSized && width && height) {
      this.fitWhenSized = false;
      this.fit();
    } else if (hadSize) {
      this.viewport.centerOn(cx, cy, width, height);
    }
    // Resizing cleared the canvas: draw now rather than show a blank frame.
    this.drawNow();
  }

  private hit(clientX: number, clientY: number): number {
    const s = this.scene;
    if (!s) return -1;
    const rect = this.canvas.getBoundingClientRect();
    const [wx, wy] = this.viewport.toWorld(clientX - rect.left, clientY - rect.top);
    return nodeAt(s.layout, wx, wy, HIT_SLOP_PX / this.viewport.k);
  }

  private readonly onWheel = (e: WheelEvent): void => {
    if (!this.scene) return;
    e.preventDefault();
    this.fitted = false;
    // Lines and pages scroll much farther per event than pixels.
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.height : 1;
    const rect = this.canvas.getBoundingClientRect();
    this.viewport.zoomAt(e.clientX - rect.left, e.clientY - rect.top, Math.exp(-e.deltaY * unit * 0.0015));
    this.redraw();
  };

  private readonly onPointerDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    this.drag = { pointer: e.pointerId, x: e.clientX, y: e.clientY, moved: false };
    this.canvas.setPointerCapture(e.pointerId);
  };

  private readonly onPointerMove = (e: PointerEvent): void => {
    const d = this.drag;
    if (d && d.pointer === e.pointerId) {
      if (!d.moved && Math.hypot(e.clientX - d.x, e.clientY - d.y) < CLICK_SLOP_PX) return;
      d.moved = true;
      this.fitted = false;
      this.canvas.classList.add("dynbatch-panning");
      this.viewport.panBy(e.clientX - d.x, e.clientY - d.y);
      d.x = e.clientX;
      d.y = e.clientY;
      this.redraw();
      return;
    }
    const over = this.hit(e.clientX, e.clientY);
    if (over !== this.hovered) {
      this.hovered = over;
      this.canvas.classList.toggle("dynbatch-over-node", over >= 0);
      this.canvas.title = over >= 0 && this.scene ? displayName(this.scene.graph.nodes[over].layer.name, TOOLTIP_NAME_MAX) : "";
      this.redraw();
    }
  };

  private readonly onPointerUp = (e: PointerEvent): void => {
    const d = this.drag;
    if (!d || d.pointer !== e.pointerId) return;
    this.drag = null;
    this.canvas.classList.remove("dynbatch-panning");
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (!d.moved) this.onSelect(this.hit(e.clientX, e.clientY));
  };

  private readonly onPointerCancel = (): void => {
    this.drag = null;
    this.canvas.classList.remove("dynbatch-panning");
  };

  private readonly onPointerLeave = (): void => {
    if (this.hovered < 0) return;
    this.hovered = -1;
    this.canvas.classList.remove("dynbatch-over-node");
    this.redraw();
  };

  private readonly onKeyDown = (e: KeyboardEvent): void => {
    const pans: Record<string, [number, number]> = {
      ArrowLeft: [KEY_PAN_PX, 0],
      ArrowRight: [-KEY_PAN_PX, 0],
      ArrowUp: [0, KEY_PAN_PX],
      ArrowDown: [0, -KEY_PAN_PX],
    };
    this.fitted = false;
    if (e.key in pans) this.viewport.panBy(...pans[e.key]);
    else if (e.key === "+" || e.key === "=") this.viewport.zoomAt(this.width / 2, this.height / 2, 1.25);
    else if (e.key === "-") this.viewport.zoomAt(this.width / 2, this.height / 2, 0.8);
    else if (e.key === "0") return this.fit();
    else if (e.key === "Escape") return this.onSelect(-1);
    else return;
    e.preventDefault();
    this.redraw();
  };
}
