/**
 * The frontier view in the renderer harness, on a hand-made report: our factory claims the MIME
 * type, the chart has one trace per policy at the report's p99 and throughput on a log x axis,
 * plotly's legend names every policy, hovering a point shows its policy, rate, p50/p99, batch
 * histogram and the simulator's prediction, a name with markup stays text, and a malformed
 * report is refused with a message.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser } from "playwright-core";
import type { FrontierPoint, FrontierReport } from "../../kernel";
import { launch, screenshot } from "./chromium";
import { factoryOf, Harness, openHarness } from "./harness";

const MIME = "application/vnd.dynbatch.frontier+json";
const XSS = "<img src=x onerror=alert(1)>";

function pt(rate: number, throughput: number, p50: number, p99: number, histogram: Record<string, number>): FrontierPoint {
  const completed = Object.entries(histogram).reduce((a, [n, c]) => a + Number(n) * c, 0);
  return {
    rate,
    offered: completed,
    completed,
    errors: {},
    throughput,
    latencyMs: { p50, p90: p99, p99 },
    histogram,
    paddedSamples: 0,
  };
}

/** Three policies, points far apart so that each hover finds its own. */
function report(): FrontierReport {
  const first = pt(100, 100, 1.5, 2, { 1: 40, 2: 30 });
  first.simulated = { throughput: 105, latencyMs: { p50: 1.25, p90: 1.8, p99: 2.2 } };
  return {
    model: XSS,
    device: "CPU",
    limit: 8,
    dynamic: true,
    durationMs: 500,
    seed: 1,
    saturation: 1000,
    batchLatencyMs: 2.5,
    series: [
      {
        policy: "maxDelay 1 ms",
        kind: "batcher",
        maxDelayUs: 1000,
        requests: 2,
        points: [first, pt(2000, 1900, 4, 8, { 8: 240 })],
      },
      {
        policy: "maxDelay 5 ms",
        kind: "batcher",
        maxDelayUs: 5000,
        requests: 2,
        points: [pt(100, 100, 5, 6, { 4: 25 }), pt(2000, 1950, 7, 20, { 8: 240 })],
      },
      {
        policy: "no batching (2 requests)",
        kind: "requests",
        requests: 2,
        points: [pt(100, 100, 0.5, 0.8, { 1: 100 }), pt(2000, 950, 300, 600, { 1: 950 })],
      },
    ],
  };
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

interface Drawn {
  traces: { name: string; x: number[]; y: number[]; policy: string }[];
  xType: string;
}

function drawn(): Promise<Drawn> {
  return h.page.$eval(".dynbatch-frontier-chart", (el) => {
    type Gd = {
      data: { name: string; x: number[]; y: number[]; meta: { policy: string } }[];
      layout: { xaxis: { type: string } };
    };
    const gd = el as unknown as Gd;
    return {
      traces: gd.data.map((t) => ({ name: t.name, x: [...t.x], y: [...t.y], policy: t.meta.policy })),
      xType: gd.layout.xaxis.type,
    };
  });
}

test("frontier: our factory renders one trace per policy at p99 × throughput, named in the legend", async () => {
  assert.equal(await factoryOf(h.page, MIME), "frontier");
  const r = report();
  await h.render(MIME, r);
  await h.page.waitForSelector('.dynbatch-frontier[data-state="ready"]');
  const d = await drawn();
  assert.equal(d.xType, "log");
  assert.deepEqual(
    d.traces.map((t) => [t.policy, t.x, t.y]),
    r.series.map((s) => [s.policy, s.points.map((p) => p.latencyMs.p99), s.points.map((p) => p.throughput)]),
  );
  const legend = await h.page.locator(".dynbatch-frontier-chart .legendtext").allTextContents();
  assert.deepEqual(legend, ["maxDelay 1 ms", "maxDelay 5 ms", "no batching (2 requests)"]);
  assert.equal(await h.page.locator(".dynbatch-frontier-header b").textContent(), XSS, "the name is text");
  await screenshot(h.page, "frontier-light", ".dynbatch-frontier");
  assert.deepEqual(dialogs, []);
  assert.deepEqual(h.problems, []);
});

test("frontier: hovering a point shows policy, rate, p50/p99, the batch histogram and the prediction", async () => {
  await h.render(MIME, report());
  await h.page.waitForSelector('.dynbatch-frontier[data-state="ready"]');
  const chart = h.page.locator(".dynbatch-frontier-chart");
  const marker = chart.locator(".scatterlayer .trace").nth(0).locator("path.point").nth(0);
  const box = await marker.boundingBox();
  assert.ok(box, "the marker is drawn");
  await h.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const label = chart.locator(".hoverlayer .hovertext").first();
  await label.waitFor();
  const text = (await label.textContent()) ?? "";
  assert.match(text, /^maxDelay 1 ms/);
  assert.match(text, /offered 100 samples\/s/);
  assert.match(text, /p50 1\.5 ms · p99 2 ms/);
  assert.match(text, /batches \(size×count\): 1×40 2×30/);
  assert.match(text, /simulated: 105 samples\/s, p50 1\.25 ms, p99 2\.2 ms/);
  assert.deepEqual(h.problems, []);
});

test("frontier: a malformed report is refused with a message", async () => {
  await h.render(MIME, { model: "m", series: [{ policy: "x", points: [{ throughput: "fast" }] }] });
  await h.page.waitForSelector('.dynbatch-frontier[data-state="error"]');
  assert.match((await h.page.locator(".dynbatch-frontier-error").textContent()) ?? "", /Not a frontier report: a point of "x"/);
  assert.deepEqual(h.problems, []);
});
