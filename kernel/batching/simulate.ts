/**
 * simulateBatching(): replays arrival times through a batching policy with the latency-vs-batch
 * curve of a benchmark report, predicting what loadTest would measure without running the
 * network. The policy's rules are the Batcher's: a batch leaves when it is full or when its
 * oldest sample has waited maxDelayUs (or earlier under the "work-conserving" dispatch, see
 * dispatch.ts), on the first free request; a sample that waited timeoutUs
 * is dropped; a full queue refuses at once. A batch of n costs the report's median latency at n
 * (linear between measured batches); padded to a static batch it costs the static batch's, plus
 * the policy's overheadMs, the batcher's own time per batch, plus wakeMs when the batch finds its
 * request idle (frontier() measures both, overheads.ts).
 *
 * The requests are independent servers here. On one CPU, requests running at once share its
 * cores and each slows down, which the curve (measured one request at a time) does not show:
 * the default is one request, the case the curve describes and the Batcher's default (one batch
 * computing; its spare request, which sends a full batch ahead, only removes the gap between
 * two batches, which overheadMs measured on full batches already leaves out).
 */
import { ConfigError } from "../errors";
import { LatencyReport } from "../schema";
import { percentile } from "../bench/stats";
import { ArrivalRate, DISPATCH_POLICIES, DispatchPolicy, dueAt } from "./dispatch";

export interface BatchingPolicy {
  /** As the Batcher's: µs the oldest sample may wait for others. Default 0. */
  maxDelayUs?: number;
  /** As the Batcher's dispatch option. Default "deadline". */
  dispatch?: DispatchPolicy;
  /** Largest batch (1: no batching). Default: the report's limit. */
  maxBatch?: number;
  /** Batches in flight at once. Default 1 (see above). */
  requests?: number;
  /** µs a sample may wait before it is dropped. Default: none. */
  timeoutUs?: number;
  /** Samples waiting, at most. Default: no bound. */
  maxQueue?: number;
  /** Every batch runs padded to maxBatch, at the cost of the report's "static" point there. Default false. */
  pad?: boolean;
  /** Time per batch outside the network (ms): JavaScript, handing the batch to the device and back. Default 0. */
  overheadMs?: number;
  /**
   * The same for a batch of 1 (ms), when it differs: overheadMs is then a full batch's, and a
   * batch of n pays the linear mix (JavaScript beside a batch slows it more the longer it runs).
   * Default: overheadMs.
   */
  loneOverheadMs?: number;
  /**
   * Extra time of a batch that finds its request idle (ms): after a silence the compute threads
   * wake and the handoff starts cold, where a batch queued behind the previous one starts warm.
   * Default 0.
   */
  wakeMs?: number;
}

export interface SimulationOptions {
  /** The latency-vs-batch curve: "dynamic" points (or "static" when the policy pads), their p50. */
  cost: LatencyReport;
  /** Arrival times in ms, ascending (poissonArrivals, or times recorded from a video). */
  arrivals: readonly number[];
  policy: BatchingPolicy;
}

export interface SimulationReport {
  offered: number;
  completed: number;
  /** Dropped samples: REQUEST_TIMEOUT and QUEUE_FULL, as loadTest counts them. */
  errors: Record<string, number>;
  /** From the first arrival to the last answer (ms). */
  elapsedMs: number;
  latencyMs: { p50: number; p90: number; p99: number };
  /** Answered samples per second over elapsedMs. */
  throughput: number;
  histogram: Record<number, number>;
  paddedSamples: number;
}

/** Median latency (ms) of a batch of n, linear between the report's measured batches. */
export function costCurve(report: LatencyReport, mode: "dynamic" | "static", maxBatch: number): (n: number) => number {
  const points = report.points.filter((p) => p.mode === mode).sort((a, b) => a.batch - b.batch);
  const batches = points.map((p) => p.batch);
  if (points.length === 0 || batches[0] > 1 || batches[batches.length - 1] < maxBatch)
    throw new ConfigError(
      `simulateBatching: cost needs "${mode}" points from batch 1 to ${maxBatch}; ${report.model} has [${batches}]`,
    );
  return (n) => {
    const hi = batches.findIndex((b) => b >= n);
    if (batches[hi] === n || hi === 0) return points[hi].latencyMs.p50;
    const [a, b] = [points[hi - 1], points[hi]];
    return a.latencyMs.p50 + ((n - a.batch) / (b.batch - a.batch)) * (b.latencyMs.p50 - a.latencyMs.p50);
  };
}

function checkPolicy(
  policy: BatchingPolicy,
  limit: number,
): Required<Omit<BatchingPolicy, "pad" | "loneOverheadMs" | "dispatch" | "wakeMs">> & {
  wakeMs: number;
  pad: boolean;
  loneOverheadMs: number;
  dispatch: DispatchPolicy;
} {
  if (policy === null || typeof policy !== "object") throw new ConfigError("simulateBatching: policy must be an object");
  const num = (key: string, v: unknown, fallback: number, min: number, integer: boolean) => {
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v)))
      throw new ConfigError(
        `simulateBatching: policy.${key} must be ${integer ? "an integer" : "a finite number"} ≥ ${min}, got ${String(v)}`,
      );
    return v;
  };
  const maxBatch = num("maxBatch", policy.maxBatch, limit, 1, true);
  const dispatch = policy.dispatch ?? "deadline";
  if (!DISPATCH_POLICIES.includes(dispatch))
    throw new ConfigError(
      `simulateBatching: policy.dispatch must be "deadline" or "work-conserving", got ${JSON.stringify(dispatch)}`,
    );
  return {
    maxDelayUs: num("maxDelayUs", policy.maxDelayUs, 0, 0, false),
    dispatch,
    maxBatch,
    requests: num("requests", policy.requests, 1, 1, true),
    timeoutUs: num("timeoutUs", policy.timeoutUs, Infinity, 0, false),
    maxQueue: num("maxQueue", policy.maxQueue, Infinity, 1, true),
    pad: policy.pad === true,
    wakeMs: num("wakeMs", policy.wakeMs, 0, 0, false),
    overheadMs: num("overheadMs", policy.overheadMs, 0, 0, false),
    loneOverheadMs: num("loneOverheadMs", policy.loneOverheadMs, num("overheadMs", policy.overheadMs, 0, 0, false), 0, false),
  };
}

interface Waiting {
  arrival: number;
}

/** Replays `arrivals` through `policy`; deterministic, no network run. */
export function simulateBatching(opts: SimulationOptions): SimulationReport {
  if (opts === null || typeof opts !== "object" || !opts.cost || !Array.isArray(opts.cost.points))
    throw new ConfigError("simulateBatching: cost must be a LatencyReport (ie.benchmark or benchmark())");
  const policy = checkPolicy(opts.policy, opts.cost.limit);
  const arrivals = opts.arrivals;
  if (!Array.isArray(arrivals) || arrivals.some((t, i) => !Number.isFinite(t) || (i > 0 && t < arrivals[i - 1])))
    throw new ConfigError("simulateBatching: arrivals must be finite times in ms, ascending");
  const cost = costCurve(opts.cost, policy.pad ? "static" : "dynamic", policy.maxBatch);
  const delay = policy.maxDelayUs / 1000;
  const overhead = (n: number) =>
    policy.maxBatch > 1
      ? policy.loneOverheadMs + ((policy.overheadMs - policy.loneOverheadMs) * (n - 1)) / (policy.maxBatch - 1)
      : policy.loneOverheadMs;
  const timeout = policy.timeoutUs / 1000;

  const queue: Waiting[] = [];
  /** When each request is next free. */
  const freeAt = Array.from({ length: policy.requests }, () => -Infinity);
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const histogram: Record<number, number> = {};
  let padded = 0;
  let last = arrivals.length ? arrivals[0] : 0;
  const drop = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);
  const rate = new ArrivalRate();
  /** When the oldest waiting sample's batch is due short of full, as the Batcher decides it (in ms). */
  const due = (t: number) =>
    dueAt(
      policy.dispatch,
      queue[0].arrival + delay,
      freeAt.some((f) => f > t),
      rate,
    );

  // Deadlines are compared as `t >= arrival + x`, the very sums nextEvent() jumps to, so that
  // rounding can never leave a deadline reached but not honoured (and the loop stuck at it).
  /** At time t: drop expired samples, then send every batch that is due on a free request. */
  const pump = (t: number) => {
    while (queue.length && t >= queue[0].arrival + timeout) {
      queue.shift();
      drop("REQUEST_TIMEOUT");
    }
    for (;;) {
      const server = freeAt.findIndex((f) => f <= t);
      if (server < 0 || queue.length === 0) return;
      if (queue.length < policy.maxBatch && t < due(t)) return;
      const batch = queue.splice(0, policy.maxBatch);
      const rows = policy.pad ? policy.maxBatch : batch.length;
      // A request freed before t sat idle; one freed at t hands over to this batch warm.
      const done = t + cost(rows) + overhead(rows) + (freeAt[server] < t ? policy.wakeMs : 0);
      freeAt[server] = done;
      histogram[batch.length] = (histogram[batch.length] ?? 0) + 1;
      if (policy.pad) padded += policy.maxBatch - batch.length;
      for (const s of batch) latencies.push(done - s.arrival);
      last = Math.max(last, done);
    }
  };

  /** The next moment anything can happen besides an arrival: a request frees, a delay ends, a sample expires. */
  const nextEvent = (t: number) => {
    const frees = freeAt.filter((f) => f > t);
    let next = frees.length ? Math.min(...frees) : Infinity;
    if (queue.length) {
      if (freeAt.some((f) => f <= t)) next = Math.min(next, Math.max(t, due(t)));
      next = Math.min(next, queue[0].arrival + timeout);
    }
    return next;
  };

  let t = arrivals.length ? arrivals[0] : 0;
  let k = 0;
  while (k < arrivals.length || queue.length) {
    const event = nextEvent(t);
    if (k < arrivals.length && arrivals[k] <= event) {
      t = arrivals[k++];
      pump(t);
      if (queue.length >= policy.maxQueue) drop("QUEUE_FULL");
      else {
        rate.note(t);
        queue.push({ arrival: t });
      }
    } else t = event;
    pump(t);
  }

  const sorted = latencies.sort((a, b) => a - b);
  const elapsedMs = last - (arrivals.length ? arrivals[0] : 0);
  return {
    offered: arrivals.length,
    completed: latencies.length,
    errors,
    elapsedMs,
    latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) },
    throughput: elapsedMs > 0 ? (latencies.length * 1000) / elapsedMs : 0,
    histogram,
    paddedSamples: padded,
  };
}
