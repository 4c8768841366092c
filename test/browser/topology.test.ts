/**
 * The topology view in the renderer harness: legend counts for the shared models in both modes,
 * real mouse clicks on nodes, search, the mode and constants toggles, escaping of model strings,
 * a generated 5000-layer network (layout time and pan/zoom frame cost are reported as
 * diagnostics, never asserted), and the dark theme. Screenshots go to test-artifacts/. The view's
 * pure parts (no DOM) are topology-unit.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser, Page } from "playwright-core";
import type { TopologyReport } from "../../kernel/schema";
import { launch, screenshot } from "./chromium";
import { generatedReport, modelPayload, TOPOLOGY_MODELS, XSS_NAME, xssReport } from "./fixtures";
import { Harness, openHarness, setTheme } from "./harness";
import { LAYOUT_WAIT_MS, locate, MIME, READY, renderReady, ROOT, stats } from "./topology-page";
import type { FrameGlobal, PageGlobal, Root } from "./topology-page";

let browser: Browser;
let h: Harness;
const payloads = new Map<string, TopologyReport>();

async function payload(model: string): Promise<TopologyReport> {
  const spec = TOPOLOGY_MODELS.find((m) => m.model === model);
  assert.ok(spec, model);
  if (!payloads.has(model)) payloads.set(model, await modelPayload(spec.model, spec.precision));
  return payloads.get(model) as TopologyReport;
}

before(async () => {
  browser = await launch();
  h = await openHarness(browser);
});
after(async () => {
  await browser?.close();
});

/** Clicks the named node with the real mouse, where the view says it is drawn. */
async function clickNode(page: Page, name: string): Promise<void> {
  const p = await locate(page, name);
  assert.ok(p, `${name} is drawn`);
  await page.mouse.click(p.x, p.y);
}

async function legendCounts(page: Page): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const v of ["supported", "unsupported", "constant"]) {
    counts[v] = Number(await page.locator(`.dynbatch-legend-item[data-verdict="${v}"]`).getAttribute("data-count"));
  }
  return counts;
}

function summaryCounts(r: TopologyReport): Record<string, number> {
  return { supported: r.summary.supported, unsupported: r.summary.unsupported, constant: r.summary.constant };
}

async function switchMode(page: Page, mode: string): Promise<void> {
  await page.click(`.dynbatch-mode-toggle button[data-mode="${mode}"]`);
  await page.waitForSelector(`${ROOT}[data-mode="${mode}"][data-state="ready"]`, { timeout: LAYOUT_WAIT_MS });
}

test("topology: legend counts equal report.summary for the four models in both modes", async () => {
  for (const { model } of TOPOLOGY_MODELS) {
    const report = await payload(model);
    const alternate = report.alternate;
    assert.ok(alternate, `${model} payload carries the other mode`);
    await renderReady(h.page, () => h.render(MIME, report));
    assert.equal(await h.page.getAttribute(ROOT, "data-mode"), "strict");
    assert.deepEqual(await legendCounts(h.page), summaryCounts(report), `${model} strict`);
    await switchMode(h.page, "shape-aware");
    assert.deepEqual(await legendCounts(h.page), summaryCounts(alternate), `${model} shape-aware`);
    // Drawn nodes: every layer but the folded constants.
    assert.equal((await stats(h.page)).nodes, alternate.summary.total - alternate.summary.constant);
  }
  assert.deepEqual(h.problems, []);
});

test("topology: a real click on an unsupported face-detection node shows its reason, shape in N and a fix", async () => {
  const report = await payload("face-detection-adas-0001");
  await renderReady(h.page, () => h.render(MIME, report));
  const detection = report.layers.find((l) => l.name === "detection_out");
  assert.ok(detection && detection.verdict === "unsupported");
  await clickNode(h.page, "detection_out");
  const details = h.page.locator(".dynbatch-details");
  const text = (await details.textContent()) ?? "";
  assert.ok(text.includes("detection_out"), text);
  assert.ok(text.includes(detection.type), text);
  assert.ok(text.includes(detection.reason), text);
  // Strict shapes are at batch 1; the shape-aware alternate gives the symbolic one.
  assert.equal(await details.locator(".dynbatch-shape").textContent(), "[1,1,200N,7]");
  const fix = (await details.locator(".dynbatch-fix").textContent()) ?? "";
  assert.match(fix, /refuses it too\. DetectionOutput .*fixForDynamicBatch\(\)` splits the network at this DetectionOutput/);
  assert.match(fix, /static batch/);

  const priorBox = report.layers.find((l) => l.type === "PriorBox");
  assert.ok(priorBox);
  await clickNode(h.page, priorBox.name);
  assert.ok(((await details.textContent()) ?? "").includes(priorBox.reason));
  // The picture: a Reshape that only the strict rule rejects, among its neighbours.
  await clickNode(h.page, "conv4_3_0_norm_mbox_loc_flat");
  assert.match((await details.locator(".dynbatch-fix").textContent()) ?? "", /^Load with the shape-aware analysis/);
  await h.page.click(".dynbatch-zoom-out");
  await screenshot(h.page, "topology-face-detection", ROOT);

  // A click on empty canvas clears the selection and lists the blocking layers again.
  const box = await h.page.locator(`${ROOT} canvas`).boundingBox();
  assert.ok(box);
  await h.page.mouse.click(box.x + 3, box.y + 3);
  assert.equal(await details.locator(".dynbatch-layer-link").count(), report.summary.unsupported);
  assert.deepEqual(h.problems, []);
});

test("topology: search counts matches and Enter selects the first, an exact name first", async () => {
  const report = await payload("face-detection-adas-0001");
  await renderReady(h.page, () => h.render(MIME, report));
  const search = h.page.locator("input.dynbatch-search");
  await search.fill("mbox_loc_flat");
  const expected = report.layers.filter((l) => l.verdict !== "constant" && l.name.includes("mbox_loc_flat")).length;
  assert.ok(expected > 1);
  assert.equal(await h.page.locator(".dynbatch-search-count").getAttribute("data-count"), String(expected));
  assert.equal(await h.page.locator(".dynbatch-search-count").textContent(), `${expected} matches`);

  await search.fill("detection_out");
  await search.press("Enter");
  assert.equal(await h.page.locator(".dynbatch-details h3").textContent(), "detection_out");
  await search.press("Enter");
  assert.equal(await h.page.locator(".dynbatch-details h3").textContent(), "detection_out/sink_port_0");
  // The selected layer is centered at a readable zoom.
  const s = await stats(h.page);
  assert.ok(s.view.k >= 1);

  await search.fill("no such layer");
  assert.equal(await h.page.locator(".dynbatch-search-count").textContent(), "no match");
  assert.deepEqual(h.problems, []);
});

test("topology: the mode toggle switches counts and keeps the selected layer", async () => {
  const report = await payload("head-pose-estimation-adas-0001");
  assert.ok(report.alternate);
  await renderReady(h.page, () => h.render(MIME, report));
  const reshape = report.layers.find((l) => l.verdict === "unsupported");
  assert.ok(reshape, "head-pose has a strict blocker");
  await clickNode(h.page, reshape.name);
  assert.equal(await h.page.locator(".dynbatch-details h3").textContent(), reshape.name);
  await h.page.click(".dynbatch-zoom-in");
  const zoom = (await stats(h.page)).view.k;
  await switchMode(h.page, "shape-aware");
  assert.equal((await stats(h.page)).view.k, zoom, "the zoom is kept");
  assert.equal(await legendCounts(h.page).then((c) => c.unsupported), 0);
  assert.equal(await h.page.locator(".dynbatch-details h3").textContent(), reshape.name);
  const after = report.alternate.layers.find((l) => l.id === reshape.id);
  assert.ok(after && after.verdict === "supported");
  assert.ok(((await h.page.locator(".dynbatch-details").textContent()) ?? "").includes(after.reason));
  assert.equal(await h.page.getAttribute('.dynbatch-mode-toggle button[data-mode="shape-aware"]', "aria-pressed"), "true");
  await switchMode(h.page, "strict");
  assert.equal(await legendCounts(h.page).then((c) => c.unsupported), report.summary.unsupported);
  assert.deepEqual(h.problems, []);
});

test("topology: constants are folded by default and drawn with the toggle", async () => {
  const report = await payload("face-detection-adas-0001");
  await renderReady(h.page, () => h.render(MIME, report));
  const byId = new Map(report.layers.map((l) => [l.id, l]));
  const consumer = report.layers.find(
    (l) => l.verdict !== "constant" && l.inputs.some((i) => byId.get(i)?.verdict === "constant"),
  );
  assert.ok(consumer);
  const constant = consumer.inputs.map((i) => byId.get(i)).find((l) => l?.verdict === "constant");
  assert.ok(constant);
  assert.equal((await stats(h.page)).nodes, report.summary.total - report.summary.constant);
  assert.equal(await locate(h.page, constant.name), null, "a folded constant is not drawn");
  // The layer it feeds summarises it.
  await clickNode(h.page, consumer.name);
  assert.ok(((await h.page.locator(".dynbatch-details").textContent()) ?? "").includes(constant.name));

  await h.page.check(".dynbatch-constants-toggle input");
  await h.page.waitForSelector(READY, { timeout: LAYOUT_WAIT_MS });
  assert.equal((await stats(h.page)).nodes, report.summary.total);
  await clickNode(h.page, constant.name);
  assert.equal(await h.page.locator(".dynbatch-details h3").textContent(), constant.name);
  await h.page.uncheck(".dynbatch-constants-toggle input");
  await h.page.waitForSelector(READY, { timeout: LAYOUT_WAIT_MS });
  assert.equal((await stats(h.page)).nodes, report.summary.total - report.summary.constant);
  assert.deepEqual(h.problems, []);
});

test("topology: a layer named like markup renders as text and runs nothing", async () => {
  const dialogs: string[] = [];
  h.page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await renderReady(h.page, () => h.render(MIME, xssReport()));
  await clickNode(h.page, XSS_NAME);
  assert.equal(await h.page.locator(".dynbatch-details h3").textContent(), XSS_NAME);
  await h.page.locator("input.dynbatch-search").fill("<img");
  await h.page.locator("input.dynbatch-search").press("Enter");
  assert.equal(await h.page.locator(".dynbatch-details h3").textContent(), XSS_NAME);
  assert.equal(await h.page.locator(".dynbatch-model").textContent(), "<i>xss</i>");
  for (const tag of ["img", "script", "svg", "i", "b"]) {
    assert.equal(await h.page.locator(`${ROOT} ${tag}`).count(), 0, `no <${tag}> element from model text`);
  }
  // A dialog of our own after the checks: it proves the listener sees dialogs, and one opened by
  // injected markup while the page rendered and was searched would be listed before it.
  await h.page.evaluate(() => (globalThis as unknown as { alert(m: string): void }).alert("probe"));
  assert.deepEqual(dialogs, ["probe"]);
  h.page.removeAllListeners("dialog");
  assert.deepEqual(h.problems, []);
});

/**
 * Renders `json` (parsed in the page: handing a 1.7 MB object to page.evaluate costs seconds of
 * serialization) and waits for the layout, watching the main thread meanwhile: returns the
 * longest gap between animation frames, from the render call until the view is ready.
 */
function renderWatchingFrames(page: Page, json: string): Promise<number> {
  return page.evaluate(
    ([mime, text, sel]) => {
      const g = globalThis as unknown as FrameGlobal & { dynbatchHarness: { render(m: string, d: unknown): Promise<void> } };
      let gap = 0;
      let last = -1;
      let done = false;
      const tick = (now: number) => {
        if (last >= 0) gap = Math.max(gap, now - last);
        last = now;
        if (!done) g.requestAnimationFrame(tick);
      };
      const data: unknown = JSON.parse(text);
      return (async () => {
        // Start watching a frame before rendering, so that render()'s own work counts too.
        await new Promise<void>((resolve) => g.requestAnimationFrame((now) => (tick(now), resolve())));
        await g.dynbatchHarness.render(mime, data);
        const root = g.document.querySelector(sel) as { dataset: Record<string, string> };
        await new Promise<void>((resolve) => {
          const check = () => (root.dataset.state === "ready" ? resolve() : g.requestAnimationFrame(check));
          g.requestAnimationFrame(check);
        });
        done = true;
        return gap;
      })();
    },
    [MIME, json, ROOT] as const,
  );
}

/** Zooms in and out around the canvas center, one wheel event per animation frame: ms per frame and per draw. */
function wheelFrames(page: Page): Promise<{ perFrame: number; drawMs: number }> {
  return page.evaluate((sel) => {
    type Canvas = {
      dispatchEvent(e: unknown): boolean;
      getBoundingClientRect(): { left: number; top: number; width: number; height: number };
    };
    const g = globalThis as unknown as FrameGlobal & { WheelEvent: new (type: string, init: object) => unknown };
    const root = g.document.querySelector(sel) as Root & { querySelector(s: string): Canvas };
    const c = root.querySelector("canvas");
    const r = c.getBoundingClientRect();
    const frame = () => new Promise<void>((resolve) => g.requestAnimationFrame(() => resolve()));
    return (async () => {
      const before = root.dynbatchStats().frames;
      const t0 = g.performance.now();
      const steps = 40;
      for (let i = 0; i < steps; i++) {
        const init = {
          deltaY: i % 2 ? 60 : -60,
          clientX: r.left + r.width / 2,
          clientY: r.top + r.height / 2,
          bubbles: true,
          cancelable: true,
        };
        c.dispatchEvent(new g.WheelEvent("wheel", init));
        await frame();
      }
      const perFrame = (g.performance.now() - t0) / steps;
      const after = root.dynbatchStats().frames;
      return { perFrame, drawMs: (after.totalMs - before.totalMs) / Math.max(1, after.frames - before.frames) };
    })();
  }, ROOT);
}

test("topology: a generated 5000-layer network lays out off the main thread, then pans and zooms", async (t) => {
  const report = generatedReport(5000);
  const start = Date.now();
  const gap = await renderWatchingFrames(h.page, JSON.stringify(report));
  const ready = Date.now() - start;
  const s0 = await stats(h.page);
  assert.equal(s0.nodes, 5000);
  assert.equal(s0.engine, "worker", "the layout ran in the Web Worker");
  assert.deepEqual(await legendCounts(h.page), summaryCounts(report));
  const overview = await wheelFrames(h.page);

  const canvas = await h.page.locator(`${ROOT} canvas`).boundingBox();
  assert.ok(canvas);
  const cx = canvas.x + canvas.width / 2;
  const cy = canvas.y + canvas.height / 2;
  await h.page.mouse.move(cx, cy);
  for (let i = 0; i < 12; i++) await h.page.mouse.wheel(0, -120);
  await h.page.waitForFunction(
    ([sel, k]) => ((globalThis as unknown as PageGlobal).document.querySelector(sel) as Root).dynbatchStats().view.k > k * 2,
    [ROOT, s0.view.k] as const,
  );
  const zoomed = await stats(h.page);
  await h.page.mouse.down();
  for (let i = 1; i <= 20; i++) await h.page.mouse.move(cx + i * 10, cy + i * 6);
  await h.page.mouse.up();
  const panned = await stats(h.page);
  assert.ok(Math.abs(panned.view.tx - zoomed.view.tx) > 100 && Math.abs(panned.view.ty - zoomed.view.ty) > 60, "drag panned");
  const close = await wheelFrames(h.page);
  // Keys on the focused canvas: an arrow pans, 0 fits the whole graph again, as does the Fit button.
  await h.page.focus(`${ROOT} canvas`);
  const beforeKey = await stats(h.page);
  await h.page.keyboard.press("ArrowUp");
  assert.equal((await stats(h.page)).view.ty, beforeKey.view.ty + 80);
  await h.page.keyboard.press("0");
  assert.equal((await stats(h.page)).view.k, s0.view.k);
  await h.page.keyboard.press("+");
  assert.ok((await stats(h.page)).view.k > s0.view.k);
  await h.page.click(".dynbatch-fit");
  assert.equal((await stats(h.page)).view.k, s0.view.k);
  // The picture: a blocker found by search, zoomed out until a few blocks of the network show.
  await h.page.locator("input.dynbatch-search").fill("block99/reshape");
  await h.page.locator("input.dynbatch-search").press("Enter");
  for (let i = 0; i < 6; i++) await h.page.click(".dynbatch-zoom-out");
  await screenshot(h.page, "topology-5000", ROOT);
  t.diagnostic(
    `5000 layers (${s0.edges} edges): ready ${ready} ms after render(), ELK in a ${s0.engine} ${Math.round(s0.layoutMs ?? 0)} ms, ` +
      `longest main-thread frame gap meanwhile ${Math.round(gap)} ms; wheel zoom: whole graph ${overview.perFrame.toFixed(1)} ms per frame ` +
      `(draw ${overview.drawMs.toFixed(2)} ms), zoomed in ×${(zoomed.view.k / s0.view.k).toFixed(1)} ${close.perFrame.toFixed(1)} ms per frame (draw ${close.drawMs.toFixed(2)} ms)`,
  );
  assert.deepEqual(h.problems, []);
});

test("topology: face-detection timings (diagnostic) and the dark theme follows JupyterLab's variables", async (t) => {
  const dark = await openHarness(browser, { theme: "dark" });
  const report = await payload("face-detection-adas-0001");
  const start = Date.now();
  await renderReady(dark.page, () => dark.render(MIME, report));
  const ready = Date.now() - start;
  const folded = await stats(dark.page);
  const foldedFrames = await wheelFrames(dark.page);
  await dark.page.check(".dynbatch-constants-toggle input");
  await dark.page.waitForSelector(READY, { timeout: LAYOUT_WAIT_MS });
  const all = await stats(dark.page);
  assert.equal(all.nodes, report.summary.total);
  const allFrames = await wheelFrames(dark.page);
  await dark.page.uncheck(".dynbatch-constants-toggle input");
  await dark.page.waitForSelector(READY, { timeout: LAYOUT_WAIT_MS });
  t.diagnostic(
    `face-detection: ${folded.nodes} layers drawn (${folded.edges} edges): ready ${ready} ms, ELK in a ${folded.engine} ` +
      `${Math.round(folded.layoutMs ?? 0)} ms (the page's first layout: worker start included), wheel zoom ${foldedFrames.perFrame.toFixed(1)} ms ` +
      `per frame (draw ${foldedFrames.drawMs.toFixed(2)} ms); constants shown, ${all.nodes} layers: ELK ${Math.round(all.layoutMs ?? 0)} ms, ` +
      `wheel zoom ${allFrames.perFrame.toFixed(1)} ms per frame (draw ${allFrames.drawMs.toFixed(2)} ms)`,
  );

  await clickNode(dark.page, "detection_out");
  const pixel = () =>
    dark.page.evaluate((sel) => {
      type El = { getContext(k: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: number[] } } };
      const g = globalThis as unknown as PageGlobal & { getComputedStyle(e: unknown): { backgroundColor: string } };
      const root = g.document.querySelector(sel) as { querySelector(s: string): El };
      const canvas = root.querySelector("canvas");
      const [r, gr, b] = canvas.getContext("2d").getImageData(1, 1, 1, 1).data;
      return {
        drawn: `rgb(${r}, ${gr}, ${b})`,
        css: g.getComputedStyle(root.querySelector(".dynbatch-canvas-host")).backgroundColor,
      };
    }, ROOT);
  const inDark = await pixel();
  assert.equal(inDark.drawn, inDark.css, "canvas background is the theme's");
  // Two steps out: the neighbours show, the names stay readable.
  for (let i = 0; i < 2; i++) await dark.page.click(".dynbatch-zoom-out");
  await screenshot(dark.page, "topology-dark", ROOT);
  await setTheme(dark.page, "light");
  // The redraw follows the theme switch on a later animation frame: wait for the pixel itself.
  await dark.page.waitForFunction(
    ([sel, before]) => {
      type El = { getContext(k: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: number[] } } };
      const root = (globalThis as unknown as PageGlobal).document.querySelector(sel) as { querySelector(s: string): El };
      const [r, g, b] = root.querySelector("canvas").getContext("2d").getImageData(1, 1, 1, 1).data;
      return `rgb(${r}, ${g}, ${b})` !== before;
    },
    [ROOT, inDark.drawn] as const,
  );
  const inLight = await pixel();
  assert.equal(inLight.drawn, inLight.css);
  assert.notEqual(inLight.drawn, inDark.drawn, "the canvas follows a theme switch");
  assert.deepEqual(dark.problems, []);
  await dark.page.close();
});
