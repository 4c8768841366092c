/**
 * The profile view: a ProfileReport drawn on the network's graph (the kernel's layered layout),
 * each layer coloured by its share of the time on a sequential scale, with a batch slider that
 * recolours for each measured n, a toggle between time at n, per-sample slope and fixed cost, the
 * top layers as a table, and the clicked layer's time against n with its fit. Layers fused into
 * another are drawn as small dashed chips inside their host's box; the graph zooms (wheel, + −
 * Fit) and pans (drag).
 *
 * DOM contract relied on by the browser tests: the root has class `dynbatch-profile`,
 * `data-state` ("ready" or "error"), `data-batch` (the n shown) and `data-metric`; each node's
 * rect has `data-layer` (the graph node's name; a fused layer's chip also `data-fused-into`, the
 * host's name) and the slider is `input[type=range]`.
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import type { ProfileLayer, ProfileNode, ProfileReport } from "../../../kernel/schema";
import { BOX_H, BOX_W, layoutLayers } from "../../../kernel/display/topology";
import { heatColor } from "../../../kernel/display/profile";
import { num } from "../../../kernel/display/format";
import { displayName } from "../../../kernel/display/names";
import { button, el } from "../topology/dom";
import { boxLabel, CHIP_GAP, CHIP_W, CHIPS, chipsSpace, foldFused } from "../../../kernel/display/fused";
import { Metric, METRICS, metricOf, nodeValues, rankLayers } from "./model";
import { GraphZoom } from "./zoom";

const SVG = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export class ProfileWidget extends Widget implements IRenderMime.IRenderer {
  private readonly mimeType: string;
  private report: ProfileReport | null = null;
  private batchIndex = 0;
  private metric: Metric = "time";
  private selected: string | null = null;
  /** Each drawn box; `room` is the label's width, the box less its chips. */
  private boxes: { node: ProfileNode; rect: SVGRectElement; text: SVGTextElement; title: SVGTitleElement; room: number }[] = [];
  private metricButtons: (readonly [Metric, HTMLButtonElement])[] = [];
  private batchLabel: HTMLElement | null = null;
  private legendHost: HTMLElement | null = null;
  private side: HTMLElement | null = null;
  private zoom: GraphZoom | null = null;

  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this.mimeType = options.mimeType;
    this.addClass("dynbatch-profile");
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const r = model.data[this.mimeType] as unknown as ProfileReport;
    if (!r || !Array.isArray(r.batches) || !Array.isArray(r.layers) || !Array.isArray(r.totals) || r.batches.length === 0) {
      this.node.replaceChildren(el("div", "dynbatch-profile-error", "Not a dynbatch profile report"));
      this.node.dataset.state = "error";
      return;
    }
    this.report = r;
    this.batchIndex = r.batches.length - 1;
    this.selected = null;
    this.build();
    this.recolour();
    this.node.dataset.state = "ready";
  }

  /** The parts that do not change with the batch or metric: header, controls, the graph's boxes and edges. */
  private build(): void {
    const r = this.report!;
    const head = el("div", "dynbatch-profile-head");
    head.append(el("b", undefined, displayName(r.model)), ` · ${r.device} · median of ${r.runs} runs per batch`);
    const body = el("div", "dynbatch-profile-body");
    const left = el("div", "dynbatch-profile-left");
    const scroller = el("div", "dynbatch-profile-graph");
    // The legend spans the view above graph and table, so the graph's column is only as wide as the graph.
    this.legendHost = el("div");
    left.append(scroller);
    scroller.append(this.graph(scroller));
    this.side = el("div", "dynbatch-profile-side");
    body.append(left, this.side);
    this.node.replaceChildren(head, this.controls(), this.legendHost, body);
  }

  /**
   * Recolours the boxes in place and redraws the legend and the side panel for the batch and
   * metric shown: a slider step touches attributes only, so it stays quick on large graphs.
   */
  private recolour(): void {
    const r = this.report!;
    const k = this.batchIndex;
    this.node.dataset.batch = String(r.batches[k]);
    this.node.dataset.metric = this.metric;
    const t = r.totals[k];
    this.batchLabel!.textContent = `${r.batches[k]}: request ${num(t.wallUs)} µs, ${num(t.outsideUs)} µs outside layers`;
    for (const [id, b] of this.metricButtons) b.setAttribute("aria-pressed", String(id === this.metric));
    const values = nodeValues(r, this.metric, k);
    const hottest = Math.max(0, ...values.values());
    for (const box of this.boxes) {
      const v = values.get(box.node.id);
      box.rect.setAttribute("fill", v === undefined ? "#ffffff" : heatColor(hottest > 0 ? Math.max(0, v) / hottest : 0));
      box.text.setAttribute("fill", v !== undefined && hottest > 0 && v / hottest > 0.6 ? "#fff" : "#222");
      box.text.textContent = boxLabel(box.node.type, v === undefined ? undefined : num(v), box.room);
      box.title.textContent = `${displayName(box.node.name)}\n${box.node.type}${v === undefined ? "" : `\n${num(v)} µs`}`;
    }
    this.legendHost!.replaceChildren(this.legend(hottest, t.wallUs));
    this.side!.replaceChildren(this.table(t.wallUs));
    if (this.selected !== null) this.side!.append(this.details(this.selected));
  }

  private controls(): HTMLElement {
    const r = this.report!;
    const bar = el("div", "dynbatch-profile-controls");
    const slider = el("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = String(r.batches.length - 1);
    slider.step = "1";
    slider.value = String(this.batchIndex);
    slider.title = "Batch shown";
    slider.addEventListener("input", () => {
      this.batchIndex = Number(slider.value);
      this.recolour();
    });
    this.batchLabel = el("span", "dynbatch-profile-batch");
    bar.append(el("label", undefined, "n = "), slider, this.batchLabel);
    this.metricButtons = METRICS.map((m) => {
      const b = button("dynbatch-profile-metric", m.label, m.title, () => {
        this.metric = m.id;
        this.recolour();
      });
      bar.append(b);
      return [m.id, b] as const;
    });
    const zoom = this.zoom!;
    bar.append(
      button("dynbatch-profile-zoom", "+", "Zoom in (or the mouse wheel over the graph)", () => zoom.zoomBy(1.5)),
      button("dynbatch-profile-zoom", "−", "Zoom out", () => zoom.zoomBy(1 / 1.5)),
      button("dynbatch-profile-zoom", "Fit", "The whole graph in view", () => zoom.fit()),
    );
    return bar;
  }

  private legend(hottest: number, wall: number): SVGSVGElement {
    const steps = 5;
    const w = 80;
    // Scales down with its column rather than running under the table beside it.
    const root = svg("svg", { width: steps * w, height: 30, viewBox: `0 0 ${steps * w} 30`, class: "dynbatch-profile-legend" });
    for (let i = 0; i < steps; i++) {
      const t = i / (steps - 1);
      root.append(svg("rect", { x: i * w, y: 0, width: w, height: 12, fill: heatColor(t), stroke: "#ccc" }));
      const label = svg("text", { x: i * w + 2, y: 26, "font-size": 10 });
      const pct = this.metric === "time" && wall > 0 ? ` · ${((100 * t * hottest) / wall).toFixed(1)}%` : "";
      label.textContent = `${num(t * hottest)} µs${this.metric === "slope" ? "/n" : ""}${pct}`;
      root.append(label);
    }
    return root;
  }

  private graph(scroller: HTMLElement): SVGSVGElement {
    const r = this.report!;
    const drawn = foldFused(r);
    const { placed, width, height } = layoutLayers(drawn.nodes);
    const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}` });
    this.zoom = new GraphZoom(scroller, root, width, height);
    const at = new Map(placed.map((p) => [p.layer.id, p]));
    const edges = svg("g", { stroke: "#9e9e9e" });
    for (const p of placed)
      for (const i of new Set(p.layer.inputs)) {
        const q = at.get(i);
        if (q) edges.append(svg("line", { x1: q.x + BOX_W / 2, y1: q.y + BOX_H, x2: p.x + BOX_W / 2, y2: p.y }));
      }
    root.append(edges);
    const fusedNodes = new Set(r.layers.filter((l) => l.fusedInto !== undefined && l.node !== undefined).map((l) => l.node!));
    const guests = this.chips(drawn.fused, placed);
    const timed = new Set(r.layers.filter((l) => l.timeUs && l.node !== undefined).map((l) => l.node!));
    this.boxes = placed.map(({ layer: node, x, y }) => {
      const g = svg("g", { class: "dynbatch-profile-node" });
      const title = svg("title", {});
      const rect = svg("rect", { x, y, width: BOX_W, height: BOX_H, rx: 3, stroke: timed.has(node.id) ? "#7f2704" : "#9e9e9e" });
      // A fused layer is drawn dashed: its time is counted in its host's box.
      if (fusedNodes.has(node.id)) rect.setAttribute("stroke-dasharray", "3 2");
      rect.dataset.layer = node.name;
      // The label lets clicks through to the box, so a click anywhere on a box selects it.
      // The label centres in the part of the box the chips leave free.
      const chipsWidth = chipsSpace(drawn.fused.get(node.id)?.length ?? 0);
      const text = svg("text", {
        x: x + (BOX_W - chipsWidth) / 2,
        y: y + BOX_H / 2 + 4,
        "text-anchor": "middle",
        "font-size": 11,
        "pointer-events": "none",
      });
      g.append(title, rect, text, ...(guests.get(node.id) ?? []));
      g.addEventListener("click", () => this.select(node.name));
      root.append(g);
      return { node, rect, text, title, room: BOX_W - chipsWidth };
    });
    return root;
  }

  /**
   * Per host node, the chips of the layers fused into it: small dashed boxes along the host box's
   * right end (up to CHIPS, then "+k"), each selectable for its "fused into" details.
   */
  private chips(
    fused: Map<number, ProfileNode[]>,
    placed: { layer: ProfileNode; x: number; y: number }[],
  ): Map<number, SVGElement[]> {
    const out = new Map<number, SVGElement[]>();
    for (const { layer: host, x, y } of placed) {
      const guests = fused.get(host.id);
      if (!guests) continue;
      const shown = guests.slice(0, CHIPS);
      const els: SVGElement[] = shown.map((guest, i) => {
        const chip = svg("rect", {
          x: x + BOX_W - (CHIP_W + CHIP_GAP) * (shown.length - i) - 1,
          y: y + 3,
          width: CHIP_W,
          height: BOX_H - 6,
          rx: 1,
          fill: "#ffffff",
          stroke: "#9e9e9e",
          "stroke-dasharray": "3 2",
        });
        chip.dataset.layer = guest.name;
        chip.dataset.fusedInto = host.name;
        const title = svg("title", {});
        title.textContent = `${displayName(guest.name)}\n${guest.type}, fused into ${displayName(host.name)}`;
        chip.append(title);
        chip.addEventListener("click", (e) => {
          e.stopPropagation();
          this.select(guest.name);
        });
        return chip;
      });
      if (guests.length > shown.length) {
        const more = svg("text", {
          x: x + BOX_W - (CHIP_W + CHIP_GAP) * shown.length - 4,
          y: y + BOX_H - 5,
          "font-size": 9,
          "text-anchor": "end",
        });
        more.textContent = `+${guests.length - shown.length}`;
        els.push(more);
      }
      out.set(host.id, els);
    }
    return out;
  }

  private table(wall: number): HTMLTableElement {
    const r = this.report!;
    const k = this.batchIndex;
    const table = el("table", "dynbatch-profile-table");
    const head = el("tr");
    for (const h of [
      "#",
      "layer",
      "type",
      "implementation",
      "precision",
      METRICS.find((m) => m.id === this.metric)!.column,
      "% of request",
      "µs/sample",
      "fixed µs",
      "R²",
    ])
      head.append(el("th", undefined, h));
    table.append(head);
    rankLayers(r, this.metric, k)
      .slice(0, 15)
      .forEach((l, i) => {
        const row = el("tr");
        const time = l.timeUs ? l.timeUs[k].median : 0;
        for (const c of [
          String(i + 1),
          displayName(l.name),
          l.type,
          l.execType,
          l.precision ?? "–",
          num(metricOf(l, this.metric, k)),
          wall > 0 ? `${((100 * time) / wall).toFixed(1)}%` : "–",
          l.fit ? num(l.fit.perSampleUs) : "–",
          l.fit ? num(l.fit.fixedUs) : "–",
          l.fit ? l.fit.r2.toFixed(3) : "–",
        ])
          row.append(el("td", undefined, c));
        row.addEventListener("click", () => this.select(l.name));
        table.append(row);
      });
    return table;
  }

  private select(name: string): void {
    this.selected = name;
    this.recolour();
  }

  /** The layer's median time against n with its fitted line. */
  private details(name: string): HTMLElement {
    const r = this.report!;
    const box = el("div", "dynbatch-profile-details");
    const layer: ProfileLayer | undefined = r.layers.find((l) => l.name === name);
    box.append(el("b", undefined, displayName(name)));
    if (!layer) {
      box.append(el("div", undefined, "no time of its own (not a layer the device ran)"));
      return box;
    }
    if (layer.fusedInto !== undefined) {
      box.append(el("div", undefined, `fused into ${displayName(layer.fusedInto)}: its time is in that layer's`));
      return box;
    }
    box.append(el("div", undefined, [layer.type, layer.execType, layer.precision].filter((x) => x !== undefined).join(" · ")));
    if (layer.fit)
      box.append(
        el(
          "div",
          "dynbatch-profile-fit",
          `time ≈ ${num(layer.fit.fixedUs)} µs + ${num(layer.fit.perSampleUs)} µs · n (R² ${layer.fit.r2.toFixed(3)})`,
        ),
      );
    const W = 240;
    const H = 120;
    const pad = 24;
    const times = layer.timeUs!;
    const nMax = Math.max(...r.batches);
    const yMax = Math.max(...times.map((t) => t.max), 1e-9);
    const px = (n: number) => pad + (n / nMax) * (W - 2 * pad);
    const py = (y: number) => H - pad - (y / yMax) * (H - 2 * pad);
    const chart = svg("svg", { width: W, height: H, class: "dynbatch-profile-chart" });
    chart.append(svg("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, stroke: "#999" }));
    if (layer.fit) {
      const f = layer.fit;
      chart.append(
        svg("line", { x1: px(0), y1: py(f.fixedUs), x2: px(nMax), y2: py(f.fixedUs + f.perSampleUs * nMax), stroke: "#d94801" }),
      );
    }
    r.batches.forEach((n, i) => {
      chart.append(svg("line", { x1: px(n), y1: py(times[i].min), x2: px(n), y2: py(times[i].max), stroke: "#888" }));
      chart.append(svg("circle", { cx: px(n), cy: py(times[i].median), r: 3, fill: "#7f2704" }));
    });
    const label = svg("text", { x: pad, y: 12, "font-size": 10 });
    label.textContent = `median µs (min–max) against n, up to ${num(yMax)} µs`;
    chart.append(label);
    box.append(chart);
    return box;
  }
}
