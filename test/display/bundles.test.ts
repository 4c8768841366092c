/**
 * Each display bundle: all three MIME parts, the JSON part equal to the report, and HTML read back
 * by Python's HTML/XML parsers (an independent reader): model-supplied strings come out as text,
 * never as elements, and the SVGs are well-formed with one mark per layer or point.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import {
  Blob,
  DynamicBatchError,
  IECore,
  LATENCY_MIME,
  TOPOLOGY_MIME,
  toMimeBundle,
  BatchRangeError,
  InputError,
} from "../../kernel";
import type { LatencyReport, PerfCount, TopologyReport } from "../../kernel";
import { blobStats, progressBundle } from "../../kernel/display/objects";
import { escapeHtml, num, textTable } from "../../kernel/display/format";
import { niceTicks } from "../../kernel/display/latency";
import { layoutLayers } from "../../kernel/display/topology";
import { displayName, NAME_MAX } from "../../kernel/display/names";
import { irPath } from "../helpers/models";
import { validateLatencyReport, validateTopologyReport } from "./validate";
import { assertInert, readHtml } from "./html";

const EVIL = "<img src=x onerror=alert(1)>";
const RED_FILL = "#fde0e0";

function handReport(): TopologyReport {
  const layers: TopologyReport["layers"] = [
    {
      id: 0,
      name: "input",
      type: "Parameter",
      legacyType: "Input",
      verdict: "supported",
      reason: "network input",
      inputs: [],
      outputShape: ["N", 3, 8, 8],
    },
    {
      id: 1,
      name: "w",
      type: "Const",
      legacyType: "Const",
      verdict: "constant",
      reason: "folded",
      inputs: [],
      outputShape: [4, 3, 1, 1],
    },
    {
      id: 2,
      name: "conv",
      type: "Convolution",
      legacyType: "Convolution",
      verdict: "supported",
      reason: "in the list",
      inputs: [0, 1],
      outputShape: ["N", 4, 8, 8],
    },
    {
      id: 3,
      name: EVIL,
      type: "Reshape",
      legacyType: "Reshape",
      verdict: "unsupported",
      reason: "folds <b>the batch</b>",
      inputs: [2],
      outputShape: [1, "256N"],
    },
    {
      id: 4,
      name: "out",
      type: "Result",
      legacyType: "Output",
      verdict: "supported",
      reason: "network output",
      inputs: [3],
      outputShape: [1, "256N"],
    },
  ];
  return {
    model: `<script>alert("m")</script>`,
    mode: "shape-aware",
    supported: false,
    layers,
    summary: { total: 5, supported: 3, unsupported: 1, constant: 1, blocking: [EVIL] },
  };
}

function latencyReport(model = "tiny"): LatencyReport {
  const point = (batch: number, mode: "dynamic" | "static", p50: number) => ({
    batch,
    mode,
    latencyMs: { p50, p90: p50 * 1.2, min: p50 * 0.9, max: p50 * 2 },
    throughput: (batch / p50) * 1000,
  });
  return {
    model,
    device: "CPU",
    limit: 8,
    points: [
      point(1, "dynamic", 0.5),
      point(4, "dynamic", 1.25),
      point(8, "dynamic", 2),
      point(1, "static", 0.5),
      point(8, "static", 2.5),
    ],
  };
}

test("escapeHtml escapes the five XML specials", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
});

test("num and textTable format as documented", () => {
  assert.deepEqual([0, 0.001234, 0.5, 3.14159, 12.345, 123.4, 98765.4].map(num), [
    "0",
    "1.23e-3",
    "0.500",
    "3.14",
    "12.3",
    "123",
    "98,765",
  ]);
  assert.equal(textTable(["a", "bb"], [["xyz", "1"]]), "a    bb\n---  --\nxyz  1");
});

test("topology bundle: JSON is the report, HTML and text show the verdict, SVG has a box per non-constant layer", () => {
  const report = handReport();
  const b = toMimeBundle(report);
  assert.deepEqual(Object.keys(b).sort(), [TOPOLOGY_MIME, "text/html", "text/plain"].sort());
  assert.deepEqual(b[TOPOLOGY_MIME], report);
  assert.deepEqual(validateTopologyReport(b[TOPOLOGY_MIME]), []);
  assert.match(b["text/plain"], /cannot run with a dynamic batch: 1 blocking layer/);
  assert.ok(b["text/plain"].includes(EVIL));
  const html = readHtml(b["text/html"]);
  assertInert(html, EVIL);
  assert.ok(html.text.includes(`<script>alert("m")</script>`));
  assert.ok(html.text.includes("folds <b>the batch</b>"));
  assert.equal(html.svgs.length, 1);
  const svg = html.svgs[0];
  assert.equal(svg.counts.rect, 4, "the constant is left out");
  assert.equal(svg.rectFills.filter((f) => f === RED_FILL).length, 1);
  assert.equal(svg.counts.line, 3, "edges input→conv→reshape→out");
  assert.ok(svg.titles.some((t) => t.startsWith(EVIL) && t.includes("Reshape → Reshape  [1,256N]")));
});

test("megabyte names: the JSON keeps them whole, HTML and text show a capped copy that says the length", () => {
  const big = "L".repeat(1 << 20);
  const report = handReport();
  report.model = big;
  report.layers = report.layers.map((l) => (l.id === 3 ? { ...l, name: big } : l));
  report.summary = { ...report.summary, blocking: [big] };
  const b = toMimeBundle(report);
  assert.equal((b[TOPOLOGY_MIME] as TopologyReport).layers[3].name, big);
  for (const part of ["text/html", "text/plain"] as const) {
    // The model name, the blocking list, the table row and the tooltip: a few capped copies.
    assert.ok(b[part].length < 20_000, `${part} is ${b[part].length} characters`);
    assert.ok(b[part].includes(`${"L".repeat(NAME_MAX)}… (${big.length} characters)`), `${part} says how long the name is`);
  }
  const counts: Record<string, PerfCount> = {
    [big]: { status: "EXECUTED", layerType: "Convolution", execType: "ref", realTimeUs: 5, cpuTimeUs: 5 },
  };
  assert.ok(toMimeBundle(counts)["text/html"].length < 20_000);
  assert.equal(displayName("short"), "short");
});

test("layoutLayers: rows by depth, a branch side by side, constants-only layers above their consumer", () => {
  const L = (id: number, type: string, inputs: number[]) =>
    ({
      id,
      name: `n${id}`,
      type,
      legacyType: type,
      verdict: "supported",
      reason: "",
      inputs,
      outputShape: [],
    }) as TopologyReport["layers"][0];
  const { placed, width, height } = layoutLayers([
    L(0, "Parameter", []),
    L(1, "A", [0]),
    L(2, "B", [0]),
    L(3, "Concat", [1, 2]),
    L(4, "PriorBox", []),
    L(5, "Det", [3, 4]),
  ]);
  const at = Object.fromEntries(placed.map((p) => [p.layer.id, p]));
  assert.equal(at[1].y, at[2].y);
  assert.ok(at[1].x < at[2].x);
  assert.ok(at[0].y < at[1].y && at[1].y < at[3].y && at[3].y < at[5].y);
  assert.equal(at[4].y, at[3].y, "PriorBox sits on the row above its consumer");
  assert.ok(placed.every((p) => p.x >= 0 && p.x <= width && p.y >= 0 && p.y <= height));
});

test("topology bundle of a bundled model lists the layers its XML says block the strict rule", async () => {
  const xml = irPath("head-pose-estimation-adas-0001");
  const reshapes = [...fs.readFileSync(xml, "utf8").matchAll(/name="([^"]*)" type="Reshape"/g)].map((m) => m[1]);
  assert.equal(reshapes.length, 3);
  const net = await new IECore().readNetwork(xml);
  const b = toMimeBundle(net.analyze({ mode: "strict" }));
  assert.deepEqual(validateTopologyReport(b[TOPOLOGY_MIME]), []);
  const html = readHtml(b["text/html"]);
  for (const name of reshapes) {
    assert.ok(html.text.includes(name));
    assert.ok(b["text/plain"].includes(name));
  }
  const nonConstant = net.analyze({ mode: "strict" }).layers.filter((l) => l.verdict !== "constant");
  assert.equal(html.svgs[0].counts.rect, nonConstant.length);
  assert.equal(html.svgs[0].rectFills.filter((f) => f === RED_FILL).length, 3);
});

test("latency bundle: JSON is the report; two charts with a polyline per mode and a mark per point; a row per batch", () => {
  const report = latencyReport(EVIL);
  const b = toMimeBundle(report);
  assert.deepEqual(Object.keys(b).sort(), [LATENCY_MIME, "text/html", "text/plain"].sort());
  assert.deepEqual(b[LATENCY_MIME], report);
  assert.deepEqual(validateLatencyReport(b[LATENCY_MIME]), []);
  const html = readHtml(b["text/html"]);
  assertInert(html, EVIL);
  assert.equal(html.svgs.length, 2);
  for (const svg of html.svgs) {
    assert.equal(svg.counts.polyline, 2);
    assert.equal(svg.counts.circle, 5);
  }
  assert.equal(html.svgs[0].titles.filter((t) => t.includes("batch 4: p50 1.25 ms")).length, 1);
  assert.equal(html.tags.tr, 1 + 3, "header + batches 1, 4, 8");
  const lines = b["text/plain"].split("\n");
  assert.equal(lines.length, 1 + 2 + 3);
  assert.match(lines[3], /^1\s+0\.500\s+2,000\s+0\.500\s+2,000$/);
  assert.match(lines[4], /^4\s+1\.25\s+3,200\s*$/, "batch 4 has no static point");
});

test("latency bundle shows the sweep's context and why modes were skipped", () => {
  const r = {
    ...latencyReport(),
    threads: 2,
    gflopPerSample: 0.25,
    peakGflops: 96,
    skipped: [{ mode: "ort" as const, reason: EVIL }],
  };
  const b = toMimeBundle(r);
  const lines = b["text/plain"].split("\n");
  assert.equal(lines[1], "2 thread(s) · 0.250 GFLOP per sample · machine peak 96.0 GFLOP/s");
  assert.equal(lines[lines.length - 1], `not measured: ort: ${EVIL}`);
  const html = readHtml(b["text/html"]);
  assertInert(html, `not measured: ort: ${EVIL}`);
  assert.ok(html.text.includes("machine peak 96.0 GFLOP/s"));
});

test("progress bundle: a bar and a label, the fraction clamped", () => {
  assert.equal(progressBundle("batch 4", 0.5)["text/plain"], "[##########----------] 50% batch 4");
  assert.equal(progressBundle("done", 1.5)["text/plain"], "[####################] 100% done");
  assert.equal(progressBundle("loading")["text/plain"], "loading");
  const html = progressBundle(EVIL, 0.25)["text/html"];
  assertInert(readHtml(html), EVIL);
  assert.match(html, /width:25%/);
});

test("latency bundle of an empty sweep still renders", () => {
  const b = toMimeBundle({ model: "m", device: "CPU", limit: 4, points: [] });
  assert.equal(readHtml(b["text/html"]).svgs.length, 0);
  assert.match(b["text/html"], /no points measured yet/);
});

test("niceTicks cover the range with 1-2-5 steps", () => {
  assert.deepEqual(niceTicks(32), [0, 10, 20, 30, 40]);
  assert.deepEqual(niceTicks(2.5), [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(niceTicks(0), [0, 1]);
});

test("DynamicBatchError bundle: the offending layers as a table, names escaped", () => {
  const e = new DynamicBatchError("net<1>", "strict", [
    { name: EVIL, type: "Reshape", legacyType: "Reshape", reason: "shape-changing" },
    { name: "det", type: "DetectionOutput", legacyType: "DetectionOutput", reason: "detection layer" },
  ]);
  const b = toMimeBundle(e);
  assert.deepEqual(Object.keys(b).sort(), ["text/html", "text/plain"]);
  const html = readHtml(b["text/html"]);
  assertInert(html, EVIL);
  assert.ok(html.text.includes("net<1>"));
  assert.equal(html.tags.tr, 3);
  assert.match(b["text/plain"], /DYN_BATCH_UNSUPPORTED_TOPOLOGY/);
  assert.match(b["text/plain"], /det\s+DetectionOutput → DetectionOutput\s+detection layer/);
});

test("other errors show their code and message", () => {
  const b = toMimeBundle(new BatchRangeError(17, 16));
  assert.equal(
    b["text/plain"],
    "BatchRangeError [BATCH_OUT_OF_RANGE]: Invalid dynamic batch size 17 for this request. Expected value in range [1;16]",
  );
  assert.ok(readHtml(b["text/html"]).text.includes("Expected value in range [1;16]"));
});

test("blobStats against a two-pass computation; NaNs counted apart", () => {
  const values = [1, 2, 3, 4, -10, NaN];
  const finite = values.filter((v) => !Number.isNaN(v));
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const std = Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / finite.length);
  const st = blobStats(Float32Array.from(values));
  assert.equal(st.min, -10);
  assert.equal(st.max, 4);
  assert.ok(Math.abs(st.mean - mean) < 1e-12);
  assert.ok(Math.abs(st.std - std) < 1e-9);
  assert.equal(st.nan, 1);
});

test("Blob bundle: shape, stats and the first values of the first samples", () => {
  const data = Float32Array.from({ length: 6 * 10 }, (_, i) => i / 4);
  const b = toMimeBundle(new Blob([6, 10, 1, 1], data, "NCHW"));
  assert.deepEqual(Object.keys(b).sort(), ["text/html", "text/plain"]);
  const lines = b["text/plain"].split("\n");
  assert.equal(lines[0], "Blob [6,10,1,1] FP32 NCHW, 60 values");
  assert.equal(lines[1], "min 0 · max 14.8 · mean 7.38 · std 4.33");
  assert.equal(lines[4].trim(), "0       0  0.250  0.500  0.750  1.00  1.25  1.50  1.75  …");
  assert.match(lines[5], /^1\s+2\.50 /, "sample 1 starts at value 10 / 4");
  assert.equal(lines[lines.length - 1], "… 2 more sample(s)");
  assert.equal(readHtml(b["text/html"]).tags.tr, 1 + 4);
});

test("performance counters bundle: executed layers sorted by time with shares, the others named", () => {
  const pc = (realTimeUs: number, layerType: string, fusedInto?: string): PerfCount => ({
    status: fusedInto === undefined ? "EXECUTED" : "NOT_RUN",
    layerType,
    execType: fusedInto === undefined ? "ref" : "undef",
    realTimeUs,
    cpuTimeUs: realTimeUs,
    ...(fusedInto ? { fusedInto } : {}),
  });
  const b = toMimeBundle({
    a: pc(10, "Add"),
    [EVIL]: pc(70, "Convolution"),
    bias: pc(0, "Add", EVIL),
    c: pc(20, "ReLU"),
    relu: pc(0, "ReLU", EVIL),
    idle: pc(0, "Sigmoid", ""),
  });
  const lines = b["text/plain"].split("\n");
  assert.equal(lines[0], "Performance counters: 3 layer(s) executed, total 100 µs");
  const rows = lines.slice(3, 6);
  assert.deepEqual(
    rows.map((r) => r.split(/\s{2,}/)[0]),
    [EVIL, "c", "a"],
  );
  assert.ok(rows[0].endsWith("70.0%"));
  assert.deepEqual(lines.slice(6), [`fused into ${EVIL}: bias, relu`, "not run: idle"]);
  const html = readHtml(b["text/html"]);
  assertInert(html, EVIL);
  assert.equal(html.tags.tr, 1 + 3);
});

test("toMimeBundle rejects what it cannot show with a typed error", () => {
  assert.throws(() => toMimeBundle({} as never), InputError);
  assert.throws(() => toMimeBundle(42 as never), InputError);
});

test("display([strict, shapeAware]) is one output: the JSON carries the other mode as `alternate`", async () => {
  const net = await new IECore().readNetwork(irPath("head-pose-estimation-adas-0001"));
  const strict = net.analyze({ mode: "strict" });
  const aware = net.analyze({ mode: "shape-aware" });
  const b = toMimeBundle([strict, aware]);
  const json = b[TOPOLOGY_MIME] as TopologyReport;
  assert.deepEqual(validateTopologyReport(json), []);
  assert.equal(json.mode, "strict");
  assert.ok(json.alternate);
  assert.deepEqual(validateTopologyReport(json.alternate), []);
  assert.equal(json.alternate.mode, "shape-aware");
  assert.equal(json.alternate.alternate, undefined, "never nested");
  assert.deepEqual(json.alternate.summary, aware.summary);
  assert.match(b["text/plain"], /\(strict\)[\s\S]*\(shape-aware\)/);
  assert.throws(() => toMimeBundle([strict, strict]), InputError);
  assert.throws(() => toMimeBundle([strict, aware, strict]), InputError);
});

test("display([cpu, gpu]) is one output: the JSON carries the other devices as `others`", () => {
  const cpu = latencyReport();
  const gpu = { ...latencyReport(), device: "GPU" };
  const b = toMimeBundle([cpu, gpu]);
  const json = b[LATENCY_MIME] as LatencyReport;
  assert.deepEqual(validateLatencyReport(json), []);
  assert.equal(json.device, "CPU");
  assert.deepEqual(json.others, [gpu]);
  assert.equal(readHtml(b["text/html"]).svgs.length, 4, "two charts per device");
  assert.equal(b["text/plain"].split("\n\n").length, 2);
  assert.deepEqual(toMimeBundle([cpu])[LATENCY_MIME], cpu);
  assert.throws(() => toMimeBundle([cpu, latencyReport("other")]), InputError);
});
