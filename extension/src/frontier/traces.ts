/**
 * The frontier chart's plotly traces and layout: one line per policy joining its rates, x the
 * p99 latency on a log axis (an overloaded policy's queue reaches seconds, a batcher stays near
 * a millisecond), y the throughput. Every trace carries `meta: { policy, kind }` so tests find
 * series without parsing names; text from the report reaches plotly only through escapePlotly.
 * Pure objects, no DOM: node tests import this module.
 */
import type { Data } from "plotly.js-dist-min";
import type { FrontierPoint, FrontierReport, FrontierSeries } from "../../../kernel/schema";
import { histogramText, meanBatchOf, seriesColor } from "../../../kernel/display/frontier";
import { escapePlotly } from "../latency/escape";
import { formatNumber } from "../latency/hover";
import type { ChartTheme } from "../latency/theme";

/** The hover label of one point: policy, offered rate, throughput, p50/p99, the batch histogram, the prediction. */
export function frontierHover(r: FrontierReport, s: FrontierSeries, p: FrontierPoint): string {
  const ms = (v: number) => `${formatNumber(v)} ms`;
  const load = p.load !== undefined ? ` (${formatNumber(p.load)}× saturation)` : "";
  const refused = Object.entries(p.errors).map(([code, n]) => `${escapePlotly(code)} ${n}`);
  const lines = [
    `<b>${escapePlotly(s.policy)}</b>`,
    `offered ${formatNumber(p.rate)} samples/s${load}`,
    `throughput ${formatNumber(p.throughput)} samples/s`,
    `p50 ${ms(p.latencyMs.p50)} · p99 ${ms(p.latencyMs.p99)}`,
    `batches (size×count): ${escapePlotly(histogramText(p))}`,
    `mean batch ${formatNumber(meanBatchOf(p))} of ${r.limit}`,
  ];
  if (refused.length) lines.push(`refused: ${refused.join(", ")}`);
  if (p.simulated)
    lines.push(
      `simulated: ${formatNumber(p.simulated.throughput)} samples/s, p50 ${ms(p.simulated.latencyMs.p50)}, p99 ${ms(p.simulated.latencyMs.p99)}`,
    );
  return lines.join("<br>");
}

export function frontierTraces(r: FrontierReport): Data[] {
  return r.series.map((s, i) => {
    const points = s.points.filter((p) => p.completed > 0);
    const color = seriesColor(r, i);
    return {
      type: "scatter",
      mode: "lines+markers",
      name: escapePlotly(s.policy),
      x: points.map((p) => p.latencyMs.p99),
      y: points.map((p) => p.throughput),
      text: points.map((p) => frontierHover(r, s, p)),
      hovertemplate: "%{text}<extra></extra>",
      line: { color, width: 2, dash: s.kind === "requests" ? "dash" : "solid" },
      marker: { color, size: 7 },
      meta: { policy: s.policy, kind: s.kind },
    };
  });
}

export function frontierLayout(theme: ChartTheme) {
  const axis = {
    gridcolor: theme.grid,
    linecolor: theme.line,
    zerolinecolor: theme.line,
    tickcolor: theme.line,
    showline: true,
    automargin: true,
  };
  return {
    title: { text: "Throughput against p99 latency", font: { size: 13, color: theme.font }, x: 0.02, xanchor: "left" },
    paper_bgcolor: theme.background,
    plot_bgcolor: theme.background,
    font: { family: theme.fontFamily, color: theme.font, size: 12 },
    margin: { l: 64, r: 16, t: 40, b: 44 },
    showlegend: true,
    legend: { font: { color: theme.font } },
    hovermode: "closest",
    hoverlabel: {
      bgcolor: theme.hoverBackground,
      bordercolor: theme.line,
      font: { color: theme.font, family: theme.fontFamily },
    },
    xaxis: { ...axis, type: "log", title: { text: "p99 latency (ms, log scale)" } },
    yaxis: { ...axis, type: "linear", rangemode: "tozero", title: { text: "throughput (samples/s)" } },
    autosize: true,
  } as const;
}

/** Why `data` is not a frontier report a chart can be drawn from, or undefined. */
export function frontierProblem(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null) return "the payload is not an object";
  const r = data as Partial<FrontierReport>;
  if (typeof r.model !== "string") return "model is not a string";
  if (!Array.isArray(r.series)) return "series is not a list";
  for (const s of r.series)
    if (typeof s?.policy !== "string" || !Array.isArray(s.points)) return "a series has no policy or no points";
    else if (
      s.points.some(
        (p) => !Number.isFinite(p?.throughput) || !Number.isFinite(p?.latencyMs?.p99) || typeof p.histogram !== "object",
      )
    )
      return `a point of "${s.policy}" lacks throughput, p99 or histogram`;
  return undefined;
}
