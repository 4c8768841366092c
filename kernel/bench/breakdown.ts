/**
 * Where a missed target of issue 12 loses its time: the per-layer breakdown of one model at one
 * batch, from dynbatch's performance counters (exec.profile) and from onnxruntime's own per-node
 * profiler on the same model, so that the two engines' top layers can be read side by side.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { IECore } from "../runtime/core";
import { uniform } from "../random";
import { loadOrt, ortSession } from "./ort_session";
import { profile } from "./profile";
import { percentile } from "./stats";
import { TargetResult } from "./targets";

/** The engines a breakdown can come from. */
export type BreakdownEngine = "dynbatch dynamic" | "dynbatch static" | "onnxruntime";

export interface BreakdownLayer {
  name: string;
  /** Operation type (dynbatch's opset type, onnxruntime's op_name). */
  type: string;
  /** The implementation that ran (dynbatch's execType, onnxruntime's execution provider). */
  impl: string;
  /** Median time per run, microseconds. */
  us: number;
}

export interface Breakdown {
  engine: BreakdownEngine;
  model: string;
  batch: number;
  /** Median wall time of one request, microseconds. */
  wallUs: number;
  /** Sum of the layers' medians, microseconds. */
  layersUs: number;
  /** Every layer that took time, slowest first. */
  layers: BreakdownLayer[];
}

export interface BreakdownOptions {
  /** The model's name in the report. */
  model: string;
  /** An .xml or .onnx file. */
  file: string;
  batch: number;
  threads: number;
  /** Timed runs (default 30); 10 untimed runs come first. */
  runs?: number;
  device?: string;
}

const DEFAULT_RUNS = 30;
const WARMUP = 10;

function sorted(engine: BreakdownEngine, o: BreakdownOptions, wallUs: number, layers: BreakdownLayer[]): Breakdown {
  const kept = layers.filter((l) => l.us > 0).sort((a, b) => b.us - a.us);
  const layersUs = kept.reduce((s, l) => s + l.us, 0);
  return { engine, model: o.model, batch: o.batch, wallUs, layersUs, layers: kept };
}

/**
 * dynbatch's breakdown: the network loaded with a dynamic batch limit of `dynamicLimit` and run
 * at `batch`, or, without a limit, compiled for `batch` (static).
 */
export async function dynbatchBreakdown(ie: IECore, o: BreakdownOptions, dynamicLimit?: number): Promise<Breakdown> {
  const net = await ie.readNetwork(o.file);
  net.batchSize = dynamicLimit ?? o.batch;
  const config: Record<string, string> = { CPU_THREADS_NUM: String(o.threads) };
  if (dynamicLimit !== undefined) config.DYN_BATCH_ENABLED = "YES";
  const exec = await ie.loadNetwork(net, o.device ?? "CPU", config);
  const report = await profile(exec, { batches: [o.batch], runs: o.runs ?? DEFAULT_RUNS, warmup: WARMUP });
  const layers = report.layers
    .filter((l) => l.timeUs !== undefined)
    .map((l) => ({ name: l.name, type: l.type, impl: l.execType, us: l.timeUs?.[0]?.median ?? 0 }));
  return sorted(dynamicLimit !== undefined ? "dynbatch dynamic" : "dynbatch static", o, report.totals[0].wallUs, layers);
}

/** One event of onnxruntime's profile (Chrome trace format). */
interface OrtEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; provider?: string };
}

/**
 * Per-node medians over the timed runs of an onnxruntime profile: node events are assigned to
 * the `model_run` event that encloses them, and the first `warmup` runs are left out.
 */
export function ortLayers(events: readonly OrtEvent[], warmup: number): { wallUs: number; layers: BreakdownLayer[] } {
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").sort((a, b) => a.ts - b.ts);
  const timed = runs.slice(warmup);
  const perNode = new Map<string, { type: string; impl: string; us: number[] }>();
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
    if (!timed.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur)) continue;
    const name = e.name.slice(0, -"_kernel_time".length);
    const node = perNode.get(name) ?? { type: e.args?.op_name ?? "?", impl: e.args?.provider ?? "?", us: [] };
    node.us.push(e.dur);
    perNode.set(name, node);
  }
  const median = (xs: number[]): number =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  // A node that ran in only some runs (none in a well-formed profile) counts its absent runs as 0.
  const layers = [...perNode].map(([name, n]) => ({
    name,
    type: n.type,
    impl: n.impl,
    us: median([...n.us, ...Array<number>(Math.max(0, timed.length - n.us.length)).fill(0)]),
  }));
  return { wallUs: timed.length ? median(timed.map((r) => r.dur)) : 0, layers };
}

/** onnxruntime's breakdown on the same model at `batch`, or undefined without onnxruntime-node. */
export async function ortBreakdown(ie: IECore, o: BreakdownOptions): Promise<Breakdown | undefined> {
  const ort = loadOrt();
  if (!ort) return undefined;
  const net = await ie.readNetwork(o.file);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-ort-profile-"));
  try {
    const session = await ortSession(ort, net, o.file, o.threads, path.join(dir, "p"));
    const random = uniform(17);
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    const ports = Object.values(net.inputs);
    for (const [i, name] of session.inputNames.entries()) {
      const sample = (net.inputs[name] ?? ports[i]).shape.slice(1);
      const size = o.batch * sample.reduce((a, b) => a * b, 1);
      feeds[name] = new ort.Tensor("float32", Float32Array.from({ length: size }, random), [o.batch, ...sample]);
    }
    const runs = o.runs ?? DEFAULT_RUNS;
    for (let i = 0; i < WARMUP + runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = fs.readdirSync(dir).find((f) => f.endsWith(".json"));
    if (!file) return undefined;
    const events = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as OrtEvent[];
    const { wallUs, layers } = ortLayers(events, WARMUP);
    return sorted("onnxruntime", o, wallUs, layers);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What to profile for a missed target: its model, batch and the engines that explain it. */
export interface BreakdownPlan {
  model: string;
  batch: number;
  engines: BreakdownEngine[];
}

const ENGINES: Record<TargetResult["target"], BreakdownEngine[]> = {
  "latency-vs-ort": ["dynbatch dynamic", "onnxruntime"],
  "throughput-vs-ort": ["dynbatch dynamic", "onnxruntime"],
  "fraction-of-peak": ["dynbatch static"],
  "dynamic-over-static": ["dynbatch dynamic", "dynbatch static"],
};

/** One plan per model and batch of the missed targets, with the engines of all its targets, in target order. */
export function planBreakdowns(results: readonly TargetResult[]): BreakdownPlan[] {
  const plans: BreakdownPlan[] = [];
  for (const t of results.filter((r) => !r.met)) {
    let plan = plans.find((p) => p.model === t.model && p.batch === t.batch);
    if (!plan) {
      plan = { model: t.model, batch: t.batch, engines: [] };
      plans.push(plan);
    }
    for (const e of ENGINES[t.target]) if (!plan.engines.includes(e)) plan.engines.push(e);
  }
  return plans;
}

const us = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** The top `top` layers as a text table, under a line with the request's time and the layers' sum. */
export function formatBreakdown(b: Breakdown, top = 10): string[] {
  const head =
    `${b.engine}, ${b.model} n=${b.batch}: request ${us(b.wallUs)} µs, layers ${us(b.layersUs)} µs ` +
    `(${b.layers.length} layers with time), outside layers ${us(b.wallUs - b.layersUs)} µs; top ${Math.min(top, b.layers.length)}:`;
  const rows = b.layers.slice(0, top).map((l) => {
    const share = b.wallUs > 0 ? `${((100 * l.us) / b.wallUs).toFixed(1)}%` : "";
    return `  ${us(l.us).padStart(8)} µs ${share.padStart(6)}  ${l.impl.padEnd(30)} ${l.type.padEnd(18)} ${l.name}`;
  });
  return [head, ...rows];
}
