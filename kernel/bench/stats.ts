/** Latency statistics over the timed requests of one point. */
import { LatencyStats } from "../schema";

/** The p-th percentile (0..100) of ascending `sorted`, interpolating linearly between ranks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** The median of `xs` (the mean of the middle two for an even count; NaN when empty). */
export function median(xs: readonly number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

/** p50, p90, min and max of `samples` (milliseconds). */
export function summarize(samples: readonly number[]): LatencyStats {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90), min: s[0], max: s[s.length - 1] };
}

/**
 * Whether the median has settled: the median of all samples and of the first 80% differ by at
 * most `tolerance` (relative). Needs at least `minSamples`.
 */
export function medianStable(samples: readonly number[], tolerance = 0.01, minSamples = 10): boolean {
  if (samples.length < minSamples) return false;
  const all = median(samples);
  const early = median(samples.slice(0, Math.ceil(samples.length * 0.8)));
  return Math.abs(all - early) <= tolerance * all;
}
