/**
 * The details panel: everything known about the selected layer, or, with nothing selected, the
 * verdict and the blocking layers as links. Layer names are buttons that select that layer.
 */
import type { AnalysisMode, BatchFixChange, LayerVerdict, TopologyReport } from "../../../kernel/schema";
import { fixSuggestion, formatShape, symbolicShape } from "./describe";
import { displayName } from "../../../kernel/display/names";
import { changeDetails, changeText } from "../../../kernel/display/fixes";
import { button, el } from "./dom";

/** Longest list of names shown before "… and N more". */
const MAX_LISTED = 40;

export interface LayerDetails {
  layer: LayerVerdict;
  mode: AnalysisMode;
  /** The same layer judged in the other mode, when the report carries it. */
  other?: LayerVerdict;
  /** Hidden constants folded into this layer. */
  folded: LayerVerdict[];
  inputs: LayerVerdict[];
  outputs: LayerVerdict[];
  /** What fixForDynamicBatch() changed in this layer, when it did. */
  change?: BatchFixChange;
}

/** Called with a layer name when a name in the panel is clicked. */
export type Navigate = (name: string) => void;

function row(dl: HTMLElement, term: string, value: string | HTMLElement, className?: string): void {
  dl.appendChild(el("dt", undefined, term));
  const dd = el("dd", className);
  if (typeof value === "string") dd.textContent = value;
  else dd.appendChild(value);
  dl.appendChild(dd);
}

function verdictBadge(verdict: LayerVerdict["verdict"]): HTMLElement {
  const badge = el("span", "dynbatch-verdict", verdict);
  badge.dataset.verdict = verdict;
  return badge;
}

function nameList(layers: LayerVerdict[], go: Navigate): HTMLElement {
  const list = el("ul", "dynbatch-name-list");
  for (const l of layers.slice(0, MAX_LISTED)) {
    const item = el("li");
    const link = button("dynbatch-layer-link", displayName(l.name), `Show ${l.type} layer`, () => go(l.name));
    link.dataset.verdict = l.verdict;
    item.appendChild(link);
    list.appendChild(item);
  }
  if (layers.length > MAX_LISTED) list.appendChild(el("li", "dynbatch-more", `… and ${layers.length - MAX_LISTED} more`));
  return list;
}

export function renderLayerDetails(panel: HTMLElement, d: LayerDetails, go: Navigate): void {
  const { layer } = d;
  panel.replaceChildren();
  panel.appendChild(el("h3", "dynbatch-details-name", layer.name));
  const dl = el("dl");
  row(dl, "Verdict", verdictBadge(layer.verdict));
  row(dl, "Op type", layer.type);
  row(dl, "Legacy type", layer.legacyType);
  row(dl, "Output shape", symbolicShape(layer, d.mode === "shape-aware" ? undefined : d.other), "dynbatch-shape");
  const proof = d.mode === "shape-aware" && layer.verdict === "supported";
  row(dl, proof ? "Proof" : "Reason", layer.reason, "dynbatch-reason");
  const fix = fixSuggestion(layer, d.mode, d.other);
  if (fix) row(dl, "Fix", fix, "dynbatch-fix");
  if (d.change) {
    row(dl, "Changed by fixForDynamicBatch()", `${d.change.kind}: ${changeText(d.change)}`, "dynbatch-change");
    row(dl, "Its proof", changeDetails(d.change).join("\n"), "dynbatch-change-proof");
  }
  if (d.other) {
    const otherMode = d.mode === "strict" ? "shape-aware" : "strict";
    const other = el("span");
    other.append(verdictBadge(d.other.verdict), ` ${d.other.reason}`);
    row(dl, `In ${otherMode} mode`, other, "dynbatch-other-mode");
  }
  panel.appendChild(dl);
  if (d.inputs.length) {
    panel.appendChild(el("h4", undefined, `Inputs (${d.inputs.length})`));
    panel.appendChild(nameList(d.inputs, go));
  }
  if (d.outputs.length) {
    panel.appendChild(el("h4", undefined, `Feeds (${d.outputs.length})`));
    panel.appendChild(nameList(d.outputs, go));
  }
  if (d.folded.length) {
    panel.appendChild(el("h4", undefined, `Folded constants (${d.folded.length})`));
    const list = el("ul", "dynbatch-name-list");
    for (const c of d.folded.slice(0, MAX_LISTED))
      list.appendChild(el("li", "dynbatch-constant-name", `${displayName(c.name)} · ${c.type} ${formatShape(c.outputShape)}`));
    if (d.folded.length > MAX_LISTED) list.appendChild(el("li", "dynbatch-more", `… and ${d.folded.length - MAX_LISTED} more`));
    panel.appendChild(list);
  }
}

/** With nothing selected: how to use the view, and the layers that block a dynamic batch. */
export function renderOverview(panel: HTMLElement, report: TopologyReport, go: Navigate): void {
  panel.replaceChildren();
  panel.appendChild(el("p", "dynbatch-hint", "Click a layer for its verdict, shape and reason. Drag to pan, wheel to zoom."));
  const blocking = report.layers.filter((l) => l.verdict === "unsupported");
  const changedNames = new Set((report.fixes ?? []).map((c) => c.layer));
  const changed = report.layers.filter((l) => changedNames.has(l.name));
  if (changed.length) {
    panel.appendChild(el("h4", undefined, `Changed by fixForDynamicBatch() (${changed.length})`));
    panel.appendChild(nameList(changed, go));
  }
  if (!blocking.length) {
    panel.appendChild(el("p", "dynbatch-ok", `No layer blocks a dynamic batch (${report.mode} analysis).`));
    return;
  }
  panel.appendChild(el("h4", undefined, `Blocking layers (${blocking.length})`));
  panel.appendChild(nameList(blocking, go));
}
