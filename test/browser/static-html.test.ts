/**
 * The static HTML fallbacks (what classic Notebook and a code host show) in a real browser:
 * the large-graph overview starts collapsed and opens to at most OVERVIEW_W pixels, the latency
 * charts draw the log₂ batch axis and the flat static line; screenshots of each go to
 * test-artifacts/ for people to look at.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser, Page } from "playwright-core";
import { IECore, toMimeBundle } from "../../kernel";
import type { LatencyReport } from "../../kernel";
import { OVERVIEW_W } from "../../kernel/display/overview";
import { irPath } from "../helpers/models";
import { launch, screenshot, watchProblems } from "./chromium";

let browser: Browser;
let page: Page;
let problems: string[];

before(async () => {
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  problems = watchProblems(page);
});
after(async () => {
  await browser?.close();
});

/** The HTML as a notebook output: in a div of a notebook column's width, on a white page. */
async function show(html: string): Promise<void> {
  await page.setContent(
    `<!doctype html><meta charset="utf-8"><body style="margin:8px;background:#fff"><div id="out" style="width:860px">${html}</div>`,
  );
}

test("static topology of face detection, both modes: overviews start collapsed and open within the column", async () => {
  const net = await new IECore().readNetwork(irPath("face-detection-adas-0001"));
  await show(toMimeBundle([net.analyze({ mode: "strict" }), net.analyze({ mode: "shape-aware" })])["text/html"]);
  const details = page.locator("#out details");
  const open = await details.evaluateAll((els) => els.map((e) => (e as unknown as { open: boolean }).open));
  assert.deepEqual(open, [false, false, false, false], "graph and table of each mode, collapsed");
  await screenshot(page, "static-topology-face-collapsed", "#out");
  await page.locator("#out details summary").first().click();
  const box = (await page.locator("#out details svg").first().boundingBox())!;
  assert.ok(box.width <= OVERVIEW_W, `${box.width} px`);
  await screenshot(page, "static-topology-face-overview", "#out");
  assert.deepEqual(problems, []);
});

test("static latency charts: log₂ batch axis and notebook 01's flat static line", async () => {
  const points: LatencyReport["points"] = [1, 2, 4, 8, 12, 16].map((n) => {
    const p50 = 0.2 + 0.18 * n;
    return {
      batch: n,
      mode: "dynamic",
      latencyMs: { p50, p90: p50 * 1.1, min: p50 * 0.95, max: p50 * 1.4 },
      throughput: (1000 * n) / p50,
    };
  });
  points.push({ batch: 16, mode: "static", latencyMs: { p50: 3.1, p90: 3.3, min: 3, max: 3.6 }, throughput: 16000 / 3.1 });
  await show(toMimeBundle({ model: "landmarks-regression-retail-0009", device: "CPU", limit: 16, points })["text/html"]);
  assert.equal(await page.locator("#out svg").count(), 2);
  assert.match((await page.textContent("#out"))!, /static \(compiled for 16\): every request pays for 16/);
  await screenshot(page, "static-latency-flat", "#out");
  assert.deepEqual(problems, []);
});
