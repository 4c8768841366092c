/**
 * `npm run bench`: latency and throughput against the batch for every bundled model and the
 * generated ResNet-18- and MobileNetV2-shaped classifiers: dynbatch dynamic, static, a batch-1
 * loop and onnxruntime-node, interleaved point by point, with the machine's FP32 peak; outputs
 * checked against onnxruntime at every point, and the targets of issue 12 judged at the end.
 * `--isa` reruns the whole bench in a child process with oneDNN capped to that ISA.
 * Progress goes to stderr, the table to stdout.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DynbatchError, InputError } from "../errors";
import { IECore } from "../runtime/core";
import { LatencyReport } from "../schema";
import {
  benchmark,
  BenchProgress,
  DEFAULT_BATCHES,
  DEFAULT_MIN_RUNS,
  DEFAULT_TIME_PER_POINT_MS,
  DEFAULT_WARMUP_MS,
} from "../bench/benchmark";
import { ISA_VALUES, parseIsa } from "../bench/isa";
import { GENERATED_MODELS, generatedModelPath } from "../bench/models";
import { ORT_TOLERANCE } from "../bench/oracle";
import { measurePeakGflops, PEAK_RUN_MS } from "../bench/peak";
import { formatTable, machineInfo, toMarkdown } from "../bench/report";
import { checkTargets, formatTargets, TargetResult } from "../bench/targets";
import { Breakdown, dynbatchBreakdown, formatBreakdown, ortBreakdown, planBreakdowns } from "../bench/breakdown";
import { loadAddon } from "../plugins/native";
import { FRONTIER_MODELS, runFrontierBench } from "./bench_frontier";
import { benchNetworks, INT8_ORT_TOLERANCE, parsePrecision, Precision } from "./int8";
import { compareSpeed, formatSpeed } from "../int8/speed";
import { DEFAULT_VIDEO } from "./video";

const ROOT = path.resolve(__dirname, "../../..");
const MODELS_DIR = path.join(ROOT, "models");

/** --quick: a CI-size run, a tenth of the default time boxes. */
const QUICK = { batches: [1, 2, 4], timePerPointMs: 300, minRuns: 3, warmupMs: 20, peakMs: 50 };

const USAGE = `Usage: npm run bench -- [options]

Measures, for each model and batch n, with warm-up and repetitions until the median settles:
  dynamic  one network loaded with the largest batch and DYN_BATCH_ENABLED, setBatch(n)
  static   the network compiled for batch n
  loop     n batch-1 requests in sequence
  ORT      onnxruntime-node on the same model as ONNX (intra-op threads = --threads)
and prints p50/p90 latency, throughput, GFLOP/s, the fraction of the measured FP32 peak, the
ratios dynamic/static, dynbatch/ORT and batched/loop, and the error against ORT: before a point
is timed, the outputs of its dynamic and static requests are compared with ORT's on the same
inputs, and an error above ${ORT_TOLERANCE} (max |dynbatch - ORT| / max |ORT|) fails the run (exit 1).
At the end, each target of issue 12 is reported met or missed with its number.

Options:
  --model NAME|PATH   a bundled model (models/NAME), a generated one (${Object.keys(GENERATED_MODELS).join(", ")})
                      or an .xml/.onnx file; repeatable (default: all bundled and generated models)
  --batches LIST      comma-separated batches (default ${DEFAULT_BATCHES.join(",")})
  --device NAME       device to load on (default CPU)
  --threads N         threads of each engine (default: every hardware thread)
  --isa NAME          rerun the whole bench in a child process with ONEDNN_MAX_CPU_ISA=NAME (oneDNN's
                      ISA cap, named in the header): ${ISA_VALUES.slice(0, 5).join(", ")},
                      ${ISA_VALUES.slice(5, -1).join(", ")} or ${ISA_VALUES.at(-1)}, any case
  --time MS           time box of one point, all modes together (default ${DEFAULT_TIME_PER_POINT_MS}; --quick ${QUICK.timePerPointMs})
  --json FILE         write the LatencyReport as JSON (an array of them for several models)
  --markdown FILE     write the tables as markdown with machine, ISA, date, method and targets
  --quick             CI-size run: batches ${QUICK.batches.join(",")}, short time boxes
  --frontier          issue 18's frontier instead (default models ${FRONTIER_MODELS.join(", ")}): every
                      batching policy (maxDelay 0-5 ms, no batching) under Poisson loads from 0.1× to
                      3× the rate where one request per sample saturates, finer between 1.5× and 2.5×;
                      throughput vs p99, each policy's sustained throughput (the highest load it keeps
                      up with at p99 ≤ maxDelay + 2× the batch's latency), the simulator's prediction
                      beside each measurement, and issue 18's targets (--json writes the
                      FrontierReports; --quick for a short run)
  --precision P       fp32 (default) or int8: measure each model quantized (the cascade's on frames and
                      crops of media/faces.mp4, others on random inputs; ORT runs the QDQ export, checked
                      within ${INT8_ORT_TOLERANCE}), then FP32 against INT8 interleaved at every batch
  --no-breakdown      skip the per-layer breakdowns printed for every missed target (dynbatch's
                      performance counters and onnxruntime's own profiler, top 10 layers each;
                      skipped by --quick)
  --help              this text
`;

export interface BenchArgs {
  models: string[];
  batches?: number[];
  device: string;
  threads?: number;
  /** oneDNN ISA cap for a child run, upper case. */
  isa?: string;
  timeMs?: number;
  json?: string;
  markdown?: string;
  quick: boolean;
  frontier: boolean;
  help: boolean;
  precision?: Precision;
  /** Profile every missed target layer by layer after the run. */
  breakdown: boolean;
}

/** Parses the command line (the arguments after the script). */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const a: BenchArgs = { models: [], device: "CPU", quick: false, frontier: false, help: false, breakdown: true };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new InputError(`${flag} needs a value`);
    return v;
  };
  const positive = (s: string, flag: string): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`${flag} expects a positive integer, got '${s}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case "--model":
        a.models.push(value(i++, flag));
        break;
      case "--batches":
        a.batches = value(i++, flag)
          .split(",")
          .map((s) => positive(s.trim(), flag));
        break;
      case "--device":
        a.device = value(i++, flag);
        break;
      case "--threads":
        a.threads = positive(value(i++, flag), flag);
        break;
      case "--isa": {
        const v = value(i++, flag);
        a.isa = parseIsa(v);
        if (!a.isa) throw new InputError(`--isa expects one of ${ISA_VALUES.join(", ")} (any case), got '${v}'`);
        break;
      }
      case "--time":
        a.timeMs = positive(value(i++, flag), flag);
        break;
      case "--json":
        a.json = value(i++, flag);
        break;
      case "--markdown":
        a.markdown = value(i++, flag);
        break;
      case "--quick":
        a.quick = true;
        break;
      case "--frontier":
        a.frontier = true;
        break;
      case "--precision":
        a.precision = parsePrecision(value(i++, flag));
        break;
      case "--no-breakdown":
        a.breakdown = false;
        break;
      case "--help":
      case "-h":
        a.help = true;
        break;
      default:
        throw new InputError(`unknown option '${flag}'`);
    }
  }
  return a;
}

/** Bundled models: models/<name>/FP16/<name>.xml (FP32 or ONNX when there is no FP16). */
function bundledModels(): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(MODELS_DIR)) return out;
  for (const name of fs.readdirSync(MODELS_DIR).sort()) {
    const candidates = [path.join(MODELS_DIR, name, "FP16", `${name}.xml`), path.join(MODELS_DIR, name, "FP32", `${name}.xml`)];
    const file = candidates.find((f) => fs.existsSync(f));
    if (file) out[name] = file;
  }
  return out;
}

/** NAME|PATH → [report name, file]. */
function resolveModel(spec: string, bundled: Record<string, string>): [string, string] {
  if (bundled[spec]) return [spec, bundled[spec]];
  if (GENERATED_MODELS[spec]) return [spec, generatedModelPath(spec)];
  if (fs.existsSync(spec)) return [path.basename(spec).replace(/\.(xml|onnx)$/i, ""), spec];
  throw new InputError(
    `unknown model '${spec}': not a file, a bundled model (${Object.keys(bundled).join(", ")}) ` +
      `or a generated one (${Object.keys(GENERATED_MODELS).join(", ")})`,
  );
}

/** argv without its `--isa VALUE` pairs: the child run takes the ISA from its environment. */
function withoutIsa(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--isa") i++;
    else out.push(argv[i]);
  }
  return out;
}

function methodText(batches: number[], timeMs: number, threads: number, isa: string): string {
  return (
    `Method: \`npm run bench\` (kernel/cli/bench.ts). For each model and n in ${batches.join(", ")}, four contenders run ` +
    `in rounds, one request each per round in a shuffled order, so they share the machine's noise and none always ` +
    `follows the same one: ` +
    `dynbatch dynamic (one network loaded with batchSize ${Math.max(...batches)} and DYN_BATCH_ENABLED, setBatch(n)), ` +
    `dynbatch static (loaded with batchSize n), a loop of n batch-1 requests, and onnxruntime-node on the same model ` +
    `as ONNX (bundled IR exported by \`CNNNetwork.serialize\`, batch axis symbolic; intraOpNumThreads ${threads}, ` +
    `session.force_spinning_stop=1 so its idle threads do not spin into the next contender). dynbatch runs with ` +
    `CPU_THREADS_NUM ${threads}. A request's time includes setting its inputs. Each contender warms up (at least 20 requests or 2 s: dynbatch chooses how to spread a run over the threads on its first runs at a batch), then rounds ` +
    `repeat until the medians settle (median of all samples within 1% of that of the first 80%) or ${timeMs} ms per point. ` +
    `GFLOP/s counts 2 FLOPs per multiply-add of convolutions and matmuls at the median latency; "% peak" divides by the ` +
    `FMA microbenchmark (native/src/peak.cc, AVX2/AVX-512 FMAs on ${threads} threads, best of 3, before and after the ` +
    `run, the higher kept; with the widest vectors oneDNN may use). oneDNN's ISA: ${isa}. Ratios use medians: ` +
    `dyn/static and dyn/ORT are latency ratios (lower is better; face detection runs static, as its topology ` +
    `cannot use a dynamic batch), batched/loop is the throughput gain over n batch-1 requests. Before each point is ` +
    `timed, the dynamic and static requests' outputs are compared with onnxruntime's on the same inputs (uniform in ` +
    `[0, 255): on the timed [0, 1) inputs some networks give every sample the same output); "err vs ORT" ` +
    `is the largest max |dynbatch − ORT| / max |ORT| over the outputs, and above ${ORT_TOLERANCE} the run fails. ` +
    `The targets of issue 12 are judged on the medians of this run (kernel/bench/targets.ts). ` +
    `ResNet-18- and MobileNetV2-shaped models are generated with random weights (kernel/bench/models.ts).`
  );
}

function progressBar(p: BenchProgress, modelIndex: number, models: number): string {
  const width = 30;
  const fraction = Math.min(1, (modelIndex + p.done / p.total) / models);
  const filled = Math.round(fraction * width);
  const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
  return `\r[${bar}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${p.model} n=${p.batch} ${p.phase}\x1b[K`;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    process.stderr.write(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.isa) {
    // oneDNN reads the cap once, at its first dispatch, and this process may have dispatched already: a fresh one is capped for sure.
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, ...withoutIsa(argv)], {
      stdio: "inherit",
      env: { ...process.env, ONEDNN_MAX_CPU_ISA: args.isa },
    });
    if (child.error) throw child.error;
    return child.status ?? 1;
  }
  const bundled = bundledModels();
  let models: [string, string][];
  try {
    const all = args.frontier ? FRONTIER_MODELS : [...Object.keys(bundled), ...Object.keys(GENERATED_MODELS)];
    const specs = args.models.length ? args.models : all;
    models = specs.map((s) => resolveModel(s, bundled));
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  if (args.frontier)
    return runFrontierBench({ models, device: args.device, threads: args.threads, quick: args.quick, json: args.json });
  const batches = args.batches ?? (args.quick ? [...QUICK.batches] : [...DEFAULT_BATCHES]);
  const timeMs = args.timeMs ?? (args.quick ? QUICK.timePerPointMs : DEFAULT_TIME_PER_POINT_MS);
  const threads = args.threads ?? loadAddon().hardwareConcurrency();
  const tty = process.stderr.isTTY;
  const machine = machineInfo();
  const isa = machine.isa;

  process.stderr.write(`oneDNN ISA ${isa}. Measuring the FP32 peak (${threads} threads)...\n`);
  const peakMs = args.quick ? QUICK.peakMs : PEAK_RUN_MS;
  const peakBefore = measurePeakGflops(threads, peakMs);
  const ie = new IECore();
  const reports: LatencyReport[] = [];
  const int8 =
    args.precision === "int8"
      ? await benchNetworks(ie, models, {
          video: DEFAULT_VIDEO,
          frames: args.quick ? 6 : 24,
          log: (l) => process.stderr.write(`${l}\n`),
        })
      : undefined;
  for (const [i, [name, file]] of models.entries()) {
    let last = "";
    const report = await benchmark({
      model: int8?.get(name)?.int8 ?? file,
      name: int8 ? `${name} INT8` : name,
      ...(int8 ? { tolerance: INT8_ORT_TOLERANCE } : {}),
      device: args.device,
      batches,
      threads,
      timePerPointMs: timeMs,
      minRuns: args.quick ? QUICK.minRuns : DEFAULT_MIN_RUNS,
      warmupMs: args.quick ? QUICK.warmupMs : DEFAULT_WARMUP_MS,
      peakGflops: peakBefore,
      ie,
      onProgress: (p) => {
        // Without a terminal, one line per point instead of a redrawn bar.
        if (tty) process.stderr.write(progressBar(p, i, models.length));
        else if (p.phase === "load" && `${p.model}:${p.batch}` !== last) {
          last = `${p.model}:${p.batch}`;
          process.stderr.write(`${p.model} n=${p.batch}\n`);
        }
      },
    });
    reports.push(report);
  }
  if (tty) process.stderr.write("\r\x1b[K");
  // The peak is measured around the run and the higher value kept: a busy moment only lowers it.
  const peak = Math.max(peakBefore, measurePeakGflops(threads, peakMs));
  for (const r of reports) r.peakGflops = peak;

  const header = [
    `${machine.cpu}, ${machine.cores} hardware threads; oneDNN ${machine.onednn}, ISA ${isa}`,
    `FP32 peak (FMA microbenchmark, ${threads} threads): ${peak.toFixed(1)} GFLOP/s`,
  ];
  const results = checkTargets(reports, peak);
  const targets = formatTargets(results);
  process.stdout.write(`${header.join("\n")}\n\n${formatTable(reports)}\n\n${targets.join("\n")}\n`);
  const breakdowns =
    args.breakdown && !args.quick && !int8
      ? await missedBreakdowns(ie, results, models, { device: args.device, threads, maxBatch: Math.max(...batches) })
      : [];
  if (int8) {
    process.stdout.write(`\nFP32 against INT8, interleaved (ratios: the machine's load slows both alike), ISA ${isa}:\n`);
    for (const [name, nets] of int8) {
      const points = await compareSpeed(ie, nets.fp32, nets.int8, name.startsWith("face-detection") ? [1] : batches);
      process.stdout.write(`${formatSpeed(name, points)}\n`);
    }
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + "\n");
  if (args.markdown)
    fs.writeFileSync(
      args.markdown,
      toMarkdown(reports, machine, methodText(batches, timeMs, threads, machine.isa)) + breakdownMarkdown(breakdowns),
    );
  return 0;
}

/** Profiles every model and batch of a missed target with the engines that explain it, printing each table as it comes. */
async function missedBreakdowns(
  ie: IECore,
  results: readonly TargetResult[],
  models: readonly [string, string][],
  o: { device: string; threads: number; maxBatch: number },
): Promise<Breakdown[]> {
  const plans = planBreakdowns(results);
  if (plans.length)
    process.stdout.write(
      `\nWhere the missed targets spend their time (per-layer medians of 30 runs; onnxruntime's from its own ` +
        `profiler, which slows its request by a few percent):\n`,
    );
  const out: Breakdown[] = [];
  for (const plan of plans) {
    const file = models.find(([name]) => name === plan.model)?.[1];
    if (!file) continue;
    const opts = { model: plan.model, file, batch: plan.batch, threads: o.threads, device: o.device };
    for (const engine of plan.engines) {
      const b =
        engine === "onnxruntime"
          ? await ortBreakdown(ie, opts)
          : await dynbatchBreakdown(ie, opts, engine === "dynbatch dynamic" ? o.maxBatch : undefined);
      if (!b) continue;
      out.push(b);
      process.stdout.write(`\n${formatBreakdown(b).join("\n")}\n`);
    }
  }
  return out;
}

function breakdownMarkdown(breakdowns: readonly Breakdown[]): string {
  if (breakdowns.length === 0) return "";
  const blocks = breakdowns.map((b) => ["```", ...formatBreakdown(b), "```"].join("\n"));
  return `\n### Where the missed targets spend their time\n\n${blocks.join("\n\n")}\n`;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      // A typed error (unknown device, bad model) is the user's to fix: its message says what; anything else is a bug.
      const text =
        e instanceof DynbatchError ? `${e.name}: ${e.message}` : e instanceof Error ? (e.stack ?? e.message) : String(e);
      process.stderr.write(`\n${text}\n`);
      process.exit(1);
    },
  );
}
