/**
 * LatencyReports as text: a table per model (stdout of `npm run bench`), and the same as markdown
 * for the README with the machine, ISA, method and the targets of issue 12 (targets.ts).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LatencyMode, LatencyPoint, LatencyReport } from "../schema";
import { loadAddon } from "../plugins/native";
import { isaInEffect } from "./isa";
import { checkTargets, formatTargets } from "./targets";

export interface MachineInfo {
  cpu: string;
  /** Hardware threads. */
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  onednn: string;
  /** The ISA oneDNN dispatches to, with its ONEDNN_MAX_CPU_ISA cap when set (see isaInEffect). */
  isa: string;
  /** onnxruntime-node version, when installed. */
  ort?: string;
}

/** The CPU model from /proc/cpuinfo (os.cpus() elsewhere), thread count, memory and library versions. */
export function machineInfo(): MachineInfo {
  let cpu = os.cpus()[0]?.model ?? "unknown CPU";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpu = m[1].trim();
  } catch {
    // Not Linux: os.cpus() already named the model.
  }
  let ort: string | undefined;
  try {
    const main = require.resolve("onnxruntime-node");
    ort = JSON.parse(fs.readFileSync(path.join(path.dirname(main), "..", "package.json"), "utf8")).version;
  } catch {
    ort = undefined;
  }
  return {
    cpu,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    onednn: loadAddon().dnnlVersion(),
    isa: isaInEffect(),
    ort,
  };
}

interface Row {
  n: number;
  by: Partial<Record<LatencyMode, LatencyPoint>>;
  /** dynbatch's own best batched point: dynamic when it ran, else static. */
  ours?: LatencyPoint;
}

function rows(r: LatencyReport): Row[] {
  const batches = [...new Set(r.points.map((p) => p.batch))];
  return batches.map((n) => {
    const by: Row["by"] = {};
    for (const p of r.points) if (p.batch === n) by[p.mode] = p;
    return { n, by, ours: by.dynamic ?? by.static };
  });
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const ratio = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(2));
function lat(p: LatencyPoint | undefined, withP90 = true): string {
  if (!p) return "—";
  return withP90 ? `${ms(p.latencyMs.p50)} (${ms(p.latencyMs.p90)})` : ms(p.latencyMs.p50);
}

const HEADER = [
  "n",
  "dynamic p50 (p90) ms",
  "static p50 (p90) ms",
  "loop p50 ms",
  "ORT p50 (p90) ms",
  "samples/s",
  "GFLOP/s",
  "% peak",
  "ORT GFLOP/s",
  "dyn/static",
  "dyn/ORT",
  "batched/loop",
  "err vs ORT",
];

/** The worst error against onnxruntime of dynbatch's points at one batch, "—" when none was checked. */
function errorCell(row: Row): string {
  const errs = Object.values(row.by).flatMap((p) => (p?.maxErrorVsOrt === undefined ? [] : [p.maxErrorVsOrt]));
  return errs.length ? Math.max(...errs).toExponential(1) : "—";
}

function cells(r: LatencyReport, row: Row): string[] {
  const { by, ours } = row;
  const peak = r.peakGflops;
  const pct = (p: LatencyPoint | undefined) =>
    p?.gflops !== undefined && peak ? `${((100 * p.gflops) / peak).toFixed(0)}%` : "—";
  return [
    String(row.n),
    lat(by.dynamic),
    lat(by.static),
    lat(by.loop, false),
    lat(by.ort),
    ours ? ours.throughput.toFixed(0) : "—",
    ours?.gflops !== undefined ? ours.gflops.toFixed(1) : "—",
    pct(ours),
    by.ort?.gflops !== undefined ? by.ort.gflops.toFixed(1) : "—",
    ratio(by.dynamic && by.static ? by.dynamic.latencyMs.p50 / by.static.latencyMs.p50 : undefined),
    ratio(ours && by.ort ? ours.latencyMs.p50 / by.ort.latencyMs.p50 : undefined),
    ratio(ours && by.loop ? by.loop.latencyMs.p50 / ours.latencyMs.p50 : undefined),
    errorCell(row),
  ];
}

function title(r: LatencyReport): string {
  const parts = [
    r.gflopPerSample !== undefined ? `${r.gflopPerSample.toFixed(3)} GFLOP/sample` : "",
    r.threads !== undefined ? `${r.threads} threads` : "",
    r.peakGflops !== undefined ? `peak ${r.peakGflops.toFixed(0)} GFLOP/s` : "",
  ].filter(Boolean);
  return `${r.model} on ${r.device}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

/** Under a model's table: the worst error against onnxruntime, and each mode that did not run and why. */
function notes(r: LatencyReport): string[] {
  const lines: string[] = [];
  let worst: LatencyPoint | undefined;
  for (const p of r.points) if (p.maxErrorVsOrt !== undefined && (!worst || p.maxErrorVsOrt > worst.maxErrorVsOrt!)) worst = p;
  if (worst) {
    lines.push(
      `outputs vs onnxruntime (max |dynbatch − ORT| / max |ORT|, every batched point): worst ${worst.maxErrorVsOrt!.toExponential(1)} ` +
        `at n=${worst.batch} ${worst.mode}`,
    );
  }
  for (const s of r.skipped ?? []) lines.push(`${s.mode} not measured: ${s.reason}`);
  return lines;
}

/** Plain-text tables, one per report, with its notes under each. */
export function formatTable(reports: readonly LatencyReport[]): string {
  return reports
    .map((r) => {
      const body = [HEADER, ...rows(r).map((row) => cells(r, row))];
      const widths = HEADER.map((_, c) => Math.max(...body.map((line) => line[c].length)));
      const text = body.map((line) =>
        line
          .map((v, c) => (c === 0 ? v.padStart(widths[c]) : v.padEnd(widths[c])))
          .join("  ")
          .trimEnd(),
      );
      return [title(r), ...text, ...notes(r).map((l) => `  ${l}`)].join("\n");
    })
    .join("\n\n");
}

/** A README section: machine, ISA, date, method, a table per report with its notes, and the targets. */
export function toMarkdown(reports: readonly LatencyReport[], machine: MachineInfo, method: string): string {
  const date = reports[0]?.date ?? new Date().toISOString();
  const peak = reports.find((r) => r.peakGflops !== undefined)?.peakGflops;
  const out = [
    `Measured ${date.slice(0, 10)} on ${machine.cpu}, ${machine.cores} hardware threads, ${machine.memoryGiB} GiB, ${machine.os}; ` +
      `Node ${machine.node}, oneDNN ${machine.onednn} (ISA: ${machine.isa})${machine.ort ? `, onnxruntime-node ${machine.ort}` : ""}.` +
      (peak !== undefined ? ` FP32 peak from the FMA microbenchmark of the same run: ${peak.toFixed(0)} GFLOP/s.` : ""),
    "",
    method,
  ];
  for (const r of reports) {
    out.push("", `#### ${title(r)}`, "", `| ${HEADER.join(" | ")} |`, `|${HEADER.map(() => "---").join("|")}|`);
    for (const row of rows(r)) out.push(`| ${cells(r, row).join(" | ")} |`);
    const n = notes(r);
    if (n.length) out.push("", ...n.map((l) => `- ${l}`));
  }
  const [heading, ...targets] = formatTargets(checkTargets(reports, peak));
  out.push("", `#### ${heading}`);
  if (targets.length) out.push("", ...targets.map((l) => `- ${l}`));
  return out.join("\n") + "\n";
}
