/**
 * The fuzzer's parent side: runs cases in a long-lived child process (kernel/fuzz/worker),
 * one at a time, with a per-case timeout (a hang) and an RSS guard; a crash, hang or RSS excess
 * is recorded for its case and the child is restarted for the next one.
 */
import { ChildProcess, fork } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CaseResult, judge, Outcome } from "./case";
import { selectModels } from "./corpus";
import { MutationKind, planCase, writeCase } from "./mutations";
import type { CaseRequest } from "./worker";

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Corpus ids (all bundled models when empty). */
  models: string[];
  /** Kinds to draw (all when empty). */
  kinds: MutationKind[];
  timeoutMs: number;
  rssLimitMiB: number;
  /** First case index (to rerun one case: start at it with cases = 1). */
  first: number;
}

/** Resident set of a process, MiB, from /proc (0 once it is gone). */
function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

const POLL_MS = 25;

class Worker {
  readonly child: ChildProcess;
  readonly dir: string;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-fuzz-"));
    this.child = fork(path.join(__dirname, "worker.js"), [], {
      env: { ...process.env, DYNBATCH_FUZZ_DIR: this.dir },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    // The child's stderr (a native abort's last words) is kept for the crash record.
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
  }

  stderr = "";

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  stop(): void {
    if (this.alive) this.child.kill("SIGKILL");
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

type Ending = { result: CaseResult } | { outcome: Outcome; signal?: string; peak: number; ms: number };

/** Sends one case to `w`; resolves with its result, or with how the child failed. */
function runInWorker(w: Worker, req: CaseRequest, opts: FuzzOptions): Promise<Ending> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let peak = 0;
    const finish = (e: Ending) => {
      clearInterval(poll);
      clearTimeout(timer);
      w.child.off("message", onMessage);
      w.child.off("exit", onExit);
      resolve(e);
    };
    const failed = (outcome: Outcome, signal?: string) =>
      finish({ outcome, signal, peak, ms: Math.round(performance.now() - t0) });
    const onMessage = (m: CaseResult) => finish({ result: { ...m, peakRssMiB: Math.round(Math.max(peak, m.peakRssMiB ?? 0)) } });
    const onExit = (code: number | null, signal: string | null) => failed("crash", signal ?? `exit ${code}`);
    const poll = setInterval(() => {
      peak = Math.max(peak, rssMiB(w.child.pid!));
      if (peak > opts.rssLimitMiB) failed("rss");
    }, POLL_MS);
    const timer = setTimeout(() => failed("hang"), opts.timeoutMs);
    w.child.on("message", onMessage);
    w.child.on("exit", onExit);
    w.child.send(req);
  });
}

/** Runs the cases; `onResult` gets each as it ends. */
export async function runFuzz(opts: FuzzOptions, onResult: (r: CaseResult) => void): Promise<void> {
  const models = selectModels(opts.models);
  // Throws here, before any child starts, when no model takes the kinds asked for.
  planCase(opts.seed, opts.first, models, opts.kinds);
  let w = new Worker();
  try {
    for (let index = opts.first; index < opts.first + opts.cases; index++) {
      if (!w.alive) {
        // Nothing was running (a finalizer of the last case, say): sending would fail, so say so and restart.
        process.stderr.write(
          `\nfuzz worker died between cases (after case ${index - 1}): ${w.child.signalCode ?? `exit ${w.child.exitCode}`}\n`,
        );
        w.stop();
        w = new Worker();
      }
      const req: CaseRequest = { seed: opts.seed, index, models: opts.models, kinds: opts.kinds };
      const ending = await runInWorker(w, req, opts);
      if ("result" in ending) {
        onResult(ending.result);
        continue;
      }
      const plan = planCase(opts.seed, index, models, opts.kinds);
      // The worker died before it could say what it changed: redo the (deterministic) mutation here.
      const { detail } = writeCase(plan, w.dir);
      const message = ending.outcome === "crash" ? w.stderr.trim().split("\n").slice(-3).join(" | ") || undefined : undefined;
      onResult({
        seed: opts.seed,
        index,
        model: plan.model.id,
        kind: plan.kind,
        dynBatch: plan.dynBatch,
        maxBatch: plan.maxBatch,
        detail,
        outcome: ending.outcome,
        signal: ending.signal,
        message,
        findings: judge(plan, ending.outcome),
        peakRssMiB: Math.round(ending.peak),
        ms: ending.ms,
      });
      w.stop();
      w = new Worker();
    }
  } finally {
    w.stop();
  }
}
