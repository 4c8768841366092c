/**
 * `npm run fuzz`: structure-aware fuzzing of every bundled model through the whole pipeline, in
 * a child process with a per-case timeout and an RSS guard. One JSON line per case (stdout or
 * --out), a progress line on stderr, and a summary table at the end; exit 1 when any case is a
 * finding (untyped error, NATIVE for a model's fault, a code its mutation cannot cause, a
 * message printing undefined/NaN/[object Object], a crash, a hang, an RSS excess).
 */
import * as fs from "fs";
import * as os from "os";
import { CaseResult } from "../fuzz/case";
import { CORPUS } from "../fuzz/corpus";
import { FuzzOptions, runFuzz } from "../fuzz/harness";
import { ALLOWED_CODES, MutationKind } from "../fuzz/mutations";

const USAGE = `Usage: npm run fuzz -- [options]

Mutates the bundled models (IR: dims, shapes, .bin offsets, element types, attributes, edges,
layer types, versions, bytes; ONNX: dims, initializers, data types, attributes, node inputs and
outputs, op types, opsets, bytes; and input-side faults) and runs each through readNetwork,
analyze, loadNetwork on CPU (DYN_BATCH_ENABLED for half the cases), setBatch, setInput and
infer, in a child process.

Options:
  --cases N          number of cases (default 1000)
  --seed S           run seed; case i of seed S is always the same case (default 1)
  --first I          index of the first case (default 0); --first I --cases 1 reruns case I
  --models LIST      comma-separated corpus ids (default all): ${CORPUS.map((m) => m.id).join(", ")}
  --kinds LIST       comma-separated mutation kinds (default all): ${Object.keys(ALLOWED_CODES).join(", ")}
  --timeout-ms T     a case running longer is a hang; the child is restarted (default 20000)
  --rss-mib M        a child above this resident set is killed, the case counted (default 2048)
  --out FILE         write the JSON lines to FILE instead of stdout
  --help             this text

Exit status: 0 when no case is a finding, 1 otherwise, 2 for bad arguments.
`;

function parseArgs(argv: string[]): (FuzzOptions & { out?: string }) | "help" {
  const opts: FuzzOptions & { out?: string } = {
    cases: 1000,
    seed: 1,
    first: 0,
    models: [],
    kinds: [],
    timeoutMs: 20000,
    rssLimitMiB: 2048,
  };
  const int = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    if (flag === "--help") return "help";
    i++;
    if (flag === "--cases") opts.cases = int(flag, v);
    else if (flag === "--seed") opts.seed = int(flag, v);
    else if (flag === "--first") opts.first = int(flag, v);
    else if (flag === "--timeout-ms") opts.timeoutMs = int(flag, v);
    else if (flag === "--rss-mib") opts.rssLimitMiB = int(flag, v);
    else if (flag === "--models") opts.models = (v ?? "").split(",").filter(Boolean);
    else if (flag === "--out") opts.out = v;
    else if (flag === "--kinds") {
      opts.kinds = (v ?? "").split(",").filter(Boolean) as MutationKind[];
      const unknown = opts.kinds.filter((k) => !(k in ALLOWED_CODES));
      if (unknown.length) throw new Error(`unknown kind(s) ${unknown.join(", ")}`);
    } else throw new Error(`unknown option '${flag}'`);
  }
  return opts;
}

interface Tally {
  cases: number;
  ok: number;
  codes: Map<string, number>;
  untyped: number;
  crashes: number;
  hangs: number;
  rss: number;
  findings: number;
  suspiciousNative: number;
  peakRssMiB: number;
}

function add(t: Tally, r: CaseResult): void {
  t.cases++;
  if (r.outcome === "ok") t.ok++;
  else if (r.outcome === "error") t.codes.set(r.code!, (t.codes.get(r.code!) ?? 0) + 1);
  else if (r.outcome === "untyped") t.untyped++;
  else if (r.outcome === "crash") t.crashes++;
  else if (r.outcome === "hang") t.hangs++;
  else t.rss++;
  if (r.findings.length) t.findings++;
  if (r.findings.includes("suspicious-native")) t.suspiciousNative++;
  t.peakRssMiB = Math.max(t.peakRssMiB, r.peakRssMiB ?? 0);
}

function summary(t: Tally, seconds: number): string {
  const rows: [string, string][] = [
    ["cases", String(t.cases)],
    ["ok", String(t.ok)],
    ...[...t.codes].sort((a, b) => b[1] - a[1]).map(([c, n]): [string, string] => [`typed ${c}`, String(n)]),
    ["untyped", String(t.untyped)],
    ["crashes", String(t.crashes)],
    ["hangs", String(t.hangs)],
    ["RSS over limit", String(t.rss)],
    ["suspicious NATIVE", String(t.suspiciousNative)],
    ["findings (all kinds)", String(t.findings)],
    ["peak RSS (MiB)", String(t.peakRssMiB)],
    ["time (s)", seconds.toFixed(0)],
    ["CPU", `${os.cpus()[0]?.model ?? "unknown"} (${os.cpus().length} threads)`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n");
}

async function main(): Promise<void> {
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts === "help") {
    process.stdout.write(USAGE);
    return;
  }
  const out = opts.out ? fs.createWriteStream(opts.out) : process.stdout;
  const tally: Tally = {
    cases: 0,
    ok: 0,
    codes: new Map(),
    untyped: 0,
    crashes: 0,
    hangs: 0,
    rss: 0,
    findings: 0,
    suspiciousNative: 0,
    peakRssMiB: 0,
  };
  const t0 = Date.now();
  let shown = 0;
  const onResult = (r: CaseResult) => {
    out.write(`${JSON.stringify(r)}\n`);
    add(tally, r);
    if (Date.now() - shown < 500 && tally.cases < opts.cases) return;
    shown = Date.now();
    process.stderr.write(
      `\rcase ${tally.cases}/${opts.cases}  ok ${tally.ok}  findings ${tally.findings}  crashes ${tally.crashes}  hangs ${tally.hangs}   `,
    );
  };
  try {
    await runFuzz(opts, onResult);
  } catch (e) {
    // An unknown model, or kinds no chosen model takes.
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write("\n");
  if (out !== process.stdout) await new Promise<void>((res) => (out as fs.WriteStream).end(res));
  const table = summary(tally, (Date.now() - t0) / 1000);
  // With the JSON lines on stdout, the table goes to stderr so stdout stays parseable.
  (opts.out ? process.stdout : process.stderr).write(`${table}\n`);
  process.exitCode = tally.findings ? 1 : 0;
}

void main();
