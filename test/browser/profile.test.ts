/**
 * The profile view in the renderer harness: the batch slider recolours the graph, the darkest
 * box is the layer the report ranks first at the batch shown, the details panel shows the
 * report's fit, the metric toggle ranks by slope, and names with markup stay text; a real profile
 * of landmarks, and a generated 5,000-layer one whose recolouring, wheel-zoom and drag-pan
 * frame times are printed, never asserted. Fused layers are chips inside their host's box.
 * Screenshots go to test-artifacts/.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser } from "playwright-core";
import { IECore } from "../../kernel";
import type { ProfileReport } from "../../kernel";
import { irPath } from "../helpers/models";
import { buildProfile } from "../../kernel/bench";
import { num } from "../../kernel/display/format";
import { heatColor, topLayers } from "../../kernel/display/profile";
import { launch, screenshot } from "./chromium";
import { factoryOf, Harness, openHarness } from "./harness";

const MIME = "application/vnd.dynbatch.profile+json";
const ROOT = ".dynbatch-profile";
const XSS = "<img src=x onerror=alert(1)>";
const DARKEST = heatColor(1);

/**
 * "setup" costs 50 + n µs (fixed-heavy), XSS 2 + 20n µs (per-sample-heavy), with a Relu fused
 * into it: at n = 1 setup leads (51 vs 22 µs), at n = 8 the other one (162 vs 58 µs).
 */
function report(): ProfileReport {
  return buildProfile({
    model: "two layers",
    device: "CPU",
    layers: [
      { name: "setup", type: "Convolution", execType: "jit:avx2" },
      { name: XSS, type: "MatMul", execType: "gemm" },
      { name: "relu", type: "Relu", execType: "undef", fusedInto: XSS },
    ],
    batches: [1, 4, 8].map((n) => ({ batch: n, wallUs: [60 + 21 * n], layerUs: [[50 + n, 2 + 20 * n, 0]] })),
    graph: [
      { id: 0, name: "input", type: "Parameter", inputs: [] },
      { id: 1, name: "setup", type: "Convolution", inputs: [0] },
      { id: 2, name: XSS, type: "MatMul", inputs: [1] },
      { id: 3, name: "relu", type: "Relu", inputs: [2] },
    ],
  });
}

let browser: Browser;
let h: Harness;
const dialogs: string[] = [];

before(async () => {
  browser = await launch();
  h = await openHarness(browser, { theme: "light" });
  h.page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
});

after(async () => {
  await browser?.close();
});

/** The layer of each box that has the scale's darkest colour. */
function darkest(): Promise<string[]> {
  return h.page.$$eval(
    `${ROOT} rect[data-layer]`,
    (rects, fill) => rects.filter((r) => r.getAttribute("fill") === fill).map((r) => r.getAttribute("data-layer")!),
    DARKEST,
  );
}

test("our factory claims the profile MIME type", async () => {
  assert.equal(await factoryOf(h.page, MIME), "profile");
});

test("the slider recolours: the darkest box is the report's top layer at each batch", async () => {
  const r = report();
  await h.render(MIME, r);
  await h.page.waitForSelector(`${ROOT}[data-state="ready"]`);
  assert.equal(await h.page.getAttribute(ROOT, "data-batch"), "8");
  assert.deepEqual(await darkest(), [topLayers(r, 2)[0].name]);
  assert.equal(topLayers(r, 2)[0].name, XSS);
  await screenshot(h.page, "profile-n8", ROOT);
  const before = await h.page.$$eval(`${ROOT} rect[data-layer]`, (rects) => rects.map((x) => x.getAttribute("fill")));
  await h.page.locator(`${ROOT} input[type=range]`).fill("0");
  assert.equal(await h.page.getAttribute(ROOT, "data-batch"), "1");
  assert.deepEqual(await darkest(), [topLayers(r, 0)[0].name]);
  assert.equal(topLayers(r, 0)[0].name, "setup");
  const after = await h.page.$$eval(`${ROOT} rect[data-layer]`, (rects) => rects.map((x) => x.getAttribute("fill")));
  assert.notDeepEqual(after, before);
  await screenshot(h.page, "profile-n1", ROOT);
  // The fused Relu is a dashed chip inside its host's box, not a box of its own; it keeps the neutral fill.
  const relu = `${ROOT} rect[data-layer="relu"]`;
  assert.equal(await h.page.getAttribute(relu, "fill"), "#ffffff");
  assert.equal(await h.page.getAttribute(relu, "stroke-dasharray"), "3 2");
  assert.equal(await h.page.getAttribute(relu, "data-fused-into"), XSS);
  assert.equal(await h.page.locator(`${ROOT} rect[data-layer]:not([data-fused-into])`).count(), 3, "input, setup, the matmul");
  const host = (await h.page.locator(`${ROOT} rect[data-layer]:not([data-fused-into])`).nth(2).boundingBox())!;
  const chip = (await h.page.locator(relu).boundingBox())!;
  assert.ok(
    chip.x >= host.x &&
      chip.y >= host.y &&
      chip.x + chip.width <= host.x + host.width &&
      chip.y + chip.height <= host.y + host.height,
    `chip ${JSON.stringify(chip)} inside its host ${JSON.stringify(host)}`,
  );
  await h.page.locator(relu).click();
  assert.match((await h.page.textContent(`${ROOT} .dynbatch-profile-details`))!, /fused into/);
});

test("the details panel shows the report's fit; the slope toggle ranks the per-sample-heavy layer first", async () => {
  const r = report();
  await h.render(MIME, r);
  await h.page.waitForSelector(`${ROOT}[data-state="ready"]`);
  await h.page.locator(`${ROOT} rect[data-layer="setup"]`).click();
  const fit = r.layers[0].fit!;
  assert.equal(
    await h.page.textContent(`${ROOT} .dynbatch-profile-fit`),
    `time ≈ ${num(fit.fixedUs)} µs + ${num(fit.perSampleUs)} µs · n (R² ${fit.r2.toFixed(3)})`,
  );
  assert.equal(await h.page.locator(`${ROOT} .dynbatch-profile-chart circle`).count(), 3);
  await h.page.getByRole("button", { name: "per-sample slope" }).click();
  assert.equal(await h.page.getAttribute(ROOT, "data-metric"), "slope");
  assert.deepEqual(await darkest(), [XSS]);
  assert.equal(await h.page.textContent(`${ROOT} .dynbatch-profile-table tr:nth-child(2) td:nth-child(2)`), XSS);
  await screenshot(h.page, "profile-slope-details", ROOT);
});

test("names with markup render as text", async () => {
  await h.render(MIME, report());
  await h.page.waitForSelector(`${ROOT}[data-state="ready"]`);
  assert.equal(await h.page.locator(`${ROOT} img`).count(), 0);
  assert.ok((await h.page.textContent(ROOT))!.includes(XSS));
  assert.equal(await h.page.textContent(`${ROOT} rect[data-layer="relu"] title`), `relu\nRelu, fused into ${XSS}`);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(h.problems, []);
});

test("a real landmarks profile: the darkest box at each end of the slider is the report's top layer", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = 8;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const r = await exec.profile({ batches: [1, 8], runs: 3, warmup: 2 });
  await h.render(MIME, r);
  await h.page.waitForSelector(`${ROOT}[data-state="ready"]`);
  assert.deepEqual(await darkest(), [topLayers(r, 1)[0].name]);
  await screenshot(h.page, "profile-landmarks-n8", ROOT);
  await h.page.locator(`${ROOT} input[type=range]`).fill("0");
  assert.deepEqual(await darkest(), [topLayers(r, 0)[0].name]);
  assert.deepEqual(h.problems, []);
});

test("a 5,000-layer profile renders; the slider's recolouring time is printed", async () => {
  const count = 5000;
  const names = Array.from({ length: count }, (_, i) => `layer${i}`);
  const r = buildProfile({
    model: "generated",
    device: "CPU",
    layers: names.map((name) => ({ name, type: "Convolution", execType: "jit" })),
    // The first layer costs 100n µs, the last 100(5 - n), the others 1 to 7 µs: the last leads at n = 1, the first at n = 4.
    batches: [1, 4].map((n) => ({
      batch: n,
      wallUs: [1],
      layerUs: [names.map((_, i) => (i === 0 ? 100 * n : i === count - 1 ? 100 * (5 - n) : 1 + (i % 7)))],
    })),
    graph: names.map((name, i) => ({ id: i, name, type: "Convolution", inputs: i ? [i - 1 - (i % 3 === 0 ? 1 : 0)] : [] })),
  });
  const t0 = Date.now();
  await h.render(MIME, r);
  await h.page.waitForSelector(`${ROOT}[data-state="ready"]`);
  const renderMs = Date.now() - t0;
  assert.deepEqual(await darkest(), ["layer0"]);
  const t1 = Date.now();
  await h.page.locator(`${ROOT} input[type=range]`).fill("0");
  await h.page.waitForSelector(`${ROOT}[data-batch="1"]`);
  const recolourMs = Date.now() - t1;
  assert.deepEqual(await darkest(), [`layer${count - 1}`]);
  const zoom = await zoomAndPanFrames();
  assert.ok(zoom.scales[0] !== zoom.scales[1], "the wheel zooms");
  assert.ok(zoom.panned, "dragging pans");
  console.log(
    `profile view, ${count} layers: first render ${renderMs} ms, slider recolour ${recolourMs} ms; ` +
      `wheel zoom ${zoom.zoomMs.toFixed(1)} ms per frame, drag pan ${zoom.panMs.toFixed(1)} ms per frame (diagnostic, 2 loaded cores)`,
  );
  await h.page.getByRole("button", { name: "Fit" }).click();
  await screenshot(h.page, "profile-5000-fit", ROOT);
});

/**
 * Forty wheel steps over the graph, then forty drag moves, one event per animation frame: the
 * milliseconds per frame of each (what a user feels), the scale before and after, and whether
 * the drag scrolled the graph.
 */
function zoomAndPanFrames(): Promise<{ zoomMs: number; panMs: number; scales: string[]; panned: boolean }> {
  return h.page.evaluate((sel) => {
    type El = {
      dispatchEvent(e: unknown): boolean;
      getBoundingClientRect(): { left: number; top: number; width: number; height: number };
      style: { transform: string };
      scrollLeft: number;
      scrollTop: number;
      querySelector(s: string): El;
    };
    type Init = Record<string, unknown>;
    const g = globalThis as unknown as {
      document: { querySelector(s: string): El };
      requestAnimationFrame(f: () => void): void;
      performance: { now(): number };
      WheelEvent: new (t: string, i: Init) => unknown;
      PointerEvent: new (t: string, i: Init) => unknown;
    };
    const host = g.document.querySelector(`${sel} .dynbatch-profile-graph`);
    const svg = host.querySelector("svg");
    const r = host.getBoundingClientRect();
    const cx = r.left + r.width / 2;
    const cy = r.top + r.height / 2;
    const frame = () => new Promise<void>((resolve) => g.requestAnimationFrame(() => resolve()));
    return (async () => {
      const steps = 40;
      const before = svg.style.transform;
      let t0 = g.performance.now();
      for (let i = 0; i < steps; i++) {
        host.dispatchEvent(
          new g.WheelEvent("wheel", {
            deltaY: i < steps / 2 ? 100 : -60,
            clientX: cx,
            clientY: cy,
            bubbles: true,
            cancelable: true,
          }),
        );
        await frame();
      }
      const zoomMs = (g.performance.now() - t0) / steps;
      const after = svg.style.transform;
      const start = [host.scrollLeft, host.scrollTop];
      const pointer = (type: string, x: number, y: number) =>
        host.dispatchEvent(new g.PointerEvent(type, { clientX: x, clientY: y, button: 0, bubbles: true, pointerId: 1 }));
      pointer("pointerdown", cx, cy);
      t0 = g.performance.now();
      for (let i = 1; i <= steps; i++) {
        pointer("pointermove", cx - 3 * i, cy - 5 * i);
        await frame();
      }
      const panMs = (g.performance.now() - t0) / steps;
      pointer("pointerup", cx - 3 * steps, cy - 5 * steps);
      const panned = host.scrollLeft !== start[0] || host.scrollTop !== start[1];
      return { zoomMs, panMs, scales: [before, after], panned };
    })();
  }, ROOT);
}
