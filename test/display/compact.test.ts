/**
 * The static fallbacks stay small enough to commit in a notebook: tables capped with a "… N more
 * rows" line, a large graph drawn as a collapsed, scaled-down overview, and the whole topology
 * display of the largest bundled model (face detection, both modes) under 48 KB of HTML,
 * while the JSON part keeps every layer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IECore, PROFILE_MIME, TOPOLOGY_MIME, toMimeBundle } from "../../kernel";
import type { BatchFixChange, ProfileReport, TopologyReport } from "../../kernel";
import { buildProfile } from "../../kernel/bench";
import { htmlTable, MAX_TABLE_ROWS, textTable } from "../../kernel/display/format";
import { OVERVIEW_W } from "../../kernel/display/overview";
import { FULL_GRAPH_LAYERS } from "../../kernel/display/topology";
import { TOP_LAYERS } from "../../kernel/display/profile";
import { irPath } from "../helpers/models";
import { readHtml } from "./html";

/** A text-align style on each table cell (JupyterLab right-aligns every cell without one) takes ~7 KB of it. */
const HTML_BOUND = 48_000;
const FACE = "face-detection-adas-0001";

function rows(n: number): string[][] {
  return Array.from({ length: n }, (_, i) => [String(i), `r${i}`]);
}

async function faceReports(): Promise<{ strict: TopologyReport; aware: TopologyReport }> {
  const net = await new IECore().readNetwork(irPath(FACE));
  return { strict: net.analyze({ mode: "strict" }), aware: net.analyze({ mode: "shape-aware" }) };
}

/** The <details> elements of an HTML string and whether each starts open. */
function details(html: string): { open: boolean; body: string }[] {
  return [...html.matchAll(/<details( open)?[^>]*>([\s\S]*?)<\/details>/g)].map((m) => ({ open: !!m[1], body: m[2] }));
}

test("tables: at most MAX_TABLE_ROWS rows, then one line saying how many more", () => {
  const n = MAX_TABLE_ROWS + 7;
  const html = readHtml(htmlTable(["i", "name"], rows(n)));
  assert.equal(html.tags.tr, 1 + MAX_TABLE_ROWS + 1, "header, the rows shown, the … line");
  assert.ok(html.text.includes(`r${MAX_TABLE_ROWS - 1}`));
  assert.ok(!html.text.includes(`r${MAX_TABLE_ROWS}`));
  assert.ok(html.text.includes("… 7 more rows"));
  const text = textTable(["i", "name"], rows(n)).split("\n");
  assert.equal(text.length, 2 + MAX_TABLE_ROWS + 1);
  assert.equal(text.at(-1), "… 7 more rows");
  assert.equal(
    readHtml(htmlTable(["i", "name"], rows(MAX_TABLE_ROWS))).tags.tr,
    1 + MAX_TABLE_ROWS,
    "no line when none is left out",
  );
  assert.equal(textTable(["i"], rows(3), 2).split("\n").at(-1), "… 1 more rows");
});

test(`topology of ${FACE} in both modes: under ${HTML_BOUND / 1000} KB of HTML, graphs collapsed and scaled down, the JSON complete`, async () => {
  const { strict, aware } = await faceReports();
  const nonConstant = strict.layers.filter((l) => l.verdict !== "constant").length;
  assert.ok(nonConstant > FULL_GRAPH_LAYERS, `${nonConstant} layers: large enough to need the overview`);
  const b = toMimeBundle([aware, strict]);
  const html = b["text/html"];
  const payload = JSON.stringify(b[TOPOLOGY_MIME]);
  console.log(`# ${FACE} both modes: HTML ${html.length} B, text ${b["text/plain"].length} B, JSON payload ${payload.length} B`);
  assert.ok(html.length < HTML_BOUND, `${html.length} characters`);
  const json = b[TOPOLOGY_MIME] as TopologyReport;
  assert.equal(json.layers.length, aware.layers.length);
  assert.deepEqual(json.alternate?.layers, strict.layers);

  const graphs = details(html).filter((d) => d.body.includes("<svg"));
  assert.equal(graphs.length, 2, "one graph per mode");
  assert.ok(
    graphs.every((g) => !g.open),
    "a large graph starts collapsed",
  );
  const reading = readHtml(html);
  assert.equal(reading.svgs.length, 2);
  for (const m of html.matchAll(/<svg[^>]* width="(\d+)"/g)) assert.ok(Number(m[1]) <= OVERVIEW_W, `svg ${m[1]} px wide`);
  // The strict overview has a tooltip on each blocking layer and nothing else; shape-aware on detection_out only.
  assert.deepEqual(reading.svgs[0].titles, ["detection_out (DetectionOutput)"]);
  assert.equal(reading.svgs[1].titles.length, strict.summary.unsupported);
  assert.ok(
    strict.summary.blocking.every((name) =>
      reading.svgs[1].titles.includes(`${name} (${strict.layers.find((l) => l.name === name)!.type})`),
    ),
  );

  // All-layers tables: capped, blocking layers first, with the count of the rest.
  assert.ok(reading.text.includes(`… ${nonConstant - MAX_TABLE_ROWS} more rows`));
  const tables = details(html).filter((d) => d.body.includes("(blocking first)"));
  assert.equal(tables.length, 2, "shape-aware (the first report), then strict");
  assert.match(tables[0].body, /<tbody><tr valign="top"><td style="text-align:left">detection_out<\/td>/);
  assert.equal(tables[1].body.match(/>unsupported</g)?.length, MAX_TABLE_ROWS, "38 blocking layers fill the 25 rows");
  // The text part names at most twelve blocking layers per group, then how many more.
  assert.match(b["text/plain"], /✗ Transpose → Permute \(14\): [^\n]*, … 2 more\n/);
});

test("a small graph stays full size, labelled and open", async () => {
  const net = await new IECore().readNetwork(irPath("head-pose-estimation-adas-0001"));
  const html = toMimeBundle(net.analyze({ mode: "strict" }))["text/html"];
  const graph = details(html).find((d) => d.body.includes("<svg"))!;
  assert.ok(graph.open);
  assert.ok(readHtml(html).svgs[0].counts.text > 0, "boxes are labelled");
});

test(`profile on ${FACE}'s graph: a collapsed overview with tooltips on the top layers, under ${HTML_BOUND / 1000} KB`, async () => {
  const { aware } = await faceReports();
  const graph = aware.layers
    .filter((l) => l.verdict !== "constant")
    .map((l) => ({
      id: l.id,
      name: l.name,
      type: l.type,
      inputs: l.inputs.filter((i) => aware.layers[i]?.verdict !== "constant"),
    }));
  const timed = graph.filter((n) => n.type !== "Parameter" && n.type !== "Result");
  const batches = [1, 16];
  const r: ProfileReport = buildProfile({
    model: FACE,
    device: "CPU",
    layers: timed.map((n) => ({ name: n.name, type: n.type, execType: "jit" })),
    batches: batches.map((n) => ({
      batch: n,
      wallUs: [timed.length * 10 * n + 100],
      layerUs: [timed.map((_, i) => (1 + (i % 17)) * n)],
    })),
    graph,
  });
  const b = toMimeBundle(r);
  const html = b["text/html"];
  console.log(
    `# profile of ${graph.length} nodes: HTML ${html.length} B, JSON payload ${JSON.stringify(b[PROFILE_MIME]).length} B`,
  );
  assert.ok(html.length < HTML_BOUND, `${html.length} characters`);
  const g = details(html).find((d) => d.body.includes("Graph overview"));
  assert.ok(g && !g.open);
  const reading = readHtml(html);
  assert.equal(reading.svgs.length, 2, "legend and overview");
  assert.equal(reading.svgs[1].titles.length, TOP_LAYERS);
  assert.ok(reading.svgs[1].titles.every((t) => t.includes("µs")));
});

test("fixForDynamicBatch's changes: the table capped too", () => {
  const changes: BatchFixChange[] = Array.from({ length: MAX_TABLE_ROWS + 3 }, (_, i) => ({
    layer: `r${i}`,
    type: "Reshape",
    kind: "none",
    applied: false,
    reason: "keeps the batch",
    blocked: "nothing",
    before: "",
    after: "",
    proof: null,
  }));
  const b = toMimeBundle(changes);
  assert.ok(readHtml(b["text/html"]).text.includes("… 3 more rows"));
  const text = b["text/plain"];
  assert.match(text, /… 3 more rows/);
  assert.ok(text.includes(`r${MAX_TABLE_ROWS - 1}:`) && !text.includes(`r${MAX_TABLE_ROWS}:`), "details of the rows shown only");
});
