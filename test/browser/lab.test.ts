/**
 * End to end in the JupyterLab of lab/ (the JupyterLab 4 frontend built from npm, served by
 * Debian's jupyter_server, with dynbatch-jupyterlab loaded as a prebuilt federated extension):
 * each tutorial notebook is run with the tslab kernel from the Run menu, and the views it shows
 * are checked against the kernel's own analysis and against the reports saved in the notebook.
 * The extension is the one `dynbatch lab install` puts into a Jupyter data directory, as in a
 * user's own JupyterLab, not the repository's build folder.
 * Quick mode (DYNBATCH_QUICK=1) unless the environment says otherwise.
 */
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { IECore, LATENCY_MIME } from "../../kernel";
import type { AnalysisMode, LatencyReport } from "../../kernel/schema";
import { irPath, ROOT } from "../helpers/models";
import { checkSetup, Notebook, NOTEBOOK_KERNELSPEC, payloads, problems } from "../notebooks/nbrun";
import { checkChromium, launch, screenshot, watchProblems } from "./chromium";
import {
  clickLayer,
  DrawnTrace,
  errorOutputs,
  openNotebook,
  readLatency,
  readTopology,
  runAllCells,
  saveNotebook,
  switchMode,
  TopologyView,
  VerdictCounts,
} from "./lab-page";
import { LabServer, startLab } from "./lab-server";

const XSS = "<img src=x onerror=alert(1)>";
const SHARED = [
  "landmarks-regression-retail-0009",
  "head-pose-estimation-adas-0001",
  "open-closed-eye-0001",
  "face-detection-adas-0001",
];

/** One shared model analysed in one mode by the kernel, in this process. */
interface Expected {
  id: string;
  model: string;
  mode: AnalysisMode;
  counts: VerdictCounts;
  unsupported: { name: string; reason: string }[];
}

let server: LabServer;
let browser: Browser;
let work: string;
let root: string;
const expected: Expected[] = [];

function notebookCells(sources: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    // As in the tutorials: no machine has the generic kernel name, so JupyterLab picks the one
    // kernel whose language matches language_info (without it, it would ask).
    metadata: { kernelspec: NOTEBOOK_KERNELSPEC, language_info: { name: "typescript" } },
    cells: sources.map((source, i) => ({
      cell_type: "code",
      id: `c${i}`,
      metadata: {},
      source,
      outputs: [],
      execution_count: null,
    })),
  });
}

/** A notebook whose reports name a layer, a model and a device with markup. */
function xssNotebook(): string {
  return notebookCells([
    `import { IECore, display } from "dynbatch";
const XSS = ${JSON.stringify(XSS)};
const net = await new IECore().readNetwork(${JSON.stringify(irPath("head-pose-estimation-adas-0001"))});
const report = net.analyze({ mode: "strict" });
report.layers.find((l) => l.verdict === "unsupported")!.name = XSS;
report.model = XSS;
display(report);`,
    `display({
  model: XSS, device: XSS, limit: 4,
  points: [1, 2, 4].map((batch) => ({ batch, mode: "dynamic" as const, latencyMs: { p50: batch, p90: batch, min: batch, max: batch }, throughput: 1000 })),
});`,
  ]);
}

before(async () => {
  checkChromium();
  checkSetup();
  // The notebooks run from a copy: a run must not rewrite the tutorials' saved outputs. The
  // copy sits where they do relative to ../models and ../media, and imports `dynbatch` the same way.
  work = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-lab-"));
  root = path.join(work, "notebooks");
  fs.mkdirSync(root);
  for (const f of fs.readdirSync(path.join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb"))) {
    fs.copyFileSync(path.join(ROOT, "notebooks", f), path.join(root, f));
  }
  fs.symlinkSync(path.join(ROOT, "notebooks", "node_modules"), path.join(root, "node_modules"));
  // Notebook 01's markdown shows an SVG diagram from notebooks/images.
  fs.symlinkSync(path.join(ROOT, "notebooks", "images"), path.join(root, "images"));
  // tslab runs the first tslab it finds upwards from the kernel's folder: make it this checkout's,
  // whatever a parent of the temporary folder holds.
  for (const dir of ["models", "media", "node_modules"]) fs.symlinkSync(path.join(ROOT, dir), path.join(work, dir));
  fs.writeFileSync(path.join(root, "xss.ipynb"), xssNotebook());

  const data = path.join(work, "jupyter-data");
  const install = spawnSync(process.execPath, [path.join(ROOT, "dist", "kernel", "cli", "main.js"), "lab", "install"], {
    encoding: "utf8",
    env: { ...process.env, JUPYTER_DATA_DIR: data },
  });
  assert.equal(install.status, 0, install.stderr);
  const labextensions = path.join(data, "labextensions");
  assert.ok(!fs.lstatSync(path.join(labextensions, "dynbatch-jupyterlab")).isSymbolicLink(), "a copy, as a user gets it");
  server = await startLab({ root, work, labextensions, env: { DYNBATCH_QUICK: process.env.DYNBATCH_QUICK ?? "1" } });
  browser = await launch();

  const ie = new IECore();
  for (const id of SHARED) {
    const net = await ie.readNetwork(irPath(id));
    for (const mode of ["strict", "shape-aware"] as const) {
      const r = net.analyze({ mode });
      const counts = { supported: 0, unsupported: 0, constant: 0 };
      for (const l of r.layers) counts[l.verdict] += 1;
      const unsupported = r.layers.filter((l) => l.verdict === "unsupported").map((l) => ({ name: l.name, reason: l.reason }));
      expected.push({ id, model: r.model, mode, counts, unsupported });
    }
  }
});

after(async () => {
  await browser?.close();
  const leftover = (await server?.stop()) ?? [];
  if (work) fs.rmSync(work, { recursive: true, force: true });
  assert.deepEqual(leftover, [], `processes left running after the server stopped: ${leftover.join(", ")}`);
});

/** Runs `body` on a fresh page; then the page must have had no console error, uncaught error or dialog. */
async function onPage(body: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const seen = watchProblems(page);
  page.on("dialog", (d) => {
    seen.push(`dialog: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
  try {
    await body(page);
    assert.deepEqual(seen, [], "the page reported problems");
  } finally {
    await context.close();
    await server.shutdownKernels();
  }
}

/** Opens `file` in the lab, runs all its cells, checks no cell failed, saves it and returns it as saved. */
async function runInLab(page: Page, file: string): Promise<Notebook> {
  await openNotebook(page, server, file, path.basename(file, ".ipynb").replace(/[^A-Za-z0-9]/g, "-"));
  await runAllCells(page);
  assert.deepEqual(await errorOutputs(page), [], `${file}: error outputs in the page`);
  await saveNotebook(page);
  const nb = JSON.parse(fs.readFileSync(path.join(root, file), "utf8")) as Notebook;
  assert.deepEqual(problems(nb), [], `${file}: error outputs in the saved notebook`);
  return nb;
}

/** The kernel's analysis the view shows: same model name and mode, and (two shared models are both "torch-jit-export") the same counts. */
function matchShared(view: TopologyView): Expected | undefined {
  const candidates = expected.filter((e) => e.model === view.model && e.mode === view.mode);
  if (!candidates.length) return undefined;
  const match = candidates.find((e) => JSON.stringify(e.counts) === JSON.stringify(view.counts));
  assert.ok(
    match,
    `${view.model} (${view.mode}): legend ${JSON.stringify(view.counts)}, the kernel counts ${candidates.map((c) => JSON.stringify(c.counts)).join(" or ")}`,
  );
  return match;
}

/**
 * Checks every topology view of the page in each of its modes against the kernel's analysis and
 * clicks the first unsupported layer of each; returns "model/mode" of the shared models seen.
 */
async function checkTopologies(page: Page): Promise<Set<string>> {
  const seen = new Set<string>();
  const n = await page.locator(".dynbatch-topology").count();
  for (let i = 0; i < n; i++) {
    const first = await readTopology(page, i);
    for (const mode of [first.mode, ...first.modes.filter((m) => m !== first.mode)]) {
      if (mode !== first.mode) await switchMode(page, i, mode);
      const view = await readTopology(page, i);
      assert.equal(view.mode, mode);
      const match = matchShared(view);
      if (!match) continue;
      seen.add(`${match.id}/${mode}`);
      const blocker = match.unsupported[0];
      if (blocker)
        assert.deepEqual(await clickLayer(page, i, blocker.name), blocker, `${match.id} (${mode}): details of the clicked layer`);
    }
  }
  return seen;
}

/**
 * What a latency payload must be drawn as: per chart, one line per sweep and mode, a point per
 * measured batch; a static network measured at its one batch N only (notebook 01) is a flat line
 * over every measured n ≤ N.
 */
function expectedTraces(report: LatencyReport): DrawnTrace[] {
  const traces: DrawnTrace[] = [];
  for (const sweep of [report, ...(report.others ?? [])]) {
    const modes = [...new Set(sweep.points.map((p) => p.mode))];
    const statics = sweep.points.filter((p) => p.mode === "static");
    const n = statics.length === 1 && !(sweep.skipped ?? []).some((s) => s.mode === "static") ? statics[0].batch : undefined;
    const flat = n !== undefined && sweep.points.some((p) => p.mode !== "static" && p.batch < n);
    for (const mode of modes) {
      const x = sweep.points
        .filter((p) => (mode === "static" && flat ? p.batch <= n : p.mode === mode))
        .map((p) => p.batch)
        .sort((a, b) => a - b);
      traces.push({ mode, device: sweep.device, x: [...new Set(x)] });
    }
  }
  return traces;
}

const byKey = (traces: DrawnTrace[]) =>
  [...traces].sort((a, b) => `${a.device}/${a.mode}`.localeCompare(`${b.device}/${b.mode}`));

/** Checks every latency view of the page against the reports saved in the notebook, in order. */
async function checkLatencies(page: Page, nb: Notebook): Promise<number> {
  const reports = payloads(nb, LATENCY_MIME) as LatencyReport[];
  assert.equal(await page.locator(".dynbatch-latency").count(), reports.length, "one latency view per latency output");
  for (const [i, report] of reports.entries()) {
    const drawn = await readLatency(page, i);
    assert.equal(drawn.model, report.model);
    for (const metric of ["latency", "throughput"]) {
      assert.deepEqual(byKey(drawn.charts[metric] ?? []), byKey(expectedTraces(report)), `${report.model}: ${metric} chart`);
    }
  }
  return reports.length;
}

test("lab: JupyterLab loads dynbatch-jupyterlab from the server's federated extensions, and every request it makes succeeds", async () => {
  await onPage(async (page) => {
    const failed: string[] = [];
    page.on("response", (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));
    const eventsSocket = page.waitForEvent("websocket", (ws) => ws.url().includes("/api/events/subscribe"));
    const remoteEntry = page.waitForResponse((r) =>
      /\/lab\/extensions\/dynbatch-jupyterlab\/static\/remoteEntry\.[0-9a-f]+\.js$/.test(new URL(r.url()).pathname),
    );
    const answered = (suffix: string) => page.waitForResponse((r) => new URL(r.url()).pathname.endsWith(suffix));
    const meAnswered = answered("/api/me");
    const lspAnswered = answered("/lsp/status");
    await page.goto(server.url);
    assert.equal((await remoteEntry).status(), 200);
    await page.locator(".jp-LabShell .jp-DirListing-item").first().waitFor();
    const config = JSON.parse((await page.locator("#jupyter-config-data").textContent()) ?? "{}") as {
      federated_extensions: { name: string; mimeExtension?: string }[];
    };
    assert.deepEqual(
      config.federated_extensions.map((e) => [e.name, e.mimeExtension]),
      [["dynbatch-jupyterlab", "./mimeExtension"]],
    );
    // The file browser lists the notebooks, not notebooks/node_modules.
    const names = await page.locator(".jp-DirListing-itemName").allTextContents();
    assert.ok(names.some((n) => n.startsWith("01-")) && !names.includes("node_modules"), names.join(", "));
    // The start-up requests JupyterLab 4 makes and jupyter_server 1.23 lacks are answered.
    const [me, lsp, events] = await Promise.all([meAnswered, lspAnswered, eventsSocket]);
    assert.equal(me.status(), 200);
    assert.equal(lsp.status(), 200);
    assert.deepEqual(failed, []);
    assert.ok(!events.isClosed(), "the events socket stays open");
  });
});

test("lab: 01 runs from the Run menu; the landmarks topology matches the kernel, its latency plot has a line per mode with a point per batch", async () => {
  await onPage(async (page) => {
    const nb = await runInLab(page, "01-dynamic-batching-in-five-minutes.ipynb");
    assert.deepEqual([...(await checkTopologies(page))], ["landmarks-regression-retail-0009/shape-aware"]);
    assert.equal(await checkLatencies(page, nb), 1);
  });
});

test("lab: 02 shows head pose and eye state in both modes with the kernel's counts (face detection as text: its graph would be most of the notebook); clicking a blocking layer shows its reason", async () => {
  await onPage(async (page) => {
    await runInLab(page, "02-which-topologies.ipynb");
    const seen = await checkTopologies(page);
    for (const id of SHARED.slice(1, 3)) {
      for (const mode of ["strict", "shape-aware"]) assert.ok(seen.has(`${id}/${mode}`), `${id} ${mode} was shown`);
    }
    // Head pose in strict mode, its first Reshape selected by the click above.
    await switchMode(page, 0, "strict");
    const headPose = expected.find((e) => e.id === "head-pose-estimation-adas-0001" && e.mode === "strict")!;
    await clickLayer(page, 0, headPose.unsupported[0].name);
    await screenshot(page, "lab-topology");
  });
});

test("lab: 03's latency plots have one line per mode and device, with a point per measured batch", async () => {
  await onPage(async (page) => {
    const nb = await runInLab(page, "03-latency-vs-batch.ipynb");
    assert.ok((await checkLatencies(page, nb)) >= 1);
    await page.locator(".dynbatch-latency").first().scrollIntoViewIfNeeded();
    await screenshot(page, "lab-latency");
  });
});

test("lab: 04 (face video cascade) runs without errors", async () => {
  await onPage(async (page) => {
    const nb = await runInLab(page, "04-face-video-cascade.ipynb");
    assert.ok(
      nb.cells.some((c) => (c.outputs ?? []).some((o) => o.output_type === "display_data" && o.data && "image/jpeg" in o.data)),
    );
  });
});

test("lab: a layer, model and device named <img src=x onerror=alert(1)> render as text and run nothing", async () => {
  await onPage(async (page) => {
    await runInLab(page, "xss.ipynb");
    const view = await readTopology(page, 0);
    assert.equal(view.model, XSS);
    assert.deepEqual(await clickLayer(page, 0, XSS).then((d) => d.name), XSS);
    const latency = await readLatency(page, 0);
    assert.equal(latency.model, XSS);
    assert.deepEqual(
      latency.charts.latency.map((t) => t.device),
      [XSS],
    );
    assert.ok(((await page.locator(".dynbatch-latency").textContent()) ?? "").includes(XSS));
    assert.equal(await page.locator("img[src='x']").count(), 0, "no <img> was injected");
  });
});
