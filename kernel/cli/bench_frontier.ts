/**
 * `npm run bench -- --frontier`: issue 18's frontier on landmarks and head pose. Per model: the
 * latency-vs-batch curve (dynamic mode), then frontier() over every policy at multiples of the
 * rate where one request per sample saturates; printed as the frontier table, the simulator's
 * prediction beside each measurement with its error, and the issue's two targets met or missed.
 * Timings are the machine's of the moment: say how loaded it was when quoting them.
 */
import * as fs from "fs";
import { benchmark } from "../bench/benchmark";
import { frontier, FrontierOptions } from "../batching/frontier";
import { bestDispatch, frontierTargets, simulationErrors, verdict } from "../batching/frontier_check";
import { DISPATCH_POLICIES, DispatchPolicy } from "../batching/dispatch";
import { frontierText } from "../display/frontier";
import { num, textTable } from "../display/format";
import { IECore } from "../runtime/core";
import { FrontierReport, LatencyReport } from "../schema";
import { QueueingBound, queueingBound } from "../batching/bound";

export const FRONTIER_MODELS = ["landmarks-regression-retail-0009", "head-pose-estimation-adas-0001"];

/**
 * Full and --quick sizes: batch limit, load-test length and least samples per test (at 10% of
 * saturation a 1 s test had ~90 samples on head pose, so its p99 was its first sample), multiples
 * of saturation, time per cost point, samples per simulated stream of the queueing bound.
 */
const SIZES = {
  full: {
    limit: 16,
    durationMs: 1000,
    minSamples: 1000,
    loads: [0.1, 0.5, 1, 1.5, 1.75, 2, 2.25, 2.5, 3],
    pointMs: 1500,
    boundSamples: 20_000,
  },
  quick: { limit: 8, durationMs: 150, minSamples: 0, loads: [0.1, 1, 2, 3], pointMs: 200, boundSamples: 4000 },
};

export interface FrontierBenchArgs {
  /** [name, model file] pairs. */
  models: [string, string][];
  device: string;
  threads?: number;
  quick: boolean;
  json?: string;
}

/**
 * The simulator's error per policy: the mean |error| over its points at and below saturation
 * (where issue 18 asks within 15%), over all its points, and each point.
 */
export function simulatorTable(r: FrontierReport): string {
  const rows = simulationErrors(r);
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(0)}%`;
  const mean = (list: typeof rows, f: (e: (typeof rows)[number]) => number) =>
    list.length ? `${((100 * list.reduce((a, e) => a + Math.abs(f(e)), 0)) / list.length).toFixed(0)}%` : "";
  const byPolicy = [...new Set(rows.map((e) => e.policy))].map((policy) => {
    const mine = rows.filter((e) => e.policy === policy);
    const below = mine.filter((e) => r.saturation !== undefined && e.rate <= r.saturation * 1.001);
    return [
      policy,
      mean(below, (e) => e.throughput.error),
      mean(below, (e) => e.p50.error),
      mean(mine, (e) => e.throughput.error),
      mean(mine, (e) => e.p50.error),
      mine
        .map(
          (e) =>
            `${num(e.rate)}/s: p50 ${num(e.p50.simulated)} vs ${num(e.p50.measured)} ms (${pct(e.p50.error)}), ${num(e.throughput.simulated)} vs ${num(e.throughput.measured)}/s (${pct(e.throughput.error)})`,
        )
        .join("; "),
    ];
  });
  return textTable(
    ["policy", "≤ sat.: |thr. err|", "≤ sat.: |p50 err|", "all: |thr. err|", "all: |p50 err|", "per rate: simulated vs measured"],
    byPolicy,
  );
}

/** Runs the frontier bench; returns the exit code. */
export async function runFrontierBench(args: FrontierBenchArgs): Promise<number> {
  const size = args.quick ? SIZES.quick : SIZES.full;
  const ie = new IECore();
  const reports: FrontierReport[] = [];
  const batches = [1, 2, 4, 8, 16, 32].filter((n) => n <= size.limit);
  for (const [name, file] of args.models) {
    process.stderr.write(`${name}: latency-vs-batch curve (${batches.join(", ")})...\n`);
    const cost = await benchmark({
      model: file,
      name,
      device: args.device,
      batches,
      modes: ["dynamic"],
      threads: args.threads,
      timePerPointMs: size.pointMs,
      ie,
    });
    const net = await ie.readNetwork(file);
    net.batchSize = size.limit;
    const exec = await ie.loadNetwork(net, args.device, {
      DYN_BATCH_ENABLED: "YES",
      ...(args.threads ? { CPU_THREADS_NUM: String(args.threads) } : {}),
    });
    const opts: FrontierOptions = {
      name,
      loads: size.loads,
      durationMs: size.durationMs,
      minSamples: size.minSamples,
      cost,
      onProgress: (done, total) => {
        if (process.stderr.isTTY) process.stderr.write(`\r${name}: load test ${done}/${total}\x1b[K`);
        else if (done === total) process.stderr.write(`${name}: ${total} load tests done`);
      },
    };
    const r = await frontier(exec, opts);
    process.stderr.write("\n");
    reports.push(r);
    const lines = [
      frontierText(r),
      "",
      ...simulatorLines(r),
      "",
      ...targetLines(r, name),
      ...boundLines(r, cost, size.boundSamples),
      "",
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + "\n");
  return 0;
}

function simulatorLines(r: FrontierReport): string[] {
  return [
    `Simulator (simulateBatching on the curve above plus the batcher's own ${num(r.loneOverheadMs ?? 0)} ms for a batch of 1 ` +
      `to ${num(r.batchOverheadMs ?? 0)} ms for a full one, ${num(r.wakeMs ?? 0)} ms more for a batch that finds the request idle; ` +
      `no batching: ${num(r.plainOverheadMs ?? 0)} ms per sample back to back, ${num(r.plainWakeMs ?? 0)} ms more after a silence; ` +
      "all measured in this run; same arrivals) " +
      "against the measurement; issue 18 asks within 15% at and below saturation (printed, not asserted):",
    simulatorTable(r),
  ];
}

/**
 * Issue 18's targets at maxDelay 1 ms for every dispatch policy the report has; each target is
 * judged on the policy that does best at it (target 1: sustains the most, target 2: the lower
 * light-load p50, bestDispatch), which the lines name.
 */
function targetLines(r: FrontierReport, name: string): string[] {
  const series = (d: DispatchPolicy) =>
    r.series.find((s) => s.kind === "batcher" && s.maxDelayUs === 1000 && (s.dispatch ?? "deadline") === d);
  const byDispatch = DISPATCH_POLICIES.filter((d) => series(d)).map((d) => ({ d, targets: frontierTargets(r, 1000, d) }));
  if (byDispatch.length === 0) byDispatch.push({ d: "deadline", targets: frontierTargets(r, 1000) });
  const sustains = (d: DispatchPolicy) => series(d)?.sustained?.rate ?? -1;
  const judged1 = byDispatch.reduce((a, b) => (sustains(b.d) > sustains(a.d) ? b : a)).d;
  const judged2 = byDispatch.some((x) => x.d === bestDispatch(r, 1000)) ? bestDispatch(r, 1000) : byDispatch[0].d;
  const judged = [judged1, judged2];
  const met = judged.filter((d, i) => byDispatch.find((x) => x.d === d)!.targets[i].met).length;
  return [
    `Targets (issue 18): ${met} of 2 met. Target 1 is judged on the sustained throughput (the table above) of maxDelay 1 ms ` +
      "against the closed-loop saturation of one request per sample; target 2 at the lowest rate (10% of saturation) on p50. " +
      `Each is shown for every dispatch policy at 1 ms and judged on the better one: target 1 on ${judged1}, target 2 on ${judged2}.`,
    ...[0, 1].flatMap((i) =>
      byDispatch.map(({ d, targets }) => {
        const t = targets[i];
        const tag = d === judged[i] ? verdict(t) : `(${verdict(t)})`;
        return `${tag.padEnd(8)}  ${name}: ${t.target}: ${t.detail}`;
      }),
    ),
  ];
}

/**
 * Whether target 1 is reachable on this machine at all: queueingBound() on the curve with no
 * batcher overhead (the best any batcher can do) and with the overhead measured in this run.
 */
function boundLines(r: FrontierReport, cost: LatencyReport, samples: number): string[] {
  if (!r.saturation || r.batchLatencyMs === undefined) return [];
  const sat = r.saturation;
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const policy = (b: QueueingBound) => `maxDelay ${b.policy.maxDelayUs / 1000} ms, ${b.policy.dispatch}`;
  const best = queueingBound(cost, { limit: r.limit, saturation: sat, samples });
  const real = queueingBound(cost, {
    limit: r.limit,
    saturation: sat,
    samples,
    overheadMs: r.batchOverheadMs,
    loneOverheadMs: r.loneOverheadMs,
  });
  return [
    `Queueing bound (simulator, ${num(samples)} Poisson arrivals per rate): batches of ${r.limit} serve at most ` +
      `${num(best.capacity)}/s = ${num(best.capacity / sat)}× saturation; at 2× saturation such a server is ${pct(best.utilizationAt2x)} busy. ` +
      `Held to p99 ≤ ${num(best.boundMs)} ms (1 ms + 2× the batch latency), the best policy (${policy(best)}) keeps up to ` +
      `${num(best.rate)}/s = ${num(best.rate / sat)}× saturation (${pct(best.utilization)} busy) with no batcher overhead, ` +
      `${num(real.rate)}/s = ${num(real.rate / sat)}× (${policy(real)}) with this run's overhead. ` +
      `Target 1 (2× saturation) is ${best.reachable ? "reachable" : "not reachable"} on this machine by any batcher` +
      `${best.reachable ? (real.reachable ? ", and by this one's overhead" : ", but not with this batcher's overhead") : ""}.`,
  ];
}
