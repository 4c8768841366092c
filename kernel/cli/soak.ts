/**
 * `npm run soak`: the soak and concurrency figures of issue 13, per device (CPU, and GPU when an
 * OpenCL device exists): RSS slope per 1,000 infers with setBatch cycling 1..8, RSS across
 * load/unload cycles, and K requests in flight (CPU and GPU together) against the same requests
 * run alone. Exit 1 when an in-flight result differs from its run alone or the RSS slope exceeds
 * --max-slope.
 */
import * as os from "os";
import * as path from "path";
import { IECore } from "../runtime/core";
import { loadGpuAddon } from "../plugins/native";
import {
  crossDeviceDiff,
  InFlight,
  loadCycles,
  LoadCycles,
  MAX_BATCH,
  prepareInFlight,
  rssSlope,
  RssSlope,
  runInFlight,
} from "../soak/measure";

const DEFAULT_MODEL = path.resolve(__dirname, "../../../models/open-closed-eye-0001/FP32/open-closed-eye-0001.xml");

const USAGE = `Usage: npm run soak -- [options]

Per device, on one model loaded with DYN_BATCH_ENABLED and a maximum batch of ${MAX_BATCH}:
  RSS slope     MiB per 1,000 infers (least squares) over --infers infers after a warm-up,
                setBatch cycling 1..${MAX_BATCH}
  load/unload   RSS before and after --cycles load + infer + release cycles, after
                --cycles-warmup such cycles (RSS is taken after a full GC when node runs
                with --expose-gc, as npm run soak does)
  in flight     --in-flight requests with different inputs and batches started together
                (on every device at once) vs each run alone: max |difference|, must be 0
and, with two devices, the largest CPU/GPU difference on the same inputs (for information).
GPU means the GPU plugin on an OpenCL device; pocl's CPU device counts (DYNBATCH_GPU_ALLOW_CPU=1
is set unless you set it); without any OpenCL device the GPU column is skipped with a line.

Options:
  --device CPU|GPU|both  devices to measure (default both)
  --infers N             infers of the RSS slope (default 20000)
  --cycles N             load/unload cycles (default 300)
  --cycles-warmup N      load/unload cycles before the first RSS reading (default 200)
  --in-flight K          requests in flight per device (default 32)
  --max-slope M          MiB per 1,000 infers above which the run fails (default 1)
  --model PATH           an .xml or .onnx model (default the FP32 open-closed-eye IR)
  --help                 this text

Exit status: 0 when every in-flight result equals its run alone and every slope is within
--max-slope, 1 otherwise, 2 for bad arguments.
`;

interface SoakArgs {
  devices: string[];
  infers: number;
  cycles: number;
  cyclesWarmup: number;
  inFlight: number;
  maxSlope: number;
  model: string;
}

function parseArgs(argv: string[]): SoakArgs | "help" {
  const a: SoakArgs = {
    devices: ["CPU", "GPU"],
    infers: 20000,
    cycles: 300,
    cyclesWarmup: 200,
    inFlight: 32,
    maxSlope: 1,
    model: DEFAULT_MODEL,
  };
  const positive = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[++i];
    if (flag === "--help") return "help";
    if (flag === "--device") {
      const d = (v ?? "").toUpperCase();
      if (d !== "CPU" && d !== "GPU" && d !== "BOTH") throw new Error(`--device must be CPU, GPU or both, got '${v}'`);
      a.devices = d === "BOTH" ? ["CPU", "GPU"] : [d];
    } else if (flag === "--infers") a.infers = Math.round(positive(flag, v));
    else if (flag === "--cycles") a.cycles = Math.round(positive(flag, v));
    else if (flag === "--cycles-warmup") a.cyclesWarmup = Math.round(positive(flag, v));
    else if (flag === "--in-flight") a.inFlight = Math.round(positive(flag, v));
    else if (flag === "--max-slope") a.maxSlope = positive(flag, v);
    else if (flag === "--model") a.model = path.resolve(v ?? "");
    else throw new Error(`unknown option '${flag}'`);
  }
  return a;
}

interface DeviceFigures {
  slope: RssSlope;
  cycles: LoadCycles;
  inFlightDiff: number;
}

function table(figs: Map<string, DeviceFigures>, a: SoakArgs): string {
  const devices = [...figs.keys()];
  const f = (fn: (d: DeviceFigures) => string) => devices.map((d) => fn(figs.get(d)!));
  const rows: string[][] = [
    ["", ...devices],
    [`RSS slope, MiB / 1,000 infers (${a.infers} infers)`, ...f((d) => d.slope.mibPer1000.toFixed(3))],
    ["RSS over the infers, MiB", ...f((d) => `${d.slope.rssStartMiB.toFixed(0)} -> ${d.slope.rssEndMiB.toFixed(0)}`)],
    [
      `RSS over ${a.cycles} load/unload cycles (after ${a.cyclesWarmup}), MiB`,
      ...f((d) => `${d.cycles.rssBeforeMiB.toFixed(0)} -> ${d.cycles.rssAfterMiB.toFixed(0)}`),
    ],
    [`${a.inFlight} in flight vs alone, max |diff|`, ...f((d) => String(d.inFlightDiff))],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")).join("\n");
}

async function main(): Promise<void> {
  let a: ReturnType<typeof parseArgs>;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (a === "help") {
    process.stdout.write(USAGE);
    return;
  }
  // pocl's CPU device is the OpenCL device of machines without a GPU; both must be set before OpenCL is first touched.
  process.env.DYNBATCH_GPU_ALLOW_CPU ??= "1";
  process.env.POCL_CACHE_DIR ??= path.join(os.tmpdir(), "dynbatch-pocl-cache");
  let devices = a.devices;
  if (devices.includes("GPU") && loadGpuAddon().gpuDevices().length === 0) {
    console.log("GPU: skipped, no OpenCL device on this machine (install pocl-opencl-icd to measure the GPU plugin on the CPU)");
    devices = devices.filter((d) => d !== "GPU");
  }
  if (devices.length === 0) return;
  const ie = new IECore();
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const sets: InFlight[] = [];
  const partial = new Map<string, Omit<DeviceFigures, "inFlightDiff">>();
  for (const d of devices) {
    log(`${d}: ${a.infers} infers...`);
    const slope = await rssSlope(ie, a.model, d, a.infers, Math.min(1000, a.infers));
    log(`${d}: ${a.cycles} load/unload cycles...`);
    const cycles = await loadCycles(ie, a.model, d, a.cycles, a.cyclesWarmup);
    sets.push(await prepareInFlight(ie, a.model, d, a.inFlight));
    partial.set(d, { slope, cycles });
  }
  log(`${a.inFlight} requests in flight on ${devices.join(" and ")} at once...`);
  const diffs = await runInFlight(sets);
  const figs = new Map(devices.map((d, i) => [d, { ...partial.get(d)!, inFlightDiff: diffs[i] }]));
  console.log(`model ${path.basename(a.model)}, ${os.cpus()[0]?.model ?? "unknown CPU"} (${os.cpus().length} threads)`);
  console.log(table(figs, a));
  if (sets.length === 2)
    console.log(`CPU vs GPU on the same inputs, max |diff|: ${crossDeviceDiff(sets[0], sets[1]).toExponential(2)}`);
  for (const [d, f] of figs) {
    const reasons = [
      ...(f.inFlightDiff !== 0 ? [`in-flight results differ from the runs alone (max |diff| ${f.inFlightDiff})`] : []),
      ...(f.slope.mibPer1000 > a.maxSlope
        ? [`RSS grows ${f.slope.mibPer1000.toFixed(3)} MiB / 1,000 infers (limit ${a.maxSlope})`]
        : []),
    ];
    if (reasons.length) {
      console.log(`FAIL ${d}: ${reasons.join("; ")}`);
      process.exitCode = 1;
    }
  }
}

void main();
