/**
 * Plotly layouts of the two charts: theme colors, a batch axis that is log₂ by default (n = 1, 2,
 * 4 would otherwise share a few pixels) or linear, linear or log value axes, ticks at the measured
 * batches labelled as integers and a vertical line at each batch limit. Plain objects without
 * plotly's types, so that node tests import this module; Plotly.react checks their shape where
 * widget.ts passes them.
 */
import { batchTicks } from "../../../kernel/display/latency";
import type { ChartTheme } from "./theme";

export type Metric = "latency" | "throughput";
export type AxisScale = "linear" | "log";

const TITLES: Record<Metric, { chart: string; y: string }> = {
  latency: { chart: "Latency: p50 line, min–max band", y: "ms per request" },
  throughput: { chart: "Throughput", y: "samples/s" },
};

/** More ticks than this crowd the axis: plotly picks its own instead. */
const MAX_BATCH_TICKS = 12;

/** A dotted vertical line over the whole plot height, labelled "limit N" at its top. */
function limitLine(limit: number, theme: ChartTheme) {
  return {
    type: "line",
    xref: "x",
    yref: "paper",
    x0: limit,
    x1: limit,
    y0: 0,
    y1: 1,
    line: { color: theme.muted, width: 1.5, dash: "dot" },
    label: {
      text: `limit ${limit}`,
      textposition: "end",
      textangle: 0,
      yanchor: "top",
      xanchor: "right",
      font: { color: theme.muted, size: 11 },
    },
  } as const;
}

/**
 * Ticks of the batch axis. On a log axis always an explicit list (the measured batches, or powers
 * of two when there are many), so that plotly writes "1 2 4 8" rather than its "2 5 10" log ticks.
 */
function batchAxisTicks(scale: AxisScale, batches: number[]) {
  if (scale === "log") {
    const ticks = batchTicks(batches);
    return { tickmode: "array" as const, tickvals: ticks, ticktext: ticks.map(String) };
  }
  return batches.length <= MAX_BATCH_TICKS ? { tickmode: "array" as const, tickvals: batches } : {};
}

export function layoutFor(
  metric: Metric,
  opts: { theme: ChartTheme; batchScale: AxisScale; valueScale: AxisScale; batches: number[]; limits: number[] },
) {
  const { theme, batchScale, valueScale, batches, limits } = opts;
  const axis = {
    gridcolor: theme.grid,
    linecolor: theme.line,
    zerolinecolor: theme.line,
    tickcolor: theme.line,
    showline: true,
    automargin: true,
  };
  return {
    title: { text: TITLES[metric].chart, font: { size: 13, color: theme.font }, x: 0.02, xanchor: "left" },
    paper_bgcolor: theme.background,
    plot_bgcolor: theme.background,
    font: { family: theme.fontFamily, color: theme.font, size: 12 },
    margin: { l: 56, r: 16, t: 40, b: 44 },
    showlegend: false,
    hovermode: "closest",
    hoverlabel: {
      bgcolor: theme.hoverBackground,
      bordercolor: theme.line,
      font: { color: theme.font, family: theme.fontFamily },
    },
    xaxis: {
      ...axis,
      type: batchScale,
      ...batchAxisTicks(batchScale, batches),
      title: { text: batchScale === "log" ? "batch (log₂ scale)" : "batch" },
    },
    // On a linear axis latency and throughput start at 0, so ratios between series read true.
    yaxis: {
      ...axis,
      type: valueScale,
      title: { text: TITLES[metric].y },
      rangemode: valueScale === "linear" ? "tozero" : "normal",
    },
    shapes: limits.map((l) => limitLine(l, theme)),
    autosize: true,
  } as const;
}
