/**
 * exec.profile(): where a compiled network's time goes, layer by layer and batch by batch. Each
 * batch is run `runs` times after a warm-up (the device tries its threading strategies on the
 * first runs of a batch); every timed run records the request's wall time around infer() and
 * getPerformanceCounts(). profile_report.ts turns the samples into the report.
 * Where the CPU plugin splits a batch by samples over threads, a layer's time is its slowest
 * thread's (native/src/request.cc, runSamples): the threads run at once, so that is what the
 * request waits for, and the layers still add up to about the request's time.
 */
import { InputError } from "../errors";
import { ExecutableNetwork } from "../runtime/executable";
import { InferRequest, PerfCount } from "../runtime/request";
import { ProfileNode, ProfileReport } from "../schema";
import { uniform } from "../random";
import { BatchSamples, buildProfile, ProfiledLayer } from "./profile_report";

export const DEFAULT_PROFILE_RUNS = 20;
/** Untimed runs per batch: enough for the CPU plugin to settle its threading strategy for the batch. */
export const DEFAULT_PROFILE_WARMUP = 10;

export interface ProfileOptions {
  /** Batches to measure (each at most the network's batch limit). Default: 1, 2, 4, … up to the limit (the limit alone without a dynamic batch). */
  batches?: readonly number[];
  /** Timed runs per batch. Default 20. */
  runs?: number;
  /** Untimed runs per batch before the timed ones. Default 10. */
  warmup?: number;
  /** Model name in the report; by default the load-time analysis's, else "network". */
  name?: string;
}

function defaultBatches(exec: ExecutableNetwork): number[] {
  if (!exec.dynamicBatch) return [exec.batchLimit];
  const out: number[] = [];
  for (let n = 1; n <= exec.batchLimit; n *= 2) out.push(n);
  return out;
}

function count(value: number | undefined, fallback: number, what: string, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new InputError(`profile: ${what} must be an integer >= ${min}, got ${v}`);
  return v;
}

function checkBatches(exec: ExecutableNetwork, batches: readonly number[]): void {
  if (batches.length === 0) throw new InputError("profile: batches is empty");
  for (const b of batches) {
    if (!Number.isInteger(b) || b < 1 || b > exec.batchLimit)
      throw new InputError(`profile: batch ${b} is not an integer in [1, ${exec.batchLimit}] (the network's batch limit)`);
    if (!exec.dynamicBatch && b !== exec.batchLimit)
      throw new InputError(
        `profile: batch ${b} needs a network loaded with DYN_BATCH_ENABLED; this one runs batch ${exec.batchLimit} only`,
      );
  }
  if (new Set(batches).size !== batches.length) throw new InputError(`profile: batches [${batches}] repeat a value`);
}

/** The graph to draw: the analysis's layers that run (constants are folded at load). */
function graphOf(exec: ExecutableNetwork): ProfileNode[] | undefined {
  if (!exec.analysis) return undefined;
  const kept = exec.analysis.layers.filter((l) => l.verdict !== "constant");
  const ids = new Set(kept.map((l) => l.id));
  // Edges from weights and folded shape computations are left out with them.
  return kept.map((l) => ({ id: l.id, name: l.name, type: l.type, inputs: l.inputs.filter((i) => ids.has(i)) }));
}

/** benchmark_app's implementation names end in the precision: "jit_avx512_core_FP32", "…_U8". */
const PRECISION_SUFFIX = /_(FP32|FP16|BF16|U8|I8|I32)$/;

/**
 * The precision a layer ran in: the counter's own field where the device gives one, else the
 * suffix of its implementation name; undefined for a fused layer or where neither says.
 */
export function precisionOf(c: PerfCount & { precision?: string }): string | undefined {
  if (c.fusedInto !== undefined) return undefined;
  return c.precision ?? PRECISION_SUFFIX.exec(c.execType)?.[1];
}

/** Inputs uniform in [0, 1) at batch n: the time of a layer does not depend on the values it reads. */
function fillInputs(exec: ExecutableNetwork, req: InferRequest, n: number): void {
  const random = uniform(17);
  for (const [name, port] of Object.entries(exec.inputs)) {
    const sample = port.shape.slice(1).reduce((a, b) => a * b, 1);
    req.setInput(name, Float32Array.from({ length: n * sample }, random));
  }
}

export async function profile(exec: ExecutableNetwork, opts: ProfileOptions = {}): Promise<ProfileReport> {
  const batches = [...(opts.batches ?? defaultBatches(exec))];
  checkBatches(exec, batches);
  const runs = count(opts.runs, DEFAULT_PROFILE_RUNS, "runs", 1);
  const warmup = count(opts.warmup, DEFAULT_PROFILE_WARMUP, "warmup", 0);
  const req = exec.createInferRequest();
  const measured: BatchSamples[] = [];
  let layers: ProfiledLayer[] = [];
  for (const n of batches) {
    if (exec.dynamicBatch) req.setBatch(n);
    fillInputs(exec, req, n);
    for (let i = 0; i < warmup; i++) await req.infer();
    const samples: BatchSamples = { batch: n, wallUs: [], layerUs: [] };
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      await req.infer();
      samples.wallUs.push(Number(process.hrtime.bigint() - t0) / 1e3);
      const counts = Object.entries(req.getPerformanceCounts());
      layers = counts.map(([name, c]) => {
        const precision = precisionOf(c);
        return {
          name,
          type: c.layerType,
          execType: c.execType,
          ...(precision !== undefined ? { precision } : {}),
          ...(c.fusedInto !== undefined ? { fusedInto: c.fusedInto } : {}),
        };
      });
      samples.layerUs.push(counts.map(([, c]) => c.realTimeUs));
    }
    measured.push(samples);
  }
  const graph = graphOf(exec);
  return buildProfile({
    model: opts.name ?? exec.analysis?.model ?? "network",
    device: exec.device,
    layers,
    batches: measured,
    ...(graph ? { graph } : {}),
    date: new Date().toISOString(),
  });
}

declare module "../runtime/executable" {
  interface ExecutableNetwork {
    /**
     * Per-layer times against the batch (kernel/bench/profile.ts): median and spread per layer and
     * batch, the implementation, fused layers, a `fixed + perSample · n` fit, and per batch the
     * request's time split into layers and the rest.
     */
    profile(opts?: ProfileOptions): Promise<ProfileReport>;
  }
}

// As IECore.benchmark (benchmark.ts): the bench brings the method to ExecutableNetwork so that the
// runtime never imports the bench. Non-enumerable and writable like a class method.
Object.defineProperty(ExecutableNetwork.prototype, "profile", {
  value: function (this: ExecutableNetwork, opts?: ProfileOptions) {
    return profile(this, opts);
  },
  writable: true,
  configurable: true,
});
