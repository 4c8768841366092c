/**
 * A LatencyReport (and the sweeps in its `others`) turned into what the charts draw: one series
 * per device and mode, points sorted by batch, with a line style per device. Pure data, no DOM.
 */
import type { LatencyMode, LatencyPoint, LatencyReport } from "../../../kernel/schema";
import { flatStaticBatch, flatStaticPoints } from "../../../kernel/display/flat";

/** Modes in legend order, with the names people know them by. */
const MODES: readonly LatencyMode[] = ["dynamic", "static", "loop", "ort"];
export const MODE_LABELS: Record<LatencyMode, string> = {
  dynamic: "dynamic",
  static: "static",
  loop: "batch-1 loop",
  ort: "onnxruntime",
};

/** Line dash and marker per device, in sweep order: colors belong to modes, so devices differ by style. */
const DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"] as const;
const SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star"] as const;

export interface Sweep {
  report: LatencyReport;
  /** The device as shown: report.device, with "#k" appended when two sweeps share a device name. */
  label: string;
  dash: (typeof DASHES)[number];
  symbol: (typeof SYMBOLS)[number];
}

export interface Series {
  sweep: Sweep;
  mode: LatencyMode;
  /** This mode's points of the sweep, by increasing batch; for a flat static line, spread over n ≤ N. */
  points: (LatencyPoint & { derived?: true })[];
  /** N for a static network compiled for N and measured only there: a flat line, every request pays for N. */
  flat?: number;
}

function finite(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/**
 * Why a point cannot be drawn, or undefined when it can: every number it has goes into a hover
 * label. An optional number may be null: JSON writes a non-finite one (e.g. GFLOP/s of a 0 ms run) so.
 */
function pointProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "a point is not an object";
  const p = value as Partial<LatencyPoint>;
  if (!finite(p.batch)) return "a point's `batch` is not a number";
  if (!MODES.includes(p.mode as LatencyMode)) return `a point's \`mode\` is not one of ${MODES.join(", ")}`;
  const ms = p.latencyMs;
  if (typeof ms !== "object" || ms === null) return "a point lacks `latencyMs`";
  for (const key of ["p50", "p90", "min", "max"] as const) {
    if (!finite(ms[key])) return `a point's \`latencyMs.${key}\` is not a number`;
  }
  if (!finite(p.throughput)) return "a point's `throughput` is not a number";
  if (p.runs != null && !finite(p.runs)) return "a point's `runs` is not a number";
  if (p.gflops != null && !finite(p.gflops)) return "a point's `gflops` is not a number";
  return undefined;
}

function skippedProblem(skipped: unknown): string | undefined {
  if (!Array.isArray(skipped)) return "`skipped` is not a list";
  for (const s of skipped as unknown[]) {
    const entry = s as { mode?: unknown; reason?: unknown } | null;
    if (
      typeof entry !== "object" ||
      entry === null ||
      !MODES.includes(entry.mode as LatencyMode) ||
      typeof entry.reason !== "string"
    ) {
      return "an entry of `skipped` lacks a known `mode` or a `reason`";
    }
  }
  return undefined;
}

/** Why a value cannot be drawn as a latency report, or undefined when it can. */
export function reportProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "the data is not an object";
  const r = value as Partial<LatencyReport>;
  if (typeof r.model !== "string") return "`model` is not a string";
  if (typeof r.device !== "string") return "`device` is not a string";
  if (!finite(r.limit)) return "`limit` is not a number";
  for (const key of ["threads", "gflopPerSample", "peakGflops"] as const) {
    if (r[key] != null && !finite(r[key])) return `\`${key}\` is not a number`;
  }
  if (!Array.isArray(r.points)) return "`points` is not a list";
  for (const p of r.points as unknown[]) {
    const problem = pointProblem(p);
    if (problem) return problem;
  }
  if (r.skipped !== undefined) {
    const problem = skippedProblem(r.skipped);
    if (problem) return problem;
  }
  if (r.others !== undefined) {
    if (!Array.isArray(r.others)) return "`others` is not a list";
    for (const o of r.others) {
      const problem = reportProblem(o);
      if (problem) return `in \`others\`: ${problem}`;
    }
  }
  return undefined;
}

/** The report's own sweep first, then its `others` (one level: `others` is never nested). */
export function sweepsOf(report: LatencyReport): Sweep[] {
  const reports = [report, ...(report.others ?? [])];
  const seen = new Map<string, number>();
  return reports.map((r, i) => {
    const count = (seen.get(r.device) ?? 0) + 1;
    seen.set(r.device, count);
    return {
      report: r,
      label: count === 1 ? r.device : `${r.device} #${count}`,
      dash: DASHES[i % DASHES.length],
      symbol: SYMBOLS[i % SYMBOLS.length],
    };
  });
}

/**
 * One series per sweep and measured mode, sweeps in order and modes in MODES order. A static
 * network measured at its one batch N becomes the flat line it is (kernel/display/flat.ts).
 */
export function seriesOf(sweeps: Sweep[]): Series[] {
  const out: Series[] = [];
  for (const sweep of sweeps) {
    const flat = flatStaticBatch(sweep.report);
    for (const mode of MODES) {
      if (mode === "static" && flat !== undefined) {
        out.push({ sweep, mode, points: flatStaticPoints(sweep.report), flat });
        continue;
      }
      const points = sweep.report.points.filter((p) => p.mode === mode).sort((a, b) => a.batch - b.batch);
      if (points.length > 0) out.push({ sweep, mode, points });
    }
  }
  return out;
}

/** The distinct batch limits of the sweeps, ascending (usually one). */
export function limitsOf(sweeps: Sweep[]): number[] {
  return [...new Set(sweeps.map((s) => s.report.limit))].filter((l) => l > 0).sort((a, b) => a - b);
}

/** The distinct batches measured by any sweep, ascending. */
export function batchesOf(series: Series[]): number[] {
  return [...new Set(series.flatMap((s) => s.points.map((p) => p.batch)))].sort((a, b) => a - b);
}

/** A skipped mode of one sweep, with every reason given for it (static may be skipped per batch). */
export interface SkippedMode {
  device: string;
  mode: LatencyMode;
  reasons: string[];
}

export function skippedOf(sweeps: Sweep[]): SkippedMode[] {
  const out: SkippedMode[] = [];
  for (const sweep of sweeps) {
    for (const mode of MODES) {
      const reasons = (sweep.report.skipped ?? []).filter((s) => s.mode === mode).map((s) => s.reason);
      if (reasons.length > 0) out.push({ device: sweep.label, mode, reasons: [...new Set(reasons)] });
    }
  }
  return out;
}
