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
  full: { limit: 16, durationMs: 1000, loads: [0.1, 0.5, 1, 2, 3], pointMs: 1500 },
  quick: { limit: 8, durationMs: 150, loads: [0.1, 1, 3], pointMs: 200 },
};

export interface FrontierBenchArgs {
  /** [name, model file] pairs. */
  models: [string, string][];
  device: string;
  threads?: number;
  quick: boolean;
  json?: string;
}

/** The simulator's error per policy: the mean |error| over its points, and the worst point. */
export function simulatorTable(r: FrontierReport): string {
  const rows = simulationErrors(r);
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(0)}%`;
  const byPolicy = [...new Set(rows.map((e) => e.policy))].map((policy) => {
    const mine = rows.filter((e) => e.policy === policy);
    const mean = (f: (e: (typeof rows)[number]) => number) => mine.reduce((a, e) => a + Math.abs(f(e)), 0) / mine.length;
    return [
      policy,
      `${(100 * mean((e) => e.throughput.error)).toFixed(0)}%`,
      `${(100 * mean((e) => e.p50.error)).toFixed(0)}%`,
      mine
        .map(
          (e) =>
            `${num(e.rate)}/s: p50 ${num(e.p50.simulated)} vs ${num(e.p50.measured)} ms (${pct(e.p50.error)}), ${num(e.throughput.simulated)} vs ${num(e.throughput.measured)}/s (${pct(e.throughput.error)})`,
        )
        .join("; "),
    ];
  });
  return textTable(["policy", "mean |throughput err|", "mean |p50 err|", "per rate: simulated vs measured"], byPolicy);
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
      "Simulator (simulateBatching on the curve above, same arrivals) against the measurement; issue 18 asks within 15%:",
      simulatorTable(r),
      "",
      `Targets (issue 18): ${targets.filter((t) => t.met).length} of ${targets.length} met`,
      ...targets.map((t) => `${verdict(t).padEnd(6)}  ${name}: ${t.target}: ${t.detail}`),
      "",
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + "\n");
  return 0;
}
