/**
 * A static network measured at one batch only is a flat cost. A network compiled for N without
 * dynamic batching (notebook 01's comparison, a deployment that pads every request) runs all N
 * slots whatever n a request carries, so a request of any n ≤ N pays what the one measurement at N
 * paid. The charts draw that as a horizontal line over n = 1…N rather than as a lone dot at N.
 * A static series of several points is one network per n (benchmark()'s sweep) and stays as it is;
 * so does a single point when other static batches were skipped (it is then the rest of a sweep).
 */
import type { LatencyPoint, LatencyReport } from "../schema";

/** N when the report's static series is one network compiled for N and measured only there. */
export function flatStaticBatch(report: LatencyReport): number | undefined {
  const statics = report.points.filter((p) => p.mode === "static");
  if (statics.length !== 1 || (report.skipped ?? []).some((s) => s.mode === "static")) return undefined;
  const n = statics[0].batch;
  return report.points.some((p) => p.mode !== "static" && p.batch < n) ? n : undefined;
}

/** The legend label of the flat static line. */
export function flatStaticLabel(n: number): string {
  return `static (compiled for ${n}): every request pays for ${n}`;
}

/**
 * The flat static line's points: at each batch n ≤ N that the report measured in any mode, the
 * latency measured at N and the throughput of a request that carries n samples (n / p50). Only
 * the point at N is a measurement; the others have `derived: true`.
 */
export function flatStaticPoints(report: LatencyReport): (LatencyPoint & { derived?: true })[] {
  const n = flatStaticBatch(report);
  if (n === undefined) return [];
  const measured = report.points.find((p) => p.mode === "static")!;
  const batches = [...new Set(report.points.map((p) => p.batch))].filter((b) => b >= 1 && b <= n).sort((a, b) => a - b);
  return batches.map((b) =>
    b === n
      ? measured
      : {
          batch: b,
          mode: "static",
          latencyMs: { ...measured.latencyMs },
          throughput: (b / measured.latencyMs.p50) * 1000,
          derived: true,
        },
  );
}
