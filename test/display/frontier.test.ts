/**
 * The frontier bundle: all three MIME parts, the JSON part equal to the report and valid, one
 * polyline and one legend entry per policy, one tooltip per point naming its policy, rate,
 * percentiles and batch histogram (read back by Python's parsers), the log axis ticks, and
 * names as text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FRONTIER_MIME, toMimeBundle } from "../../kernel";
import type { FrontierPoint, FrontierReport } from "../../kernel";
import { histogramText, logTicks, meanBatchOf, seriesColor } from "../../kernel/display/frontier";
import { validateFrontierReport } from "./validate";
import { assertInert, readHtml } from "./html";

const EVIL = "<img src=x onerror=alert(1)>";

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

function report(): FrontierReport {
  const sim = (p: FrontierPoint) => ({
    ...p,
    simulated: { throughput: p.throughput * 1.1, latencyMs: { p50: 1, p90: 2, p99: 3 } },
  });
  return {
    model: EVIL,
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
        points: [sim(pt(100, 100, 1.2, 2, { 1: 30, 2: 10 })), pt(2000, 1900, 3, 6, { 8: 200 })],
      },
      {
        policy: "no batching (2 requests)",
        kind: "requests",
        requests: 2,
        points: [pt(100, 100, 0.6, 1, { 1: 50 }), pt(2000, 950, 300, 480, { 1: 500 })],
      },
    ],
  };
}

test("frontier bundle: valid JSON, one line and legend entry per policy, a tooltip per point", () => {
  const r = report();
  const b = toMimeBundle(r);
  assert.deepEqual(Object.keys(b).sort(), [FRONTIER_MIME, "text/html", "text/plain"].sort());
  assert.deepEqual(b[FRONTIER_MIME], r);
  assert.deepEqual(validateFrontierReport(b[FRONTIER_MIME]), []);
  const html = readHtml(b["text/html"]);
  assertInert(html, EVIL);
  assert.equal(html.svgs.length, 1);
  const svg = html.svgs[0];
  assert.equal(svg.counts.polyline, 2, "one line per policy");
  assert.equal(svg.counts.circle, 4, "one marker per point");
  assert.equal(svg.titles.length, 4);
  assert.ok(html.text.includes("no batching (2 requests)") && html.text.includes("maxDelay 1 ms"), "legend");
  const tip = svg.titles.find((t) => t.startsWith("maxDelay 1 ms") && t.includes("offered 100 samples/s"));
  assert.ok(tip, svg.titles.join(" | "));
  assert.match(tip, /p50 1\.20 ms · p99 2\.00 ms/);
  assert.match(tip, /batches: 1×30 2×10/);
  assert.match(tip, /simulated: 110 samples\/s/);
  // The table: the measurement beside the prediction, with the error in percent.
  assert.match(b["text/plain"], /maxDelay 1 ms\s+100\s+100\s+1\.20\s+2\.00\s+1\.25\s+110 \(\+10%\)\s+1\.00 \(-17%\)\s+0/);
  assert.match(b["text/plain"], /one request per sample saturates at 1,000 samples\/s · a batch of 8 takes 2\.50 ms/);
});

test("sustained throughput and the batcher's overhead: a table and a line in text and HTML when the report has them", () => {
  const r = report();
  assert.doesNotMatch(toMimeBundle(r)["text/plain"] as string, /Sustained/);
  r.batchOverheadMs = 0.12;
  r.loneOverheadMs = 0.05;
  r.series[0].sustained = { rate: 2000, throughput: 1900, boundMs: 6, everyRate: true };
  r.series[1].sustained = { rate: 100, throughput: 100, boundMs: 5, everyRate: false };
  const b = toMimeBundle(r);
  assert.deepEqual(validateFrontierReport(b[FRONTIER_MIME]), []);
  const text = b["text/plain"] as string;
  assert.match(text, /the batcher adds 0\.120 ms per full batch, 0\.050 ms to a lone sample/);
  assert.doesNotMatch(text, /after a silence|longer at light loads/);
  r.wakeMs = 0.3;
  r.series[0].points[0].durationMs = 2 * r.durationMs;
  const later = toMimeBundle(r)["text/plain"] as string;
  assert.match(later, /0\.050 ms to a lone sample, 0\.300 ms more to one after a silence/);
  assert.match(later, /ms per test \(longer at light loads\)/);
  assert.match(text, /maxDelay 1 ms\s+2,000\s+2\.00×\s+6\.00\s+yes \(at least this\)/);
  assert.match(text, /no batching \(2 requests\)\s+100\s+0\.100×\s+5\.00\s+no/);
  assert.ok(readHtml(b["text/html"] as string).text.includes("Sustained: the highest offered Poisson rate"));
  // A sustained rate that is none of the series' rates is caught.
  r.series[1].sustained.rate = 150;
  assert.ok(validateFrontierReport(r).some((e) => e.includes("sustained.rate is none")));
});

test("series colours: one per batcher policy, grey for no batching", () => {
  const r = report();
  r.series.splice(1, 0, { ...r.series[0], policy: "maxDelay 2 ms", maxDelayUs: 2000 });
  const colors = r.series.map((_, i) => seriesColor(r, i));
  assert.equal(new Set(colors).size, 3);
  assert.equal(colors[2], "#666666");
});

test("log ticks, histogram text and mean batch", () => {
  assert.deepEqual(logTicks(0.1, 100), [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]);
  assert.deepEqual(logTicks(1, 1), [1, 1]);
  const p = pt(1, 1, 1, 1, { 16: 1, 2: 3 });
  assert.equal(histogramText(p), "2×3 16×1");
  assert.equal(meanBatchOf(p), 22 / 4);
  assert.equal(histogramText(pt(1, 1, 1, 1, {})), "none");
});

test("the validator catches what a frontend relies on", () => {
  const r = report() as unknown as { series: { points: Record<string, unknown>[]; kind: string }[]; limit: number };
  r.series[0].points[1].rate = 50;
  r.series[1].kind = "other";
  r.series[0].points[0].histogram = { 9: 1 };
  r.series[1].points[0].completed = 49;
  const errs = validateFrontierReport(r);
  assert.ok(
    errs.some((e) => e.includes("points[1].rate is not above")),
    errs.join("\n"),
  );
  assert.ok(errs.some((e) => e.includes("series[1].kind")));
  assert.ok(errs.some((e) => e.includes("batch above the limit")));
  assert.ok(errs.some((e) => e.includes("completed + errors != offered")));
});
