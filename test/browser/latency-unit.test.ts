/**
 * The latency view's pure functions, in node without a browser: plotly escaping, number and
 * hover text, the checks that keep malformed reports out, sweeps and series, layouts and the
 * theme. The browser side (plotly drawing it all) is latency.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LatencyMode, LatencyPoint, LatencyReport } from "../../kernel/schema";
import { escapePlotly } from "../../extension/src/latency/escape";
import { formatNumber, hoverText, seriesName } from "../../extension/src/latency/hover";
import { layoutFor } from "../../extension/src/latency/layout";
import { batchesOf, limitsOf, reportProblem, Series, seriesOf, skippedOf, sweepsOf } from "../../extension/src/latency/sweeps";
import { ChartTheme, readTheme } from "../../extension/src/latency/theme";

function point(mode: LatencyMode, batch: number, p50 = 2): LatencyPoint {
  return { batch, mode, latencyMs: { p50, p90: p50 + 1, min: p50 - 1, max: p50 + 2 }, throughput: (batch / p50) * 1000 };
}

function report(device: string, points: LatencyPoint[], extra: Partial<LatencyReport> = {}): LatencyReport {
  return { model: "m", device, limit: 8, points, ...extra };
}

/** A well-formed report with one field replaced by `path` (dotted; numbers index arrays). */
function withField(path: string, value: unknown): unknown {
  const r = JSON.parse(
    JSON.stringify(
      report("CPU", [{ ...point("dynamic", 1), runs: 5, gflops: 3 }], {
        threads: 2,
        others: [report("GPU", [point("static", 2)])],
      }),
    ),
  ) as Record<string, unknown>;
  const keys = path.split(".");
  let at = r;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys[keys.length - 1]] = value;
  return r;
}

const MARKUP = '<a href="https://evil.example/">click me</a>';

test("latency unit: escapePlotly escapes < > & \" ' and % as entities plotly decodes, and leaves other text alone", () => {
  assert.equal(escapePlotly("<"), "&lt;");
  assert.equal(escapePlotly(">"), "&gt;");
  assert.equal(escapePlotly("&"), "&amp;");
  assert.equal(escapePlotly('"'), "&#34;");
  assert.equal(escapePlotly("'"), "&#39;");
  assert.equal(escapePlotly("%"), "&#37;");
  assert.equal(escapePlotly("%{meta.device}"), "&#37;{meta.device}", "no plotly template survives");
  assert.equal(escapePlotly("&lt;"), "&amp;lt;", "an entity in the data stays literal");
  assert.equal(escapePlotly("CPU · Intel® Xeon 8480+ (2 threads)"), "CPU · Intel® Xeon 8480+ (2 threads)");
});

test("latency unit: formatNumber keeps about four significant digits, groups thousands, and escapes what is no number", () => {
  assert.equal(formatNumber(3.75), "3.75");
  assert.equal(formatNumber(4.6875), "4.688");
  assert.equal(formatNumber(0.000123456), "0.0001235");
  assert.equal(formatNumber(999.96), "1000");
  assert.equal(formatNumber(1066.666), "1,067");
  assert.equal(formatNumber(-2500), "-2,500");
  assert.equal(formatNumber(Number.NaN), "NaN");
  assert.equal(formatNumber(MARKUP as unknown as number), "&lt;a href=&#34;https://evil.example/&#34;&gt;click me&lt;/a&gt;");
});

function seriesFor(device: string, points: LatencyPoint[]): Series {
  return seriesOf(sweepsOf(report(device, points)))[0];
}

test("latency unit: the hover text has every statistic, and the series name escaped", () => {
  const p: LatencyPoint = { ...point("static", 4, 3.75), throughput: 1066.666, runs: 14, gflops: 8 };
  const s = seriesFor("<b>GPU</b> 100%", [p]);
  assert.equal(seriesName(s), "static · <b>GPU</b> 100%");
  assert.deepEqual(hoverText(s, p).split("<br>"), [
    "<b>static · &lt;b&gt;GPU&lt;/b&gt; 100&#37;</b>",
    "batch 4",
    "p50 3.75 ms · p90 4.75 ms",
    "min 2.75 ms · max 5.75 ms (band)",
    "throughput 1,067 samples/s",
    "runs 14",
    "8 GFLOP/s",
  ]);
  const bare = point("loop", 1);
  assert.equal(
    hoverText(seriesFor("CPU", [bare]), bare).split("<br>").length,
    5,
    "no runs or GFLOP/s lines when the point has none",
  );
});

test("latency unit: a hover text never carries markup from a field that slipped past the checks", () => {
  const p = {
    ...point("dynamic", 1),
    runs: "<b>BOLD</b>",
    latencyMs: { p50: 1, p90: MARKUP, min: 1, max: 1 },
  } as unknown as LatencyPoint;
  const text = hoverText(seriesFor("CPU", [p]), p);
  assert.ok(!text.includes("<a"), text);
  assert.ok(text.includes("runs &lt;b&gt;BOLD&lt;/b&gt;"), text);
});

test("latency unit: reportProblem accepts a report, with or without its optional fields", () => {
  assert.equal(reportProblem(report("CPU", [])), undefined);
  assert.equal(reportProblem(withField("date", "2026-11-25T14:02:11.000Z")), undefined);
  assert.equal(reportProblem(withField("skipped", [{ mode: "ort", reason: "not installed" }])), undefined);
  // JSON writes a non-finite number as null: an optional one that is null counts as absent.
  assert.equal(reportProblem(withField("peakGflops", null)), undefined);
  const nullGflops = { ...point("dynamic", 1), gflops: null } as unknown as LatencyPoint;
  assert.equal(reportProblem(report("CPU", [nullGflops])), undefined);
  assert.equal(hoverText(seriesFor("CPU", [nullGflops]), nullGflops).split("<br>").length, 5, "no GFLOP/s line");
});

test("latency unit: reportProblem names what is wrong", () => {
  const cases: [unknown, string][] = [
    [null, "the data is not an object"],
    [[report("CPU", [])], "the data is not an object"],
    [withField("model", 1), "`model` is not a string"],
    [withField("device", null), "`device` is not a string"],
    [withField("limit", "8"), "`limit` is not a number"],
    [withField("threads", "<b>2</b>"), "`threads` is not a number"],
    [withField("points", {}), "`points` is not a list"],
    [withField("points.0", null), "a point is not an object"],
    [withField("points.0.batch", "1"), "a point's `batch` is not a number"],
    [withField("points.0.mode", "warp"), "a point's `mode` is not one of dynamic, static, loop, ort"],
    [withField("points.0.latencyMs", undefined), "a point lacks `latencyMs`"],
    [withField("points.0.latencyMs.p50", null), "a point's `latencyMs.p50` is not a number"],
    [withField("points.0.latencyMs.p90", MARKUP), "a point's `latencyMs.p90` is not a number"],
    [withField("points.0.latencyMs.min", "1"), "a point's `latencyMs.min` is not a number"],
    [withField("points.0.latencyMs.max", null), "a point's `latencyMs.max` is not a number"],
    [withField("points.0.throughput", MARKUP), "a point's `throughput` is not a number"],
    [withField("points.0.runs", "<b>BOLD</b>"), "a point's `runs` is not a number"],
    [withField("points.0.gflops", "<b>3</b>"), "a point's `gflops` is not a number"],
    [withField("skipped", "x"), "`skipped` is not a list"],
    [withField("skipped", [null]), "an entry of `skipped` lacks a known `mode` or a `reason`"],
    [withField("skipped", [{ mode: "warp", reason: "r" }]), "an entry of `skipped` lacks a known `mode` or a `reason`"],
    [withField("skipped", [{ mode: "ort", reason: 3 }]), "an entry of `skipped` lacks a known `mode` or a `reason`"],
    [withField("others", report("GPU", [])), "`others` is not a list"],
    [withField("others.0.points.0.latencyMs.p90", MARKUP), "in `others`: a point's `latencyMs.p90` is not a number"],
    [withField("others.0.skipped", [null]), "in `others`: an entry of `skipped` lacks a known `mode` or a `reason`"],
  ];
  for (const [value, expected] of cases) assert.equal(reportProblem(value), expected);
  // JSON carries no NaN or Infinity, but a report built in the page could.
  assert.equal(reportProblem(withField("points.0.latencyMs.p50", Number.NaN)), "a point's `latencyMs.p50` is not a number");
  assert.equal(reportProblem(withField("limit", Number.POSITIVE_INFINITY)), "`limit` is not a number");
});

test("latency unit: sweepsOf puts the report first, then its others, numbering repeated devices", () => {
  const r = report("CPU", [], { others: [report("GPU", []), report("CPU", []), report("CPU", [])] });
  const sweeps = sweepsOf(r);
  assert.deepEqual(
    sweeps.map((s) => s.label),
    ["CPU", "GPU", "CPU #2", "CPU #3"],
  );
  assert.deepEqual(
    sweeps.map((s) => s.dash),
    ["solid", "dash", "dot", "dashdot"],
  );
  assert.deepEqual(
    sweeps.map((s) => s.symbol),
    ["circle", "square", "diamond", "triangle-up"],
  );
  assert.equal(sweeps[0].report, r);
  assert.equal(sweepsOf(report("CPU", [])).length, 1);
});

test("latency unit: seriesOf gives one series per sweep and measured mode, in mode order, points by batch", () => {
  const r = report("CPU", [point("ort", 4), point("dynamic", 4), point("ort", 1), point("dynamic", 1), point("dynamic", 2)], {
    others: [report("GPU", [point("static", 2)])],
  });
  const series = seriesOf(sweepsOf(r));
  assert.deepEqual(
    series.map((s) => `${s.mode} ${s.sweep.label} ${s.points.map((p) => p.batch).join(",")}`),
    ["dynamic CPU 1,2,4", "ort CPU 1,4", "static GPU 2"],
  );
});

test("latency unit: limitsOf and batchesOf give distinct values, ascending; a limit of 0 marks nothing", () => {
  const sweeps = sweepsOf(
    report("CPU", [point("dynamic", 16), point("loop", 1)], {
      limit: 16,
      others: [
        report("GPU", [point("dynamic", 4), point("dynamic", 1)], { limit: 4 }),
        report("X", [], { limit: 16 }),
        report("Y", [], { limit: 0 }),
      ],
    }),
  );
  assert.deepEqual(limitsOf(sweeps), [4, 16]);
  assert.deepEqual(batchesOf(seriesOf(sweeps)), [1, 4, 16]);
});

test("latency unit: skippedOf groups the reasons of each sweep and mode, without repeats", () => {
  const skipped = [
    { mode: "static" as const, reason: "batch 16: out of memory" },
    { mode: "ort" as const, reason: "not installed" },
    { mode: "static" as const, reason: "batch 8: out of memory" },
    { mode: "static" as const, reason: "batch 16: out of memory" },
  ];
  const sweeps = sweepsOf(
    report("CPU", [], { skipped, others: [report("CPU", [], { skipped: [skipped[1]] }), report("GPU", [])] }),
  );
  assert.deepEqual(skippedOf(sweeps), [
    { device: "CPU", mode: "static", reasons: ["batch 16: out of memory", "batch 8: out of memory"] },
    { device: "CPU", mode: "ort", reasons: ["not installed"] },
    { device: "CPU #2", mode: "ort", reasons: ["not installed"] },
  ]);
});

const THEME: ChartTheme = {
  background: "#111",
  font: "#eee",
  fontFamily: "sans",
  muted: "#999",
  grid: "#333",
  line: "#555",
  hoverBackground: "#222",
  modes: { dynamic: "#00f", static: "#f80", loop: "#777", ort: "#a0a" },
};

test("latency unit: layoutFor sets the axes' scale, the theme's colors, ticks at the batches and a line per limit", () => {
  const linear = layoutFor("latency", {
    theme: THEME,
    batchScale: "linear",
    valueScale: "linear",
    batches: [1, 2, 4],
    limits: [4, 16],
  });
  assert.equal(linear.xaxis.type, "linear");
  assert.equal(linear.yaxis.type, "linear");
  assert.equal(linear.yaxis.rangemode, "tozero");
  assert.deepEqual(linear.xaxis.tickvals, [1, 2, 4]);
  assert.equal(linear.yaxis.title.text, "ms per request");
  assert.equal(linear.paper_bgcolor, "#111");
  assert.equal(linear.font.color, "#eee");
  assert.equal(linear.xaxis.gridcolor, "#333");
  assert.deepEqual(
    linear.shapes.map((s) => [s.x0, s.x1, s.label.text, s.line.color]),
    [
      [4, 4, "limit 4", "#999"],
      [16, 16, "limit 16", "#999"],
    ],
  );
  assert.equal(
    "tickvals" in
      layoutFor("latency", {
        theme: THEME,
        batchScale: "linear",
        valueScale: "linear",
        batches: Array.from({ length: 13 }, (_, i) => i + 1),
        limits: [],
      }).xaxis,
    false,
    "13 batches on a linear axis: plotly picks the ticks",
  );
  const log = layoutFor("throughput", {
    theme: THEME,
    batchScale: "log",
    valueScale: "log",
    batches: Array.from({ length: 13 }, (_, i) => i + 1),
    limits: [],
  });
  assert.equal(log.xaxis.type, "log");
  assert.equal(log.yaxis.type, "log");
  assert.equal(log.yaxis.rangemode, "normal");
  assert.equal(log.yaxis.title.text, "samples/s");
  assert.deepEqual(log.xaxis.tickvals, [1, 2, 4, 8], "13 batches on a log axis: powers of two");
  assert.deepEqual(log.xaxis.ticktext, ["1", "2", "4", "8"], "labelled as integers");
  assert.deepEqual(log.shapes, []);
  const logBatch = layoutFor("latency", {
    theme: THEME,
    batchScale: "log",
    valueScale: "linear",
    batches: [1, 2, 4, 16],
    limits: [16],
  });
  assert.deepEqual([logBatch.xaxis.type, logBatch.yaxis.type, logBatch.yaxis.rangemode], ["log", "linear", "tozero"]);
  assert.deepEqual(logBatch.xaxis.tickvals, [1, 2, 4, 16], "few batches: ticks at the measured n");
  assert.equal(logBatch.xaxis.title.text, "batch (log₂ scale)");
});

test("latency unit: readTheme takes JupyterLab's variables, trimmed, and falls back where one is unset", () => {
  const values: Record<string, string> = { "--jp-layout-color0": " #111 ", "--dynbatch-latency-static": "#f80" };
  const theme = readTheme({ getPropertyValue: (name) => values[name] ?? "" });
  assert.equal(theme.background, "#111");
  assert.equal(theme.modes.static, "#f80");
  assert.equal(theme.font, "rgba(0, 0, 0, 0.87)");
  assert.equal(theme.modes.dynamic, "#1976d2");
});

test("latency unit: a static network measured at its one batch becomes a flat series over the measured n ≤ N", () => {
  const r = report("CPU", [point("dynamic", 1), point("dynamic", 4), point("dynamic", 8), point("static", 8, 5)]);
  const [dyn, flat] = seriesOf(sweepsOf(r));
  assert.equal(dyn.flat, undefined);
  assert.equal(flat.flat, 8);
  assert.deepEqual(
    flat.points.map((p) => [p.batch, p.latencyMs.p50, p.throughput, p.derived ?? false]),
    [
      [1, 5, 200, true],
      [4, 5, 800, true],
      [8, 5, 1600, false],
    ],
  );
  assert.equal(seriesName(flat), "static (compiled for 8): every request pays for 8 · CPU");
  assert.match(
    hoverText(flat, flat.points[0]),
    /^<b>static \(compiled for 8\): every request pays for 8 · CPU<\/b><br>batch 1: pays for 8 \(measured at 8\)<br>/,
  );
  const sweep = report("CPU", [point("dynamic", 1), point("static", 1), point("static", 8)]);
  assert.equal(seriesOf(sweepsOf(sweep))[1].flat, undefined, "a static sweep stays as measured");
});
