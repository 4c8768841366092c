/**
 * queueingBound(): the best any batcher can do against issue 18's first target on a latency-vs-
 * batch curve, from the simulator alone. Batches of the limit serve at most limit / latency
 * samples per second (the capacity); at an offered rate λ a server that must send only full
 * batches is λ / capacity busy, and a busy server queues: its p99 grows long before it is 100%
 * busy. So for each candidate policy the simulator (with no batcher overhead, or the one given)
 * finds the highest Poisson rate whose p99 stays within the bound, over a long arrival stream
 * whose p99 is decided by hundreds of samples. Whether 2× saturation lies below that rate says
 * whether the target is reachable on this machine at all.
 */
import { ConfigError } from "../errors";
import { LatencyReport } from "../schema";
import { poissonArrivals } from "./arrivals";
import { DispatchPolicy } from "./dispatch";
import { costCurve, simulateBatching } from "./simulate";

export interface QueueingBoundOptions {
  /** The batch limit. */
  limit: number;
  /** Where one request per sample saturates (samples/s): rates are also given as multiples of it. */
  saturation: number;
  /** The p99 bound (ms). Default: 1 ms + 2× the curve's latency at the limit (target 1 at maxDelay 1 ms). */
  boundMs?: number;
  /** Policies tried (maxDelay µs, dispatch). Default: maxDelay 0, 0.25, 0.5 and 1 ms, each dispatch. */
  policies?: readonly { maxDelayUs: number; dispatch: DispatchPolicy }[];
  /** The batcher's own time per full batch and per lone sample (ms). Default 0: the best any batcher can do. */
  overheadMs?: number;
  loneOverheadMs?: number;
  /** Samples in each simulated stream. Default 20,000. */
  samples?: number;
}

export interface QueueingBound {
  /** limit / latency at the limit (samples/s). */
  capacity: number;
  /** Utilization of a batch-of-the-limit server at 2× saturation: 2 · saturation / capacity. */
  utilizationAt2x: number;
  boundMs: number;
  /** The highest rate found whose simulated p99 ≤ boundMs, for the best policy (samples/s). */
  rate: number;
  /** That rate / capacity. */
  utilization: number;
  /** The policy that reached it. */
  policy: { maxDelayUs: number; dispatch: DispatchPolicy };
  /** Whether rate ≥ 2 × saturation: target 1 reachable at all. */
  reachable: boolean;
}

const DEFAULT_POLICIES = [0, 250, 500, 1000].flatMap((maxDelayUs) =>
  (["deadline", "work-conserving"] as const).map((dispatch) => ({ maxDelayUs, dispatch })),
);

/** Bisection steps on the rate: 2^-12 of the capacity. */
const STEPS = 12;

/** See the file comment. */
export function queueingBound(cost: LatencyReport, opts: QueueingBoundOptions): QueueingBound {
  if (!(opts.saturation > 0) || !Number.isInteger(opts.limit) || opts.limit < 1)
    throw new ConfigError("queueingBound: needs a positive saturation and an integer limit ≥ 1");
  const curve = costCurve(cost, "dynamic", opts.limit);
  const batchMs = curve(opts.limit);
  const capacity = (opts.limit * 1000) / (batchMs + (opts.overheadMs ?? 0));
  const boundMs = opts.boundMs ?? 1 + 2 * batchMs;
  const samples = opts.samples ?? 20_000;
  const within = (rate: number, policy: { maxDelayUs: number; dispatch: DispatchPolicy }) => {
    const arrivals = poissonArrivals(rate, (1000 * samples) / rate, 1);
    const s = simulateBatching({
      cost,
      arrivals,
      policy: { ...policy, maxBatch: opts.limit, overheadMs: opts.overheadMs, loneOverheadMs: opts.loneOverheadMs },
    });
    return s.latencyMs.p99 <= boundMs;
  };
  let best = { rate: 0, policy: (opts.policies ?? DEFAULT_POLICIES)[0] };
  for (const policy of opts.policies ?? DEFAULT_POLICIES) {
    // p99 rises with the rate: the highest rate within the bound lies between lo (within) and hi (not).
    let [lo, hi] = [0, capacity];
    for (let i = 0; i < STEPS; i++) {
      const mid = (lo + hi) / 2;
      if (within(mid, policy)) lo = mid;
      else hi = mid;
    }
    if (lo > best.rate) best = { rate: lo, policy };
  }
  return {
    capacity,
    utilizationAt2x: (2 * opts.saturation) / capacity,
    boundMs,
    rate: best.rate,
    utilization: best.rate / capacity,
    policy: best.policy,
    reachable: best.rate >= 2 * opts.saturation,
  };
}
