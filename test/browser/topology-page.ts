/**
 * What the topology view's browser tests share: its MIME type and selectors, how long a layout may
 * take, and the hooks the view's root element offers the tests (where a node is drawn, its stats).
 */
import type { Page } from "playwright-core";

export const MIME = "application/vnd.dynbatch.topology+json";
export const ROOT = ".dynbatch-topology";
export const READY = `${ROOT}[data-state="ready"]`;
/** Layout of 5000 nodes on a busy two-core machine can take a while: generous, not a threshold. */
export const LAYOUT_WAIT_MS = 90_000;

export interface Point {
  x: number;
  y: number;
}
export interface Stats {
  state: string;
  engine: string | null;
  layoutMs: number | null;
  nodes: number;
  edges: number;
  frames: { frames: number; lastMs: number; maxMs: number; totalMs: number };
  view: { k: number; tx: number; ty: number };
}
/** What the tests call on the view's root element (types only: the page runs the code). */
export interface Root {
  dynbatchLocate(name: string): Point | null;
  dynbatchStats(): Stats;
}
export type PageGlobal = { document: { querySelector(selector: string): unknown } };

export async function renderReady(page: Page, render: () => Promise<void>): Promise<void> {
  await render();
  await page.waitForSelector(READY, { timeout: LAYOUT_WAIT_MS });
}

export function stats(page: Page): Promise<Stats> {
  return page.evaluate(
    (sel) => ((globalThis as unknown as PageGlobal).document.querySelector(sel) as Root).dynbatchStats(),
    ROOT,
  );
}

export function locate(page: Page, name: string): Promise<Point | null> {
  return page.evaluate(
    ([sel, n]) => ((globalThis as unknown as PageGlobal).document.querySelector(sel) as Root).dynbatchLocate(n),
    [ROOT, name] as const,
  );
}

/** The page's globals the frame-time probes use. */
export type FrameGlobal = PageGlobal & {
  requestAnimationFrame(cb: (now: number) => void): number;
  performance: { now(): number };
};
