/**
 * Soak and concurrency measurements on one device: the RSS slope over many infers with setBatch
 * cycling, RSS across load/unload cycles, and requests in flight together against the same
 * requests run alone.
 */
import { IECore } from "../runtime/core";
import { CNNNetwork } from "../runtime/network";
import { ExecutableNetwork } from "../runtime/executable";
import { InferRequest } from "../runtime/request";
import { uniform } from "../random";

/** setBatch cycles 1..MAX_BATCH, as in the probe of issue 13. */
export const MAX_BATCH = 8;

/**
 * RSS after a full collection when node runs with --expose-gc (npm run soak does): native
 * buffers held by networks nothing references any more are freed by their finalizers, so what
 * remains is what is really kept.
 */
function rssMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

/** Deterministic data in [0, 255) that differs for every `seed`. */
function data(n: number, seed: number): Float32Array {
  const next = uniform((seed * 2654435761) >>> 0);
  return Float32Array.from({ length: n }, () => next() * 255);
}

async function load(ie: IECore, model: string, device: string): Promise<ExecutableNetwork> {
  const net: CNNNetwork = await ie.readNetwork(model);
  net.batchSize = MAX_BATCH;
  return ie.loadNetwork(net, device, { DYN_BATCH_ENABLED: "YES" });
}

function fill(req: InferRequest, exec: ExecutableNetwork, seed: number): void {
  Object.keys(exec.inputs).forEach((name, i) => req.setInput(name, data(req.getBlob(name).size, seed * 31 + i)));
}

export interface RssSlope {
  infers: number;
  warmup: number;
  rssStartMiB: number;
  rssEndMiB: number;
  /** Least-squares slope of RSS against infers, MiB per 1,000 infers. */
  mibPer1000: number;
}

/** `infers` infers after `warmup` ones, setBatch cycling 1..MAX_BATCH; RSS sampled every 250 infers. */
export async function rssSlope(ie: IECore, model: string, device: string, infers: number, warmup: number): Promise<RssSlope> {
  const exec = await load(ie, model, device);
  const req = exec.createInferRequest();
  const inputs = Object.entries(exec.inputs).map(([name, p]) => ({
    name,
    full: data(
      p.shape.reduce((a, b) => a * b, 1),
      7,
    ),
  }));
  const run = async (i: number) => {
    req.setBatch((i % MAX_BATCH) + 1);
    for (const { name, full } of inputs) req.setInput(name, full.subarray(0, req.getBlob(name).size));
    await req.infer();
  };
  for (let i = 0; i < warmup; i++) await run(i);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < infers; i++) {
    if (i % 250 === 0) {
      xs.push(i);
      ys.push(rssMiB());
    }
    await run(i);
  }
  xs.push(infers);
  ys.push(rssMiB());
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const cov = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const varX = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return { infers, warmup, rssStartMiB: ys[0], rssEndMiB: ys.at(-1)!, mibPer1000: (cov / varX) * 1000 };
}

export interface LoadCycles {
  warmup: number;
  cycles: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
}

/**
 * `cycles` times: load, one infer, drop every reference; RSS after `warmup` such cycles and at
 * the end. RSS climbs over the first ~200 cycles (allocator arenas and the V8 heap reaching
 * their working size) and is flat after; a leak keeps climbing.
 */
export async function loadCycles(ie: IECore, model: string, device: string, cycles: number, warmup: number): Promise<LoadCycles> {
  const once = async (i: number) => {
    const exec = await load(ie, model, device);
    const req = exec.createInferRequest();
    req.setBatch((i % MAX_BATCH) + 1);
    fill(req, exec, i);
    await req.infer();
  };
  for (let i = 0; i < warmup; i++) await once(i);
  const rssBeforeMiB = rssMiB();
  for (let i = 0; i < cycles; i++) await once(i);
  return { warmup, cycles, rssBeforeMiB, rssAfterMiB: rssMiB() };
}

/** K requests on one executable network, each with its own inputs and batch. */
export interface InFlight {
  device: string;
  exec: ExecutableNetwork;
  reqs: InferRequest[];
  /** Outputs of each request run alone, in order. */
  alone: Float32Array[][];
}

function outputs(req: InferRequest, exec: ExecutableNetwork): Float32Array[] {
  return Object.keys(exec.outputs).map((name) => Float32Array.from(req.getBlob(name).data));
}

/** Prepares `k` requests on `device` and records what each gives when run alone. */
export async function prepareInFlight(ie: IECore, model: string, device: string, k: number): Promise<InFlight> {
  const exec = await load(ie, model, device);
  const reqs = Array.from({ length: k }, (_, i) => {
    const req = exec.createInferRequest();
    req.setBatch((i % MAX_BATCH) + 1);
    fill(req, exec, 1000 + i);
    return req;
  });
  const alone: Float32Array[][] = [];
  for (const req of reqs) {
    await req.infer();
    alone.push(outputs(req, exec));
  }
  return { device, exec, reqs, alone };
}

/**
 * Starts every request of every set at once (outputs poisoned with NaN first, so a request
 * that computed nothing cannot pass with the result it left from its run alone) and returns,
 * per set, the largest |in flight − alone| (NaN when an output was not written).
 */
export async function runInFlight(sets: InFlight[]): Promise<number[]> {
  for (const s of sets)
    for (const req of s.reqs) for (const name of Object.keys(s.exec.outputs)) req.getBlob(name).data.fill(NaN);
  await Promise.all(sets.flatMap((s) => s.reqs.map((req) => req.infer())));
  return sets.map((s) => {
    let max = 0;
    s.reqs.forEach((req, i) =>
      outputs(req, s.exec).forEach((out, j) => {
        const ref = s.alone[i][j];
        // Math.max keeps a NaN: an output left poisoned shows as NaN.
        for (let e = 0; e < out.length; e++) max = Math.max(max, Math.abs(out[e] - ref[e]));
      }),
    );
    return max;
  });
}

/** Largest |a − b| over the outputs of the same requests on two devices (same inputs and batches). */
export function crossDeviceDiff(a: InFlight, b: InFlight): number {
  let max = 0;
  a.alone.forEach((outs, i) =>
    outs.forEach((o, j) => o.forEach((v, e) => (max = Math.max(max, Math.abs(v - b.alone[i][j][e]))))),
  );
  return max;
}
