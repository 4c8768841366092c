/**
 * The latency view's batch axis and static line in the renderer harness: log₂ by default with
 * ticks at the measured n as integers, a toggle to linear (and one for log y axes); a static
 * network measured at its one batch drawn as a flat line over every n; a screenshot of a real
 * sweep of that kind (notebook 01's) to look at.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser } from "playwright-core";
import { benchmark, IECore } from "../../kernel";
import type { LatencyReport } from "../../kernel";
import { irPath } from "../helpers/models";
import { launch, screenshot } from "./chromium";
import { Harness, openHarness } from "./harness";
import { chart, charts } from "./latency-page";

const MIME = "application/vnd.dynbatch.latency+json";
const BATCHES = [1, 2, 4, 8, 12, 16];

/** Dynamic at each n up to 16, and (with `flat`) one static network compiled for 16 measured at 16. */
function report(flat: boolean): LatencyReport {
  const points: LatencyReport["points"] = BATCHES.map((n) => {
    const p50 = 1 + 0.25 * n;
    return {
      batch: n,
      mode: "dynamic",
      latencyMs: { p50, p90: p50 * 1.1, min: p50 * 0.9, max: p50 * 1.3 },
      throughput: (1000 * n) / p50,
    };
  });
  if (flat)
    points.push({
      batch: 16,
      mode: "static",
      latencyMs: { p50: 5.5, p90: 6, min: 5, max: 7 },
      throughput: 16000 / 5.5,
      runs: 40,
    });
  return { model: "landmarks", device: "CPU", limit: 16, points };
}

let browser: Browser;
let h: Harness;
let real: LatencyReport;

before(async () => {
  browser = await launch();
  h = await openHarness(browser, { theme: "light" });
  // Notebook 01's measurement in quick settings: setBatch(n) for each n, and a network compiled for 16.
  const quick = { timePerPointMs: 150, minRuns: 5, warmupMs: 20, ie: new IECore(), threads: 2 };
  const model = irPath("landmarks-regression-retail-0009");
  const dynamic = await benchmark({ model, ...quick, batches: BATCHES, modes: ["dynamic"] });
  const fixed = await benchmark({ model, ...quick, batches: [16], modes: ["static"] });
  real = { ...dynamic, points: [...dynamic.points, ...fixed.points] };
});
after(async () => {
  await browser?.close();
});

const types = async () => (await charts(h.page)).map((c) => [c.metric, c.xType, c.yType].join(" ")).sort();

test("latency: the batch axis is log₂ by default, ticked at the measured n as integers; its toggle makes it linear, and back", async () => {
  await h.render(MIME, report(false));
  assert.deepEqual(await types(), ["latency log linear", "throughput log linear"]);
  const toggle = h.page.locator("button.dynbatch-batch-log-toggle");
  assert.equal(await toggle.getAttribute("aria-pressed"), "true");
  // The tick labels plotly drew: the measured batches, as integers.
  for (const metric of ["latency", "throughput"]) {
    const ticks = await h.page.locator(`.dynbatch-latency-chart[data-metric=${metric}] .xtick text`).allTextContents();
    assert.deepEqual(ticks, BATCHES.map(String), metric);
  }
  for (const c of await charts(h.page))
    assert.deepEqual(
      c.shapes.map((s) => s.x0),
      [16],
      "the limit stays at 16 on a log axis",
    );
  await toggle.click();
  assert.deepEqual(await types(), ["latency linear linear", "throughput linear linear"]);
  assert.equal(await toggle.getAttribute("aria-pressed"), "false");
  await toggle.click();
  assert.deepEqual(await types(), ["latency log linear", "throughput log linear"]);
  assert.deepEqual(h.problems, []);
});

test("latency: the y toggle puts both value axes on a log scale and leaves the batch axis as it is", async () => {
  await h.render(MIME, report(false));
  const toggle = h.page.locator("button.dynbatch-log-toggle");
  await toggle.click();
  assert.deepEqual(await types(), ["latency log log", "throughput log log"]);
  assert.equal(await toggle.getAttribute("aria-pressed"), "true");
  await toggle.click();
  assert.deepEqual(await types(), ["latency log linear", "throughput log linear"]);
  assert.deepEqual(h.problems, []);
});

test("latency: a static network measured at its one batch is a flat line over every n, marked where it was measured", async () => {
  await h.render(MIME, report(true));
  const all = await charts(h.page);
  const line = (metric: string) => chart(all, metric).traces.find((t) => t.meta.mode === "static" && !t.meta.band)!;
  const latency = line("latency");
  assert.equal(latency.name, "static (compiled for 16): every request pays for 16 · CPU");
  assert.deepEqual(latency.x, BATCHES);
  assert.deepEqual(
    latency.y,
    BATCHES.map(() => 5.5),
    "every request pays the latency measured at 16",
  );
  assert.deepEqual(latency.markerSize, [0, 0, 0, 0, 0, 7], "a marker only at the measurement");
  assert.match(latency.text![0], /batch 1: pays for 16 \(measured at 16\)/);
  assert.match(latency.text![5], /batch 16<br>/);
  const throughput = line("throughput");
  throughput.y.forEach((y, i) =>
    assert.ok(Math.abs(y - (1000 * BATCHES[i]) / 5.5) < 1e-9, `n samples per 5.5 ms at n = ${BATCHES[i]}`),
  );
  const legend = await h.page.locator(".dynbatch-latency-series").allInnerTexts();
  assert.ok(
    legend.some((t) => t.includes("static (compiled for 16): every request pays for 16")),
    legend.join(" | "),
  );
  assert.deepEqual(h.problems, []);
});

test("latency: notebook 01's real measurement (landmarks, setBatch(n) and a network compiled for 16); screenshot", async () => {
  await h.render(MIME, real);
  const all = await charts(h.page);
  const flat = chart(all, "latency").traces.find((t) => t.meta.mode === "static" && !t.meta.band)!;
  const measured = real.points.find((p) => p.mode === "static")!;
  assert.deepEqual(flat.x, BATCHES);
  assert.ok(flat.y.every((y) => y === measured.latencyMs.p50));
  const dyn = real.points.filter((p) => p.mode === "dynamic");
  console.log(
    `# p50 ms: ${dyn.map((p) => `n=${p.batch} ${p.latencyMs.p50.toFixed(3)}`).join(", ")}; static 16: ${measured.latencyMs.p50.toFixed(3)}`,
  );
  await h.page.mouse.move(0, 0);
  await screenshot(h.page, "latency-static-line", ".dynbatch-latency");
  assert.deepEqual(h.problems, []);
});
