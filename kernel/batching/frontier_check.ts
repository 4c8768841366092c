/**
 * What a frontier report says about issue 18's targets, and how far the simulator's predictions
 * were from the measurements. Pure functions of the report: a notebook or the bench calls them
 * on numbers it just measured; tests call them on hand-made reports.
 */
import { FrontierPoint, FrontierReport, FrontierSeries } from "../schema";

export interface FrontierTarget {
  /** What is required, in words. */
  target: string;
  /** Undefined when the report lacks what the target needs (a policy, a load, the cost curve). */
  met: boolean | undefined;
  /** The numbers behind the verdict. */
  detail: string;
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

function batcherSeries(r: FrontierReport, maxDelayUs: number): FrontierSeries | undefined {
  return r.series.find((s) => s.kind === "batcher" && s.maxDelayUs === maxDelayUs);
}

/** The points of `a` and `b` at the same rate, at the rate picked among the rates both have. */
function pair(
  a: FrontierSeries,
  b: FrontierSeries,
  pick: (rates: number[]) => number | undefined,
): [FrontierPoint, FrontierPoint] | undefined {
  const rates = a.points.map((p) => p.rate).filter((rate) => b.points.some((q) => q.rate === rate));
  const rate = pick(rates);
  if (rate === undefined) return undefined;
  return [a.points.find((p) => p.rate === rate)!, b.points.find((p) => p.rate === rate)!];
}

/**
 * Issue 18's two targets for the batcher of `maxDelayUs` against one request per sample:
 * 1. past saturation (the highest offered rate, at least 2× where one request per sample
 *    saturates): the batcher's throughput ≥ 2× that of one request per sample at the same rate,
 *    with p99 ≤ maxDelay + 2× the latency of a full batch;
 * 2. at light load (the lowest rate, at most 10% of saturation): the batcher's p50 ≤ one request
 *    per sample's p50 + maxDelay.
 */
export function frontierTargets(r: FrontierReport, maxDelayUs = 1000): FrontierTarget[] {
  const batcher = batcherSeries(r, maxDelayUs);
  const plain = r.series.find((s) => s.kind === "requests");
  const delayMs = maxDelayUs / 1000;
  const sat = r.saturation;
  const t1 = `past saturation, maxDelay ${delayMs} ms: throughput ≥ 2× one request per sample, p99 ≤ maxDelay + 2× batch latency`;
  const t2 = `at 10% of saturation, maxDelay ${delayMs} ms: p50 ≤ one request per sample's p50 + maxDelay`;
  if (!batcher || !plain || !sat)
    return [t1, t2].map((target) => ({
      target,
      met: undefined,
      detail: "needs the batcher policy, the no-batching policy and a measured saturation rate",
    }));
  const high = pair(batcher, plain, (rates) =>
    rates.length && Math.max(...rates) >= 2 * sat * 0.999 ? Math.max(...rates) : undefined,
  );
  const low = pair(batcher, plain, (rates) =>
    rates.length && Math.min(...rates) <= 0.1 * sat * 1.001 ? Math.min(...rates) : undefined,
  );
  const out: FrontierTarget[] = [];
  if (!high || r.batchLatencyMs === undefined)
    out.push({ target: t1, met: undefined, detail: "needs a rate ≥ 2× saturation and the cost curve (batch latency)" });
  else {
    const [b, p] = high;
    const ratio = b.throughput / p.throughput;
    const bound = delayMs + 2 * r.batchLatencyMs;
    out.push({
      target: t1,
      met: ratio >= 2 && b.latencyMs.p99 <= bound,
      detail:
        `at ${Math.round(b.rate)} samples/s (${f1(b.rate / sat)}× saturation ${Math.round(sat)}/s): ` +
        `${Math.round(b.throughput)} vs ${Math.round(p.throughput)} samples/s = ${f2(ratio)}×; ` +
        `p99 ${f2(b.latencyMs.p99)} ms vs bound ${f2(bound)} ms (batch of ${r.limit}: ${f2(r.batchLatencyMs)} ms)`,
    });
  }
  if (!low) out.push({ target: t2, met: undefined, detail: "needs a rate ≤ 10% of saturation" });
  else {
    const [b, p] = low;
    out.push({
      target: t2,
      met: b.latencyMs.p50 <= p.latencyMs.p50 + delayMs,
      detail: `at ${Math.round(b.rate)} samples/s: p50 ${f2(b.latencyMs.p50)} ms vs ${f2(p.latencyMs.p50)} + ${delayMs} ms`,
    });
  }
  return out;
}

/** "met", "missed" or "n/a", for target lines (as the bench prints its other targets). */
export function verdict(t: FrontierTarget): string {
  return t.met === undefined ? "n/a" : t.met ? "met" : "missed";
}

export interface SimulationError {
  policy: string;
  rate: number;
  /** Measured and simulated values, and (simulated − measured) / measured. */
  p50: { measured: number; simulated: number; error: number };
  throughput: { measured: number; simulated: number; error: number };
}

/** Every point with a prediction, measured beside simulated. */
export function simulationErrors(r: FrontierReport): SimulationError[] {
  const rel = (sim: number, real: number) => (real > 0 ? (sim - real) / real : NaN);
  return r.series.flatMap((s) =>
    s.points
      .filter((p) => p.simulated)
      .map((p) => ({
        policy: s.policy,
        rate: p.rate,
        p50: {
          measured: p.latencyMs.p50,
          simulated: p.simulated!.latencyMs.p50,
          error: rel(p.simulated!.latencyMs.p50, p.latencyMs.p50),
        },
        throughput: {
          measured: p.throughput,
          simulated: p.simulated!.throughput,
          error: rel(p.simulated!.throughput, p.throughput),
        },
      })),
  );
}

/** Mean batch size of a point: samples that ran over batches that ran (0 with no batch). */
export function meanBatch(p: FrontierPoint): number {
  const entries = Object.entries(p.histogram);
  const batches = entries.reduce((a, [, c]) => a + c, 0);
  return batches ? entries.reduce((a, [n, c]) => a + Number(n) * c, 0) / batches : 0;
}
