/**
 * What the simulator needs beyond the latency-vs-batch curve, measured in the frontier's own run
 * (the curve is measured one run after another, with the threads warm and nothing else on the
 * JavaScript thread). Each is the median over OVERHEAD_RUNS short runs, interleaved, so that a
 * busy moment of a shared machine spoils one run, not the estimate:
 *   full   the batcher's time per full batch outside the network: callers that keep every batch
 *          full (closed loop), their period (limit / throughput) minus the curve at the limit;
 *   lone   the same for a lone sample sent as the last one is answered (one caller, closed loop):
 *          its p50 minus the curve at 1;
 *   wake   what a lone sample costs on top of `lone` after a silence (sparse Poisson arrivals at
 *          10% of saturation): the compute threads wake from sleep, the run's handoff starts cold
 *          and the load generator wakes for the arrival;
 *   plain, plainWake  the same two for one plain request per sample: the closed-loop period per
 *          sample at saturation (1000 / saturation ms) minus the curve at 1, and its lone p50 at
 *          sparse arrivals minus the curve at 1 and `plain`.
 */
import { ExecutableNetwork } from "../runtime/executable";
import { median } from "../bench/stats";
import { loadTest } from "./loadtest";

/** Runs each estimate is the median of. */
const OVERHEAD_RUNS = 5;

/** Samples per sparse run: enough for a median, few enough that a run at 10% of saturation stays short. */
const SPARSE_SAMPLES = 30;

/** Sparse arrivals without a measured saturation (samples/s). */
const SPARSE_RATE = 200;

export interface Overheads {
  full: number;
  lone: number;
  wake: number;
  /** Only with a measured saturation. */
  plain?: number;
  plainWake: number;
}

/** An overhead: the median of its runs, never below zero. */
function overhead(xs: number[]): number {
  return Math.max(0, median(xs));
}

/** The overheads above (ms) for `exec`, whose curve is `cost`; see the file comment. */
export async function measureOverheads(
  exec: ExecutableNetwork,
  cost: (n: number) => number,
  opts: { durationMs: number; saturation?: number; requests: number },
): Promise<Overheads> {
  const batcher = exec.createBatcher();
  const one = cost(exec.dynamicBatch ? 1 : exec.batchLimit);
  const plain = opts.saturation !== undefined && exec.dynamicBatch ? Math.max(0, 1000 / opts.saturation - one) : undefined;
  const rate = opts.saturation !== undefined ? 0.1 * opts.saturation : SPARSE_RATE;
  const sparse = { arrivals: "poisson" as const, rate, durationMs: (1000 * SPARSE_SAMPLES) / rate };
  try {
    const full: number[] = [];
    const lone: number[] = [];
    const wake: number[] = [];
    const plainWake: number[] = [];
    const ms = Math.max(50, opts.durationMs / OVERHEAD_RUNS);
    for (let i = 0; i < OVERHEAD_RUNS; i++) {
      const r = await loadTest(batcher, { arrivals: "closed", concurrency: 4 * exec.batchLimit, durationMs: ms });
      full.push((exec.batchLimit * 1000) / r.throughput - cost(exec.batchLimit));
      const closed = await loadTest(batcher, { arrivals: "closed", concurrency: 1, durationMs: ms });
      lone.push(closed.latencyMs.p50 - one);
      // Seeds differ per run: each run its own gaps.
      const idle = await loadTest(batcher, { ...sparse, seed: 100 + i });
      wake.push(idle.latencyMs.p50 - closed.latencyMs.p50);
      const idlePlain = await loadTest(exec, { ...sparse, seed: 100 + i, requests: opts.requests });
      plainWake.push(idlePlain.latencyMs.p50 - one - (plain ?? 0));
    }
    return {
      full: overhead(full),
      lone: overhead(lone),
      wake: overhead(wake),
      ...(plain !== undefined ? { plain } : {}),
      plainWake: overhead(plainWake),
    };
  } finally {
    await batcher.close();
  }
}
