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
import { frontierTargets, simulationErrors, verdict } from "../batching/frontier_check";
import { frontierText } from "../display/frontier";
import { num, textTable } from "../display/format";
import { IECore } from "../runtime/core";
import { FrontierReport } from "../schema";

export const FRONTIER_MODELS = ["landmarks-regression-retail-0009", "head-pose-estimation-adas-0001"];

/** Full and --quick sizes: batch limit, load-test length, multiples of saturation, time per cost point. */
const SIZES = {
  full: { limit: 16, durationMs: 1000, loads: [0.1, 0.5, 1, 1.5, 1.75, 2, 2.25, 2.5, 3], pointMs: 1500 },
  quick: { limit: 8, durationMs: 150, loads: [0.1, 1, 2, 3], pointMs: 200 },
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
      cost,
      onProgress: (done, total) => {
        if (process.stderr.isTTY) process.stderr.write(`\r${name}: load test ${done}/${total}\x1b[K`);
        else if (done === total) process.stderr.write(`${name}: ${total} load tests done`);
      },
    };
    const r = await frontier(exec, opts);
    process.stderr.write("\n");
    reports.push(r);
    const targets = frontierTargets(r, 1000);
    const lines = [
      frontierText(r),
      "",
      `Simulator (simulateBatching on the curve above plus the batcher's own ${num(r.loneOverheadMs ?? 0)} ms for a batch of 1 ` +
        `to ${num(r.batchOverheadMs ?? 0)} ms for a full one, same arrivals) ` +
        "against the measurement; issue 18 asks within 15% at and below saturation (printed, not asserted):",
      simulatorTable(r),
      "",
      `Targets (issue 18): ${targets.filter((t) => t.met).length} of ${targets.length} met. Target 1 is judged on the sustained ` +
        "throughput (the table above) of maxDelay 1 ms against the closed-loop saturation of one request per sample; " +
        "target 2 at the lowest rate (10% of saturation) on p50.",
      ...targets.map((t) => `${verdict(t).padEnd(6)}  ${name}: ${t.target}: ${t.detail}`),
      "",
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + "\n");
  return 0;
}
