/**
 * The topology view of a network fixForDynamicBatch() returned: the changed layer is outlined in
 * the "changed" color (read back from the canvas, and absent around an unchanged layer), the legend
 * counts the changes, and the clicked layer's details show before → after and the proof.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser } from "playwright-core";
import { pinnedReshape } from "../helpers/fix_networks";
import { launch, screenshot } from "./chromium";
import { Harness, openHarness } from "./harness";
import { locate, MIME, renderReady, ROOT, stats } from "./topology-page";
import type { PageGlobal } from "./topology-page";

let browser: Browser;
let h: Harness;

before(async () => {
  browser = await launch();
  h = await openHarness(browser);
});
after(async () => {
  await browser?.close();
});

/** Box width in layout units: NODE_W of extension/src/topology/layout.ts (which only the browser bundle can import). */
const NODE_W = 168;

/** The "changed" color (#8e24aa, topology.css) within a small tolerance for antialiasing. */
function isChangedColor([r, g, b]: number[]): boolean {
  return Math.abs(r - 0x8e) < 30 && Math.abs(g - 0x24) < 30 && Math.abs(b - 0xaa) < 30;
}

/** Canvas pixels along a horizontal line through the named layer's center, across its left edge (±8 CSS px). */
async function leftEdgePixels(name: string): Promise<number[][]> {
  const p = await locate(h.page, name);
  assert.ok(p, `${name} is drawn`);
  const k = (await stats(h.page)).view.k;
  return h.page.evaluate(
    ([sel, x, y, half]) => {
      type Canvas = {
        getBoundingClientRect(): { left: number; top: number };
        getContext(k: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: number[] } };
      };
      const g = globalThis as unknown as PageGlobal & { devicePixelRatio: number };
      const canvas = (g.document.querySelector(sel) as { querySelector(s: string): Canvas }).querySelector("canvas");
      const rect = canvas.getBoundingClientRect();
      const dpr = g.devicePixelRatio || 1;
      const edge = x - rect.left - half;
      const data = canvas
        .getContext("2d")
        .getImageData(Math.round((edge - 8) * dpr), Math.round((y - rect.top) * dpr), Math.round(16 * dpr), 1).data;
      const out: number[][] = [];
      for (let i = 0; i < data.length; i += 4) out.push([data[i], data[i + 1], data[i + 2]]);
      return out;
    },
    [ROOT, p.x, p.y, (NODE_W / 2) * k] as const,
  );
}

test("topology: a fixed network's changed layer is outlined, counted in the legend, and its details show the change", async () => {
  const report = JSON.parse(JSON.stringify((await pinnedReshape().fixForDynamicBatch()).network.analyze()));
  assert.equal(report.fixes.length, 1);
  await renderReady(h.page, () => h.render(MIME, report));

  const legend = h.page.locator(".dynbatch-legend-changed");
  assert.ok(await legend.isVisible());
  assert.equal(await legend.getAttribute("data-count"), "1");
  assert.ok(((await h.page.locator(".dynbatch-details").textContent()) ?? "").includes("Changed by fixForDynamicBatch() (1)"));

  assert.ok((await leftEdgePixels("pin")).some(isChangedColor), "pin is outlined in the changed color");
  assert.ok(!(await leftEdgePixels("add")).some(isChangedColor), "add, unchanged, is not");

  const p = await locate(h.page, "pin");
  assert.ok(p);
  await h.page.mouse.click(p.x, p.y);
  const details = h.page.locator(".dynbatch-details");
  assert.equal(await details.locator("h3").textContent(), "pin");
  assert.equal(await details.locator(".dynbatch-change").textContent(), "reshape-keep-batch: Reshape [1,8] → Reshape [-1,8]");
  const proof = (await details.locator(".dynbatch-change-proof").textContent()) ?? "";
  assert.match(proof, /same shapes as the original at its batch 1/);
  assert.match(proof, /analysis: axis 0 stays N/);
  assert.match(proof, /n=1: [^,]+, n=2: [^,]+, n=3: [^,]+, n=4: /);
  await screenshot(h.page, "topology-fixes", ROOT);

  // The original network's report: no marker, no legend entry, no change in the details.
  await renderReady(h.page, () => h.render(MIME, JSON.parse(JSON.stringify(pinnedReshape().analyze()))));
  assert.ok(!(await h.page.locator(".dynbatch-legend-changed").isVisible()));
  assert.ok(!(await leftEdgePixels("pin")).some(isChangedColor));
  assert.deepEqual(h.problems, []);
});
