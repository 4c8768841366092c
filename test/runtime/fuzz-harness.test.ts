/**
 * The `npm run fuzz` harness itself (kernel/cli/fuzz): its JSON lines, its summary and exit
 * status, and the restart of its child after a hang or an RSS excess, so that it cannot rot
 * between the large runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { CaseResult } from "../../kernel/fuzz/case";
import { ROOT } from "../helpers/models";

const CLI = path.join(ROOT, "dist", "kernel", "cli", "fuzz.js");

function fuzz(args: string[]): { status: number | null; lines: CaseResult[]; stdout: string } {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-fuzz-cli-")), "cases.jsonl");
  const run = spawnSync(process.execPath, [CLI, ...args, "--out", out], { encoding: "utf8" });
  const lines = fs
    .readFileSync(out, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CaseResult);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return { status: run.status, lines, stdout: run.stdout };
}

test("fuzz --cases 30 writes one JSON line per case, a summary, and exits 1 exactly when a case is a finding", () => {
  const { status, lines, stdout } = fuzz(["--cases", "30", "--seed", "5"]);
  assert.deepEqual(
    lines.map((l) => l.index),
    [...Array(30).keys()],
  );
  for (const l of lines) {
    assert.equal(l.seed, 5);
    assert.ok(["ok", "error", "untyped", "crash", "hang", "rss"].includes(l.outcome), l.outcome);
    assert.equal(l.outcome === "error", typeof l.code === "string", JSON.stringify(l));
    assert.ok(typeof l.detail === "string" && l.detail.length > 0, JSON.stringify(l));
    assert.ok(Array.isArray(l.findings));
  }
  assert.match(stdout, /^cases\s+30$/m);
  assert.equal(status, lines.some((l) => l.findings.length) ? 1 : 0);
});

test("a case is the same case in another run: --first I --cases 1 repeats case I", () => {
  const all = fuzz(["--cases", "4", "--seed", "9"]).lines;
  const again = fuzz(["--first", "3", "--cases", "1", "--seed", "9"]).lines;
  const strip = ({ ms: _ms, peakRssMiB: _rss, message, ...rest }: CaseResult) => ({
    ...rest,
    message: message?.replace(/\/tmp\/\S+\//g, ""),
  });
  assert.deepEqual(again.map(strip), [strip(all[3])]);
});

test("a case over the time limit is a hang, one over the RSS limit is counted, and the child restarts for the next case", () => {
  const hung = fuzz(["--cases", "2", "--models", "face-detection-adas-0001", "--timeout-ms", "1"]);
  assert.deepEqual(
    hung.lines.map((l) => [l.outcome, l.findings]),
    [
      ["hang", ["hang"]],
      ["hang", ["hang"]],
    ],
  );
  assert.equal(hung.status, 1);
  const fat = fuzz(["--cases", "2", "--models", "face-detection-adas-0001", "--rss-mib", "1"]);
  assert.deepEqual(
    fat.lines.map((l) => l.outcome),
    ["rss", "rss"],
  );
  assert.ok(
    fat.lines.every((l) => (l.peakRssMiB ?? 0) > 1 && l.detail),
    JSON.stringify(fat.lines),
  );
});
