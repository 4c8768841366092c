/**
 * Plotly traces of the two charts. Every trace carries `meta: { mode, device, metric }` (and
 * `band: true` for a latency band) so that tests and other code find series without parsing
 * names; names and hover text are built from report strings only through escapePlotly.
 */
import type { Data } from "plotly.js-dist-min";
import type { LatencyMode } from "../../../kernel/schema";
import { escapePlotly } from "./escape";
import { hoverText, seriesName } from "./hover";
import type { Metric } from "./layout";
import type { Series } from "./sweeps";
import type { ChartTheme } from "./theme";

interface TraceMeta {
  mode: LatencyMode;
  /**
   * The sweep's device as written in the report. Not escaped: meta is never drawn itself, and
   * plotly's "%{meta.device}" templates cannot reach it, escapePlotly escapes every "%" in names.
   */
  device: string;
  metric: Metric;
  band?: true;
}

/** The band's opacity over the chart background: the p50 line stays readable through it. */
const BAND_OPACITY = 0.12;

function meta(s: Series, metric: Metric): TraceMeta {
  return { mode: s.mode, device: s.sweep.report.device, metric };
}

/** A p50 or throughput line with markers. */
function line(s: Series, metric: Metric, theme: ChartTheme, visible: boolean): Data {
  const color = theme.modes[s.mode];
  return {
    type: "scatter",
    mode: "lines+markers",
    name: escapePlotly(seriesName(s)),
    legendgroup: seriesName(s),
    x: s.points.map((p) => p.batch),
    y: s.points.map((p) => (metric === "latency" ? p.latencyMs.p50 : p.throughput)),
    text: s.points.map((p) => hoverText(s, p)),
    hovertemplate: "%{text}<extra></extra>",
    line: { color, dash: s.sweep.dash, width: 2 },
    // A flat static line has a marker only where it was measured.
    marker: { color, symbol: s.sweep.symbol, size: s.points.map((p) => (p.derived ? 0 : 7)) },
    meta: meta(s, metric),
    visible,
  };
}

/** The min–max band: one closed polygon, max along the batches and min back. */
function band(s: Series, theme: ChartTheme, visible: boolean): Data {
  const batches = s.points.map((p) => p.batch);
  return {
    type: "scatter",
    mode: "lines",
    name: escapePlotly(`${seriesName(s)} min–max`),
    legendgroup: seriesName(s),
    showlegend: false,
    x: [...batches, ...[...batches].reverse()],
    y: [...s.points.map((p) => p.latencyMs.max), ...s.points.map((p) => p.latencyMs.min).reverse()],
    fill: "toself",
    fillcolor: theme.modes[s.mode],
    opacity: BAND_OPACITY,
    line: { width: 0 },
    hoverinfo: "skip",
    meta: { ...meta(s, "latency"), band: true },
    visible,
  };
}

/**
 * The traces of one chart; `hidden` holds the series names the user switched off in the legend,
 * `bands` whether latency bands are shown. Bands go first so that every line is drawn over
 * every band; hidden ones stay in the data (invisible) so that traces keep their places.
 */
export function tracesFor(
  metric: Metric,
  series: Series[],
  theme: ChartTheme,
  show: { hidden: ReadonlySet<string>; bands: boolean },
): Data[] {
  const shown = (s: Series) => !show.hidden.has(seriesName(s));
  if (metric === "throughput") return series.map((s) => line(s, metric, theme, shown(s)));
  return [...series.map((s) => band(s, theme, show.bands && shown(s))), ...series.map((s) => line(s, metric, theme, shown(s)))];
}
