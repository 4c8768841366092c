/**
 * No batching, as a serving system without a batcher does it: each caller's sample runs alone
 * at batch 1 on one of `k` infer requests, first come first served. The baseline every batcher
 * policy is measured against (loadTest's "requests" target works the same way).
 */
import { ConfigError } from "../errors";
import { ExecutableNetwork } from "../runtime/executable";
import { InferRequest } from "../runtime/request";

/** One sample per input name (the input's shape without the batch axis); its outputs, shaped [1, …], flat. */
export type SampleRunner = (sample: Record<string, Float32Array>) => Promise<Record<string, Float32Array>>;

/** A runner over `k` batch-1 requests of a dynamic-batch network. */
export function requestPool(exec: ExecutableNetwork, k = 2): SampleRunner {
  if (!(exec instanceof ExecutableNetwork) || !exec.dynamicBatch)
    throw new ConfigError("requestPool: needs an ExecutableNetwork loaded with DYN_BATCH_ENABLED (each sample runs at batch 1)");
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`requestPool: k must be an integer ≥ 1, got ${k}`);
  const free: InferRequest[] = Array.from({ length: k }, () => {
    const r = exec.createInferRequest();
    r.setBatch(1);
    return r;
  });
  const waiting: ((r: InferRequest) => void)[] = [];
  const outputs = Object.keys(exec.outputs);
  return async (sample) => {
    const req = free.pop() ?? (await new Promise<InferRequest>((resolve) => waiting.push(resolve)));
    try {
      for (const [name, values] of Object.entries(sample)) req.setInput(name, values);
      await req.infer();
      return Object.fromEntries(outputs.map((o) => [o, Float32Array.from(req.getBlob(o).data)]));
    } finally {
      const next = waiting.shift();
      if (next) next(req);
      else free.push(req);
    }
  };
}
