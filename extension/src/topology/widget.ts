/**
 * The topology view: a TopologyReport drawn as a layered DAG (ELK, in a Web Worker) on a canvas,
 * nodes colored by verdict, with a legend, search, zoom and pan, details of the clicked layer,
 * constants folded into the layers they feed, and a strict / shape-aware toggle when the report
 * carries both analyses.
 *
 * DOM contract relied on by the end-to-end tests: the root has class `dynbatch-topology`,
 * `data-mode` (the mode shown) and `data-state` ("laying-out", then "ready"; "error" if the
 * layout failed), and a function property `dynbatchLocate(name)`.
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import type { AnalysisMode, LayerVerdict, TopologyReport } from "../../../kernel/schema";
import { FrameStats, GraphCanvas } from "./canvas-view";
import { buildControls, Controls, showReport } from "./controls";
import { LayerDetails, renderLayerDetails, renderOverview } from "./details";
import { el } from "./dom";
import type { EngineKind } from "./elk-engine";
import { Layout, layoutGraph } from "./layout";
import { buildViewGraph, countHiddenMatches, neighbours, searchLayers, ViewGraph } from "./model";
import { readPalette } from "./palette";
import { topologyProblem } from "./validate";

/** Mode toggle order: the published rule first. */
const MODES: AnalysisMode[] = ["strict", "shape-aware"];

/** Zoom at which a located or searched layer is shown: its name readable, its box easy to click. */
const READABLE_SCALE = 1;

export interface TopologyStats {
  state: string;
  /** Where the last layout ran, and how long it took (ms, worker round trip included). */
  engine: EngineKind | null;
  layoutMs: number | null;
  nodes: number;
  edges: number;
  frames: FrameStats;
  /** The current pan and zoom: screen = layout × k + (tx, ty). */
  view: { k: number; tx: number; ty: number };
}

/** The root element's extra API, for tests that drive the view with a real mouse. */
export interface TopologyRoot extends HTMLElement {
  /** Centers the named layer, scrolls it into view and returns its center in client coordinates. */
  dynbatchLocate(name: string): { x: number; y: number } | null;
  dynbatchStats(): TopologyStats;
}

export class TopologyWidget extends Widget implements IRenderMime.IRenderer {
  private readonly mimeType: string;
  private reports = new Map<AnalysisMode, TopologyReport>();
  /** Per report: layer by id, to find the same layer in the other mode. */
  private byId = new Map<AnalysisMode, Map<number, LayerVerdict>>();
  private mode: AnalysisMode = "strict";
  private showConstants = false;
  private controls: Controls | null = null;
  private view: GraphCanvas | null = null;
  private graphs = new Map<string, ViewGraph>();
  private layouts = new Map<string, Promise<Layout>>();
  /** The graph on the canvas (null while the first layout runs). */
  private graph: ViewGraph | null = null;
  /** The mode of the graph on the canvas: during a mode switch it is still the previous one. */
  private shownMode: AnalysisMode = "strict";
  private shownLayout: Layout | null = null;
  private selectedName: string | null = null;
  private query = "";
  private matchList: number[] = [];
  private matchCursor = -1;
  /** Bumped by every present(): a layout that finishes after a newer request is dropped. */
  private generation = 0;
  private readonly themeObserver = new MutationObserver(() => this.view?.setPalette(readPalette(this.node)));

  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this.mimeType = options.mimeType;
    this.addClass("dynbatch-topology");
    const root = this.node as TopologyRoot;
    root.dynbatchLocate = (name) => this.locate(name);
    root.dynbatchStats = () => this.stats();
    // JupyterLab's theme manager sets these on <body>; the canvas re-reads its colors then.
    this.themeObserver.observe(document.body, {
      attributes: true,
      attributeFilter: ["data-jp-theme-name", "data-jp-theme-light"],
    });
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data: unknown = model.data[this.mimeType];
    this.reset();
    const problem = topologyProblem(data);
    if (problem) {
      this.node.dataset.state = "error";
      this.node.appendChild(el("div", "dynbatch-error", `Not a dynbatch topology report: ${problem}.`));
      return;
    }
    // topologyProblem checked every field the view reads.
    const { alternate, ...primary } = data as TopologyReport;
    for (const r of alternate && alternate.mode !== primary.mode ? [primary, alternate] : [primary]) {
      this.reports.set(r.mode, r);
      this.byId.set(r.mode, new Map(r.layers.map((l) => [l.id, l])));
    }
    this.mode = primary.mode;
    const controls = buildControls(
      this.node,
      MODES.filter((m) => this.reports.has(m)),
      {
        mode: (m) => this.setMode(m),
        search: (q) => this.setQuery(q),
        next: () => this.nextMatch(),
        constants: (show) => this.setShowConstants(show),
        zoom: (f) => this.view?.zoomBy(f),
        fit: () => this.view?.fit(),
      },
    );
    this.controls = controls;
    this.view = new GraphCanvas(
      controls.canvasHost,
      () => readPalette(this.node),
      (i) => this.select(i, false),
    );
    // The first layout runs in the background: the notebook does not wait for it.
    void this.presentOrFail();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.themeObserver.disconnect();
    this.view?.dispose();
    super.dispose();
  }

  protected onAfterAttach(): void {
    this.view?.setPalette(readPalette(this.node));
  }

  private reset(): void {
    this.generation += 1;
    this.view?.dispose();
    this.view = null;
    this.controls = null;
    this.node.replaceChildren();
    this.reports.clear();
    this.byId.clear();
    this.graphs.clear();
    this.layouts.clear();
    this.showConstants = false;
    this.graph = null;
    this.shownLayout = null;
    this.selectedName = null;
    this.query = "";
    this.matchList = [];
    this.matchCursor = -1;
  }

  private report(): TopologyReport {
    return this.reports.get(this.mode) as TopologyReport;
  }

  private setMode(mode: AnalysisMode): void {
    if (mode === this.mode || !this.reports.has(mode)) return;
    this.mode = mode;
    void this.presentOrFail();
  }

  private setShowConstants(show: boolean): void {
    if (show === this.showConstants) return;
    this.showConstants = show;
    void this.presentOrFail();
  }

  /** present() run in the background: a failure becomes the view's error state, not an unhandled rejection. */
  private async presentOrFail(): Promise<void> {
    try {
      await this.present();
    } catch (err) {
      if (this.isDisposed) return;
      this.node.dataset.state = "error";
      const message = `Could not show the report: ${err instanceof Error ? err.message : String(err)}`;
      const status = this.controls?.status;
      if (status) {
        status.textContent = message;
        status.hidden = false;
      } else this.node.appendChild(el("div", "dynbatch-error", message));
    }
  }

  /** Shows the current mode's report: its legend at once, the graph once laid out (cached per mode and constants). */
  private async present(): Promise<void> {
    const controls = this.controls;
    const view = this.view;
    if (!controls || !view) return;
    const generation = ++this.generation;
    const report = this.report();
    const key = `${this.mode}|${this.showConstants}`;
    this.node.dataset.mode = report.mode;
    showReport(controls, report);
    let graph = this.graphs.get(key);
    if (!graph) {
      graph = buildViewGraph(report, this.showConstants);
      this.graphs.set(key, graph);
    }
    let pending = this.layouts.get(key);
    if (!pending) {
      pending = layoutGraph(graph);
      this.layouts.set(key, pending);
    }
    // The blocking layers can be listed before the graph is drawn.
    if (!this.graph) renderOverview(controls.details, report, this.go);
    // What to keep in view: the selected layer, else (unless the whole graph was shown) the layer at the center.
    const anchor = this.graph && !view.fitted ? this.graph.nodes[view.nodeNearestCenter()]?.layer.name : undefined;
    this.node.dataset.state = "laying-out";
    controls.status.textContent = `Laying out ${graph.nodes.length.toLocaleString("en-US")} layers…`;
    controls.status.hidden = false;
    let layout: Layout;
    try {
      layout = await pending;
    } catch (err) {
      this.layouts.delete(key);
      if (generation !== this.generation) return;
      this.node.dataset.state = "error";
      controls.status.textContent = `Layout failed: ${err instanceof Error ? err.message : String(err)}`;
      return;
    }
    if (generation !== this.generation || this.isDisposed) return;
    const previousScale = view.hasScene ? view.viewport.k : null;
    this.graph = graph;
    this.shownMode = report.mode;
    this.shownLayout = layout;
    view.setScene(graph, layout);
    view.setPalette(readPalette(this.node));
    this.updateMatches();
    const selected = this.selectedName === null ? undefined : graph.indexByName.get(this.selectedName);
    const keep = this.selectedName ?? anchor;
    const kept = keep === undefined ? undefined : graph.indexByName.get(keep);
    this.select(selected ?? -1, false);
    // Same layer, other mode or other constants setting: keep it centered at the zoom the user chose.
    if (kept !== undefined && previousScale !== null) view.centerOn(kept, previousScale);
    else view.fit();
    controls.status.hidden = true;
    this.node.dataset.state = "ready";
  }

  /** Selects node `index` of the shown graph (-1: none) and shows its details; `center` brings it into view, readable. */
  private select(index: number, center: boolean): void {
    const view = this.view;
    const graph = this.graph;
    const controls = this.controls;
    if (!view || !graph || !controls) return;
    view.selected = index;
    if (index < 0) {
      this.selectedName = null;
      renderOverview(controls.details, this.reports.get(this.shownMode) ?? this.report(), this.go);
    } else {
      this.selectedName = graph.nodes[index].layer.name;
      renderLayerDetails(controls.details, this.details(graph, index), this.go);
      if (center) view.centerOn(index, READABLE_SCALE);
    }
    view.redraw();
  }

  private details(graph: ViewGraph, index: number): LayerDetails {
    const { layer, folded, change } = graph.nodes[index];
    const otherMode: AnalysisMode = this.shownMode === "strict" ? "shape-aware" : "strict";
    const { inputs, outputs } = neighbours(graph, index);
    return {
      layer,
      mode: this.shownMode,
      other: this.byId.get(otherMode)?.get(layer.id),
      folded,
      inputs: inputs.map((i) => graph.nodes[i].layer),
      outputs: outputs.map((i) => graph.nodes[i].layer),
      ...(change ? { change } : {}),
    };
  }

  /** A layer name clicked in the details panel: select that layer and center it. */
  private readonly go = (name: string): void => this.goTo(name);

  private goTo(name: string): void {
    const index = this.graph?.indexByName.get(name);
    if (index !== undefined) this.select(index, true);
  }

  private setQuery(query: string): void {
    this.query = query;
    this.updateMatches();
  }

  /** Recomputes the search matches in the shown graph and highlights them. */
  private updateMatches(): void {
    const view = this.view;
    const graph = this.graph;
    if (!view || !graph || !this.controls) return;
    this.matchList = searchLayers(graph, this.query);
    this.matchCursor = -1;
    view.matches.fill(0);
    for (const i of this.matchList) view.matches[i] = 1;
    this.showMatchCount();
    view.redraw();
  }

  private showMatchCount(): void {
    const count = this.controls?.searchCount;
    const graph = this.graph;
    if (!count || !graph) return;
    const n = this.matchList.length;
    const hidden = countHiddenMatches(graph, this.query);
    const hiddenText = hidden ? ` (+${hidden} hidden constant${hidden === 1 ? "" : "s"})` : "";
    count.dataset.count = String(n);
    if (!this.query.trim()) count.textContent = "";
    else if (!n) count.textContent = `no match${hiddenText}`;
    else if (this.matchCursor >= 0) count.textContent = `${this.matchCursor + 1} of ${n}${hiddenText}`;
    else count.textContent = `${n} match${n === 1 ? "" : "es"}${hiddenText}`;
  }

  /** Enter in the search box: selects the next match (the first one the first time) and centers it. */
  private nextMatch(): void {
    if (!this.matchList.length) return;
    this.matchCursor = (this.matchCursor + 1) % this.matchList.length;
    this.select(this.matchList[this.matchCursor], true);
    this.showMatchCount();
  }

  private locate(name: string): { x: number; y: number } | null {
    const view = this.view;
    const index = this.graph?.indexByName.get(name);
    if (!view || index === undefined || this.node.dataset.state !== "ready") return null;
    // Scroll first: an output that was off screen may not have been measured yet.
    view.canvas.scrollIntoView({ block: "nearest", inline: "nearest" });
    view.resize();
    view.centerOn(index, READABLE_SCALE);
    view.drawNow();
    return view.clientCenterOf(index);
  }

  private stats(): TopologyStats {
    return {
      state: this.node.dataset.state ?? "",
      engine: this.shownLayout?.engine ?? null,
      layoutMs: this.shownLayout?.ms ?? null,
      nodes: this.graph?.nodes.length ?? 0,
      edges: this.shownLayout?.edges.length ?? 0,
      frames: { ...(this.view?.stats ?? { frames: 0, lastMs: 0, maxMs: 0, totalMs: 0 }) },
      view: { k: this.view?.viewport.k ?? 1, tx: this.view?.viewport.tx ?? 0, ty: this.view?.viewport.ty ?? 0 },
    };
  }
}
