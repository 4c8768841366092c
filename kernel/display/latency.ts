/**
 * LatencyReport → MIME bundle. The static HTML holds two inline SVG line charts (median latency
 * with a min–p90 whisker, and throughput, both against the batch; one line per mode) and the
 * numbers as a table with one row per batch.
 */
import { InputError } from "../errors";
import { LatencyMode, LatencyPoint, LatencyReport } from "../schema";
import { LATENCY_MIME, MimeBundle } from "./bundle";
import { escapeHtml, htmlTable, num, textTable } from "./format";
import { flatStaticBatch, flatStaticLabel, flatStaticPoints } from "./flat";

const MODES: { mode: LatencyMode; label: string; color: string }[] = [
  { mode: "dynamic", label: "dynamic (setBatch)", color: "#1f77b4" },
  { mode: "static", label: "static (compiled for n)", color: "#ff7f0e" },
  { mode: "loop", label: "n × batch-1 requests", color: "#2ca02c" },
  { mode: "ort", label: "onnxruntime-node", color: "#9467bd" },
];

interface SeriesPoint {
  x: number;
  y: number;
  lo?: number;
  hi?: number;
  tip: string;
  /** Not measured at this x (the flat static line between measurements): drawn as line only. */
  derived?: boolean;
}

interface Series {
  label: string;
  color: string;
  points: SeriesPoint[];
}

/** Axis ticks at 1, 2 or 5 × 10^k covering [0, max]. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

/** More batch ticks than this crowd the axis: powers of two instead. */
const MAX_BATCH_TICKS = 12;

/**
 * Ticks of the log₂ batch axis: the measured batches when they are few, else the powers of two
 * up to the largest one.
 */
export function batchTicks(batches: number[]): number[] {
  const distinct = [...new Set(batches)].filter((b) => b >= 1).sort((a, b) => a - b);
  if (distinct.length && distinct.length <= MAX_BATCH_TICKS) return distinct;
  const max = Math.max(1, ...distinct);
  const ticks: number[] = [];
  for (let t = 1; t <= max; t *= 2) ticks.push(t);
  return ticks;
}

/**
 * x position in [0, 1] of batch n on a log₂ axis from 1 to `max`, with half a doubling of margin
 * on each side so that the marks at n = 1 and at the largest n do not sit on the frame.
 */
export function log2Position(n: number, max: number): number {
  const span = Math.log2(Math.max(1, max)) + 1;
  return (Math.log2(Math.max(1, n)) + 0.5) / span;
}

/** Tick labels: ticks are round numbers, so no fixed decimals. */
function tickLabel(t: number): string {
  return Number.isInteger(t) ? t.toLocaleString("en-US") : String(t);
}

const W = 380;
const H = 250;
const M = { left: 56, right: 12, top: 26, bottom: 38 };

/** A chart against the batch n, on a log₂ axis: n = 1, 2, 4 get as much room as 8, 16, 32. */
function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points);
  const xTicks = batchTicks(all.map((p) => p.x));
  const yTicks = niceTicks(Math.max(...all.map((p) => p.hi ?? p.y), 0));
  const xMax = Math.max(1, ...all.map((p) => p.x));
  const yMax = yTicks[yTicks.length - 1];
  const px = (x: number) => Number((M.left + log2Position(x, xMax) * (W - M.left - M.right)).toFixed(2));
  const py = (y: number) => H - M.bottom - (y / yMax) * (H - M.top - M.bottom);
  const text = (x: number, y: number, s: string, extra = "", size = 10) =>
    `<text x="${x}" y="${y}" font-size="${size}" font-family="sans-serif" fill="#444" ${extra}>${escapeHtml(s)}</text>`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" style="margin-right:8px">`,
    text(M.left, 14, title, `font-weight="bold"`, 12),
  ];
  for (const t of yTicks) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/>`);
    out.push(text(M.left - 4, py(t) + 3, tickLabel(t), `text-anchor="end"`));
  }
  for (const t of xTicks) {
    out.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#f2f2f2"/>`);
    out.push(text(px(t), H - M.bottom + 13, tickLabel(t), `text-anchor="middle"`));
  }
  out.push(
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#888"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#888"/>`,
    text((M.left + W - M.right) / 2, H - 6, xLabel, `text-anchor="middle"`),
    text(12, (M.top + H - M.bottom) / 2, yLabel, `text-anchor="middle" transform="rotate(-90 12 ${(M.top + H - M.bottom) / 2})"`),
  );
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.map((p) => `${px(p.x)},${py(p.y)}`).join(" ")}"/>`,
      );
    for (const p of pts.filter((q) => !q.derived)) {
      const whisker =
        p.lo !== undefined && p.hi !== undefined
          ? `<line x1="${px(p.x)}" x2="${px(p.x)}" y1="${py(p.lo)}" y2="${py(p.hi)}" stroke="${s.color}" stroke-opacity="0.5"/>`
          : "";
      out.push(
        `<g><title>${escapeHtml(`${s.label}: ${p.tip}`)}</title>${whisker}` +
          `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="2.5" fill="${s.color}"/></g>`,
      );
    }
  }
  out.push("</svg>");
  return out.join("");
}

function byMode(points: LatencyPoint[]): { mode: LatencyMode; label: string; color: string; points: LatencyPoint[] }[] {
  return MODES.map((m) => ({ ...m, points: points.filter((p) => p.mode === m.mode) })).filter((m) => m.points.length);
}

function tip(p: LatencyPoint): string {
  const l = p.latencyMs;
  return `batch ${p.batch}: p50 ${num(l.p50)} ms (min ${num(l.min)}, p90 ${num(l.p90)}, max ${num(l.max)}), ${num(p.throughput)} samples/s`;
}

/** Rows of batch → per mode "p50 ms" and "samples/s", for the HTML and text tables. */
function pivot(r: LatencyReport): { headers: string[]; rows: string[][] } {
  const modes = byMode(r.points);
  const batches = [...new Set(r.points.map((p) => p.batch))].sort((a, b) => a - b);
  const headers = ["batch", ...modes.flatMap((m) => [`${m.mode} p50 ms`, `${m.mode} samples/s`])];
  const rows = batches.map((b) => [
    String(b),
    ...modes.flatMap((m) => {
      const p = m.points.find((q) => q.batch === b);
      return p ? [num(p.latencyMs.p50), num(p.throughput)] : ["", ""];
    }),
  ]);
  return { headers, rows };
}

function title(r: LatencyReport): string {
  return `${r.model} on ${r.device} · loaded with batch limit ${r.limit} · ${r.points.length} point(s)`;
}

/** The optional context of a sweep (threads, compute per sample, the machine's peak), one line. */
function context(r: LatencyReport): string {
  const parts: string[] = [];
  if (r.threads !== undefined) parts.push(`${r.threads} thread(s)`);
  if (r.gflopPerSample !== undefined) parts.push(`${num(r.gflopPerSample)} GFLOP per sample`);
  if (r.peakGflops !== undefined) parts.push(`machine peak ${num(r.peakGflops)} GFLOP/s`);
  if (r.date !== undefined) parts.push(r.date);
  return parts.join(" · ");
}

/** Why some modes have no points, one line each. */
function skippedLines(r: LatencyReport): string[] {
  return [...new Set((r.skipped ?? []).map((s) => `not measured: ${s.mode}: ${s.reason}`))];
}

/** The modes to draw, a static network measured at one batch only spread into its flat line. */
function drawnModes(r: LatencyReport): ReturnType<typeof byMode> {
  const flat = flatStaticBatch(r);
  return byMode(r.points).map((m) =>
    m.mode === "static" && flat !== undefined ? { ...m, label: flatStaticLabel(flat), points: flatStaticPoints(r) } : m,
  );
}

export function latencyHtml(r: LatencyReport): string {
  const modes = drawnModes(r);
  const series = (y: (p: LatencyPoint) => number, whisker: boolean): Series[] =>
    modes.map((m) => ({
      label: m.label,
      color: m.color,
      points: m.points.map((p: LatencyPoint & { derived?: true }) => ({
        x: p.batch,
        y: y(p),
        ...(whisker ? { lo: p.latencyMs.min, hi: p.latencyMs.p90 } : {}),
        tip: tip(p),
        ...(p.derived ? { derived: true } : {}),
      })),
    }));
  const legend = modes
    .map((m) => `<span style="margin-right:12px"><span style="color:${m.color}">━━</span> ${escapeHtml(m.label)}</span>`)
    .join("");
  const { headers, rows } = pivot(r);
  const charts = r.points.length
    ? `<div style="display:flex;flex-wrap:wrap">` +
      lineChart(
        "Latency per request (median; whisker min–p90)",
        "batch n (log₂ scale)",
        "ms",
        series((p) => p.latencyMs.p50, true),
      ) +
      lineChart(
        "Throughput",
        "batch n (log₂ scale)",
        "samples / s",
        series((p) => p.throughput, false),
      ) +
      `</div><div style="font-size:12px">${legend}</div>`
    : `<div style="color:#555">no points measured yet</div>`;
  return (
    `<div style="font-family:sans-serif;font-size:13px;line-height:1.4">` +
    `<div><b>${escapeHtml(title(r))}</b></div>` +
    (context(r) ? `<div style="color:#555">${escapeHtml(context(r))}</div>` : "") +
    charts +
    htmlTable(
      headers,
      rows.map((row) => row.map(escapeHtml)),
      headers.map((_, i) => i),
    ) +
    skippedLines(r)
      .map((l) => `<div style="color:#555">${escapeHtml(l)}</div>`)
      .join("") +
    `</div>`
  );
}

/** What the flat static line means, for the text form that has no chart. */
function flatLine(r: LatencyReport): string {
  const n = flatStaticBatch(r);
  return n === undefined ? "" : `${flatStaticLabel(n)} (a request of any n ≤ ${n} takes the latency measured at ${n})`;
}

export function latencyText(r: LatencyReport): string {
  const { headers, rows } = pivot(r);
  return [title(r), context(r), textTable(headers, rows), flatLine(r), ...skippedLines(r)].filter((l) => l).join("\n");
}

/**
 * The bundle for latency reports; the JSON part is the first report, carrying the rest (the same
 * model on other devices) as `others`. The fallbacks show each report in turn.
 */
export function latencyBundle(report: LatencyReport, ...more: LatencyReport[]): MimeBundle {
  const other = more.find((r) => r.model !== report.model);
  if (other)
    throw new InputError(
      `display([a, b]) of latency reports takes one model on several devices; got ${report.model} and ${other.model}`,
    );
  const all = [report, ...more].map(({ others: _, ...r }) => r);
  const payload = more.length ? { ...all[0], others: all.slice(1) } : all[0];
  return {
    [LATENCY_MIME]: JSON.parse(JSON.stringify(payload)),
    "text/html": all.map(latencyHtml).join(""),
    "text/plain": all.map(latencyText).join("\n\n"),
  };
}
