/**
 * frontier(): throughput against tail latency for several batching policies. Each policy (a
 * Batcher with some maxDelay, or one plain request per sample with K requests in parallel) is
 * offered the same seeded Poisson arrivals at each rate, and loadTest measures what callers
 * see. Rates are given, or are multiples ("loads") of the rate where one request per sample
 * saturates, measured first in a closed loop. Policies take turns going first at each rate, so
 * that on a busy machine no policy always runs in the same moment. With a latency-vs-batch curve
 * (`cost`), every point also carries simulateBatching()'s prediction for the same arrivals (with
 * the batcher's per-batch overhead, measured here in a closed loop of full batches), and every
 * series its sustained throughput (frontier_check.ts).
 */
import { ConfigError } from "../errors";
import { ExecutableNetwork } from "../runtime/executable";
import { FrontierPoint, FrontierReport, FrontierSeries, LatencyReport } from "../schema";
import { poissonArrivals } from "./arrivals";
import { loadTest, LoadReport } from "./loadtest";
import { costCurve, simulateBatching } from "./simulate";
import { sustainedOf } from "./frontier_check";
import { DISPATCH_POLICIES, DispatchPolicy } from "./dispatch";
import { measureOverheads } from "./overheads";

/** A batcher with this maxDelay and dispatch (default "deadline"), or one plain request per sample (no batching). */
export type FrontierPolicy = { kind: "batcher"; maxDelayUs: number; dispatch?: DispatchPolicy } | { kind: "requests" };

/** The sweep: maxDelay 0, 0.25, 0.5, 1, 2 and 5 ms, the work-conserving dispatch at 1 ms, and no batching. */
export const DEFAULT_POLICIES: readonly FrontierPolicy[] = [
  ...[0, 250, 500, 1000, 2000, 5000].map((maxDelayUs): FrontierPolicy => ({ kind: "batcher", maxDelayUs })),
  { kind: "batcher", maxDelayUs: 1000, dispatch: "work-conserving" },
  { kind: "requests" },
];

/**
 * Multiples of the saturation rate measured by default: light load, half, at saturation, then
 * finer steps around 2× (where issue 18's target asks a batcher to keep up) and 3×.
 */
export const DEFAULT_LOADS: readonly number[] = [0.1, 0.5, 1, 1.5, 1.75, 2, 2.25, 2.5, 3];

export interface FrontierOptions {
  /** Name of the model in the report. Default "network". */
  name?: string;
  policies?: readonly FrontierPolicy[];
  /** Offered samples per second. Default: `loads` × the measured saturation. */
  rates?: readonly number[];
  /** Multiples of the saturation rate (used when `rates` is not given). Default DEFAULT_LOADS. */
  loads?: readonly number[];
  /** How long each load test offers samples (ms). */
  durationMs: number;
  /**
   * Each load test offers at least this many samples, running longer than durationMs at low
   * rates, so that a light load's p99 is not decided by a handful of samples. Default 0.
   */
  minSamples?: number;
  /** Seed of the arrivals (the same for every policy). Default 1. */
  seed?: number;
  /** Plain requests in parallel without batching (K). Default 2. Batchers run with their default (createBatcher). */
  requests?: number;
  /** The network's latency-vs-batch curve (benchmark()): adds the simulator's prediction to every point. */
  cost?: LatencyReport;
  /** Called after each load test: tests done, tests in all. */
  onProgress?: (done: number, total: number) => void;
}

const OPTION_KEYS = ["name", "policies", "rates", "loads", "durationMs", "minSamples", "seed", "requests", "cost", "onProgress"];

/** "maxDelay 0.25 ms", "maxDelay 1 ms, work-conserving" or "no batching (2 requests)". */
export function policyLabel(policy: FrontierPolicy, requests: number): string {
  if (policy.kind === "requests") return `no batching (${requests} request${requests === 1 ? "" : "s"})`;
  const dispatch = policy.dispatch && policy.dispatch !== "deadline" ? `, ${policy.dispatch}` : "";
  return `maxDelay ${policy.maxDelayUs / 1000} ms${dispatch}`;
}

/**
 * Samples per second that `requests` plain requests, one sample each, sustain when callers never
 * let them idle (closed loop, 4 callers per request): the rate past which their queue grows.
 */
export async function saturationRate(
  exec: ExecutableNetwork,
  opts: { requests?: number; durationMs: number; seed?: number },
): Promise<number> {
  const k = opts.requests ?? 2;
  const r = await loadTest(exec, {
    arrivals: "closed",
    concurrency: 4 * k,
    requests: k,
    durationMs: opts.durationMs,
    seed: opts.seed,
  });
  return r.throughput;
}

function checkOptions(exec: ExecutableNetwork, opts: FrontierOptions): void {
  if (!(exec instanceof ExecutableNetwork)) throw new ConfigError("frontier: the target must be an ExecutableNetwork");
  if (opts === null || typeof opts !== "object") throw new ConfigError("frontier: options must be an object");
  for (const key of Object.keys(opts))
    if (!OPTION_KEYS.includes(key))
      throw new ConfigError(`frontier: unknown option '${key}'; known options: ${OPTION_KEYS.join(", ")}`);
  const positiveList = (key: string, v: unknown) => {
    if (v === undefined) return;
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== "number" || !Number.isFinite(x) || x <= 0))
      throw new ConfigError(`frontier: ${key} must be a non-empty list of positive numbers, got ${JSON.stringify(v)}`);
  };
  positiveList("rates", opts.rates);
  if (opts.minSamples !== undefined && !(Number.isInteger(opts.minSamples) && opts.minSamples >= 0))
    throw new ConfigError(`frontier: minSamples must be an integer ≥ 0, got ${String(opts.minSamples)}`);
  positiveList("loads", opts.loads);
  if (opts.policies !== undefined) {
    const ok = (p: FrontierPolicy) =>
      p !== null &&
      typeof p === "object" &&
      (p.kind === "requests" ||
        (p.kind === "batcher" &&
          typeof p.maxDelayUs === "number" &&
          Number.isFinite(p.maxDelayUs) &&
          p.maxDelayUs >= 0 &&
          (p.dispatch === undefined || DISPATCH_POLICIES.includes(p.dispatch))));
    if (!Array.isArray(opts.policies) || opts.policies.length === 0 || !opts.policies.every(ok))
      throw new ConfigError(
        'frontier: policies must be a non-empty list of { kind: "batcher", maxDelayUs ≥ 0, dispatch?: "deadline" | "work-conserving" } or { kind: "requests" }',
      );
  }
  // durationMs, seed and requests are checked by loadTest and createBatcher with their own names.
}

/** Untimed runs per batch size before measuring. */
const WARMUP_RUNS = 3;

/**
 * Runs every batch size a few times untimed: a network's first runs at a batch are slow (the
 * plugin chooses how to split the batch over its threads), and would otherwise land in the first
 * policy's light-load points.
 */
async function warmUp(exec: ExecutableNetwork): Promise<void> {
  const req = exec.createInferRequest();
  for (let n = exec.dynamicBatch ? 1 : exec.batchLimit; n <= exec.batchLimit; n++) {
    if (exec.dynamicBatch) req.setBatch(n);
    for (let i = 0; i < WARMUP_RUNS; i++) await req.infer();
  }
}

function toPoint(r: LoadReport, rate: number, load: number | undefined, defaultMs: number): FrontierPoint {
  return {
    rate,
    ...(load !== undefined ? { load } : {}),
    ...(r.durationMs !== defaultMs ? { durationMs: r.durationMs } : {}),
    offered: r.offered,
    completed: r.completed,
    errors: r.errors,
    throughput: r.throughput,
    latencyMs: r.latencyMs,
    histogram: Object.fromEntries(Object.entries(r.histogram).map(([n, c]) => [String(n), c])),
    paddedSamples: r.paddedSamples,
  };
}

/** Runs every policy at every rate; see the file comment. */
export async function frontier(exec: ExecutableNetwork, opts: FrontierOptions): Promise<FrontierReport> {
  checkOptions(exec, opts);
  const seed = opts.seed ?? 1;
  const k = opts.requests ?? 2;
  const policies = opts.policies ?? DEFAULT_POLICIES;
  const date = new Date().toISOString();
  await warmUp(exec);
  const saturation = opts.rates ? undefined : await saturationRate(exec, { requests: k, durationMs: opts.durationMs, seed });
  // A load is kept as given (0.1, not the rate divided back by the saturation).
  const loads = opts.rates ? undefined : [...(opts.loads ?? DEFAULT_LOADS)].sort((a, b) => a - b);
  const rates = loads ? loads.map((x) => x * saturation!) : [...opts.rates!].sort((a, b) => a - b);
  const cost = opts.cost;
  const mode = exec.dynamicBatch ? "dynamic" : "static";
  const curve = cost ? costCurve(cost, mode, exec.batchLimit) : undefined;
  const batchLatencyMs = curve?.(exec.batchLimit);
  const overhead = curve
    ? await measureOverheads(exec, curve, { durationMs: opts.durationMs, saturation, requests: k })
    : undefined;
  // Each batcher with its default in-flight count: one batch computing (see BatcherOptions.requests).
  const batchers = policies.map((p) =>
    p.kind === "batcher" ? exec.createBatcher({ maxDelayUs: p.maxDelayUs, dispatch: p.dispatch }) : undefined,
  );
  // Each batcher's requests tune every n first, or the first (lightest) load measures those runs.
  for (const b of batchers) await b?.warmUp();
  const series: FrontierSeries[] = policies.map((p) => ({
    policy: policyLabel(p, k),
    kind: p.kind,
    ...(p.kind === "batcher" ? { maxDelayUs: p.maxDelayUs, dispatch: p.dispatch ?? "deadline" } : {}),
    requests: p.kind === "batcher" ? 1 : k,
    points: [],
  }));
  try {
    let done = 0;
    for (const [i, rate] of rates.entries()) {
      const durationMs = Math.max(opts.durationMs, (1000 * (opts.minSamples ?? 0)) / rate);
      for (let j = 0; j < policies.length; j++) {
        const at = (i + j) % policies.length;
        const target = batchers[at] ?? exec;
        const r = await loadTest(target, {
          arrivals: "poisson",
          rate,
          durationMs,
          seed,
          ...(batchers[at] ? {} : { requests: k }),
        });
        series[at].points[i] = toPoint(r, rate, loads?.[i], opts.durationMs);
        opts.onProgress?.(++done, rates.length * policies.length);
      }
      if (cost) {
        const arrivals = poissonArrivals(rate, durationMs, seed);
        policies.forEach((p, at) => {
          // A padded plain request costs the static batch per sample, which no policy of the simulator describes.
          if (p.kind === "requests" && !exec.dynamicBatch) return;
          // One request: the curve was measured one request at a time (see simulate.ts).
          const policy =
            p.kind === "batcher"
              ? {
                  maxDelayUs: p.maxDelayUs,
                  dispatch: p.dispatch,
                  maxBatch: exec.batchLimit,
                  pad: !exec.dynamicBatch,
                  overheadMs: overhead?.full,
                  loneOverheadMs: overhead?.lone,
                  wakeMs: overhead?.wake,
                }
              : { maxBatch: 1, overheadMs: overhead?.plain, wakeMs: overhead?.plainWake };
          const s = simulateBatching({ cost, arrivals, policy });
          series[at].points[i].simulated = { throughput: s.throughput, latencyMs: s.latencyMs };
        });
      }
    }
  } finally {
    await Promise.all(batchers.map((b) => b?.close()));
  }
  const report: FrontierReport = {
    model: opts.name ?? "network",
    device: exec.device,
    limit: exec.batchLimit,
    dynamic: exec.dynamicBatch,
    durationMs: opts.durationMs,
    seed,
    ...(saturation ? { saturation } : {}),
    ...(batchLatencyMs !== undefined && overhead
      ? {
          batchLatencyMs,
          batchOverheadMs: overhead.full,
          loneOverheadMs: overhead.lone,
          wakeMs: overhead.wake,
          ...(overhead.plain !== undefined ? { plainOverheadMs: overhead.plain } : {}),
          plainWakeMs: overhead.plainWake,
        }
      : {}),
    series,
    date,
  };
  for (const s of series) {
    const sustained = sustainedOf(report, s);
    if (sustained) s.sustained = sustained;
  }
  return report;
}
