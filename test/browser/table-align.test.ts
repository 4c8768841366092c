/**
 * Table alignment as JupyterLab shows it, read back as computed styles in the renderer harness
 * (JupyterLab's rendermime stylesheet loaded): the static HTML tables through JupyterLab's HTML
 * renderer, whose stylesheet right-aligns every cell unless the cell says otherwise, and the
 * profile view's own table. Text columns left, numbers right.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser } from "playwright-core";
import { table, toMimeBundle } from "../../kernel";
import type { PerfCount } from "../../kernel";
import { buildProfile } from "../../kernel/bench";
import { launch } from "./chromium";
import { Harness, openHarness } from "./harness";

let browser: Browser;
let h: Harness;

before(async () => {
  browser = await launch();
  h = await openHarness(browser, { theme: "light" });
});
after(async () => {
  await browser?.close();
});

type Styles = { getComputedStyle(e: unknown): { textAlign: string } };

/** The computed text-align of each element `selector` matches, in order. */
function textAligns(selector: string): Promise<string[]> {
  return h.page
    .locator(selector)
    .evaluateAll((els) => els.map((e) => (globalThis as unknown as Styles).getComputedStyle(e).textAlign));
}

/** Of the header and first-row cells of the HTML renderer's table. */
async function aligns(): Promise<{ head: string[]; cells: string[] }> {
  const root = ".jp-RenderedHTMLCommon table";
  return { head: await textAligns(`${root} thead th`), cells: await textAligns(`${root} tbody tr:first-child td`) };
}

test("JupyterLab's HTML renderer: performance counters and table() keep text left and numbers right", async () => {
  const counts: Record<string, PerfCount> = {
    conv: { status: "EXECUTED", layerType: "Convolution", execType: "jit", realTimeUs: 120, cpuTimeUs: 120 },
  };
  await h.render("text/html", toMimeBundle(counts)["text/html"]);
  const perf = await aligns();
  // layer, layer type, exec type | real time µs, share
  const want = ["left", "left", "left", "right", "right"];
  assert.deepEqual(perf, { head: want, cells: want });
  await h.render("text/html", toMimeBundle(table([{ model: "eye", rate: 9961 }]))["text/html"]);
  assert.deepEqual(await aligns(), { head: ["left", "right"], cells: ["left", "right"] });
});

test("profile view: its top-layers table has text left and numbers right", async () => {
  const r = buildProfile({
    model: "m",
    device: "CPU",
    layers: [{ name: "conv", type: "Convolution", execType: "jit:avx2" }],
    batches: [1, 4].map((n) => ({ batch: n, wallUs: [15 + 10 * n], layerUs: [[10 * n]] })),
  });
  await h.render("application/vnd.dynbatch.profile+json", r);
  await h.page.waitForSelector(`.dynbatch-profile[data-state="ready"]`);
  // #, then layer, type, implementation, precision, then time, %, µs/sample, fixed µs, R².
  const want = ["right", "left", "left", "left", "left", "right", "right", "right", "right", "right"];
  assert.deepEqual(await textAligns(".dynbatch-profile-table tr:nth-child(1) th"), want);
  assert.deepEqual(await textAligns(".dynbatch-profile-table tr:nth-child(2) td"), want);
  assert.deepEqual(h.problems, []);
});
