/**
 * benchmark(): latency and throughput of one model against the batch, measured four ways in one
 * run, interleaved point by point so that every contender shares the machine's noise:
 *   dynamic: one network loaded with the largest batch and DYN_BATCH_ENABLED, run with setBatch(n);
 *   static:  the network compiled for exactly n, dynamic batching off;
 *   loop:    n batch-1 requests in sequence (what users did before batching);
 *   ort:     onnxruntime-node on the same model as ONNX, when it is installed.
 * A timed request covers setting its inputs (uniform in [0, 1)) and the inference, in every mode.
 * Before a point is timed, its dynamic and static requests are compared with onnxruntime on the
 * same inputs (oracle.ts): a mismatch throws BenchMismatchError, and the report keeps each
 * point's error.
 */
import * as path from "path";
import { DynamicBatchError, DynbatchError, InputError, ModelError } from "../errors";
import { IECore } from "../runtime/core";
import { CNNNetwork } from "../runtime/network";
import { InferRequest } from "../runtime/request";
import { LatencyMode, LatencyPoint, LatencyReport } from "../schema";
import { loadOrt, ortSession, OrtSession } from "./ort_session";
import { loadAddon } from "../plugins/native";
import { countFlops } from "./flops";
import { isaInEffect } from "./isa";
import { compareWithOrt, ORT_TOLERANCE } from "./oracle";
import { measurePeakGflops } from "./peak";
import { medianStable, summarize } from "./stats";
import { uniform, xorshift32 } from "../random";

export const DEFAULT_BATCHES: readonly number[] = [1, 2, 4, 8, 16, 32];
export const ALL_MODES: readonly LatencyMode[] = ["dynamic", "static", "loop", "ort"];

/** Time box of one point, all modes together; a point stops at a quarter of it once every median is stable. */
export const DEFAULT_TIME_PER_POINT_MS = 3000;
/** Timed requests per mode and point, at least, so that a median stands on several samples. */
export const DEFAULT_MIN_RUNS = 5;
/** Untimed time per mode before each point (and WARMUP_RUNS requests, unless they take over WARMUP_CAP_MS). */
export const DEFAULT_WARMUP_MS = 200;

/** Knuth's multiplicative hash (2^32 / golden ratio): consecutive rounds get seeds far apart. */
const KNUTH_HASH = 2654435761;

/** Untimed requests per contender and point, at least, unless they take longer than the cap. */
const WARMUP_RUNS = 20;
const WARMUP_CAP_MS = 2000;

export interface BenchProgress {
  model: string;
  batch: number;
  /** Points finished so far, with the fraction of the current one (0 ≤ done ≤ total). */
  done: number;
  total: number;
  phase: "load" | "warmup" | "measure";
}

export interface BenchmarkOptions {
  /** Model file (IR .xml with its .bin, or .onnx) or a network already read. */
  model: string | CNNNetwork;
  /** Name in the report; by default the file name without extension, or the network's name. */
  name?: string;
  device?: string;
  /** Batches to measure; the largest is the dynamic network's limit. Default 1, 2, 4, 8, 16, 32. */
  batches?: readonly number[];
  /** Modes to measure (default all four); "ort" is skipped when onnxruntime-node is missing. */
  modes?: readonly LatencyMode[];
  /** Threads of each engine: dynbatch CPU_THREADS_NUM and onnxruntime intra-op threads. Default: every hardware thread. */
  threads?: number;
  /** Time box of one point, all modes together (ms). Default 3000. */
  timePerPointMs?: number;
  /** Timed requests per mode and point, at least. Default 5. */
  minRuns?: number;
  /** Untimed requests per mode before each point (ms; at least one request, and 20 unless they take over 2 s). Default 200. */
  warmupMs?: number;
  /** Largest error of a dynbatch output against onnxruntime's (see oracle.ts). Default ORT_TOLERANCE. */
  tolerance?: number;
  /** The machine's peak GFLOP/s to report; measured with the FMA microbenchmark when not given. */
  peakGflops?: number;
  onProgress?: (p: BenchProgress) => void;
  /** Core to read and load with (its device configs apply). */
  ie?: IECore;
}

interface Contender {
  mode: LatencyMode;
  /** One timed request; what it resolves to is not used (ORT's outputs are not converted while timed). */
  run(): Promise<unknown>;
}

interface Input {
  name: string;
  sample: number[];
  size: number;
  data: Float32Array;
}

/** Deterministic values in [0, 1): every mode and engine sees the same input. */
function inputData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  const random = uniform(seed);
  for (let i = 0; i < n; i++) out[i] = random();
  return out;
}

function setInputs(req: InferRequest, inputs: Input[], first: number, count: number): void {
  for (const x of inputs) req.setInput(x.name, x.data.subarray(first * x.size, (first + count) * x.size));
}

/** The first line of an error, without the model's path (a report names its model already). */
function reason(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const line = e.message.split("\n")[0];
  return e instanceof ModelError && line.startsWith(`${e.file}: `) ? line.slice(e.file.length + 2) : line;
}

/** The batch an ONNX session is fixed to, or undefined when its batch axis is symbolic. */
function fixedBatch(session: { inputMetadata: readonly unknown[] }): number | undefined {
  const meta = session.inputMetadata[0] as { shape?: readonly (number | string)[] } | undefined;
  const d = meta?.shape?.[0];
  return typeof d === "number" && d > 0 ? d : undefined;
}

/**
 * The order of `count` contenders in round `round`: a shuffle from a fixed seed per round. A fixed
 * cycle would always run each contender right after the same one, which leaves its caches cold or
 * a thread spinning; shuffled, every contender follows every other alike.
 */
export function roundOrder(round: number, count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  let s = (round * KNUTH_HASH + 1) >>> 0 || 1;
  for (let i = count - 1; i > 0; i--) {
    s = xorshift32(s);
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Runs the contenders one request each per round, in a shuffled order, until the medians settle or time is up. */
async function measurePoint(
  cs: Contender[],
  t: { timeMs: number; minRuns: number; warmupMs: number },
  tick: (phase: BenchProgress["phase"], fraction: number) => void,
): Promise<number[][]> {
  tick("warmup", 0);
  for (const c of cs) {
    const start = performance.now();
    let runs = 0;
    // Also a number of requests: dynbatch measures its ways of spreading a run over the threads on
    // its first ~20 runs at a batch (CPU_PARALLEL=AUTO), and timed points should see what it keeps.
    const warm = () => {
      const elapsed = performance.now() - start;
      return elapsed >= t.warmupMs && (runs >= WARMUP_RUNS || elapsed >= WARMUP_CAP_MS);
    };
    do {
      await c.run();
      runs++;
    } while (!warm());
  }
  const samples = cs.map(() => [] as number[]);
  const start = performance.now();
  for (let round = 0; ; round++) {
    for (const i of roundOrder(round, cs.length)) {
      const t0 = performance.now();
      await cs[i].run();
      samples[i].push(performance.now() - t0);
    }
    const elapsed = performance.now() - start;
    if (samples.every((s) => s.length >= t.minRuns)) {
      if (elapsed >= t.timeMs) break;
      if (elapsed >= t.timeMs / 4 && samples.every((s) => medianStable(s))) break;
    }
    tick("measure", Math.min(elapsed / t.timeMs, 1));
  }
  return samples;
}

/** Measures one model; see the file comment for the modes. Never leaves `model`'s batch changed. */
export async function benchmark(opts: BenchmarkOptions): Promise<LatencyReport> {
  const ie = opts.ie ?? new IECore();
  const device = opts.device ?? "CPU";
  const batches = [...(opts.batches ?? DEFAULT_BATCHES)];
  if (batches.length === 0 || batches.some((b) => !Number.isInteger(b) || b < 1)) {
    throw new InputError(`batches must be positive integers, got [${batches}]`);
  }
  const modes = opts.modes ?? ALL_MODES;
  const maxBatch = Math.max(...batches);
  const threads = opts.threads ?? loadAddon().hardwareConcurrency();
  const timing = {
    timeMs: opts.timePerPointMs ?? DEFAULT_TIME_PER_POINT_MS,
    minRuns: opts.minRuns ?? DEFAULT_MIN_RUNS,
    warmupMs: opts.warmupMs ?? DEFAULT_WARMUP_MS,
  };
  const file = typeof opts.model === "string" ? opts.model : undefined;
  const net = typeof opts.model === "string" ? await ie.readNetwork(opts.model) : opts.model;
  const name = opts.name ?? (file ? path.basename(file).replace(/\.(xml|onnx)$/i, "") : net.name);
  const peakGflops = opts.peakGflops ?? measurePeakGflops(threads);
  const tolerance = opts.tolerance ?? ORT_TOLERANCE;
  const config = { CPU_THREADS_NUM: threads };
  const skipped: { mode: LatencyMode; reason: string }[] = [];
  const points: LatencyPoint[] = [];
  const inputs: Input[] = Object.entries(net.inputs).map(([inputName, p], i) => {
    const sample = p.shape.slice(1);
    const size = sample.reduce((a, b) => a * b, 1);
    return { name: inputName, sample, size, data: inputData(maxBatch * size, 7 + i) };
  });
  const progress = (batch: number, done: number, phase: BenchProgress["phase"]) =>
    opts.onProgress?.({ model: name, batch, done, total: batches.length, phase });
  const original = net.batchSize;

  try {
    progress(batches[0], 0, "load");
    let dynamic: InferRequest | undefined;
    if (modes.includes("dynamic")) {
      try {
        net.batchSize = maxBatch;
        dynamic = (await ie.loadNetwork(net, device, { ...config, DYN_BATCH_ENABLED: "YES" })).createInferRequest();
      } catch (e) {
        if (!(e instanceof DynamicBatchError)) throw e;
        skipped.push({
          mode: "dynamic",
          reason: `unsupported topology: ${e.layers.map((l) => `${l.name} (${l.type})`).join(", ")}`,
        });
      }
    }
    let single: InferRequest | undefined;
    if (modes.includes("loop")) {
      net.batchSize = 1;
      single = (await ie.loadNetwork(net, device, config)).createInferRequest();
    }
    let ortRun: ((xs: Input[], n: number) => ReturnType<OrtSession["run"]>) | undefined;
    let ortNames: readonly string[] = [];
    // A model whose shapes pin the batch is exported with that batch only.
    let ortBatch: number | undefined;
    if (modes.includes("ort")) {
      const ort = loadOrt();
      if (!ort) skipped.push({ mode: "ort", reason: "onnxruntime-node is not installed" });
      else {
        try {
          net.batchSize = original;
          const session = await ortSession(ort, net, file, threads);
          ortBatch = fixedBatch(session);
          ortNames = session.outputNames;
          ortRun = (xs, n) => {
            const feeds = Object.fromEntries(
              xs.map((x) => [x.name, new ort.Tensor("float32", x.data.subarray(0, n * x.size), [n, ...x.sample])]),
            );
            return session.run(feeds);
          };
        } catch (e) {
          // A model ONNX cannot express, or one onnxruntime rejects: measured without it, and the report says why.
          skipped.push({ mode: "ort", reason: reason(e) });
        }
      }
    }

    for (const [i, n] of batches.entries()) {
      progress(n, i, "load");
      const cs: Contender[] = [];
      // The batched requests of this point, for the check against onnxruntime.
      const batched: { mode: LatencyMode; req: InferRequest }[] = [];
      if (dynamic) {
        const req = dynamic;
        cs.push({
          mode: "dynamic",
          run: () => {
            req.setBatch(n);
            setInputs(req, inputs, 0, n);
            return req.infer();
          },
        });
        batched.push({ mode: "dynamic", req });
      }
      if (modes.includes("static")) {
        try {
          net.batchSize = n;
          const req = (await ie.loadNetwork(net, device, config)).createInferRequest();
          cs.push({
            mode: "static",
            run: () => {
              setInputs(req, inputs, 0, n);
              return req.infer();
            },
          });
          batched.push({ mode: "static", req });
        } catch (e) {
          if (!(e instanceof DynbatchError)) throw e;
          skipped.push({ mode: "static", reason: `batch ${n}: ${reason(e)}` });
        }
      }
      if (single) {
        const req = single;
        cs.push({
          mode: "loop",
          run: async () => {
            for (let k = 0; k < n; k++) {
              setInputs(req, inputs, k, 1);
              await req.infer();
            }
          },
        });
      }
      const ortAtN = ortBatch === undefined || ortBatch === n ? ortRun : undefined;
      if (ortRun && !ortAtN)
        skipped.push({ mode: "ort", reason: `batch ${n}: the exported model has a fixed batch of ${ortBatch}` });
      if (ortAtN) cs.push({ mode: "ort", run: () => ortAtN(inputs, n) });
      if (cs.length === 0) continue;
      // The loop is not checked: its batch-1 network is the static one at n = 1.
      const errors = new Map<LatencyMode, number>();
      if (ortAtN) {
        // Pixel-range inputs: on [0, 1) some bundled networks saturate and give every sample the same
        // output, and a mix-up of samples would pass unseen.
        const xs = inputs.map((x) => ({ ...x, data: x.data.subarray(0, n * x.size).map((v) => 255 * v) }));
        const out = await ortAtN(xs, n);
        const ref = Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { shape: t.dims, data: t.data as Float32Array }]));
        for (const { mode, req } of batched) {
          if (mode === "dynamic") req.setBatch(n);
          setInputs(req, xs, 0, n);
          await req.infer();
          const ours = Object.fromEntries(Object.keys(net.outputs).map((o) => [o, req.getBlob(o)]));
          errors.set(mode, compareWithOrt({ model: name, batch: n, mode }, ours, ref, ortNames, tolerance));
        }
      }
      const gflop = countFlops(net.prepared(n)).total / 1e9;
      const samples = await measurePoint(cs, timing, (phase, f) => progress(n, i + f, phase));
      cs.forEach((c, k) => {
        const latencyMs = summarize(samples[k]);
        points.push({
          batch: n,
          mode: c.mode,
          latencyMs,
          throughput: (n / latencyMs.p50) * 1000,
          gflops: gflop / (latencyMs.p50 / 1000),
          runs: samples[k].length,
          ...(errors.has(c.mode) ? { maxErrorVsOrt: errors.get(c.mode) } : {}),
        });
      });
    }
    progress(batches[batches.length - 1], batches.length, "measure");
  } finally {
    net.batchSize = original;
  }

  return {
    model: name,
    device,
    limit: maxBatch,
    points,
    threads,
    gflopPerSample: countFlops(net.prepared(1)).total / 1e9,
    peakGflops,
    isa: isaInEffect(),
    skipped,
    date: new Date().toISOString(),
  };
}

declare module "../runtime/core" {
  interface IECore {
    /**
     * Latency and throughput of `model` against the batch (kernel/bench): dynamic setBatch(n),
     * static batch n, a loop of n batch-1 requests and onnxruntime-node, with this core's configs.
     */
    benchmark(model: string | CNNNetwork, opts?: Omit<BenchmarkOptions, "model" | "ie">): Promise<LatencyReport>;
  }
}

// The bench sits above the runtime and brings this method to IECore itself, so that the runtime
// never imports the bench; kernel/index.ts loads this module with every IECore users can reach.
// Non-enumerable and writable like a class method.
Object.defineProperty(IECore.prototype, "benchmark", {
  value: function (this: IECore, model: string | CNNNetwork, opts: Omit<BenchmarkOptions, "model" | "ie"> = {}) {
    return benchmark({ ...opts, model, ie: this });
  },
  writable: true,
  configurable: true,
});
