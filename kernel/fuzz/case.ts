/**
 * One fuzz case in this process: write the mutated model, run readNetwork → analyze →
 * loadNetwork (CPU) → setBatch → setInput → infer, and judge what came out.
 */
import { DynbatchError, ErrorCode } from "../errors";
import { IECore } from "../runtime/core";
import { ExecutableNetwork } from "../runtime/executable";
import { InferRequest } from "../runtime/request";
import { CaseFiles, CasePlan, codeAllowed, isInputFault, mustFail, MutationKind, writeCase } from "./mutations";
import { intBelow, pick, Rng } from "./rng";

export type Outcome = "ok" | "error" | "untyped" | "crash" | "hang" | "rss";

export interface CaseResult {
  seed: number;
  index: number;
  model: string;
  kind: MutationKind;
  dynBatch: boolean;
  maxBatch: number;
  detail?: string;
  outcome: Outcome;
  code?: ErrorCode;
  /** The signal or exit code that ended the worker, for a crash. */
  signal?: string;
  message?: string;
  /** What makes this case a finding (empty when the outcome is acceptable). */
  findings: string[];
  peakRssMiB?: number;
  ms?: number;
}

/** Printed values that mean a message was built from something missing or malformed. */
const BAD_MESSAGE = /undefined|NaN|\[object Object\]/;

/**
 * The findings of a result: untyped errors, NATIVE for a model's fault, codes the kind cannot
 * cause, an invalid model or call accepted, a malformed value accepted, bad messages, crashes, hangs.
 */
export function judge(plan: CasePlan, outcome: Outcome, code?: ErrorCode, message?: string, malformed = false): string[] {
  const findings: string[] = [];
  if (outcome === "crash" || outcome === "hang" || outcome === "rss" || outcome === "untyped") findings.push(outcome);
  if (outcome === "ok" && mustFail(plan.kind)) findings.push("accepted");
  else if (outcome === "ok" && malformed) findings.push("accepted-malformed");
  if (outcome === "error" && code) {
    if (code === "NATIVE" && !isInputFault(plan.kind)) findings.push("suspicious-native");
    else if (!codeAllowed(code, plan.kind, plan.model, plan.dynBatch)) findings.push(`unexpected-code ${code}`);
  }
  if (message && BAD_MESSAGE.test(message)) findings.push("bad-message");
  return findings;
}

function inputData(r: Rng, n: number, nonFinite: boolean): Float32Array {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = nonFinite ? pick(r, [NaN, Infinity, -Infinity, 3e38, 1]) : r() * 255;
  return data;
}

/** Values that are not numeric data of the right kind, as a careless caller might pass. */
const WRONG_TYPES: [string, (n: number) => unknown][] = [
  ["null", () => null],
  ["undefined", () => undefined],
  ["42", () => 42],
  ["a BigInt64Array", (n) => new BigInt64Array(n)],
  ["{ length: -1 }", () => ({ length: -1 })],
];

/** Sets every input; the first one gets the plan's input fault, noted before it is tried. */
function feedInputs(plan: CasePlan, exec: ExecutableNetwork, req: InferRequest, note: (detail: string) => void): void {
  const { r, kind } = plan;
  Object.keys(exec.inputs).forEach((name, i) => {
    const n = req.getBlob(name).size;
    if (i === 0 && kind === "input-length") {
      const len = pick(r, [0, n - 1, n + 1, 2 * n]);
      note(`${len} values for ${n}`);
      req.setInput(name, inputData(r, len, false));
    } else if (i === 0 && kind === "input-type") {
      const [what, make] = pick(r, WRONG_TYPES);
      note(`input ${what}`);
      req.setInput(name, make(n) as ArrayLike<number>);
    } else req.setInput(name, inputData(r, n, kind === "input-nonfinite"));
  });
}

async function pipeline(plan: CasePlan, files: CaseFiles, note: (detail: string) => void): Promise<void> {
  const ie = new IECore();
  const net = await ie.readNetwork(files.model, files.weights);
  net.analyze();
  net.batchSize = plan.maxBatch;
  // One thread: cases are many and short, and the fuzzer shares the machine.
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: plan.dynBatch ? "YES" : "NO", CPU_THREADS_NUM: "1" });
  const req = exec.createInferRequest();
  if (plan.kind === "input-batch") {
    const batch = pick(plan.r, [0, -1, exec.batchLimit + 1, 1.5]);
    note(`setBatch(${batch}) with maximum ${exec.batchLimit}`);
    req.setBatch(batch);
  } else if (exec.dynamicBatch) req.setBatch(1 + intBelow(plan.r, exec.batchLimit));
  feedInputs(plan, exec, req, note);
  await req.infer();
  for (const name of Object.keys(exec.outputs)) req.getBlob(name);
}

/** Runs the case here (no child process): a crash or hang takes this process with it. */
export async function runCase(plan: CasePlan, dir: string): Promise<CaseResult> {
  const base = {
    seed: plan.seed,
    index: plan.index,
    model: plan.model.id,
    kind: plan.kind,
    dynBatch: plan.dynBatch,
    maxBatch: plan.maxBatch,
  };
  // Outside the try: a failure to mutate is the fuzzer's bug, not a finding about dynbatch.
  const files = writeCase(plan, dir);
  let detail = files.detail;
  const t0 = performance.now();
  let outcome: Outcome = "ok";
  let code: ErrorCode | undefined;
  let message: string | undefined;
  try {
    await pipeline(plan, files, (d) => (detail = d));
  } catch (e) {
    if (e instanceof DynbatchError) {
      outcome = "error";
      code = e.code;
      message = e.message;
    } else {
      outcome = "untyped";
      message = e instanceof Error ? (e.stack ?? e.message) : String(e);
    }
  }
  const ms = Math.round(performance.now() - t0);
  return { ...base, detail, outcome, code, message, findings: judge(plan, outcome, code, message, files.malformed), ms };
}
