/**
 * Driving the real JupyterLab page the way a person does: open a notebook, use the menus, wait
 * for the kernel, and read back what the dynbatch views show (their DOM contract: see
 * extension/src/topology/widget.ts and extension/src/latency/widget.ts).
 */
import type { Page } from "playwright-core";
import type { LabServer } from "./lab-server";

/** The little of the DOM the page functions below use: the tests compile without DOM types. */
interface El {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El>;
}

/** Generous bounds for a loaded 2-core machine; a healthy run stays far below them. */
const OPEN_MS = 90_000;
const RUN_MS = 300_000;

/**
 * Opens `file` (relative to the server's root) in a workspace of its own, so that no other
 * notebook is restored next to it, and waits until its kernel is idle.
 */
export async function openNotebook(page: Page, server: LabServer, file: string, workspace: string): Promise<void> {
  const url = new URL(`lab/workspaces/${workspace}/tree/${encodeURIComponent(file)}`, server.base);
  url.searchParams.set("token", server.token);
  await page.goto(url.href);
  await page.locator(".jp-Notebook .jp-Cell").first().waitFor({ timeout: OPEN_MS });
  await page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").waitFor({ timeout: OPEN_MS });
}

/** Clicks a top-level menu, then the item that runs `command`. */
export async function menu(page: Page, label: string, command: string): Promise<void> {
  await page.locator(".lm-MenuBar-itemLabel", { hasText: new RegExp(`^${label}$`) }).click();
  await page.locator(`.lm-Menu-item[data-command='${command}']`).click();
}

/**
 * Edit ▸ Clear Outputs of All Cells, Run ▸ Run All Cells, then waits until every code cell has
 * run (an execution count in its prompt) or one failed (stderr or an error output).
 */
export async function runAllCells(page: Page): Promise<void> {
  await menu(page, "Edit", "editmenu:clear-all");
  await menu(page, "Run", "runmenu:run-all");
  await page.waitForFunction(
    () => {
      const doc = (globalThis as unknown as { document: El }).document;
      // The input area's own prompt: a cell whose source is hidden (the notebooks' exercise answers)
      // shows a placeholder whose prompt never gets an execution count.
      const prompts = [...doc.querySelectorAll(".jp-Notebook .jp-CodeCell .jp-InputArea-prompt")].map((e) => e.textContent ?? "");
      if (prompts.some((t) => t.includes("*"))) return false;
      const failed = doc.querySelector(".jp-Notebook [data-mime-type='application/vnd.jupyter.stderr']");
      return failed !== null || (prompts.length > 0 && prompts.every((t) => /\[\d+\]/.test(t)));
    },
    null,
    { timeout: RUN_MS, polling: 250 },
  );
}

/** File ▸ Save Notebook, waiting until the tab is no longer marked as modified. */
export async function saveNotebook(page: Page): Promise<void> {
  await menu(page, "File", "docmanager:save");
  // A notebook of a few hundred KB on a busy 2-core machine has taken over 30 s (playwright's default) to save.
  await page.waitForFunction(
    () => !(globalThis as unknown as { document: El }).document.querySelector(".lm-TabBar-tab.lm-mod-current.jp-mod-dirty"),
    null,
    { timeout: 120_000 },
  );
}

/** The text of every stderr stream and error output in the notebook. */
export function errorOutputs(page: Page): Promise<string[]> {
  return page.$$eval(".jp-Notebook [data-mime-type='application/vnd.jupyter.stderr']", (els) =>
    els.map((e) => e.textContent ?? ""),
  );
}

export type VerdictCounts = Record<"supported" | "unsupported" | "constant", number>;

export interface TopologyView {
  model: string;
  mode: string;
  counts: VerdictCounts;
  /** The modes of the toggle; empty when the report has one analysis. */
  modes: string[];
}

/** Waits until the `index`-th topology view has laid its graph out. */
export async function topologyReady(page: Page, index: number): Promise<void> {
  await page.locator(".dynbatch-topology").nth(index).and(page.locator("[data-state='ready']")).waitFor({ timeout: OPEN_MS });
}

/** What the `index`-th topology view shows: its model, mode and legend counts. */
export async function readTopology(page: Page, index: number): Promise<TopologyView> {
  await topologyReady(page, index);
  return page
    .locator(".dynbatch-topology")
    .nth(index)
    .evaluate((node) => {
      const root = node as unknown as El;
      const counts = { supported: -1, unsupported: -1, constant: -1 };
      for (const item of root.querySelectorAll(".dynbatch-legend-item[data-verdict]")) {
        counts[item.dataset.verdict as keyof typeof counts] = Number(item.dataset.count);
      }
      return {
        model: root.querySelector(".dynbatch-model")?.textContent ?? "",
        mode: root.dataset.mode ?? "",
        counts,
        modes: [...root.querySelectorAll(".dynbatch-mode-toggle [data-mode]")].map((b) => b.dataset.mode ?? ""),
      };
    });
}

/** Presses the view's toggle button for `mode` and waits for the view to show it. */
export async function switchMode(page: Page, index: number, mode: string): Promise<void> {
  const root = page.locator(".dynbatch-topology").nth(index);
  await root.locator(`.dynbatch-mode-toggle [data-mode='${mode}']`).click();
  await root.and(page.locator(`[data-mode='${mode}'][data-state='ready']`)).waitFor({ timeout: OPEN_MS });
}

/**
 * Clicks the layer called `name` with the real mouse at the center the view reports for it,
 * and returns the details panel's layer name and reason.
 */
export async function clickLayer(page: Page, index: number, name: string): Promise<{ name: string; reason: string }> {
  const root = page.locator(".dynbatch-topology").nth(index);
  // As a person would: scroll to the view first. An output rendered off-screen (JupyterLab's
  // content-visibility windowing) learns its canvas size from a ResizeObserver on the next frames.
  await root.scrollIntoViewIfNeeded();
  await page.evaluate(() => {
    const frame = (globalThis as unknown as { requestAnimationFrame(f: () => void): void }).requestAnimationFrame;
    return new Promise<void>((done) => frame(() => frame(done)));
  });
  const at = await root.evaluate(
    (node, layer) => (node as unknown as { dynbatchLocate(n: string): { x: number; y: number } | null }).dynbatchLocate(layer),
    name,
  );
  if (!at) throw new Error(`the view cannot locate layer ${JSON.stringify(name)}`);
  await page.mouse.click(at.x, at.y);
  const details = root.locator(".dynbatch-details");
  await details.locator(".dynbatch-details-name").waitFor();
  return {
    name: (await details.locator(".dynbatch-details-name").textContent()) ?? "",
    reason: (await details.locator(".dynbatch-reason").textContent()) ?? "",
  };
}

export interface DrawnTrace {
  mode: string;
  device: string;
  x: number[];
}

/** The `index`-th latency view's p50 / throughput lines (bands left out), per chart metric. */
export async function readLatency(page: Page, index: number): Promise<{ model: string; charts: Record<string, DrawnTrace[]> }> {
  const root = page.locator(".dynbatch-latency").nth(index);
  await root.scrollIntoViewIfNeeded();
  // Plotly loads lazily and draws once the view is attached.
  await root.locator(".dynbatch-latency-chart .main-svg").first().waitFor({ timeout: OPEN_MS });
  return root.evaluate((node) => {
    type Trace = { x: number[]; meta?: { mode: string; device: string; metric: string; band?: boolean } };
    const el = node as unknown as El;
    const charts: Record<string, DrawnTrace[]> = {};
    for (const chart of el.querySelectorAll(".dynbatch-latency-chart")) {
      // Plotly keeps the drawn traces on its graph div.
      const data = (chart as El & { data?: Trace[] }).data ?? [];
      charts[chart.dataset.metric ?? ""] = data
        .filter((t) => t.meta && !t.meta.band && t.meta.metric === chart.dataset.metric)
        .map((t) => ({ mode: t.meta!.mode, device: t.meta!.device, x: Array.from(t.x) }));
    }
    return { model: el.querySelector(".dynbatch-latency-model")?.textContent ?? "", charts };
  });
}
