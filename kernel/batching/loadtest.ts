/**
 * loadTest(): offers a stream of single-sample calls to a target and measures what callers see:
 * latency percentiles, throughput and the batch sizes that ran. Targets:
 *   a Batcher: every sample goes through batcher.infer() (coalesced; padded on a static network);
 *   an ExecutableNetwork: plain requests, one per sample, `requests` of them in parallel, each at
 *     batch 1 (setBatch(1) on a dynamic network; on a static batch B each sample is padded to B).
 * Arrivals are open ("poisson": seeded exponential gaps at `rate` per second, each sample timed
 * from its scheduled arrival, so a target that falls behind pays for its queue) or closed
 * ("closed": `concurrency` callers, each sending its next sample when the last one is answered).
 */
import { ConfigError, DynbatchError } from "../errors";
import { ExecutableNetwork } from "../runtime/executable";
import { InferRequest } from "../runtime/request";
import { percentile } from "../bench/stats";
import { uniform } from "../random";
import { Batcher } from "./batcher";
import { poissonArrivals } from "./arrivals";
import { sleepUntil } from "./clock";

export interface LoadTestOptions {
  arrivals: "poisson" | "closed";
  /** Poisson arrivals: samples offered per second. */
  rate?: number;
  /** Closed arrivals: callers, each with one sample outstanding. */
  concurrency?: number;
  /** How long samples are offered (ms); the report waits for the last answer after it. */
  durationMs: number;
  /** Seed of the arrival times and of the sample values. Default 1. */
  seed?: number;
  /** Plain requests in parallel, for an ExecutableNetwork target. Default 1. */
  requests?: number;
}

export interface LoadReport {
  target: "batcher" | "requests";
  arrivals: "poisson" | "closed";
  rate?: number;
  concurrency?: number;
  requests?: number;
  durationMs: number;
  /** From the first arrival to the last answer (ms). */
  elapsedMs: number;
  /** Samples sent. */
  offered: number;
  completed: number;
  /** Samples refused or failed, by error code (QUEUE_FULL, REQUEST_TIMEOUT, …). */
  errors: Record<string, number>;
  /** Per answered sample, from its arrival to its answer. */
  latencyMs: { p50: number; p90: number; p99: number };
  /** Answered samples per second over elapsedMs. */
  throughput: number;
  /** Batch size n → batches of that size run for this test. */
  histogram: Record<number, number>;
  /** Rows computed only to fill a static batch. */
  paddedSamples: number;
}

const OPTION_KEYS = ["arrivals", "rate", "concurrency", "durationMs", "seed", "requests"];

/** Distinct samples cycled through: enough that no two neighbours in a batch are alike. */
const SAMPLES = 8;

type Sample = Record<string, Float32Array>;

/** What a load test drives: one sample in, a promise out, and the batches it ran. */
interface Driver {
  infer(sample: Sample): Promise<unknown>;
  batches(): { histogram: Record<number, number>; paddedSamples: number };
}

function batcherDriver(batcher: Batcher): Driver {
  const before = batcher.stats();
  return {
    infer: (sample) => batcher.infer(sample),
    batches() {
      const now = batcher.stats();
      const histogram: Record<number, number> = {};
      for (const [n, count] of Object.entries(now.histogram)) {
        const delta = count - (before.histogram[Number(n)] ?? 0);
        if (delta > 0) histogram[Number(n)] = delta;
      }
      return { histogram, paddedSamples: now.paddedSamples - before.paddedSamples };
    },
  };
}

/** K plain requests; a sample waits, first come first served, for a free one. */
function requestsDriver(exec: ExecutableNetwork, k: number): Driver {
  const free = Array.from({ length: k }, () => exec.createInferRequest());
  const waiting: ((req: InferRequest) => void)[] = [];
  const rows = exec.dynamicBatch ? 1 : exec.batchLimit;
  let runs = 0;
  const acquire = () => new Promise<InferRequest>((resolve) => (free.length ? resolve(free.pop()!) : waiting.push(resolve)));
  return {
    async infer(sample) {
      const req = await acquire();
      try {
        if (exec.dynamicBatch) req.setBatch(1);
        for (const [name, values] of Object.entries(sample)) {
          const data = req.getBlob(name).data;
          data.set(values);
          // A static batch B runs the sample in row 0 and zeros in the rest, as the batcher pads.
          data.fill(0, values.length);
        }
        await req.infer();
        runs++;
      } finally {
        const next = waiting.shift();
        if (next) next(req);
        else free.push(req);
      }
    },
    batches() {
      const histogram: Record<number, number> = runs ? { 1: runs } : {};
      return { histogram, paddedSamples: runs * (rows - 1) };
    },
  };
}

function positive(key: string, v: unknown, integer: boolean): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new ConfigError(`loadTest: ${key} must be a positive ${integer ? "integer" : "number"}, got ${String(v)}`);
  return v;
}

function checkOptions(target: Batcher | ExecutableNetwork, opts: LoadTestOptions): void {
  if (!(target instanceof Batcher) && !(target instanceof ExecutableNetwork))
    throw new ConfigError("loadTest: the target must be a Batcher or an ExecutableNetwork");
  if (opts === null || typeof opts !== "object") throw new ConfigError("loadTest: options must be an object");
  for (const key of Object.keys(opts))
    if (!OPTION_KEYS.includes(key))
      throw new ConfigError(`loadTest: unknown option '${key}'; known options: ${OPTION_KEYS.join(", ")}`);
  if (opts.arrivals === "poisson") positive("rate", opts.rate, false);
  else if (opts.arrivals === "closed") positive("concurrency", opts.concurrency, true);
  else throw new ConfigError(`loadTest: arrivals must be "poisson" or "closed", got ${JSON.stringify(opts.arrivals)}`);
  positive("durationMs", opts.durationMs, false);
  if (opts.seed !== undefined && !Number.isInteger(opts.seed))
    throw new ConfigError(`loadTest: seed must be an integer, got ${opts.seed}`);
  if (opts.requests !== undefined) {
    positive("requests", opts.requests, true);
    if (target instanceof Batcher)
      throw new ConfigError(
        "loadTest: requests applies to an ExecutableNetwork target; a Batcher has its own (createBatcher's requests)",
      );
  }
}

/** Uniform [0, 1) values for every input of `exec`, one sample each (the input's shape without axis 0). */
function makeSamples(exec: ExecutableNetwork, seed: number): Sample[] {
  const next = uniform(seed);
  return Array.from({ length: SAMPLES }, () =>
    Object.fromEntries(
      Object.entries(exec.inputs).map(([name, p]) => {
        const size = p.shape.slice(1).reduce((a, b) => a * b, 1);
        return [name, Float32Array.from({ length: size }, next)];
      }),
    ),
  );
}

/** Runs the load test; resolves once every offered sample is answered (or refused). */
export async function loadTest(target: Batcher | ExecutableNetwork, opts: LoadTestOptions): Promise<LoadReport> {
  checkOptions(target, opts);
  const seed = opts.seed ?? 1;
  const k = opts.requests ?? 1;
  const exec = target instanceof Batcher ? target.exec : target;
  const driver = target instanceof Batcher ? batcherDriver(target) : requestsDriver(exec, k);
  const samples = makeSamples(exec, seed);
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let offered = 0;
  let last = 0;
  const send = async (arrival: number) => {
    const sample = samples[offered++ % SAMPLES];
    try {
      await driver.infer(sample);
      last = performance.now();
      latencies.push(last - arrival);
    } catch (e) {
      const code = e instanceof DynbatchError ? e.code : e instanceof Error ? e.name : String(e);
      errors[code] = (errors[code] ?? 0) + 1;
    }
  };
  const start = performance.now();
  last = start;
  if (opts.arrivals === "poisson") {
    const pending: Promise<void>[] = [];
    for (const t of poissonArrivals(opts.rate!, opts.durationMs, seed)) {
      if (performance.now() < start + t) await sleepUntil(start + t);
      pending.push(send(start + t));
    }
    await Promise.all(pending);
  } else {
    const caller = async () => {
      while (performance.now() - start < opts.durationMs) await send(performance.now());
    };
    await Promise.all(Array.from({ length: opts.concurrency! }, caller));
  }
  const elapsedMs = last - start;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    target: target instanceof Batcher ? "batcher" : "requests",
    arrivals: opts.arrivals,
    ...(opts.arrivals === "poisson" ? { rate: opts.rate } : { concurrency: opts.concurrency }),
    ...(target instanceof Batcher ? {} : { requests: k }),
    durationMs: opts.durationMs,
    elapsedMs,
    offered,
    completed: latencies.length,
    errors,
    latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) },
    throughput: elapsedMs > 0 ? (latencies.length * 1000) / elapsedMs : 0,
    ...driver.batches(),
  };
}
