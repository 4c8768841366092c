/**
 * The topology view in the renderer harness: legend counts for the shared models in both modes,
 * real mouse clicks on nodes, search, the mode and constants toggles, escaping of model strings,
 * a generated 5000-layer network (layout time and pan/zoom frame cost are reported as
 * diagnostics, never asserted), and the dark theme. Screenshots go to test-artifacts/.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser, Page } from "playwright-core";
import type { LayerVerdict, TopologyReport } from "../../kernel/schema";
import { fixSuggestion, formatShape, symbolicShape } from "../../extension/src/topology/describe";
import { buildViewGraph, countHiddenMatches, countVerdicts, neighbours, searchLayers } from "../../extension/src/topology/model";
import { topologyProblem } from "../../extension/src/topology/validate";
import { launch, screenshot } from "./chromium";
import { generatedReport, modelPayload, TOPOLOGY_MODELS, withSummary, XSS_NAME, xssReport } from "./fixtures";
import { Harness, openHarness, setTheme } from "./harness";

const MIME = "application/vnd.dynbatch.topology+json";
const ROOT = ".dynbatch-topology";
const READY = `${ROOT}[data-state="ready"]`;
/** Layout of 5000 nodes on a busy two-core machine can take a while: generous, not a threshold. */
const LAYOUT_WAIT_MS = 90_000;

interface Point {
  x: number;
  y: number;
}
interface Stats {
  state: string;
  engine: string | null;
  layoutMs: number | null;
  nodes: number;
  edges: number;
  frames: { frames: number; lastMs: number; maxMs: number; totalMs: number };
  view: { k: number; tx: number; ty: number };
}
/** What the tests call on the view's root element (types only: the page runs the code). */
interface Root {
  dynbatchLocate(name: string): Point | null;
  dynbatchStats(): Stats;
}
type PageGlobal = { document: { querySelector(selector: string): unknown } };

// The view's pure parts (no DOM) run here in node; everything else runs in the harness below.

function layer(
  id: number,
  name: string,
  type: string,
  verdict: LayerVerdict["verdict"],
  inputs: number[],
  extra: Partial<LayerVerdict> = {},
): LayerVerdict {
  return { id, name, type, legacyType: type, verdict, reason: `${type} reason`, inputs, outputShape: ["N", 8], ...extra };
}

/** data → conv (weights folded), and a PriorBox-like blocker fed by constants that reaches `out` only through a constant. */
const SMALL = withSummary("small", "strict", [
  layer(0, "data", "Parameter", "supported", []),
  layer(1, "w", "Const", "constant", []),
  layer(2, "w/convert", "Convert", "constant", [1]),
  layer(3, "conv", "Convolution", "supported", [0, 2]),
  layer(4, "shape", "ShapeOf", "constant", [3]),
  layer(5, "prior", "PriorBox", "unsupported", [4]),
  layer(6, "prior/unsqueeze", "Unsqueeze", "constant", [5]),
  layer(7, "out", "DetectionOutput", "unsupported", [3, 6, 3]),
]);

test("view graph: constants fold into the layers they feed, and paths through them become marked edges", () => {
  const g = buildViewGraph(SMALL, false);
  assert.deepEqual(
    g.nodes.map((n) => n.layer.name),
    ["data", "conv", "prior", "out"],
  );
  assert.deepEqual(
    g.nodes.map((n) => n.folded.map((c) => c.name)),
    [[], ["w/convert", "w"], ["shape"], ["prior/unsqueeze"]],
  );
  assert.deepEqual(
    g.hiddenConstants.map((l) => l.name),
    ["w", "w/convert", "shape", "prior/unsqueeze"],
  );
  // (from, to, through constants): conv feeds out once although it is input twice.
  const edges = [...g.throughConstants].map((t, e) => [g.edges[2 * e], g.edges[2 * e + 1], t]);
  assert.deepEqual(edges, [
    [0, 1, 0],
    [1, 2, 1],
    [1, 3, 0],
    [2, 3, 1],
  ]);
  assert.deepEqual(neighbours(g, 3), { inputs: [1, 2], outputs: [] });
  assert.deepEqual(neighbours(g, 1), { inputs: [0], outputs: [2, 3] });

  const all = buildViewGraph(SMALL, true);
  assert.equal(all.nodes.length, 8);
  assert.equal(all.hiddenConstants.length, 0);
  assert.ok(all.nodes.every((n) => n.folded.length === 0));
  assert.ok([...all.throughConstants].every((t) => t === 0));
  assert.equal(all.edges.length / 2, 8);
});

test("view graph: search is case-insensitive with an exact name first; hidden constants are counted apart", () => {
  const g = buildViewGraph(SMALL, false);
  assert.deepEqual(searchLayers(g, "PRIOR"), [2]);
  assert.deepEqual(searchLayers(g, "out"), [3]);
  assert.deepEqual(searchLayers(g, "t"), [0, 3]);
  const twoX = buildViewGraph(
    withSummary("x", "strict", [layer(0, "a/x", "Relu", "supported", []), layer(1, "X", "Relu", "supported", [0])]),
    false,
  );
  assert.deepEqual(searchLayers(twoX, "x"), [1, 0]);
  assert.deepEqual(searchLayers(g, "  "), []);
  assert.equal(countHiddenMatches(g, "prior"), 1);
  assert.equal(countHiddenMatches(g, ""), 0);
  assert.deepEqual(countVerdicts(SMALL), { supported: 2, unsupported: 2, constant: 4 });
  const big = generatedReport(5000);
  assert.deepEqual(countVerdicts(big), {
    supported: big.summary.supported,
    unsupported: big.summary.unsupported,
    constant: big.summary.constant,
  });
  assert.equal(big.summary.total - big.summary.constant, 5000);
});

/** SMALL, with `change` applied to a deep copy: the malformed payloads of the checks below. */
function broken(
  change: (r: Record<string, unknown> & { layers: Record<string, unknown>[]; summary: Record<string, unknown> }) => void,
): unknown {
  const copy = JSON.parse(JSON.stringify({ ...SMALL, alternate: { ...SMALL, mode: "shape-aware" } }));
  change(copy);
  return copy;
}

test("validate: a well-formed report passes; each malformed field is named", () => {
  assert.equal(topologyProblem(SMALL), null);
  assert.equal(topologyProblem(broken(() => undefined)), null);
  assert.equal(topologyProblem(xssReport()), null);
  assert.equal(topologyProblem(generatedReport(200)), null);
  assert.equal(topologyProblem(null), "the payload is not an object");
  assert.equal(topologyProblem([]), "the payload is not an object");
  assert.equal(topologyProblem(broken((r) => delete r.layers[3].inputs)), "layers[3].inputs is not an array of layer ids");
  assert.equal(topologyProblem(broken((r) => (r.layers[3].inputs = ["0"]))), "layers[3].inputs is not an array of layer ids");
  assert.equal(
    topologyProblem(broken((r) => (r.layers[3].inputs = [0, 99]))),
    "layers[3].inputs names layer id 99, which is not in the report",
  );
  assert.equal(topologyProblem(broken((r) => (r.layers[2].id = 0))), "layers[2].id 0 is used by an earlier layer too");
  assert.equal(topologyProblem(broken((r) => (r.layers[2].id = "2"))), "layers[2].id is not a number");
  assert.equal(
    topologyProblem(broken((r) => (r.layers = [null as unknown as Record<string, unknown>]))),
    "layers[0] is not an object",
  );
  assert.equal(
    topologyProblem(broken((r) => (r.layers[1].verdict = "maybe"))),
    'layers[1].verdict is "maybe", not one of supported, unsupported, constant',
  );
  assert.equal(
    topologyProblem(broken((r) => delete r.layers[1].verdict)),
    "layers[1].verdict is missing, not one of supported, unsupported, constant",
  );
  for (const key of ["name", "type", "legacyType", "reason"]) {
    assert.equal(topologyProblem(broken((r) => (r.layers[4][key] = 1))), `layers[4].${key} is not a string`);
  }
  assert.equal(topologyProblem(broken((r) => (r.layers[0].outputShape = "N"))), "layers[0].outputShape is not an array");
  assert.equal(topologyProblem(broken((r) => delete (r as Record<string, unknown>).summary)), "summary is not an object");
  assert.equal(topologyProblem(broken((r) => (r.mode = "lenient"))), 'mode is "lenient", not strict or shape-aware');
  assert.equal(topologyProblem(broken((r) => delete r.model)), "model is not a string");
  assert.equal(
    topologyProblem(broken((r) => delete (r.alternate as Record<string, unknown>).layers)),
    "alternate.layers is not an array",
  );
  assert.equal(
    topologyProblem(broken((r) => ((r.alternate as { layers: unknown[] }).layers[5] = 5))),
    "alternate.layers[5] is not an object",
  );
  assert.equal(topologyProblem(broken((r) => (r.alternate = "strict"))), "alternate is not an object");
});

test("describe: shapes in terms of N, from the shape-aware twin of a strict layer", () => {
  assert.equal(formatShape(["N", 3, 64, 64]), "[N,3,64,64]");
  assert.equal(formatShape([]), "[]");
  const strict = layer(5, "r", "Reshape", "unsupported", [], { outputShape: [1, 512] });
  assert.equal(symbolicShape(strict, layer(5, "r", "Reshape", "supported", [], { outputShape: ["N", 512] })), "[N,512]");
  assert.equal(symbolicShape(strict), "[1,512]");
  assert.equal(
    symbolicShape(layer(1, "d", "DetectionOutput", "unsupported", [], { outputShape: [1, 1, "200N", 7] })),
    "[1,1,200N,7]",
  );
});

test("describe: a fix suggestion per kind of blocker, none for other layers", () => {
  const blocked = (type: string, reason: string, legacyType = type) =>
    layer(1, "x", type, "unsupported", [], { reason, legacyType });
  assert.equal(fixSuggestion(layer(1, "x", "Convolution", "supported", []), "strict"), null);
  // Shape-aware refusals: fixForDynamicBatch() rewrites a Reshape or splits where samples mix.
  const detection = fixSuggestion(blocked("DetectionOutput", "folds the batch"), "shape-aware") ?? "";
  assert.match(detection, /fixForDynamicBatch\(\)` splits the network at this DetectionOutput/);
  assert.match(detection, /static batch/);
  assert.match(
    fixSuggestion(blocked("Reshape", "folds the batch into axis 1"), "shape-aware") ?? "",
    /fixForDynamicBatch\(\)` rewrites .*axis 0 .*-1/,
  );
  assert.match(fixSuggestion(blocked("Transpose", "moves the batch", "Permute"), "shape-aware") ?? "", /axis 0 first.*splits/);
  assert.match(
    fixSuggestion(blocked("ReduceSum", "drops the batch"), "shape-aware") ?? "",
    /splits the network at this ReduceSum.*per sample/,
  );
  assert.match(
    fixSuggestion(blocked("SoftMax", "SoftMax along axis 0 normalises across samples"), "shape-aware") ?? "",
    /splits the network at this SoftMax/,
  );
  assert.match(fixSuggestion(blocked("ShapeOf", "shape reaches data"), "shape-aware") ?? "", /static dims/);
  // Strict refusals are by type: the first fix is the shape-aware default, not fixForDynamicBatch().
  for (const type of ["PriorBox", "ReduceSum", "MyCustomOp", "Reshape"]) {
    const fix = fixSuggestion(blocked(type, "not in the published list"), "strict") ?? "";
    assert.match(fix, new RegExp(`strict \\(legacy\\) rule refuses ${type} by its type\\. Load with the shape-aware analysis`));
    assert.ok(!fix.includes("fixForDynamicBatch"), type);
  }
  // With the other mode's verdict: head-pose's Reshape is accepted there; a DetectionOutput is not, and is split.
  const reshape = blocked("Reshape", "Reshape may change the tensor shape");
  assert.match(
    fixSuggestion(reshape, "strict", { ...reshape, verdict: "supported" }) ?? "",
    /^Load with the shape-aware analysis/,
  );
  const det = blocked("DetectionOutput", "detection layer");
  assert.match(
    fixSuggestion(det, "strict", { ...det, reason: "folds the batch into axis 2" }) ?? "",
    /refuses it too.*splits the network/,
  );
});

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

async function renderReady(page: Page, render: () => Promise<void>): Promise<void> {
  await render();
  await page.waitForSelector(READY, { timeout: LAYOUT_WAIT_MS });
}

function stats(page: Page): Promise<Stats> {
  return page.evaluate(
    (sel) => ((globalThis as unknown as PageGlobal).document.querySelector(sel) as Root).dynbatchStats(),
    ROOT,
  );
}

function locate(page: Page, name: string): Promise<Point | null> {
  return page.evaluate(
    ([sel, n]) => ((globalThis as unknown as PageGlobal).document.querySelector(sel) as Root).dynbatchLocate(n),
    [ROOT, name] as const,
  );
}

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

/** A fresh harness page for the checks that must not share the main page's state (its errors, its ELK engine). */
async function freshPage(): Promise<Harness> {
  return openHarness(browser);
}

/** Renders a malformed payload and expects the view's readable error, not an exception. */
async function expectRejected(payload: unknown, message: RegExp): Promise<void> {
  const p = await freshPage();
  await p.render(MIME, payload);
  await p.page.waitForSelector(`${ROOT}[data-state="error"]`, { timeout: 10_000 });
  assert.match((await p.page.locator(`${ROOT} .dynbatch-error`).textContent()) ?? "", message);
  assert.equal(await p.page.locator(`${ROOT} canvas`).count(), 0, "nothing is drawn");
  assert.deepEqual(p.problems, []);
  await p.page.close();
}

test("topology: a layer without inputs shows a message, not an unhandled rejection", async () => {
  await expectRejected(
    broken((r) => delete r.layers[3].inputs),
    /^Not a dynbatch topology report: layers\[3\]\.inputs is not an array of layer ids\.$/,
  );
});

test("topology: an alternate without layers shows a message, not a JavaScript error", async () => {
  await expectRejected(
    broken((r) => delete (r.alternate as Record<string, unknown>).layers),
    /alternate\.layers is not an array/,
  );
});

test("topology: a null layer shows a message, not a JavaScript error", async () => {
  await expectRejected(
    broken((r) => (r.layers = [null as unknown as Record<string, unknown>])),
    /layers\[0\] is not an object/,
  );
});

test("topology: an unknown verdict shows a message, not a blank view", async () => {
  await expectRejected(
    broken((r) => (r.layers[5].verdict = "maybe")),
    /layers\[5\]\.verdict is "maybe"/,
  );
});

test("topology: an input naming no layer shows a message", async () => {
  await expectRejected(
    broken((r) => (r.layers[7].inputs = [3, 42])),
    /layers\[7\]\.inputs names layer id 42/,
  );
});

test("topology: the header counts the blocking layers itself, whatever the summary says", async () => {
  const p = await freshPage();
  await renderReady(p.page, () =>
    p.render(
      MIME,
      broken((r) => delete r.summary.unsupported),
    ),
  );
  assert.equal(await p.page.locator(".dynbatch-overall").textContent(), "✗ 2 layers block a dynamic batch");
  await renderReady(p.page, () =>
    p.render(
      MIME,
      broken((r) => (r.layers[5].verdict = "supported")),
    ),
  );
  assert.equal(await p.page.locator(".dynbatch-overall").textContent(), "✗ 1 layer blocks a dynamic batch");
  assert.deepEqual(p.problems, []);
  await p.page.close();
});

type StubGlobal = {
  Worker: unknown;
  EventTarget: new () => { dispatchEvent(e: unknown): boolean };
  ErrorEvent: new (type: string, init: { message: string }) => unknown;
  setTimeout(f: () => void, ms: number): void;
  URL: { createObjectURL(b: unknown): string; revokeObjectURL(u: string): void };
  dynbatchUrls?: { created: string[]; revoked: string[] };
  /** The stub worker's layout requests so far, and how to make it fail. */
  dynbatchWorker?: { layouts: number; kill(): void };
};

test("topology: the ELK worker's blob URL is revoked once the worker exists, and layouts run in it", async () => {
  const p = await freshPage();
  // The engine is made on the first layout: instrumenting the URL API before it is enough.
  await p.page.evaluate(() => {
    const g = globalThis as unknown as StubGlobal;
    const urls = { created: [] as string[], revoked: [] as string[] };
    g.dynbatchUrls = urls;
    const { createObjectURL, revokeObjectURL } = g.URL;
    g.URL.createObjectURL = (b) => {
      const u = createObjectURL.call(g.URL, b);
      urls.created.push(u);
      return u;
    };
    g.URL.revokeObjectURL = (u) => {
      urls.revoked.push(u);
      revokeObjectURL.call(g.URL, u);
    };
  });
  await renderReady(p.page, () => p.render(MIME, SMALL));
  assert.equal((await stats(p.page)).engine, "worker");
  const urls = await p.page.evaluate(() => (globalThis as unknown as StubGlobal).dynbatchUrls);
  assert.ok(urls);
  assert.equal(urls.created.length, 1);
  assert.deepEqual(urls.revoked, urls.created);
  assert.deepEqual(p.problems, []);
  await p.page.close();
});

test("topology: where no Worker can be made, ELK runs on the main thread and the view gets ready", async () => {
  const p = await freshPage();
  // As under a Content-Security-Policy without blob: workers: the constructor throws.
  await p.page.evaluate(() => {
    (globalThis as unknown as StubGlobal).Worker = class {
      constructor() {
        throw new Error("Worker blocked by the test");
      }
    };
  });
  await renderReady(p.page, () => p.render(MIME, SMALL));
  const s = await stats(p.page);
  assert.equal(s.engine, "main-thread");
  assert.equal(s.nodes, 4);
  assert.deepEqual(p.problems, []);
  await p.page.close();
});

test("topology: a worker that fails after starting hands every pending layout to one main-thread ELK", async () => {
  const p = await freshPage();
  // A worker whose script never answers: it counts layout requests and reports an error when told.
  await p.page.evaluate(() => {
    const g = globalThis as unknown as StubGlobal;
    g.Worker = class extends g.EventTarget {
      onmessage: unknown = null;
      constructor() {
        super();
        g.dynbatchWorker = {
          layouts: 0,
          kill: () => this.dispatchEvent(new g.ErrorEvent("error", { message: "stub worker died" })),
        };
      }
      postMessage(m: { cmd?: string }): void {
        if (m.cmd === "layout" && g.dynbatchWorker) g.dynbatchWorker.layouts += 1;
      }
      terminate(): void {}
    };
  });
  await p.render(MIME, SMALL);
  // A second layout while the first still waits on the worker, then the failure: both meet it.
  await p.page.check(".dynbatch-constants-toggle input");
  await p.page.waitForFunction(() => (globalThis as unknown as StubGlobal).dynbatchWorker?.layouts === 2);
  await p.page.evaluate(() => (globalThis as unknown as StubGlobal).dynbatchWorker?.kill());
  await p.page.waitForSelector(READY, { timeout: LAYOUT_WAIT_MS });
  const s = await stats(p.page);
  assert.equal(s.engine, "main-thread");
  assert.equal(s.nodes, SMALL.layers.length);
  await p.page.uncheck(".dynbatch-constants-toggle input");
  await p.page.waitForSelector(READY, { timeout: LAYOUT_WAIT_MS });
  assert.equal((await stats(p.page)).nodes, 4);
  assert.deepEqual(p.problems, []);
  await p.page.close();
});

type FrameGlobal = PageGlobal & { requestAnimationFrame(cb: (now: number) => void): number; performance: { now(): number } };

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
