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
import { planSplit, SplitPlan } from "../analysis/split";
import { checkSplit, concat } from "./split_check";

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

/** Outcome of fixGraph: the rewritten graph (`g` itself when nothing was applied), every change, and the split when one was proven. */
export interface FixResult {
  graph: Graph;
  changes: BatchFixChange[];
  split?: SplitPlan;
}

/**
 * Rewrites raw graph `g` so that it takes a dynamic batch where a proven rewrite exists (see
 * kernel/analysis/fix.ts); every change is also checked numerically (checkPerSample). When layers
 * that mix samples remain, the network is split into a batchable body and a per-sample tail
 * (kernel/analysis/split.ts) and that split is checked numerically too (checkSplit).
 */
export async function fixGraph(g: Graph, opts: ShapeOptions = {}): Promise<FixResult> {
  const proposed = proposeBatchFixes(g, opts);
  if (modelBatch(g) === undefined) return { graph: g, changes: proposed.changes };
  const report = analyze(proposed.graph, { mode: "shape-aware", inputShapes: opts.inputShapes });
  if (!report.supported) return splitGraph(g, proposed.graph, proposed.changes, report.summary.blocking, opts);
  if (!proposed.changes.some((c) => c.applied)) return { graph: g, changes: proposed.changes };
  const numeric = await numericCheck(() => checkPerSample(g, proposed.graph, opts));
  if (typeof numeric === "string") return { graph: g, changes: refuseAll(proposed.changes, numeric) };
  return {
    graph: proposed.graph,
    changes: proposed.changes.map((c) => (c.applied && c.proof ? { ...c, proof: { ...c.proof, numeric } } : c)),
  };
}

/** The numeric check's errors per batch, or why it failed (an error above FIX_TOLERANCE, or one that kept it from running). */
async function numericCheck(
  check: () => Promise<{ n: number; maxAbsError: number }[]>,
): Promise<{ n: number; maxAbsError: number }[] | string> {
  let numeric: { n: number; maxAbsError: number }[];
  try {
    numeric = await check();
  } catch (e) {
    if (!(e instanceof DynbatchError)) throw e;
    return `the numeric check could not run: ${e.message}`;
  }
  const worst = numeric.reduce((a, b) => (b.maxAbsError > a.maxAbsError || Number.isNaN(b.maxAbsError) ? b : a));
  if (!(worst.maxAbsError <= FIX_TOLERANCE))
    return `numeric check failed at n = ${worst.n}: max abs error ${worst.maxAbsError} > ${FIX_TOLERANCE} against batch-1 runs`;
  return numeric;
}

/**
 * The split of `rewritten` (`g` with its proven Reshape/Flatten/Transpose rewrites) whose `blocking` layers
 * still mix samples: applied with its proof, or refused (and the rewrites with it, since nothing
 * can then run at batch n to check them).
 */
async function splitGraph(
  g: Graph,
  rewritten: Graph,
  rewrites: BatchFixChange[],
  blocking: string[],
  opts: ShapeOptions,
): Promise<FixResult> {
  const batch = modelBatch(g);
  if (batch !== 1) {
    // No split is proposed: at its own batch B the tail combines B samples, and a per-sample tail would change that.
    const reason =
      `the network still has blocking layers (${blocking.join(", ")}), so it cannot run at batch n > 1 for the numeric check ` +
      `(a split into a per-sample tail applies to models whose own batch is 1; this one's is ${batch})`;
    return { graph: g, changes: refuseAll(rewrites, reason) };
  }
  const plan = planSplit(rewritten, opts);
  const first = typeof plan === "string" ? undefined : plan.mixing[0];
  const base = {
    layer: first?.name ?? blocking[0],
    type: first?.type ?? "",
    kind: "split" as const,
    blocked: first?.reason ?? `blocking layers: ${blocking.join(", ")}`,
  };
  const refused = (reason: string): FixResult => ({
    graph: g,
    changes: [
      ...refuseAll(
        rewrites,
        `the network still has blocking layers (${blocking.join(", ")}) and could not be split, ` +
          `so it cannot run at batch n > 1 for the numeric check`,
      ),
      { ...base, before: "", after: "", applied: false, reason: `split refused: ${reason}`, proof: null },
    ],
  });
  if (typeof plan === "string") return refused(plan);
  const numeric = await numericCheck(() => checkSplit(g, plan, FIX_BATCHES, opts));
  if (typeof numeric === "string") return refused(numeric);
  const mixing = plan.mixing.map((m) => `'${m.name}'`).join(", ");
  const joined = plan.outputs.filter((o) => o.from === "tail").map((o) => `'${o.result}' (${o.join})`);
  const split: BatchFixChange = {
    ...base,
    applied: true,
    reason: "",
    before: `${mixing} ${plan.mixing.length > 1 ? "mix" : "mixes"} samples: the whole network runs at batch 1 only`,
    after:
      `body (setBatch n, ${plan.cuts.length} cut tensor(s)) + per-sample tail of ${plan.tailLayers.length} layer(s) ` +
      `from ${mixing}, run once per sample; ${joined.join(", ")} joined over the samples`,
    proof: { sameAtBatch: 1, analysis: plan.bodyProof, numeric },
    split: {
      mixing: plan.mixing.map((m) => m.name),
      tail: plan.tailLayers,
      cuts: plan.cuts.map((c) => ({ tensor: c.name, shape: c.shape })),
      outputs: plan.outputs.map((o) => ({ output: o.result, from: o.from, join: o.join })),
    },
  };
  return {
    graph: rewritten,
    split: plan,
    changes: [...rewrites.map((c) => (c.applied && c.proof ? { ...c, proof: { ...c.proof, numeric } } : c)), split],
  };
}
