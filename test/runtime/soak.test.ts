/**
 * `npm run soak` in small: its in-flight part must find every request's result, with 8 in flight
 * on CPU (and on the GPU plugin at the same time when an OpenCL device exists), equal to the same
 * request run alone. RSS and timings are printed by the script but not judged here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import { IECore } from "../../kernel";
import { prepareInFlight, runInFlight } from "../../kernel/soak/measure";
import { GPU_SKIP } from "../gpu/env";
import { ROOT } from "../helpers/models";

const EYE = path.join(ROOT, "models", "open-closed-eye-0001", "FP32", "open-closed-eye-0001.xml");

test("8 CPU requests in flight on one network give exactly what each gives alone", async () => {
  const ie = new IECore();
  const set = await prepareInFlight(ie, EYE, "CPU", 8);
  // The requests differ: with equal inputs a mix-up between them would go unseen.
  assert.notDeepEqual(set.alone[0], set.alone[1]);
  assert.deepEqual(await runInFlight([set]), [0]);
});

test("npm run soak (short) reports 0 in-flight difference on every device and exits 0", () => {
  const devices = GPU_SKIP ? "CPU" : "both";
  const run = spawnSync(
    process.execPath,
    [
      "--expose-gc",
      path.join(ROOT, "dist", "kernel", "cli", "soak.js"),
      "--device",
      devices,
      "--infers",
      "200",
      "--cycles",
      "3",
      "--cycles-warmup",
      "1",
      "--in-flight",
      "8",
      "--max-slope",
      "1e9",
    ],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const row = run.stdout.split("\n").find((l) => l.startsWith("8 in flight vs alone"));
  assert.ok(row, run.stdout);
  assert.deepEqual(row.split(/\s{2,}/).slice(1), GPU_SKIP ? ["0"] : ["0", "0"]);
});
