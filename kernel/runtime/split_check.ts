/**
 * The numeric proof of a split (kernel/analysis/split.ts): the split program on the CPU at batch
 * n = 1..4 against n batch-1 runs of the original on the same random samples. A detections output
 * is read back row by row (its rows for sample i must be that sample's batch-1 rows with
 * image_id i, then the −1 marker), not rebuilt the way the split program builds it.
 */
import { Graph } from "../graph/graph";
import { prepare } from "../graph/prepare";
import { numel } from "../graph/ops/util";
import { batchAxes, ShapeOptions } from "../analysis";
import { prepareAtModelBatch } from "../analysis/fix";
import { SplitOutput, SplitPlan } from "../analysis/split";
import { CompiledModel, CompileOptions, pluginFor } from "../plugins";
import { uniform } from "../random";
import { SplitModel, splitModel } from "./split_model";

const ROW = 7;

function compile(g: Graph, opts: Pick<CompileOptions, "maxBatch" | "batched">): CompiledModel {
  // One thread and one strategy: the check compares numbers, so nothing is measured or chosen at run time.
  return pluginFor("CPU")!.compile(g, { ...opts, threads: 1, independentSamples: false, parallel: "layers" });
}

/** Runs `model` at batch n on per-input flat data; returns every output at batch n. */
async function run(model: CompiledModel, n: number, inputs: Float32Array[], shape: (i: number) => number[]) {
  const req = model.createRequest();
  model.inputs.forEach((b, i) => req.buffer(b.tensor).set(inputs[i]));
  await req.run(n);
  return model.outputs.map((b, i) => req.buffer(b.tensor).slice(0, numel(shape(i))));
}

/** Largest |a − b|; Infinity when their lengths differ. */
function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let e = 0;
  for (let k = 0; k < a.length; k++) e = Math.max(e, Math.abs(a[k] - b[k]));
  return Number.isNaN(e) ? Infinity : e;
}

/** The valid rows (up to the −1 marker) of one batch-1 DetectionOutput result. */
function rowsOf(det: Float32Array): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let r = 0; r + ROW <= det.length && det[r] >= 0; r += ROW) rows.push(det.subarray(r, r + ROW));
  return rows;
}

/** The error of a joined detections output against per-sample batch-1 results: Infinity when a row is missing or extra. */
function detectionsError(got: Float32Array, perSample: Float32Array[]): number {
  let err = 0;
  let at = 0;
  perSample.forEach((det, i) => {
    for (const row of rowsOf(det)) {
      const mine = got.subarray(at * ROW, (at + 1) * ROW);
      if (mine.length < ROW || mine[0] !== i) err = Infinity;
      else err = Math.max(err, maxDiff(mine.subarray(1), row.subarray(1)));
      at++;
    }
  });
  if (at * ROW < got.length && got[at * ROW] !== -1) err = Infinity;
  return err;
}

/** For each n in `batches`: the largest |split program at batch n − n batch-1 runs of `original`|. */
export async function checkSplit(
  original: Graph,
  plan: SplitPlan,
  batches: number[],
  opts: ShapeOptions = {},
  seed = 17,
): Promise<{ n: number; maxAbsError: number }[]> {
  const one = prepareAtModelBatch(original, opts);
  const sizes = one.nodes.filter((x) => x.type === "Parameter").map((p) => numel(p.outputs[0].shape));
  const maxN = Math.max(...batches);
  const rand = uniform(seed);
  const samples = Array.from({ length: maxN }, () => sizes.map((s) => Float32Array.from({ length: s }, () => rand() * 2 - 1)));

  const oracleModel = compile(one, { maxBatch: 1, batched: null });
  const oracle: Float32Array[][] = [];
  for (const s of samples) oracle.push(await run(oracleModel, 1, s, (i) => oracleModel.outputs[i].shape));

  const body = compile(prepare(plan.body, { inputShapes: opts.inputShapes, batch: maxN }), {
    maxBatch: maxN,
    batched: batchAxes(plan.body, opts),
  });
  const tail = compile(prepare(plan.tail, {}), { maxBatch: 1, batched: null });
  const split: SplitModel = splitModel(body, tail, plan.cuts, plan.outputs, maxN, original.file);
  const result: { n: number; maxAbsError: number }[] = [];
  for (const n of batches) {
    const inputs = sizes.map((_, i) => concat(samples.slice(0, n).map((s) => s[i])));
    const outs = await run(split, n, inputs, (i) => split.shapeAt(i, n));
    let err = 0;
    plan.outputs.forEach((o: SplitOutput, j) => {
      const per = oracle.slice(0, n).map((s) => s[j]);
      err = Math.max(err, o.join === "detections" ? detectionsError(outs[j], per) : maxDiff(outs[j], concat(per)));
    });
    result.push({ n, maxAbsError: err });
  }
  return result;
}

/** The samples' tensors back to back, as a batch of them. */
export function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
