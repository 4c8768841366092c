/**
 * The latency view in the renderer harness (the batch axis and the flat static line are in
 * latency-axis.test.ts): traces per mode and device with the measured
 * batches, the limit marker, the log toggle, hover details, the shared legend, escaping of
 * report text, empty and malformed reports — on a hand-made report with two devices for exact
 * structure, and on a real sweep of landmarks-regression-retail-0009 for the screenshots.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser, Locator, Page } from "playwright-core";
import { benchmark, IECore, measurePeakGflops } from "../../kernel";
import type { LatencyMode, LatencyPoint, LatencyReport } from "../../kernel";
import { irPath } from "../helpers/models";
import { launch, screenshot } from "./chromium";
import { Harness, openHarness, OUTPUT_WIDTH, setTheme } from "./harness";
import { chart, charts } from "./latency-page";

const MIME = "application/vnd.dynbatch.latency+json";
const XSS = "<img src=x onerror=alert(1)>";
const MARKUP = '<b>bold</b><a href="javascript:alert(2)">link</a>%{meta.device}';

/** Per-mode offsets, so that no two series share a point. */
const OFFSET: Record<LatencyMode, number> = { dynamic: 0, static: 0.25, loop: 4, ort: 1 };

/** A point with made-up but self-consistent statistics (p50 grows with the batch). */
function point(mode: LatencyMode, batch: number, base: number): LatencyPoint {
  const p50 = base + OFFSET[mode] + 0.5 * batch;
  return {
    batch,
    mode,
    latencyMs: { p50, p90: p50 * 1.1, min: p50 * 0.9, max: p50 * 1.25 },
    throughput: (batch / p50) * 1000,
    gflops: 2 * batch,
    runs: 10 + batch,
  };
}

const BATCHES: Record<LatencyMode, number[]> = {
  dynamic: [1, 2, 4, 8, 16],
  static: [1, 2, 4, 8],
  loop: [1, 2, 4, 8, 16],
  ort: [1, 4, 16],
};

function sweep(device: string, base: number): LatencyReport {
  return {
    model: "landmarks",
    device,
    limit: 16,
    threads: 2,
    peakGflops: 100,
    gflopPerSample: 0.02,
    date: "2026-11-25T14:02:11.000Z",
    points: (Object.keys(BATCHES) as LatencyMode[]).flatMap((m) => BATCHES[m].map((b) => point(m, b, base))),
    skipped: [{ mode: "static", reason: "batch 16: out of memory" }],
  };
}

/** Two devices, four modes each; static stops at batch 8 on both. */
function twoDevices(): LatencyReport {
  return { ...sweep("CPU", 2), others: [sweep("GPU", 1.5)] };
}

let browser: Browser;
let shared: Harness;
/** Messages of alert/confirm/prompt dialogs the page opened: there must be none. */
const dialogs: string[] = [];
let real: LatencyReport;

before(async () => {
  browser = await launch();
  shared = await openHarness(browser, { theme: "light" });
  shared.page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  // A real sweep in quick settings (about 2 s each); the second, on one thread, is a second "device".
  const ie = new IECore();
  const peakGflops = measurePeakGflops(2, 50, 2);
  const quick = { batches: [1, 2, 4, 8, 16], timePerPointMs: 150, minRuns: 5, warmupMs: 20, peakGflops, ie };
  const model = irPath("landmarks-regression-retail-0009");
  real = await benchmark({ model, ...quick, threads: 2 });
  const single = await benchmark({ model, ...quick, threads: 1 });
  real.others = [{ ...single, device: "CPU, 1 thread" }];
});
after(async () => {
  await browser?.close();
});

/** Renders into the page every test shares: opening a page costs seconds (plotly), a render does not. */
async function rendered(report: unknown): Promise<Harness> {
  await shared.render(MIME, report);
  return shared;
}

test("latency: one p50 line, one band and one throughput line per mode and device, x = the batches measured", async () => {
  const h = await rendered(twoDevices());
  const all = await charts(h.page);
  assert.deepEqual(all.map((c) => c.metric).sort(), ["latency", "throughput"]);
  for (const c of all) {
    const lines = c.traces.filter((t) => !t.meta.band);
    assert.equal(lines.length, 4 * 2, `${c.metric}: modes × devices`);
    for (const device of ["CPU", "GPU"]) {
      for (const mode of Object.keys(BATCHES) as LatencyMode[]) {
        const t = lines.filter((l) => l.meta.mode === mode && l.meta.device === device);
        assert.equal(t.length, 1, `${c.metric}: one ${mode} line on ${device}`);
        assert.deepEqual(t[0].x, BATCHES[mode], `${c.metric} ${mode} ${device}: x`);
        assert.equal(t[0].meta.metric, c.metric);
        const base = device === "CPU" ? 2 : 1.5;
        const expected = BATCHES[mode]
          .map((b) => point(mode, b, base))
          .map((p) => (c.metric === "latency" ? p.latencyMs.p50 : p.throughput));
        assert.deepEqual(t[0].y, expected, `${c.metric} ${mode} ${device}: y`);
      }
    }
  }
  const bands = chart(all, "latency").traces.filter((t) => t.meta.band);
  assert.equal(bands.length, 8, "a min–max band per latency series");
  const dynCpu = bands.find((b) => b.meta.mode === "dynamic" && b.meta.device === "CPU");
  assert.ok(dynCpu);
  const pts = BATCHES.dynamic.map((b) => point("dynamic", b, 2));
  assert.deepEqual(dynCpu.y, [...pts.map((p) => p.latencyMs.max), ...pts.map((p) => p.latencyMs.min).reverse()]);
  assert.equal(chart(all, "throughput").traces.filter((t) => t.meta.band).length, 0);
  assert.deepEqual(h.problems, []);
});

test("latency: the batch limit is marked on both charts, and skipped modes are listed as text", async () => {
  const h = await rendered(twoDevices());
  for (const c of await charts(h.page)) {
    assert.deepEqual(c.shapes, [{ x0: 16, x1: 16, label: "limit 16" }], c.metric);
  }
  const skipped = h.page.locator(".dynbatch-latency-skipped li");
  assert.deepEqual(await skipped.allInnerTexts(), [
    "static on CPU: batch 16: out of memory",
    "static on GPU: batch 16: out of memory",
  ]);
  assert.deepEqual(h.problems, []);
});

test("latency: the band toggle hides and shows every min–max band, and only the bands", async () => {
  const h = await rendered(twoDevices());
  const visible = async (band: boolean) =>
    (await charts(h.page)).flatMap((c) => c.traces.filter((t) => Boolean(t.meta.band) === band).map((t) => t.visible));
  const toggle = h.page.locator("button.dynbatch-band-toggle");
  assert.equal(await toggle.getAttribute("aria-pressed"), "true");
  assert.deepEqual(await visible(true), Array(8).fill(true));
  await toggle.click();
  assert.deepEqual(await visible(true), Array(8).fill(false));
  assert.deepEqual(await visible(false), Array(16).fill(true), "lines stay");
  assert.equal(await toggle.getAttribute("aria-pressed"), "false");
  await toggle.click();
  assert.deepEqual(await visible(true), Array(8).fill(true));
  assert.deepEqual(h.problems, []);
});

/** Moves the mouse onto one marker of a trace and returns the hover label's text. */
async function hoverPoint(page: Page, chartEl: Locator, traceIndex: number, pointIndex: number): Promise<string> {
  const marker = chartEl.locator(".scatterlayer .trace").nth(traceIndex).locator("path.point").nth(pointIndex);
  const box = await marker.boundingBox();
  assert.ok(box, "the marker is drawn");
  const label = chartEl.locator(".hoverlayer .hovertext");
  // Off the chart first, so that the label read is this point's and not the previous one's.
  await page.mouse.move(0, 0);
  await label.first().waitFor({ state: "detached" });
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await label.first().waitFor();
  return (await label.first().textContent()) ?? "";
}

test("latency: hovering a point shows batch, p50, p90, min, max, throughput, runs and GFLOP/s", async () => {
  const h = await rendered(twoDevices());
  const all = await charts(h.page);
  const latency = chart(all, "latency");
  // The static line on GPU, its point at batch 4.
  const index = latency.traces.findIndex((t) => !t.meta.band && t.meta.mode === "static" && t.meta.device === "GPU");
  const text = await hoverPoint(h.page, h.page.locator('.dynbatch-latency-chart[data-metric="latency"]'), index, 2);
  const p = point("static", 4, 1.5); // p50 3.75, p90 4.125, min 3.375, max 4.6875, 1066.67 samples/s, 14 runs, 8 GFLOP/s
  assert.match(text, /static · GPU/);
  assert.match(text, /batch 4/);
  assert.match(text, /p50 3\.75 ms/);
  assert.match(text, /p90 4\.125 ms/);
  assert.match(text, /min 3\.375 ms/);
  assert.match(text, /max 4\.688 ms/);
  assert.match(text, new RegExp(`throughput ${Math.round(p.throughput).toLocaleString("en-US")} samples/s`));
  assert.match(text, /runs 14/);
  assert.match(text, /8 GFLOP\/s/);
  assert.deepEqual(h.problems, []);
});

test("latency: a legend button hides its series in both charts, and shows it again", async () => {
  const h = await rendered(twoDevices());
  const button = h.page.locator(".dynbatch-latency-series", { hasText: "batch-1 loop · GPU" });
  assert.equal(await button.count(), 1);
  const visible = async () =>
    (await charts(h.page)).flatMap((c) =>
      c.traces.filter((t) => t.meta.mode === "loop" && t.meta.device === "GPU").map((t) => t.visible),
    );
  assert.deepEqual(await visible(), [true, true, true], "band, p50 line, throughput line");
  await button.click();
  assert.deepEqual(await visible(), [false, false, false]);
  assert.equal(await button.getAttribute("aria-pressed"), "false");
  await button.click();
  assert.deepEqual(await visible(), [true, true, true]);
  assert.deepEqual(h.problems, []);
});

test("latency: model, device and reasons named <img src=x onerror=alert(1)> render as text and run nothing", async () => {
  // Dynamic points only, far apart between the devices, so that each hover finds its own series.
  const dynamicOnly = (r: LatencyReport): LatencyReport => ({ ...r, points: r.points.filter((p) => p.mode === "dynamic") });
  const evil: LatencyReport = {
    ...dynamicOnly(sweep(XSS, 2)),
    model: XSS,
    // Markup plotly would draw (bold, a link) and a plotly template: all must stay literal text.
    others: [{ ...dynamicOnly(sweep(MARKUP, 20)), model: XSS }],
    skipped: [{ mode: "ort", reason: XSS }],
  };
  const h = await rendered(evil);
  assert.equal(await h.page.locator(".dynbatch-latency-model").innerText(), XSS);
  assert.match(await h.page.locator(".dynbatch-latency-info").first().innerText(), /^<img src=x onerror=alert\(1\)>: limit 16/);
  assert.match(
    await h.page.locator(".dynbatch-latency-skipped").innerText(),
    /onnxruntime on <img src=x onerror=alert\(1\)>: <img src=x onerror=alert\(1\)>/,
  );
  assert.ok((await h.page.locator(".dynbatch-latency-series").allInnerTexts()).includes(`dynamic · ${XSS}`));
  const latency = chart(await charts(h.page), "latency");
  const chartEl = h.page.locator('.dynbatch-latency-chart[data-metric="latency"]');
  const first = latency.traces.findIndex((t) => !t.meta.band && t.meta.device === XSS);
  assert.match(await hoverPoint(h.page, chartEl, first, 0), /^dynamic · <img src=x onerror=alert\(1\)>batch 1/);
  const second = latency.traces.findIndex((t) => !t.meta.band && t.meta.device === MARKUP);
  const expected = `dynamic · ${MARKUP}batch 1`;
  assert.equal((await hoverPoint(h.page, chartEl, second, 0)).slice(0, expected.length), expected);
  // Plotly fills "%{meta.device}" in trace names from meta, which holds the raw device.
  assert.deepEqual(
    latency.traces.filter((t) => t.name.includes("%{")).map((t) => t.name),
    [],
    "no plotly template in a name",
  );
  assert.equal(await h.page.locator(".dynbatch-latency-chart svg a").count(), 0, "no link was drawn");
  assert.equal(await h.page.locator("img").count(), 0, "no img element was created");
  assert.equal(await h.page.locator("svg image").count(), 0, "no SVG image was created");
  assert.deepEqual(dialogs, []);
  assert.deepEqual(h.problems, []);
});

test("latency: a report without points shows the message and its skipped modes, and no chart", async () => {
  const h = await rendered({
    model: "m",
    device: "CPU",
    limit: 8,
    points: [],
    skipped: [{ mode: "dynamic", reason: "unsupported topology: fc (Reshape)" }],
  } satisfies LatencyReport);
  assert.match(await h.page.locator(".dynbatch-latency-empty").innerText(), /no latency points/);
  assert.match(
    await h.page.locator(".dynbatch-latency-skipped").innerText(),
    /dynamic on CPU: unsupported topology: fc \(Reshape\)/,
  );
  assert.equal(await h.page.locator(".dynbatch-latency-chart").count(), 0);
  assert.equal(await h.page.locator("button.dynbatch-log-toggle").count(), 0);
  assert.deepEqual(h.problems, []);
});

test("latency: data that is no latency report shows why instead of throwing", async () => {
  const h = await rendered({ model: "m", device: "CPU", limit: 8, points: [{ batch: 1, mode: "warp" }] });
  assert.match(
    await h.page.locator(".dynbatch-latency-error").innerText(),
    /Not a latency report: a point's `mode` is not one of/,
  );
  const good = sweep("CPU", 2);
  // Malformed `skipped` entries once threw out of renderModel.
  for (const [skipped, why] of [
    ["x", "`skipped` is not a list"],
    [[null], "an entry of `skipped` lacks a known `mode` or a `reason`"],
  ] as const) {
    await h.render(MIME, { ...good, skipped });
    assert.equal(await h.page.locator(".dynbatch-latency-error").innerText(), `Not a latency report: ${why}.`);
    assert.equal(await h.page.locator(".dynbatch-latency-chart").count(), 0);
  }
  assert.deepEqual(h.problems, []);
});

test("latency: markup in a statistic (p90, runs) is refused with a message, never drawn in a hover label", async () => {
  const good = sweep("CPU", 2);
  const [first, ...rest] = good.points;
  const link = '<a href="https://evil.example/">click me</a>';
  const cases: [LatencyPoint, string][] = [
    [
      { ...first, latencyMs: { ...first.latencyMs, p90: link as unknown as number } },
      "a point's `latencyMs.p90` is not a number",
    ],
    [{ ...first, runs: "<b>BOLD</b>" as unknown as number }, "a point's `runs` is not a number"],
  ];
  const h = shared;
  for (const [bad, why] of cases) {
    await h.render(MIME, { ...good, points: [bad, ...rest] });
    assert.equal(await h.page.locator(".dynbatch-latency-error").innerText(), `Not a latency report: ${why}.`);
    assert.equal(await h.page.locator(".dynbatch-latency-chart").count(), 0);
    assert.equal(await h.page.locator("a, b").count(), 0, "no link or bold element");
  }
  assert.deepEqual(h.problems, []);
});

test("latency: charts that cannot be drawn say so in the view, and a later draw that works removes the message", async () => {
  // The theme is read first thing in each draw: making that throw stands in for plotly failing to load or draw.
  const breakDrawing = (broken: boolean) =>
    h.page.evaluate((b) => {
      type Style = (el: { classList?: { contains(c: string): boolean } }, pseudo?: string | null) => unknown;
      const w = globalThis as unknown as { getComputedStyle: Style; __dynbatchStyle?: Style };
      w.__dynbatchStyle ??= w.getComputedStyle;
      const original = w.__dynbatchStyle;
      w.getComputedStyle = b
        ? (el, pseudo) => {
            if (el.classList?.contains("dynbatch-latency")) throw new Error("plotly stand-in failure");
            return original(el, pseudo);
          }
        : original;
    }, broken);
  const h = shared;
  try {
    await breakDrawing(true);
    await h.render(MIME, twoDevices());
    const error = h.page.locator(".dynbatch-latency-error");
    assert.equal(await error.innerText(), "The charts could not be drawn: plotly stand-in failure");
    // A toggle draws again: still failing, still one message.
    await h.page.locator("button.dynbatch-log-toggle").click();
    assert.equal(await error.count(), 1);
    await breakDrawing(false);
    await h.page.locator("button.dynbatch-log-toggle").click();
    await error.waitFor({ state: "detached" });
    assert.deepEqual(
      (await charts(h.page)).map((c) => c.yType),
      ["linear", "linear"],
    );
  } finally {
    await breakDrawing(false);
  }
  assert.deepEqual(h.problems, []);
});

test("latency: a 5000-character device name wraps in its legend button; the toggles stay in the view", async () => {
  const long = "D".repeat(5000);
  const h = await rendered({ ...sweep(long, 2), others: [sweep("GPU", 1.5)] });
  const view = await h.page.locator(".dynbatch-latency").boundingBox();
  assert.ok(view, "the view is drawn");
  const right = view.x + view.width;
  for (const selector of [
    "button.dynbatch-batch-log-toggle",
    "button.dynbatch-log-toggle",
    "button.dynbatch-band-toggle",
    ".dynbatch-latency-series",
  ]) {
    const boxes = await h.page
      .locator(selector)
      .evaluateAll((els) =>
        els.map((el) => (el as unknown as { getBoundingClientRect(): { left: number; right: number } }).getBoundingClientRect()),
      );
    assert.ok(boxes.length > 0, selector);
    for (const b of boxes)
      assert.ok(b.left >= view.x && b.right <= right + 0.5, `${selector}: ${b.left}–${b.right} within ${view.x}–${right}`);
  }
  assert.deepEqual(h.problems, []);
});

/** Each chart's drawn width next to its div's width. */
function widths(page: Page): Promise<{ drawn: number; div: number }[]> {
  return page.$$eval(".dynbatch-latency-chart", (els) =>
    els.map((el) => {
      const gd = el as unknown as { clientWidth: number; _fullLayout: { width: number } };
      return { drawn: gd._fullLayout.width, div: gd.clientWidth };
    }),
  );
}

test("latency: the charts follow the output's width (side by side when wide, stacked when narrow)", async () => {
  const h = await rendered(twoDevices());
  const setWidth = (px: number) =>
    h.page.$eval("#output", (el, w) => ((el as unknown as { style: { width: string } }).style.width = `${w}px`), px);
  const before = await widths(h.page);
  assert.ok(
    before.every((w) => w.drawn === w.div),
    "drawn at the div's width",
  );
  assert.ok(before[0].div < 450, "two charts side by side in 900 px");
  try {
    await setWidth(500);
    await h.page.waitForFunction(() => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }).document;
      const gds = Array.from(doc.querySelectorAll(".dynbatch-latency-chart")) as {
        clientWidth: number;
        _fullLayout: { width: number };
      }[];
      return gds.every((gd) => gd._fullLayout.width === gd.clientWidth);
    });
    const narrow = await widths(h.page);
    assert.ok(
      narrow.every((w) => w.div > before[0].div),
      "stacked: each chart takes the whole width",
    );
  } finally {
    await setWidth(OUTPUT_WIDTH);
  }
  assert.deepEqual(h.problems, []);
});

test("latency: a real sweep (landmarks, CPU on 2 threads and on 1) draws every measured mode; screenshots in both themes", async () => {
  const h = await rendered(real);
  const devices = [real.device, "CPU, 1 thread"];
  for (const c of await charts(h.page)) {
    const lines = c.traces.filter((t) => !t.meta.band);
    const expected = devices.flatMap((d) => {
      const r = d === real.device ? real : real.others![0];
      return [...new Set(r.points.map((p) => p.mode))].map((m) => `${m} ${d}`);
    });
    assert.deepEqual(lines.map((l) => `${l.meta.mode} ${l.meta.device}`).sort(), expected.sort(), c.metric);
    for (const l of lines) {
      const r = l.meta.device === real.device ? real : real.others![0];
      const batches = r.points.filter((p) => p.mode === l.meta.mode).map((p) => p.batch);
      assert.deepEqual(l.x, batches, `${c.metric} ${l.meta.mode} ${l.meta.device}`);
    }
  }
  // Away from the charts: no hover label or mode bar in the pictures.
  await h.page.mouse.move(0, 0);
  await screenshot(h.page, "latency-light", ".dynbatch-latency");
  // The theme switch is the one JupyterLab makes; the charts follow without a new render.
  await setTheme(h.page, "dark");
  const background = async () =>
    h.page.$eval('.dynbatch-latency-chart[data-metric="latency"]', (el) => {
      const gd = el as unknown as { _fullLayout: { paper_bgcolor: string } };
      return gd._fullLayout.paper_bgcolor;
    });
  await h.page.waitForFunction(() => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document;
    const gd = doc.querySelector('.dynbatch-latency-chart[data-metric="latency"]') as { _fullLayout: { paper_bgcolor: string } };
    return gd._fullLayout.paper_bgcolor === "#111";
  });
  assert.equal(await background(), "#111");
  await screenshot(h.page, "latency-dark", ".dynbatch-latency");
  assert.deepEqual(h.problems, []);
});
