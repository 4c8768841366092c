/**
 * The view's DOM apart from the canvas: header, toolbar (mode toggle, search, constants toggle,
 * zoom), legend with per-verdict counts, canvas area with its status line, and details panel.
 */
import { displayName } from "../../../kernel/display/names";
import type { AnalysisMode, TopologyReport, Verdict } from "../../../kernel/schema";
import { button, el } from "./dom";
import { countVerdicts, VERDICTS } from "./model";

export interface ControlHandlers {
  mode(mode: AnalysisMode): void;
  search(query: string): void;
  /** Enter in the search box. */
  next(): void;
  constants(show: boolean): void;
  zoom(factor: number): void;
  fit(): void;
}

export interface Controls {
  header: HTMLElement;
  modeButtons: Map<AnalysisMode, HTMLButtonElement>;
  search: HTMLInputElement;
  searchCount: HTMLElement;
  constants: HTMLInputElement;
  legend: Map<Verdict, HTMLElement>;
  /** Legend entry for the outline of layers fixForDynamicBatch() changed; hidden when none was. */
  changed: HTMLElement;
  canvasHost: HTMLElement;
  status: HTMLElement;
  details: HTMLElement;
}

const LEGEND_LABEL: Record<Verdict, string> = {
  supported: "supported",
  unsupported: "unsupported",
  constant: "constant (folded)",
};

/** Builds the controls into `root`; the mode toggle only when both modes are available. */
export function buildControls(root: HTMLElement, modes: AnalysisMode[], h: ControlHandlers): Controls {
  const header = el("div", "dynbatch-header");
  const toolbar = el("div", "dynbatch-toolbar");

  const modeButtons = new Map<AnalysisMode, HTMLButtonElement>();
  if (modes.length > 1) {
    const toggle = el("div", "dynbatch-mode-toggle");
    toggle.setAttribute("role", "group");
    toggle.setAttribute("aria-label", "Analysis mode");
    for (const m of modes) {
      const b = button("", m, `Show the ${m} analysis`, () => h.mode(m));
      b.dataset.mode = m;
      modeButtons.set(m, b);
      toggle.appendChild(b);
    }
    toolbar.appendChild(toggle);
  }

  const search = el("input", "dynbatch-search");
  search.type = "search";
  search.placeholder = "Find layer…";
  search.setAttribute("aria-label", "Find a layer by name (Enter selects the next match)");
  // Typed letters must not reach JupyterLab's command-mode shortcuts.
  search.setAttribute("data-lm-suppress-shortcuts", "");
  search.addEventListener("input", () => h.search(search.value));
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      h.next();
    }
  });
  const searchCount = el("span", "dynbatch-search-count");
  searchCount.setAttribute("aria-live", "polite");

  const constantsLabel = el("label", "dynbatch-constants-toggle");
  const constants = el("input");
  constants.type = "checkbox";
  constants.addEventListener("change", () => h.constants(constants.checked));
  constantsLabel.append(constants, " show constants");

  const zoom = el("div", "dynbatch-zoom");
  zoom.append(
    button("dynbatch-zoom-in", "+", "Zoom in", () => h.zoom(1.25)),
    button("dynbatch-zoom-out", "−", "Zoom out", () => h.zoom(0.8)),
    button("dynbatch-fit", "Fit", "Fit the whole graph", () => h.fit()),
  );
  toolbar.append(search, searchCount, constantsLabel, zoom);

  const legendBar = el("div", "dynbatch-legend");
  const legend = new Map<Verdict, HTMLElement>();
  for (const v of VERDICTS) {
    const item = el("span", "dynbatch-legend-item");
    item.dataset.verdict = v;
    item.append(
      el("span", "dynbatch-swatch"),
      el("span", "dynbatch-legend-label", LEGEND_LABEL[v]),
      el("span", "dynbatch-legend-count"),
    );
    legend.set(v, item);
    legendBar.appendChild(item);
  }
  const changed = el("span", "dynbatch-legend-item dynbatch-legend-changed");
  changed.append(
    el("span", "dynbatch-swatch"),
    el("span", "dynbatch-legend-label", "changed by fixForDynamicBatch()"),
    el("span", "dynbatch-legend-count"),
  );
  legendBar.appendChild(changed);

  const body = el("div", "dynbatch-body");
  const canvasHost = el("div", "dynbatch-canvas-host");
  const status = el("div", "dynbatch-status");
  status.setAttribute("role", "status");
  canvasHost.appendChild(status);
  const details = el("div", "dynbatch-details");
  details.setAttribute("aria-live", "polite");
  body.append(canvasHost, details);

  root.append(header, toolbar, legendBar, body);
  return { header, modeButtons, search, searchCount, constants, legend, changed, canvasHost, status, details };
}

/** Shows the report's name, mode and overall verdict, the pressed mode and the legend counts. */
export function showReport(c: Controls, report: TopologyReport): void {
  // The verdict comes from the layers the view draws, so header, legend and picture always agree.
  const counts = countVerdicts(report);
  const blockers = counts.unsupported;
  c.header.replaceChildren(
    el("span", "dynbatch-model", displayName(report.model)),
    el("span", "dynbatch-mode", `${report.mode} analysis`),
    el(
      "span",
      blockers ? "dynbatch-overall dynbatch-blocked" : "dynbatch-overall dynbatch-ok",
      blockers
        ? `✗ ${blockers} layer${blockers === 1 ? " blocks" : "s block"} a dynamic batch`
        : "✓ a dynamic batch is supported",
    ),
  );
  for (const [m, b] of c.modeButtons) b.setAttribute("aria-pressed", String(m === report.mode));
  for (const [v, item] of c.legend) {
    item.dataset.count = String(counts[v]);
    const count = item.querySelector(".dynbatch-legend-count");
    if (count) count.textContent = String(counts[v]);
  }
  const changes = report.fixes?.length ?? 0;
  c.changed.hidden = changes === 0;
  c.changed.dataset.count = String(changes);
  c.changed.querySelector(".dynbatch-legend-count")!.textContent = String(changes);
}
