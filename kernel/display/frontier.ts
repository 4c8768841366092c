/**
 * FrontierReport → MIME bundle. The static HTML is one inline SVG chart (p99 latency on a log
 * axis, since an overloaded policy's queue reaches seconds while a batcher stays under a few ms;
 * throughput on a linear one), one polyline per policy joining its rates, a legend, and the
 * numbers as a table with the simulator's prediction beside each measurement when there is one.
 */
import { FrontierPoint, FrontierReport } from "../schema";
import { FRONTIER_MIME, MimeBundle } from "./bundle";
import { escapeHtml, htmlTable, num, textTable } from "./format";
import { niceTicks } from "./latency";
import { displayName } from "./names";

/** Colour-blind-safe (Okabe–Ito) for the batcher policies; grey for no batching. */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"];
const PLAIN_COLOR = "#666666";

/** Colour of series i (in report order); the no-batching series is grey. */
export function seriesColor(r: FrontierReport, i: number): string {
  if (r.series[i].kind === "requests") return PLAIN_COLOR;
  return PALETTE[r.series.slice(0, i).filter((s) => s.kind === "batcher").length % PALETTE.length];
}

/** Mean batch size: samples that ran over batches that ran. */
export function meanBatchOf(p: FrontierPoint): number {
  const entries = Object.entries(p.histogram);
  const batches = entries.reduce((a, [, c]) => a + c, 0);
  return batches ? entries.reduce((a, [n, c]) => a + Number(n) * c, 0) / batches : 0;
}

/** "1×12 4×3 16×40": batch size × batches, ascending. */
export function histogramText(p: FrontierPoint): string {
  return (
    Object.entries(p.histogram)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([n, c]) => `${n}×${c}`)
      .join(" ") || "none"
  );
}

/** Powers of ten times 1, 2 and 5 spanning [lo, hi] (lo > 0), for a log axis. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const t = Number((m * 10 ** e).toPrecision(6));
      if (t >= lo / 1.0001 && t <= hi * 1.0001) ticks.push(t);
    }
  return ticks.length >= 2 ? ticks : [lo, hi];
}

const W = 690;
const H = 340;
// The right margin holds the legend, wide enough for the longest default label at font size 10
// ("maxDelay 1 ms, work-conserving").
const M = { left: 64, right: 220, top: 26, bottom: 40 };

function tip(r: FrontierReport, policy: string, p: FrontierPoint): string {
  const sim = p.simulated
    ? `\nsimulated: ${num(p.simulated.throughput)} samples/s, p50 ${num(p.simulated.latencyMs.p50)} ms, p99 ${num(p.simulated.latencyMs.p99)} ms`
    : "";
  const load = p.load !== undefined ? ` (${num(p.load)}× saturation)` : "";
  return (
    `${policy}\noffered ${num(p.rate)} samples/s${load}\nthroughput ${num(p.throughput)} samples/s\n` +
    `p50 ${num(p.latencyMs.p50)} ms · p99 ${num(p.latencyMs.p99)} ms\nbatches: ${histogramText(p)}${sim}`
  );
}

/** The chart as a standalone SVG element. */
export function frontierSvg(r: FrontierReport): string {
  const all = r.series.flatMap((s) => s.points).filter((p) => p.completed > 0);
  const xs = all.map((p) => p.latencyMs.p99).filter((x) => x > 0);
  const lo = xs.length ? Math.min(...xs) : 0.1;
  const hi = xs.length ? Math.max(...xs) : 1;
  const xTicks = logTicks(10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi)));
  const [x0, x1] = [Math.log10(xTicks[0]), Math.log10(xTicks[xTicks.length - 1])];
  const yTicks = niceTicks(Math.max(1, ...all.map((p) => p.throughput)));
  const yMax = yTicks[yTicks.length - 1];
  const px = (x: number) => M.left + ((Math.log10(Math.max(x, xTicks[0])) - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - (y / yMax) * (H - M.top - M.bottom);
  const text = (x: number, y: number, s: string, extra = "") =>
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${escapeHtml(s)}</text>`;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="10" fill="#444">`,
    text(M.left, 14, `${displayName(r.model)}: throughput against p99 latency`, `font-weight="bold" font-size="12"`),
  ];
  for (const t of yTicks) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/>`);
    out.push(text(M.left - 4, py(t) + 3, t.toLocaleString("en-US"), `text-anchor="end"`));
  }
  for (const t of xTicks) {
    out.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#f3f3f3"/>`);
    out.push(text(px(t), H - M.bottom + 13, String(t), `text-anchor="middle"`));
  }
  const midY = (M.top + H - M.bottom) / 2;
  out.push(
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#888"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#888"/>`,
    text((M.left + W - M.right) / 2, H - 8, "p99 latency (ms, log scale)", `text-anchor="middle"`),
    text(14, midY, "throughput (samples/s)", `text-anchor="middle" transform="rotate(-90 14 ${midY})"`),
  );
  r.series.forEach((s, i) => {
    const color = seriesColor(r, i);
    const pts = s.points.filter((p) => p.completed > 0);
    const dash = s.kind === "requests" ? ` stroke-dasharray="5 3"` : "";
    out.push(
      `<polyline class="frontier-series" data-policy="${escapeHtml(s.policy)}" fill="none" stroke="${color}" stroke-width="1.6"${dash} ` +
        `points="${pts.map((p) => `${px(p.latencyMs.p99).toFixed(1)},${py(p.throughput).toFixed(1)}`).join(" ")}"/>`,
    );
    for (const p of pts)
      out.push(
        `<g><title>${escapeHtml(tip(r, s.policy, p))}</title>` +
          `<circle cx="${px(p.latencyMs.p99).toFixed(1)}" cy="${py(p.throughput).toFixed(1)}" r="3" fill="${color}"/></g>`,
      );
    const ly = M.top + 6 + i * 16;
    out.push(
      `<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      text(W - M.right + 36, ly + 3, s.policy),
    );
  });
  out.push("</svg>");
  return out.join("");
}

const HEADERS = [
  "policy",
  "offered/s",
  "load",
  "throughput/s",
  "p50 ms",
  "p99 ms",
  "mean batch",
  "sim. throughput/s",
  "sim. p50 ms",
  "refused",
];

/** Table rows (plain text): one per policy and rate. */
export function frontierRows(r: FrontierReport): string[][] {
  const pct = (sim: number, real: number) =>
    real > 0 ? ` (${sim >= real ? "+" : ""}${((100 * (sim - real)) / real).toFixed(0)}%)` : "";
  return r.series.flatMap((s) =>
    s.points.map((p) => [
      s.policy,
      num(p.rate),
      p.load !== undefined ? `${num(p.load)}×` : "",
      num(p.throughput),
      num(p.latencyMs.p50),
      num(p.latencyMs.p99),
      num(meanBatchOf(p)),
      p.simulated ? `${num(p.simulated.throughput)}${pct(p.simulated.throughput, p.throughput)}` : "",
      p.simulated ? `${num(p.simulated.latencyMs.p50)}${pct(p.simulated.latencyMs.p50, p.latencyMs.p50)}` : "",
      String(Object.values(p.errors).reduce((a, b) => a + b, 0)),
    ]),
  );
}

function context(r: FrontierReport): string {
  const parts = [
    r.device,
    `batch limit ${r.limit} (${r.dynamic ? "setBatch" : "padded static batch"})`,
    `Poisson arrivals, ${num(r.durationMs)} ms per test${r.series.some((x) => x.points.some((p) => p.durationMs !== undefined)) ? " (longer at light loads)" : ""}, seed ${r.seed}`,
  ];
  if (r.saturation !== undefined) parts.push(`one request per sample saturates at ${num(r.saturation)} samples/s`);
  if (r.batchLatencyMs !== undefined) parts.push(`a batch of ${r.limit} takes ${num(r.batchLatencyMs)} ms`);
  if (r.batchOverheadMs !== undefined)
    parts.push(
      `the batcher adds ${num(r.batchOverheadMs)} ms per full batch` +
        (r.loneOverheadMs !== undefined ? `, ${num(r.loneOverheadMs)} ms to a lone sample` : "") +
        (r.wakeMs !== undefined ? `, ${num(r.wakeMs)} ms more to one after a silence` : ""),
    );
  return parts.join(" · ");
}

const SUSTAINED_HEADERS = ["policy", "sustained samples/s", "× saturation", "p99 bound ms", "kept up at every rate"];

/**
 * Sustained throughput per policy: the highest offered rate, below the first it failed, answered
 * at ≥ 95% of the offered rate with p99 within maxDelay + 2× the batch latency.
 */
export function sustainedRows(r: FrontierReport): string[][] {
  return r.series
    .filter((s) => s.sustained)
    .map((s) => [
      s.policy,
      num(s.sustained!.rate),
      r.saturation ? `${num(s.sustained!.rate / r.saturation)}×` : "",
      num(s.sustained!.boundMs),
      s.sustained!.everyRate ? "yes (at least this)" : "no",
    ]);
}

const SUSTAINED_NOTE =
  "Sustained: the highest offered Poisson rate, below the first one it failed, that a policy answers at ≥ 95% of the offered rate with p99 ≤ its maxDelay + 2× the batch latency.";

export function frontierHtml(r: FrontierReport): string {
  return [
    `<div style="font-family:sans-serif;font-size:13px;line-height:1.4">`,
    `<div><b>${escapeHtml(displayName(r.model))}</b> · ${escapeHtml(context(r))}</div>`,
    frontierSvg(r),
    htmlTable(
      HEADERS,
      frontierRows(r).map((row) => row.map(escapeHtml)),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
      Infinity,
    ),
    ...(sustainedRows(r).length
      ? [
          `<p>${escapeHtml(SUSTAINED_NOTE)}</p>`,
          htmlTable(
            SUSTAINED_HEADERS,
            sustainedRows(r).map((row) => row.map(escapeHtml)),
            [1, 2, 3],
          ),
        ]
      : []),
    `</div>`,
  ].join("");
}

export function frontierText(r: FrontierReport): string {
  const sustained = sustainedRows(r);
  return [
    `${displayName(r.model)} · ${context(r)}`,
    // Every row: they are the measurement (7 policies × 9 loads by default), not a preview.
    textTable(HEADERS, frontierRows(r), Infinity),
    ...(sustained.length ? ["", SUSTAINED_NOTE, textTable(SUSTAINED_HEADERS, sustained)] : []),
  ].join("\n");
}

/** The bundle for a frontier; the JSON part is the report itself. */
export function frontierBundle(report: FrontierReport): MimeBundle {
  return {
    [FRONTIER_MIME]: JSON.parse(JSON.stringify(report)),
    "text/html": frontierHtml(report),
    "text/plain": frontierText(report),
  };
}
