/**
 * The fuzzer's child process: runs the cases the parent sends over IPC, one at a time, in the
 * folder the parent named (DYNBATCH_FUZZ_DIR), and answers each with its CaseResult.
 */
import { selectModels } from "./corpus";
import { runCase } from "./case";
import { MutationKind, planCase } from "./mutations";

export interface CaseRequest {
  seed: number;
  index: number;
  models: string[];
  kinds: MutationKind[];
}

const dir = process.env.DYNBATCH_FUZZ_DIR;
if (!dir || !process.send) throw new Error("fuzz worker: start it through the fuzz harness (IPC and DYNBATCH_FUZZ_DIR)");

process.on("message", (req: CaseRequest) => {
  const plan = planCase(req.seed, req.index, selectModels(req.models), req.kinds);
  void runCase(plan, dir).then((res) => process.send!({ ...res, peakRssMiB: process.memoryUsage().rss / 2 ** 20 }));
});
