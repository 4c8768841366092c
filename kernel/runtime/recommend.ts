/**
 * Triton dynamic-batcher settings (max_batch_size, max_queue_delay_microseconds) chosen from a
 * measured latency-versus-batch curve (a LatencyReport from benchmark()), with the measurement
 * they came from spelled out for config.pbtxt.
 */
import { InputError } from "../errors";
import { LatencyPoint, LatencyReport } from "../schema";

export type BatchingGoal = "throughput" | "latency";

export interface BatchingChoice {
  maxBatch: number;
  delayUs: number;
  /** The measurement behind the choice, one line each (written as comments in config.pbtxt). */
  basis: string[];
}

/** Throughput: the smallest batch within this fraction of the best measured throughput (beyond it a bigger batch buys little). */
export const THROUGHPUT_FRACTION = 0.95;
/** Latency: the largest batch whose median latency stays within this factor of batch 1's. */
export const LATENCY_FACTOR = 1.5;
/** Latency: the batcher waits at most this fraction of a batch-1 run for company. */
export const LATENCY_DELAY_FRACTION = 0.1;

const ms = (x: number) => `${x.toFixed(3)} ms`;

/** The dynamic points of the sweep (the way Triton runs the model), else the static ones, by batch. */
function curve(report: LatencyReport): { mode: string; points: LatencyPoint[] } {
  for (const mode of ["dynamic", "static"] as const) {
    const points = report.points.filter((p) => p.mode === mode && p.batch >= 1).sort((a, b) => a.batch - b.batch);
    if (points.some((p) => p.batch === 1)) return { mode, points };
  }
  throw new InputError(
    `recommend needs a LatencyReport with dynamic (or static) points including batch 1; '${report.model}' has ` +
      `[${report.points.map((p) => `${p.mode}@${p.batch}`).join(", ")}]`,
  );
}

/**
 * For "throughput": the smallest batch reaching THROUGHPUT_FRACTION of the best throughput, and a
 * queue delay of one run at that batch (requests queue while the model is busy anyway). For
 * "latency": the largest batch whose median latency is at most LATENCY_FACTOR × batch 1's, and a
 * delay of LATENCY_DELAY_FRACTION of a batch-1 run.
 */
export function recommendBatching(report: LatencyReport, goal: BatchingGoal): BatchingChoice {
  if (goal !== "throughput" && goal !== "latency")
    throw new InputError(`recommend must be "throughput" or "latency", got '${String(goal)}'`);
  const { mode, points } = curve(report);
  const one = points.find((p) => p.batch === 1)!;
  const best = points.reduce((a, b) => (b.throughput > a.throughput ? b : a));
  let pick: LatencyPoint;
  let delayUs: number;
  let rule: string;
  if (goal === "throughput") {
    pick = points.find((p) => p.throughput >= THROUGHPUT_FRACTION * best.throughput)!;
    delayUs = Math.round(pick.latencyMs.p50 * 1000);
    rule = `smallest batch within ${THROUGHPUT_FRACTION * 100}% of the best throughput; delay = one run at that batch`;
  } else {
    pick = [...points].reverse().find((p) => p.latencyMs.p50 <= LATENCY_FACTOR * one.latencyMs.p50)!;
    delayUs = Math.round(one.latencyMs.p50 * 1000 * LATENCY_DELAY_FRACTION);
    rule = `largest batch with p50 ≤ ${LATENCY_FACTOR}× batch 1's; delay = ${LATENCY_DELAY_FRACTION * 100}% of a batch-1 run`;
  }
  const basis = [
    `recommend: "${goal}" (${rule})`,
    `from LatencyReport '${report.model}' on ${report.device}${report.date ? ` (${report.date})` : ""}, ${mode} mode, limit ${report.limit}`,
    ...points.map((p) => `  batch ${p.batch}: p50 ${ms(p.latencyMs.p50)}, ${p.throughput.toFixed(1)} samples/s`),
    `→ max_batch_size ${pick.batch}, max_queue_delay_microseconds ${delayUs}`,
  ];
  return { maxBatch: pick.batch, delayUs, basis };
}
