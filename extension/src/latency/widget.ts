/**
 * The latency view: a LatencyReport (and the sweeps of other devices in its `others`) as two
 * plotly charts against batch — latency (p50 line, min–max band) and throughput — one series
 * per mode and device, the batch limit marked, a shared legend, a log₂ batch axis (a toggle makes
 * it linear) and a toggle for log value axes.
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import type { Message } from "@lumino/messaging";
import { Widget } from "@lumino/widgets";
import type { LatencyReport } from "../../../kernel/schema";
import { LATENCY_MIME } from "../mime";
import { header, message, skippedList } from "./header";
import { AxisScale, layoutFor, Metric } from "./layout";
import { legend, toggleButton } from "./legend";
import { CONFIG, loadPlotly, PlotlyApi } from "./plotly";
import { batchesOf, limitsOf, reportProblem, Series, seriesOf, skippedOf, Sweep, sweepsOf } from "./sweeps";
import { readTheme } from "./theme";
import { tracesFor } from "./traces";

const METRICS: readonly Metric[] = ["latency", "throughput"];

/** What is drawn, kept so that a toggle, a legend click or a theme change can redraw. */
interface Drawn {
  sweeps: Sweep[];
  series: Series[];
  grid: HTMLDivElement;
  charts: Record<Metric, HTMLDivElement>;
  /** Why the last draw failed (plotly did not load, or threw), shown above the charts; none after a good draw. */
  failure?: HTMLElement;
}

export class LatencyWidget extends Widget implements IRenderMime.IRenderer {
  private drawn: Drawn | undefined;
  /** Set once plotly has loaded; only then can there be charts to resize or purge. */
  private plotly: PlotlyApi | undefined;
  private batchScale: AxisScale = "log";
  private valueScale: AxisScale = "linear";
  private bands = true;
  private readonly hidden = new Set<string>();
  private resizeFrame = 0;
  private readonly resizeObserver = new ResizeObserver(() => this.scheduleResize());
  /** JupyterLab's theme manager sets these attributes on <body> when the theme changes. */
  private readonly themeObserver = new MutationObserver(() => void this.draw());
  private whenAttached: Promise<void>;
  private attachedOrDisposed: () => void = () => undefined;

  constructor(_options: IRenderMime.IRendererOptions) {
    super();
    this.addClass("dynbatch-latency");
    this.whenAttached = new Promise((resolve) => (this.attachedOrDisposed = resolve));
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.clear();
    const data = model.data[LATENCY_MIME];
    const problem = reportProblem(data);
    if (problem) {
      this.node.append(message("error", `Not a latency report: ${problem}.`));
      return;
    }
    const report = data as unknown as LatencyReport;
    const sweeps = sweepsOf(report);
    const series = seriesOf(sweeps);
    const skipped = skippedOf(sweeps);
    this.node.append(header(report.model, sweeps));
    if (series.length === 0) {
      this.node.append(message("empty", "This report has no latency points: nothing was measured."));
      if (skipped.length > 0) this.node.append(skippedList(skipped));
      return;
    }
    const toolbar = document.createElement("div");
    toolbar.className = "dynbatch-latency-toolbar";
    toolbar.append(
      legend(series, this.hidden, (name) => this.toggleSeries(name)),
      toggleButton({
        className: "dynbatch-band-toggle",
        label: "Min–max bands",
        title: "Shade each latency line's range from the fastest to the slowest request",
        isOn: () => this.bands,
        toggle: () => this.toggleBands(),
      }),
      toggleButton({
        className: "dynbatch-batch-log-toggle",
        label: "Log₂ batch axis",
        title: "Batch on a log₂ axis, each doubling the same step (press for a linear axis)",
        isOn: () => this.batchScale === "log",
        toggle: () => this.toggleBatchScale(),
      }),
      toggleButton({
        className: "dynbatch-log-toggle",
        label: "Log y axes",
        title: "Latency and throughput on log axes (press again for linear)",
        isOn: () => this.valueScale === "log",
        toggle: () => this.toggleValueScale(),
      }),
    );
    const grid = document.createElement("div");
    grid.className = "dynbatch-latency-charts";
    const charts = {} as Record<Metric, HTMLDivElement>;
    for (const metric of METRICS) {
      const chart = document.createElement("div");
      chart.className = "dynbatch-latency-chart";
      chart.dataset.metric = metric;
      charts[metric] = chart;
      grid.append(chart);
      this.resizeObserver.observe(chart);
    }
    this.node.append(toolbar, grid);
    if (skipped.length > 0) this.node.append(skippedList(skipped));
    this.drawn = { sweeps, series, grid, charts };
    // JupyterLab may render before attaching; plotly measures its div, so it draws once attached.
    await this.whenAttached;
    await this.draw();
  }

  /**
   * Draws (or redraws in place) both charts with the current theme, scale and hidden series.
   * Never throws: callers fire it from events, so a failure is shown in the view instead.
   */
  private async draw(): Promise<void> {
    const drawn = this.drawn;
    if (!drawn) return;
    try {
      const Plotly = (this.plotly ??= await loadPlotly());
      if (drawn !== this.drawn || this.isDisposed || !this.isAttached) return;
      const theme = readTheme(getComputedStyle(this.node));
      const batches = batchesOf(drawn.series);
      const limits = limitsOf(drawn.sweeps);
      await Promise.all(
        METRICS.map((metric) =>
          Plotly.react(
            drawn.charts[metric],
            tracesFor(metric, drawn.series, theme, { hidden: this.hidden, bands: this.bands }),
            layoutFor(metric, { theme, batchScale: this.batchScale, valueScale: this.valueScale, batches, limits }),
            CONFIG,
          ),
        ),
      );
      drawn.failure?.remove();
      drawn.failure = undefined;
    } catch (error) {
      if (drawn !== this.drawn) return;
      const text = `The charts could not be drawn: ${error instanceof Error ? error.message : String(error)}`;
      drawn.failure ??= message("error", "");
      drawn.failure.textContent = text;
      if (!drawn.failure.isConnected) drawn.grid.before(drawn.failure);
    }
  }

  private toggleBatchScale(): void {
    this.batchScale = this.batchScale === "log" ? "linear" : "log";
    void this.draw();
  }

  private toggleValueScale(): void {
    this.valueScale = this.valueScale === "log" ? "linear" : "log";
    void this.draw();
  }

  private toggleBands(): void {
    this.bands = !this.bands;
    void this.draw();
  }

  private toggleSeries(name: string): void {
    if (!this.hidden.delete(name)) this.hidden.add(name);
    void this.draw();
  }

  /** Plotly sizes to its div only when told; one resize per frame however many observations. */
  private scheduleResize(): void {
    if (this.resizeFrame) return;
    this.resizeFrame = requestAnimationFrame(() => {
      this.resizeFrame = 0;
      const Plotly = this.plotly;
      if (!Plotly || !this.drawn || this.isDisposed || !this.isAttached) return;
      for (const chart of Object.values(this.drawn.charts)) {
        if (chart.offsetWidth > 0) Plotly.Plots.resize(chart);
      }
    });
  }

  /** Removes charts and text, releasing plotly's listeners of the previous report. */
  private clear(): void {
    const Plotly = this.plotly;
    if (this.drawn && Plotly) for (const chart of Object.values(this.drawn.charts)) Plotly.purge(chart);
    this.drawn = undefined;
    this.resizeObserver.disconnect();
    this.node.replaceChildren();
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
    cancelAnimationFrame(this.resizeFrame);
    this.themeObserver.disconnect();
    this.clear();
    // A renderModel still waiting for attachment returns: there is nothing left to draw into.
    this.attachedOrDisposed();
    super.dispose();
  }
}
