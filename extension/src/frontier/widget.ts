/**
 * The frontier view: a FrontierReport as one plotly chart, throughput against p99 latency, one
 * line per batching policy (plotly's legend shows and hides them), hover with the policy, the
 * offered rate, p50/p99, the batch-size histogram and the simulator's prediction; the report's
 * context above it. DOM contract for the browser tests: the root has class `dynbatch-frontier`
 * and `data-state` ("ready" or "error"); the chart is `.dynbatch-frontier-chart`.
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import type { Message } from "@lumino/messaging";
import { Widget } from "@lumino/widgets";
import type { FrontierReport } from "../../../kernel/schema";
import { num } from "../../../kernel/display/format";
import { displayName } from "../../../kernel/display/names";
import { FRONTIER_MIME } from "../mime";
import { CONFIG, loadPlotly, PlotlyApi } from "../latency/plotly";
import { readTheme } from "../latency/theme";
import { frontierLayout, frontierProblem, frontierTraces } from "./traces";

function context(r: FrontierReport): string {
  const parts = [
    r.device,
    `batch limit ${r.limit} (${r.dynamic ? "setBatch" : "padded static batch"})`,
    `${num(r.durationMs)} ms per load test`,
  ];
  if (r.saturation !== undefined) parts.push(`one request per sample saturates at ${num(r.saturation)} samples/s`);
  if (r.batchLatencyMs !== undefined) parts.push(`a batch of ${r.limit} takes ${num(r.batchLatencyMs)} ms`);
  if (r.batchOverheadMs !== undefined) parts.push(`the batcher adds ${num(r.batchOverheadMs)} ms per full batch`);
  const sustained = r.series.filter((s) => s.sustained).map((s) => `${s.policy} ${num(s.sustained!.rate)}/s`);
  if (sustained.length) parts.push(`sustained: ${sustained.join(", ")}`);
  return parts.join(" · ");
}

export class FrontierWidget extends Widget implements IRenderMime.IRenderer {
  private plotly: PlotlyApi | undefined;
  private chart: HTMLDivElement | undefined;
  private report: FrontierReport | undefined;
  private readonly resizeObserver = new ResizeObserver(() => this.chart && this.plotly?.Plots.resize(this.chart));
  private readonly themeObserver = new MutationObserver(() => void this.draw());
  private whenAttached: Promise<void>;
  private attachedOrDisposed: () => void = () => undefined;

  constructor(_options: IRenderMime.IRendererOptions) {
    super();
    this.addClass("dynbatch-frontier");
    this.whenAttached = new Promise((resolve) => (this.attachedOrDisposed = resolve));
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.clear();
    const data = model.data[FRONTIER_MIME];
    const problem = frontierProblem(data);
    if (problem) return this.fail(`Not a frontier report: ${problem}.`);
    const r = data as unknown as FrontierReport;
    this.report = r;
    const head = document.createElement("div");
    head.className = "dynbatch-frontier-header";
    const name = document.createElement("b");
    name.textContent = displayName(r.model);
    head.append(name, document.createTextNode(` · ${context(r)}`));
    const chart = document.createElement("div");
    chart.className = "dynbatch-frontier-chart";
    this.chart = chart;
    this.node.append(head, chart);
    this.resizeObserver.observe(chart);
    // plotly measures its div: draw once attached.
    await this.whenAttached;
    await this.draw();
  }

  /** Draws or redraws with the current theme; a failure is shown in the view, never thrown. */
  private async draw(): Promise<void> {
    const { report, chart } = this;
    if (!report || !chart) return;
    try {
      const Plotly = (this.plotly ??= await loadPlotly());
      if (this.isDisposed || !this.isAttached || chart !== this.chart) return;
      await Plotly.react(chart, frontierTraces(report), frontierLayout(readTheme(getComputedStyle(this.node))), CONFIG);
      this.node.dataset.state = "ready";
    } catch (error) {
      this.fail(`The chart could not be drawn: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private fail(text: string): void {
    const box = document.createElement("div");
    box.className = "dynbatch-frontier-error";
    box.textContent = text;
    this.node.prepend(box);
    this.node.dataset.state = "error";
  }

  private clear(): void {
    if (this.chart && this.plotly) this.plotly.purge(this.chart);
    this.chart = undefined;
    this.report = undefined;
    this.resizeObserver.disconnect();
    this.node.replaceChildren();
    delete this.node.dataset.state;
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.themeObserver.observe(document.body, {
      attributes: true,
      attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"],
    });
    this.attachedOrDisposed();
  }

  protected onBeforeDetach(msg: Message): void {
    this.themeObserver.disconnect();
    super.onBeforeDetach(msg);
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.themeObserver.disconnect();
    this.clear();
    this.attachedOrDisposed();
    super.dispose();
  }
}
