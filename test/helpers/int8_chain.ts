/** What the CPU plugin's int8 rewrite makes of a network, and its outputs against the FP32 FakeQuantize oracle. */
import assert from "node:assert/strict";
import { CNNNetwork, IECore, InferRequest } from "../../kernel";
import { int8Program } from "../../kernel/plugins/cpu/int8";
import { fuseProgram } from "../../kernel/plugins/cpu/fuse";
import { lowerGraph } from "../../kernel/plugins/lower";
import { randomData } from "./models";

/**
 * The `type` ops ("qconv", "qmatmul") of `net` lowered at batch 1, each as [name, writes the next
 * layer's u8 levels, reads u8 levels].
 */
export function int8Chain(net: CNNNetwork, type: string): [string, boolean, boolean][] {
  const lowered = lowerGraph(net.prepared(1), {
    maxBatch: 1,
    batched: null,
    threads: 1,
    independentSamples: false,
    parallel: "layers",
  });
  return int8Program(fuseProgram(lowered))
    .spec.ops.filter((o) => o.type === type)
    .map((o) => [o.name, o.attrs.dstGrid !== undefined, o.attrs.srcU8 === 1]);
}

/** Input "x" at batch n, output "y" read back (NaN-filled first, so an unwritten element shows). */
async function runAt(req: InferRequest, n: number, data: Float32Array): Promise<Float32Array> {
  req.setBatch(n);
  req.setInput("x", data);
  req.getBlob("y").data.fill(NaN);
  await req.infer();
  return Float32Array.from(req.getBlob("y").data);
}

export interface Int8Comparison {
  int8: InferRequest;
  /** The same network with CPU_INT8 "NO": its FakeQuantize layers evaluated exactly in FP32, the int8 kernels' oracle. */
  fp32: InferRequest;
  /** Both outputs at each batch n = 1..limit. */
  runs: { n: number; int8: Float32Array; fp32: Float32Array }[];
}

/**
 * Runs `net` (input "x", output "y") in int8 and as its FP32 FakeQuantize network at n = 1..limit on
 * inputs uniform in [-1.5, 2.5), asserting that every int8 output is written and that batch n equals
 * n batch-1 runs within 1e-6; the caller judges int8 against FP32 with its own tolerance.
 */
export async function compareWithFakeQuantize(net: CNNNetwork, seed: number, limit = 4): Promise<Int8Comparison> {
  net.batchSize = limit;
  const ie = new IECore();
  const int8 = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const fp32 = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES", CPU_INT8: "NO" })).createInferRequest();
  const per = net.inputs.x.shape.slice(1).reduce((a, v) => a * v, 1);
  const runs: Int8Comparison["runs"] = [];
  for (let n = 1; n <= limit; n++) {
    const data = randomData(n * per, seed + n, -1.5, 2.5);
    const a = await runAt(int8, n, data);
    runs.push({ n, int8: a, fp32: await runAt(fp32, n, data) });
    a.forEach((v, i) => assert.ok(Number.isFinite(v), `element ${i} at n=${n} not written`));
    const outPer = a.length / n;
    for (let s = 0; s < n; s++) {
      const one = await runAt(int8, 1, data.subarray(s * per, (s + 1) * per));
      one.forEach((v, i) =>
        assert.ok(Math.abs(v - a[s * outPer + i]) <= 1e-6 * (1 + Math.abs(v)), `sample ${s} of ${n}, element ${i}`),
      );
    }
  }
  return { int8, fp32, runs };
}

/** The largest |int8 − fp32| / (1 + |fp32|) over all runs. */
export function worstRelative(c: Int8Comparison): number {
  let worst = 0;
  for (const r of c.runs)
    for (let i = 0; i < r.int8.length; i++) worst = Math.max(worst, Math.abs(r.int8[i] - r.fp32[i]) / (1 + Math.abs(r.fp32[i])));
  return worst;
}
