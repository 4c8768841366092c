/**
 * Zoom and pan of the profile graph. The SVG is scaled by a CSS transform (its scrolled area
 * follows), so a zoom step touches one style property whatever the number of layers and lays
 * nothing out again; the scrolling container pans. The wheel zooms around the pointer (as in the topology
 * view), dragging pans, and + − Fit buttons do the same from the keyboard.
 */
const MIN_SCALE = 0.02;
const MAX_SCALE = 4;
/** Scale change per wheel notch (deltaY of 100). */
const WHEEL_STEP = 1.2;
/** A pointer that moved less than this between down and up clicked (selects a box) rather than dragged. */
const CLICK_SLOP_PX = 4;
/**
 * Below this scale labels are a few pixels high and unreadable, and painting thousands of them is
 * most of a frame's cost: they are hidden (class on the SVG, see profile.css).
 */
const LABEL_SCALE = 0.45;

export class GraphZoom {
  private k = 1;
  /** Left margin that centres a graph narrower than the view. */
  private dx = 0;
  private drag: { x: number; y: number; left: number; top: number; moved: boolean } | null = null;
  /** The last pointer-up ended a drag: the click that follows is swallowed. */
  private dragged = false;

  constructor(
    private readonly host: HTMLElement,
    private readonly svg: SVGSVGElement,
    private readonly width: number,
    private readonly height: number,
  ) {
    svg.style.transformOrigin = "0 0";
    host.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    host.addEventListener("pointerdown", (e) => this.onDown(e));
    host.addEventListener("pointermove", (e) => this.onMove(e));
    host.addEventListener("pointerup", () => this.onUp());
    host.addEventListener("pointercancel", () => (this.drag = null));
    // A drag ends with a click on whatever box is under the pointer: that click is not a selection.
    host.addEventListener(
      "click",
      (e) => {
        if (this.dragged) e.stopPropagation();
        this.dragged = false;
      },
      true,
    );
  }

  /** The current scale (1: the layout's own pixels). */
  get scale(): number {
    return this.k;
  }

  /** Sets the scale, keeping the graph point under (clientX, clientY) where it is (the view's centre by default). */
  zoomTo(k: number, clientX?: number, clientY?: number): void {
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, k));
    const box = this.host.getBoundingClientRect();
    const ox = clientX === undefined ? this.host.clientWidth / 2 : clientX - box.left;
    const oy = clientY === undefined ? this.host.clientHeight / 2 : clientY - box.top;
    const gx = (this.host.scrollLeft + ox - this.dx) / this.k;
    const gy = (this.host.scrollTop + oy) / this.k;
    this.k = next;
    this.dx = Math.max(0, (this.host.clientWidth - this.width * next) / 2);
    this.svg.classList.toggle("dynbatch-profile-small", next < LABEL_SCALE);
    this.svg.style.transform = `translate(${this.dx}px, 0) scale(${next})`;
    this.host.scrollLeft = gx * next + this.dx - ox;
    this.host.scrollTop = gy * next - oy;
  }

  zoomBy(factor: number): void {
    this.zoomTo(this.k * factor);
  }

  /** The whole graph in the view's width (never enlarged past the layout's own size). */
  fit(): void {
    const w = this.host.clientWidth || this.width;
    const h = this.host.clientHeight || this.height;
    this.zoomTo(Math.min(1, w / this.width, h / this.height));
    this.host.scrollLeft = 0;
    this.host.scrollTop = 0;
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const notches = e.deltaMode === 1 ? e.deltaY / 3 : e.deltaY / 100;
    this.zoomTo(this.k * WHEEL_STEP ** -notches, e.clientX, e.clientY);
  }

  private onDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.drag = { x: e.clientX, y: e.clientY, left: this.host.scrollLeft, top: this.host.scrollTop, moved: false };
  }

  private onMove(e: PointerEvent): void {
    const d = this.drag;
    if (!d) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (!d.moved && Math.hypot(dx, dy) < CLICK_SLOP_PX) return;
    d.moved = true;
    this.host.scrollLeft = d.left - dx;
    this.host.scrollTop = d.top - dy;
  }

  private onUp(): void {
    this.dragged = this.drag?.moved ?? false;
    this.drag = null;
  }
}
