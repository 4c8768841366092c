/**
 * Fuzzing every bundled model with every mutation kind of kernel/fuzz, in this process: each
 * case must end ok or with a typed error whose code that mutation can cause (never NATIVE for a
 * model-side mutation), a mutation that always breaks the model or the call must not end ok,
 * and no message may print undefined, NaN or [object Object].
 * DYNBATCH_QUICK=1 (CI) runs fewer cases per model and kind.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CaseResult, runCase } from "../../kernel/fuzz/case";
import { CORPUS } from "../../kernel/fuzz/corpus";
import { ALLOWED_CODES, kindsFor, MutationKind, planCase } from "../../kernel/fuzz/mutations";

const CASES_PER_MODEL = process.env.DYNBATCH_QUICK ? 2 : 12;
const SEED = 20261206;

function describe(model: string, i: number, r: CaseResult, findings: string[]): string {
  return `${model} case ${i} (${r.detail}): ${findings.join(", ")}: ${r.message ?? r.outcome}`;
}

(Object.keys(ALLOWED_CODES) as MutationKind[]).forEach((kind, k) => {
  const models = CORPUS.filter((m) => kindsFor(m).includes(kind));
  test(`fuzz ${kind}: ${CASES_PER_MODEL} cases on each of ${models.length} models end ok or with ${ALLOWED_CODES[kind].join("/") || "no error"}`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-fuzz-test-"));
    const findings: string[] = [];
    const outcomes = new Map<string, number>();
    try {
      for (const [m, model] of models.entries()) {
        for (let i = 0; i < CASES_PER_MODEL; i++) {
          // A case index of its own per kind and model, so that they do not all draw the same mutation.
          const res = await runCase(planCase(SEED, k * 10000 + m * 1000 + i, [model], [kind]), dir);
          const key = res.code ?? res.outcome;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          if (res.findings.length) findings.push(describe(model.id, i, res, res.findings));
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(findings, [], `${findings.join("\n")}\noutcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });
});
