/**
 * fixForDynamicBatch's second proof: the rewritten network, run with a dynamic batch n = 1..4 on
 * the CPU, must give each sample what the original gives it at its own batch (n batch-1 runs for
 * the usual batch-1 model). The rewrites and their symbolic proofs are kernel/analysis/fix.ts.
 */
import { Graph } from "../graph/graph";
import { numel } from "../graph/ops/util";
import { prepare } from "../graph/prepare";
import { analyze, batchAxes, ShapeOptions } from "../analysis";
import { modelBatch, prepareAtModelBatch, proposeBatchFixes } from "../analysis/fix";
import { CompiledModel, pluginFor } from "../plugins";
import { DynbatchError } from "../errors";
import { uniform } from "../random";
import { BatchFixChange } from "../schema";

/** Largest absolute difference a proven change may show (the bound). */
export const FIX_TOLERANCE = 1e-5;
/** Batches the rewritten network is checked at. */
export const FIX_BATCHES = [1, 2, 3, 4];

function compile(prepared: Graph, maxBatch: number, batched: Map<number, boolean[]> | null): CompiledModel {
  // One thread and one strategy: the check compares numbers, so nothing is measured or chosen at run time.
  return pluginFor("CPU")!.compile(prepared, {
    maxBatch,
    batched,
    threads: 1,
    independentSamples: false,
    parallel: "layers",
  });
}

/** Runs `model` at batch n on per-input data; returns every output's first values at batch n, flat. */
async function run(model: CompiledModel, n: number, inputs: Float32Array[]): Promise<Float32Array[]> {
  const req = model.createRequest();
  model.inputs.forEach((b, i) => req.buffer(b.tensor).set(inputs[i]));
  await req.run(n);
  return model.outputs.map((b) => req.buffer(b.tensor).slice(0, numel(b.batched ? [n, ...b.shape.slice(1)] : b.shape)));
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * For n in FIX_BATCHES: the largest |difference| between `candidate` run at batch n (dynamic
 * batch, compiled once for the largest n) and `original` run at its own batch B on the same random
 * samples, B at a time (one sample per run when B = 1). Both are raw graphs with the same inputs
 * and outputs in the same order. Throws DynbatchError when either cannot be compiled or run.
 */
export async function checkPerSample(
  original: Graph,
  candidate: Graph,
  opts: ShapeOptions = {},
  seed = 17,
): Promise<{ n: number; maxAbsError: number }[]> {
  const orig = prepareAtModelBatch(original, opts);
  const B = modelBatch(original) ?? 1;
  const sampleSizes = orig.nodes.filter((x) => x.type === "Parameter").map((p) => numel(p.outputs[0].shape.slice(1)));
  const maxN = Math.max(...FIX_BATCHES);
  const pool = Math.ceil(maxN / B) * B;
  const rand = uniform(seed);
  const samples = Array.from({ length: pool }, () =>
    sampleSizes.map((s) => Float32Array.from({ length: s }, () => rand() * 2 - 1)),
  );

  // The oracle: per sample, its share (1/B of each output, row-major) of the original's run on its group of B.
  const oracleModel = compile(orig, B, null);
  const oracle: Float32Array[][] = [];
  for (let g = 0; g < pool; g += B) {
    const group = samples.slice(g, g + B);
    const outs = await run(
      oracleModel,
      B,
      sampleSizes.map((_, i) => concat(group.map((s) => s[i]))),
    );
    for (let k = 0; k < B; k++) oracle.push(outs.map((o) => o.subarray((k * o.length) / B, ((k + 1) * o.length) / B)));
  }

  const dyn = compile(
    prepare(candidate, { inputShapes: opts.inputShapes, batch: Math.max(maxN, B) }),
    Math.max(maxN, B),
    batchAxes(candidate, opts),
  );
  const result: { n: number; maxAbsError: number }[] = [];
  for (const n of FIX_BATCHES) {
    const outs = await run(
      dyn,
      n,
      sampleSizes.map((_, i) => concat(samples.slice(0, n).map((s) => s[i]))),
    );
    let err = 0;
    outs.forEach((o, j) => {
      const want = concat(oracle.slice(0, n).map((s) => s[j]));
      if (want.length !== o.length) err = Infinity;
      else for (let k = 0; k < o.length; k++) err = Math.max(err, Math.abs(o[k] - want[k]));
    });
    result.push({ n, maxAbsError: err });
  }
  return result;
}

/** Marks every applied change as refused with `reason`. */
function refuseAll(changes: BatchFixChange[], reason: string): BatchFixChange[] {
  return changes.map((c) => (c.applied ? { ...c, applied: false, reason, proof: null } : c));
}

/**
 * Rewrites raw graph `g` so that it takes a dynamic batch where a proven rewrite exists (see
 * kernel/analysis/fix.ts); every change is also checked numerically (checkPerSample). Returns the
 * rewritten graph (`g` itself when nothing was applied) and every change, applied or refused.
 */
export async function fixGraph(g: Graph, opts: ShapeOptions = {}): Promise<{ graph: Graph; changes: BatchFixChange[] }> {
  const proposed = proposeBatchFixes(g, opts);
  if (!proposed.changes.some((c) => c.applied)) return { graph: g, changes: proposed.changes };
  const report = analyze(proposed.graph, { mode: "shape-aware", inputShapes: opts.inputShapes });
  if (!report.supported) {
    const reason =
      `the network still has blocking layers (${report.summary.blocking.join(", ")}), ` +
      `so it cannot run at batch n > 1 for the numeric check`;
    return { graph: g, changes: refuseAll(proposed.changes, reason) };
  }
  let numeric: { n: number; maxAbsError: number }[];
  try {
    numeric = await checkPerSample(g, proposed.graph, opts);
  } catch (e) {
    if (!(e instanceof DynbatchError)) throw e;
    return { graph: g, changes: refuseAll(proposed.changes, `the numeric check could not run: ${e.message}`) };
  }
  const worst = numeric.reduce((a, b) => (b.maxAbsError > a.maxAbsError || Number.isNaN(b.maxAbsError) ? b : a));
  if (!(worst.maxAbsError <= FIX_TOLERANCE)) {
    const reason = `numeric check failed at n = ${worst.n}: max abs error ${worst.maxAbsError} > ${FIX_TOLERANCE} against batch-1 runs`;
    return { graph: g, changes: refuseAll(proposed.changes, reason) };
  }
  return {
    graph: proposed.graph,
    changes: proposed.changes.map((c) => (c.applied && c.proof ? { ...c, proof: { ...c.proof, numeric } } : c)),
  };
}
