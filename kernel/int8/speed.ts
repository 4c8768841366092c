/**
 * FP32 against INT8 latency of one network, interleaved: at each batch both requests run in
 * alternating order, round after round, so that a loaded machine slows both alike; the ratio of
 * the medians is the number to quote, not either time.
 */
import { IECore } from "../runtime/core";
import { CNNNetwork } from "../runtime/network";
import { InputError } from "../errors";
import { InferRequest } from "../runtime/request";
import { median } from "../bench/stats";

export interface SpeedPoint {
  batch: number;
  fp32Ms: number;
  int8Ms: number;
  /** fp32Ms / int8Ms: above 1, INT8 is faster. */
  speedup: number;
}

async function load(ie: IECore, net: CNNNetwork, limit: number, dynamic: boolean): Promise<InferRequest> {
  const original = net.batchSize;
  net.batchSize = limit;
  try {
    return (await ie.loadNetwork(net, "CPU", dynamic ? { DYN_BATCH_ENABLED: "YES" } : {})).createInferRequest();
  } finally {
    net.batchSize = original;
  }
}

/**
 * Median latency of `fp32` and `int8` at each of `batches` (loaded once at the largest with a
 * dynamic batch, or at batch 1 for a network that cannot have one, e.g. face detection), over
 * `runs` interleaved rounds after `warmup` runs each. Inputs are uniform in [0, 255).
 */
export async function compareSpeed(
  ie: IECore,
  fp32: CNNNetwork,
  int8: CNNNetwork,
  batches: number[],
  opts: { runs?: number; warmup?: number } = {},
): Promise<SpeedPoint[]> {
  if (batches.length === 0 || batches.some((b) => !Number.isInteger(b) || b < 1))
    throw new InputError(`batches must be positive integers, got [${batches}]`);
  const runs = opts.runs ?? 30;
  const warmup = opts.warmup ?? 25;
  const limit = Math.max(...batches);
  const dynamic = limit > 1;
  const reqs = [await load(ie, fp32, limit, dynamic), await load(ie, int8, limit, dynamic)];
  const input = Object.keys(fp32.inputs)[0];
  const per = fp32.inputs[input].shape.slice(1).reduce((a, b) => a * b, 1);
  const points: SpeedPoint[] = [];
  for (const n of batches) {
    const data = Float32Array.from({ length: n * per }, (_, i) => (i * 7919) % 255);
    for (const r of reqs) {
      if (dynamic) r.setBatch(n);
      r.setInput(input, data);
      // Also lets dynbatch settle how it spreads runs at this batch over the threads (its first ~20 runs).
      for (let i = 0; i < warmup; i++) await r.infer();
    }
    const times: number[][] = [[], []];
    for (let k = 0; k < runs; k++) {
      for (const i of k % 2 ? [1, 0] : [0, 1]) {
        const t = performance.now();
        await reqs[i].infer();
        times[i].push(performance.now() - t);
      }
    }
    const [a, b] = times.map(median);
    points.push({ batch: n, fp32Ms: a, int8Ms: b, speedup: a / b });
  }
  return points;
}

/** One line per batch: "n=4  FP32 1.23 ms  INT8 0.61 ms  INT8 2.02× faster". */
export function formatSpeed(name: string, points: SpeedPoint[]): string {
  return points
    .map(
      (p) =>
        `${name.padEnd(34)} n=${String(p.batch).padEnd(3)} FP32 ${p.fp32Ms.toFixed(2).padStart(7)} ms  INT8 ${p.int8Ms.toFixed(2).padStart(7)} ms  INT8 ${p.speedup >= 1 ? `${p.speedup.toFixed(2)}× faster` : `${(1 / p.speedup).toFixed(2)}× slower`}`,
    )
    .join("\n");
}
