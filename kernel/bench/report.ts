/**
 * LatencyReports as text: a table per model (stdout of `npm run bench`), the same as markdown for
 * the README with the machine and method, and the issue's targets checked against the ratios.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LatencyMode, LatencyPoint, LatencyReport } from "../schema";
import { loadAddon } from "../plugins/cpu/native";

export interface MachineInfo {
  cpu: string;
  /** Hardware threads. */
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  onednn: string;
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
    ort,
  };
}

/** Latency ratio targets of the performance issue: dynbatch vs ORT per model (default 0.8), dynamic vs static. */
export const TARGETS = {
  ortRatio: { "resnet18-shaped": 0.95 } as Record<string, number>,
  defaultOrtRatio: 0.8,
  dynamicOverStatic: 1.05,
  /** Batched throughput over the batch-1 loop at n = 16 on landmarks-regression-retail-0009. */
  batchedOverLoop: { model: "landmarks-regression-retail-0009", batch: 16, min: 2 },
};

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
];

function cells(r: LatencyReport, row: Row): string[] {
  const { by, ours } = row;
  const peak = r.peakGflops;
  const pct = (p: LatencyPoint | undefined) => (p?.gflops !== undefined && peak ? `${((100 * p.gflops) / peak).toFixed(0)}%` : "—");
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

/** The issue's targets checked on one report: one line per target that applies. */
export function targetLines(r: LatencyReport): string[] {
  const lines: string[] = [];
  const rs = rows(r);
  const worst = (f: (row: Row) => number | undefined) => {
    let best: { v: number; n: number } | undefined;
    for (const row of rs) {
      const v = f(row);
      if (v !== undefined && (!best || v > best.v)) best = { v, n: row.n };
    }
    return best;
  };
  const mark = (ok: boolean) => (ok ? "met" : "missed");
  const ds = worst((row) => (row.by.dynamic && row.by.static ? row.by.dynamic.latencyMs.p50 / row.by.static.latencyMs.p50 : undefined));
  if (ds) {
    const t = TARGETS.dynamicOverStatic;
    lines.push(`dynamic/static ≤ ${t} at every n: worst ${ds.v.toFixed(2)} at n=${ds.n} — ${mark(ds.v <= t)}`);
  }
  const dort = worst((row) => (row.ours && row.by.ort ? row.ours.latencyMs.p50 / row.by.ort.latencyMs.p50 : undefined));
  if (dort) {
    const t = TARGETS.ortRatio[r.model] ?? TARGETS.defaultOrtRatio;
    lines.push(`dynbatch/ORT latency ≤ ${t} at every n: worst ${dort.v.toFixed(2)} at n=${dort.n} — ${mark(dort.v <= t)}`);
  }
  const bl = TARGETS.batchedOverLoop;
  const row = rs.find((x) => x.n === bl.batch);
  if (r.model === bl.model && row?.ours && row.by.loop) {
    const v = row.by.loop.latencyMs.p50 / row.ours.latencyMs.p50;
    lines.push(`batched/loop throughput at n=${bl.batch} ≥ ${bl.min}: ${v.toFixed(2)} — ${mark(v >= bl.min)}`);
  }
  for (const s of r.skipped ?? []) lines.push(`${s.mode} not measured: ${s.reason}`);
  return lines;
}

/** Plain-text tables, one per report, with the targets under each. */
export function formatTable(reports: readonly LatencyReport[]): string {
  return reports
    .map((r) => {
      const body = [HEADER, ...rows(r).map((row) => cells(r, row))];
      const widths = HEADER.map((_, c) => Math.max(...body.map((line) => line[c].length)));
      const text = body.map((line) => line.map((v, c) => (c === 0 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join("  ").trimEnd());
      return [title(r), ...text, ...targetLines(r).map((l) => `  ${l}`)].join("\n");
    })
    .join("\n\n");
}

/** A README section: machine, date, method, a table per report and the targets. */
export function toMarkdown(reports: readonly LatencyReport[], machine: MachineInfo, method: string): string {
  const date = reports[0]?.date ?? new Date().toISOString();
  const peak = reports.find((r) => r.peakGflops !== undefined)?.peakGflops;
  const out = [
    `Measured ${date.slice(0, 10)} on ${machine.cpu}, ${machine.cores} hardware threads, ${machine.memoryGiB} GiB, ${machine.os}; ` +
      `Node ${machine.node}, oneDNN ${machine.onednn}${machine.ort ? `, onnxruntime-node ${machine.ort}` : ""}.` +
      (peak !== undefined ? ` FP32 peak from the FMA microbenchmark of the same run: ${peak.toFixed(0)} GFLOP/s.` : ""),
    "",
    method,
  ];
  for (const r of reports) {
    out.push("", `#### ${title(r)}`, "", `| ${HEADER.join(" | ")} |`, `|${HEADER.map(() => "---").join("|")}|`);
    for (const row of rows(r)) out.push(`| ${cells(r, row).join(" | ")} |`);
    const t = targetLines(r);
    if (t.length) out.push("", ...t.map((l) => `- ${l}`));
  }
  return out.join("\n") + "\n";
}
