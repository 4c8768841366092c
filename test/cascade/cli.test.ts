/** The `dynbatch` command line, run as a child process the way `npx dynbatch` runs it. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { COMMANDS } from "../../kernel/cli/main";
import { DEFAULT_VIDEO, formatSummary, parseDemoArgs } from "../../kernel/cli/video";
import { FrameResult, StrategyRun } from "../../kernel/cascade";
import { ROOT } from "../helpers/models";

const BIN = path.join(ROOT, "dist", "kernel", "cli", "main.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-cli-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

function dynbatch(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: tmp });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("dynbatch --help lists every command; unknown commands exit 2", () => {
  for (const args of [["--help"], [], ["help"]]) {
    const r = dynbatch(...args);
    assert.equal(r.code, 0);
    for (const name of Object.keys(COMMANDS)) assert.match(r.stdout, new RegExp(`^  ${name} `, "m"));
  }
  assert.deepEqual(Object.keys(COMMANDS), ["demo", "image", "doctor", "kernel", "lab", "help"]);
  const bad = dynbatch("frobnicate");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command 'frobnicate'/);
  assert.match(dynbatch("demo", "--help").stdout, /--max-faces N/);
  assert.match(dynbatch("image", "--help").stdout, /dynbatch image \[IMAGE\]/);
});

test("dynbatch demo writes an annotated video with one frame per input frame, a strip and a summary", () => {
  const out = path.join(tmp, "annotated.mp4");
  const strip = path.join(tmp, "strip.png");
  const r = dynbatch(
    "demo",
    "--frames",
    "3",
    "--max-faces",
    "4",
    "--strategies",
    "dynamic,batch1",
    "--out",
    out,
    "--strip",
    strip,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /faces\.mp4 \(640×360, 25 fps\), 3 frames on CPU/);
  assert.match(r.stdout, /faces per frame: min 4, max 4/);
  assert.match(r.stdout, /dynamic batch: setBatch\(faces\) +9 +48 /); // 3 requests per frame; 4 + 4 + 8 samples per frame
  assert.match(r.stdout, /one batch-1 request per face +48 +48 /);
  assert.match(r.stdout, /wrote .*annotated\.mp4 \(3 frames\)/);
  assert.match(r.stderr, /3\/3 frames/);
  // ffprobe decodes every frame and counts them.
  const probe = execFileSync("ffprobe", [
    "-v",
    "error",
    "-count_frames",
    "-select_streams",
    "v:0",
    "-show_entries",
    "stream=codec_name,width,height,nb_read_frames",
    "-of",
    "csv=p=0",
    out,
  ]);
  assert.equal(probe.toString().trim(), "h264,640,360,3");
  const stripProbe = execFileSync("ffprobe", [
    "-v",
    "error",
    "-show_entries",
    "stream=codec_name,width",
    "-of",
    "csv=p=0",
    strip,
  ]);
  assert.equal(stripProbe.toString().trim(), `png,${4 + 3 * (320 + 4)}`);
});

test("dynbatch demo: bad arguments fail with a message and leave no output", () => {
  const out = path.join(tmp, "never.mp4");
  for (const [args, message] of [
    [["--frames", "0"], /--frames 0: expected an integer ≥ 1/],
    [["--strategies", "dynamic,fastest"], /unknown 'fastest'/],
    [["--threshold", "2"], /--threshold 2/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["a.mp4", "b.mp4"], /expected one video/],
    [[path.join(tmp, "missing.mp4")], /no such file/],
    [["--device", "NO_SUCH_DEVICE"], /UNKNOWN_DEVICE/],
  ] as [string[], RegExp][]) {
    const r = dynbatch("demo", "--out", out, "--frames", "1", ...args);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, message);
    assert.ok(!fs.existsSync(out), args.join(" "));
  }
  const avi = dynbatch("demo", "--out", path.join(tmp, "x.avi"));
  assert.equal(avi.code, 1);
  assert.match(avi.stderr, /unsupported output type/);
});

test("parseDemoArgs: defaults and options", () => {
  assert.deepEqual(parseDemoArgs([]), {
    video: DEFAULT_VIDEO,
    out: "annotated.mp4",
    device: "CPU",
    frames: undefined,
    start: 0,
    maxFaces: 8,
    threshold: 0.5,
    strategies: ["dynamic", "batch1", "padded"],
    strip: undefined,
    streams: undefined,
    batcherDelayUs: undefined,
  });
  assert.deepEqual(
    parseDemoArgs([
      "v.mp4",
      "--out",
      "o.gif",
      "--device",
      "GPU",
      "--frames",
      "5",
      "--start",
      "2",
      "--max-faces",
      "3",
      "--threshold",
      "0.7",
      "--strategies",
      "padded,dynamic",
      "--strip",
      "s.png",
    ]),
    {
      video: "v.mp4",
      out: "o.gif",
      device: "GPU",
      frames: 5,
      start: 2,
      maxFaces: 3,
      threshold: 0.7,
      strategies: ["padded", "dynamic"],
      strip: "s.png",
      streams: undefined,
      batcherDelayUs: undefined,
    },
  );
  assert.equal(parseDemoArgs(["-h"]), "help");
  assert.throws(() => parseDemoArgs(["--max-faces", "1.5"]), { code: "BAD_INPUT" });
});

test("formatSummary: totals, medians and speed-ups of the first strategy", () => {
  const run = (strategy: StrategyRun["strategy"], total: number, requests: number, samples: number): StrategyRun => {
    const e = new Float32Array(0);
    return {
      strategy,
      ms: { landmarks: total, headPose: 0, eyes: 0, total },
      requests,
      samples,
      outputs: { landmarks: e, yaw: e, pitch: e, roll: e, eyes: e },
    };
  };
  const frame = (index: number, faces: number, d: number, b: number): FrameResult => ({
    index,
    faces: new Array(faces).fill(null) as FrameResult["faces"],
    detectMs: 10,
    cropMs: 1,
    outsideMs: { resize: 2, crops: 1, parse: 0.25, draw: 0.5 + index, total: 3.75 + index },
    runs: [run("dynamic", d, 3, 4 * faces), run("batch1", b, 4 * faces, 4 * faces)],
  });
  const text = formatSummary([frame(0, 2, 20, 30), frame(1, 3, 30, 45)], 4);
  assert.match(text, /faces per frame: min 2, max 3, mean 2\.50/);
  assert.match(text, /face detection \(static batch 1\): 20 ms in total, 10\.0 ms per frame; crops 2 ms/);
  assert.match(
    text,
    /^outside the networks: 4\.3 ms per frame, median 4\.3 \(resize 2\.0, crops 1\.0, parse 0\.3, draw 1\.0; decoding and encoding excluded\)$/m,
  );
  assert.match(text, /dynamic batch: setBatch\(faces\) +6 +20 +50 +25\.0 +25\.0 +—/);
  assert.match(text, /one batch-1 request per face +20 +20 +75 +37\.5 +37\.5 +1\.50× faster/);
  assert.match(text, /whole cascade per frame: dynamic 36\.0 ms, batch1 48\.5 ms/);
  assert.match(formatSummary([frame(0, 1, 40, 20)], 4), /one batch-1 request per face .* 2\.00× slower/);
  assert.match(
    formatSummary([frame(0, 2, 20, 30), frame(1, 3, 30, 45), frame(5, 1, 10, 10)], 4),
    /^outside the networks: 5\.8 ms per frame, median 4\.8 \(/m,
  );
});
