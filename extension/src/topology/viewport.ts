/** Pan and zoom: screen = layout × k + (tx, ty), in CSS pixels of the canvas. */

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Zooming in past this shows 11px text at 44px: enough to read a long name. */
const MAX_SCALE = 4;

export class Viewport {
  k = 1;
  tx = 0;
  ty = 0;
  /** Lowest zoom allowed: half of what fits the whole graph, so it can never get lost. */
  private minK = 0.01;

  toWorld(sx: number, sy: number): [number, number] {
    return [(sx - this.tx) / this.k, (sy - this.ty) / this.k];
  }

  toScreen(wx: number, wy: number): [number, number] {
    return [wx * this.k + this.tx, wy * this.k + this.ty];
  }

  /** Zooms by `factor` keeping the layout point under screen (sx, sy) in place. */
  zoomAt(sx: number, sy: number, factor: number): void {
    const k = Math.min(MAX_SCALE, Math.max(this.minK, this.k * factor));
    const [wx, wy] = this.toWorld(sx, sy);
    this.k = k;
    this.tx = sx - wx * k;
    this.ty = sy - wy * k;
  }

  panBy(dx: number, dy: number): void {
    this.tx += dx;
    this.ty += dy;
  }

  /** Shows all of `world` centered in a width × height screen, never zooming in past 1. */
  fit(world: Rect, width: number, height: number, margin = 16): void {
    const k = Math.min(1, (width - 2 * margin) / Math.max(1, world.width), (height - 2 * margin) / Math.max(1, world.height));
    this.minK = Math.min(0.5, k / 2);
    this.k = Math.max(this.minK, k);
    this.centerOn(world.x + world.width / 2, world.y + world.height / 2, width, height);
  }

  /** Puts layout point (wx, wy) at the screen's center, at zoom `k` (the current zoom by default). */
  centerOn(wx: number, wy: number, width: number, height: number, k = this.k): void {
    this.k = Math.min(MAX_SCALE, Math.max(this.minK, k));
    this.tx = width / 2 - wx * this.k;
    this.ty = height / 2 - wy * this.k;
  }

  /** The layout rectangle visible on a width × height screen. */
  visible(width: number, height: number): Rect {
    const [x, y] = this.toWorld(0, 0);
    return { x, y, width: width / this.k, height: height / this.k };
  }
}
