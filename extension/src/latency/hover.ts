/**
 * The text of a series and of its points: the series' name and the hover label of a point,
 * with numbers formatted for people. Pure strings, no DOM and no plotly, so that node tests
 * import it; the hover label is plotly markup, every value in it escaped.
 */
import type { LatencyPoint } from "../../../kernel/schema";
import { flatStaticLabel } from "../../../kernel/display/flat";
import { escapePlotly } from "./escape";
import { MODE_LABELS, Series } from "./sweeps";

/**
 * Milliseconds and rates with about four significant digits, without exponents. Anything but a
 * finite number (reportProblem lets none through) comes back as its text, escaped for plotly.
 */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return escapePlotly(String(v));
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return String(Number(v.toPrecision(4)));
}

/** The series' name in legends and hover labels, as plain text. */
export function seriesName(s: Series): string {
  return `${s.flat !== undefined ? flatStaticLabel(s.flat) : MODE_LABELS[s.mode]} · ${s.sweep.label}`;
}

/** The hover label of one point, as plotly markup: every statistic the report has for it. */
export function hoverText(s: Series, p: LatencyPoint & { derived?: true }): string {
  const ms = (v: number) => `${formatNumber(v)} ms`;
  const lines = [
    `<b>${escapePlotly(seriesName(s))}</b>`,
    p.derived ? `batch ${p.batch}: pays for ${s.flat} (measured at ${s.flat})` : `batch ${p.batch}`,
    `p50 ${ms(p.latencyMs.p50)} · p90 ${ms(p.latencyMs.p90)}`,
    `min ${ms(p.latencyMs.min)} · max ${ms(p.latencyMs.max)} (band)`,
    `throughput ${formatNumber(p.throughput)} samples/s`,
  ];
  if (p.runs != null) lines.push(`runs ${formatNumber(p.runs)}`);
  if (p.gflops != null) lines.push(`${formatNumber(p.gflops)} GFLOP/s`);
  return lines.join("<br>");
}
