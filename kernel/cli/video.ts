/**
 * `dynbatch demo`: the seed scenario on a video. Every frame goes through the face cascade with
 * each strategy on the same inputs; the first strategy's results are drawn into the output video,
 * and a table compares what the strategies cost.
 */
import * as fs from "fs";
import * as path from "path";
import { FaceCascade, FrameResult, STRATEGIES, STRATEGY_LABELS, Strategy, summarize } from "../cascade/pipeline";
import { InputError } from "../errors";
import { parseOptions } from "./args";
import { runStreamsDemo } from "./streams";
import { IECore } from "../runtime/core";
import { probeVideo, readFrames, VideoInfo } from "../video/decode";
import { encodeStrip, VideoWriter } from "../video/encode";
import { Frame } from "../video/frame";
import { parsePrecision, prepareInt8, Precision } from "./int8";

const ROOT = path.resolve(__dirname, "../../..");
export const DEFAULT_VIDEO = path.join(ROOT, "media", "faces.mp4");

export const DEMO_USAGE = `usage: dynbatch demo [VIDEO] [options]

Runs the seed scenario on VIDEO (default: the bundled media/faces.mp4): face detection at batch 1,
then landmarks + head pose on all faces of a frame and eye state on all their eyes, with
setBatch(faces) on networks loaded once with batchSize = maxFaces. The same frames also run with
one batch-1 request per face and with a static batch padded to maxFaces, and a table compares them.

options:
  --out FILE          annotated output: .mp4 .mov .mkv .gif .png/.apng (default annotated.mp4)
  --device NAME       CPU (default) or GPU when available
  --frames N          process the first N frames only
  --start N           skip the first N frames
  --max-faces N       batch limit of the secondary networks (default 8)
  --threshold X       face confidence threshold (default 0.5)
  --strategies LIST   comma-separated, from ${STRATEGIES.join(",")} (default all; the first is drawn)
  --strip FILE        also write a PNG strip of up to 6 annotated frames
  --streams K         instead: K cameras (VIDEO at K offsets, --frames each) whose faces go one by one
                      to landmarks and head pose through one batcher per network, against one batch-1
                      request per face (networks loaded with batchSize max-faces × K); prints
                      latencies, batch sizes and the recorded face counts
  --batcher-delay US  with --streams: the batchers' maxDelay in µs (default 1000)
  --precision P       fp32 (default) or int8: quantize the four networks on the video first
                      (frames for detection, face and eye crops for the others) and print their
                      accuracy against FP32 on other frames
  --calibration-frames N  frames to calibrate int8 on (default 24, every 5th from --start)
  -h, --help          this text`;

function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InputError(`--${name} ${value}: expected an integer ≥ ${min}`);
  return n;
}

interface DemoArgs {
  video: string;
  out: string;
  device: string;
  frames?: number;
  start: number;
  maxFaces: number;
  threshold: number;
  strategies: Strategy[];
  strip?: string;
  streams?: number;
  batcherDelayUs?: number;
  /** Set only when given (default fp32 and 24), so the other options' object stays as it was. */
  precision?: Precision;
  calibrationFrames?: number;
}

/** Parses the demo's arguments; throws InputError on anything it does not understand. */
export function parseDemoArgs(argv: string[]): DemoArgs | "help" {
  const parsed = parseOptions({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      device: { type: "string" },
      frames: { type: "string" },
      start: { type: "string" },
      "max-faces": { type: "string" },
      threshold: { type: "string" },
      strategies: { type: "string" },
      strip: { type: "string" },
      streams: { type: "string" },
      "batcher-delay": { type: "string" },
      precision: { type: "string" },
      "calibration-frames": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const { values: v, positionals } = parsed;
  if (v.help) return "help";
  if (positionals.length > 1) throw new InputError(`expected one video, got: ${positionals.join(" ")}`);
  const threshold = v.threshold === undefined ? 0.5 : Number(v.threshold);
  if (!(threshold >= 0 && threshold <= 1)) throw new InputError(`--threshold ${v.threshold}: expected a number in [0, 1]`);
  const strategies = (v.strategies ?? STRATEGIES.join(",")).split(",").map((s) => s.trim()) as Strategy[];
  for (const s of strategies)
    if (!STRATEGIES.includes(s)) throw new InputError(`--strategies: unknown '${s}'; expected ${STRATEGIES.join(", ")}`);
  return {
    video: positionals[0] ?? DEFAULT_VIDEO,
    out: v.out ?? "annotated.mp4",
    device: v.device ?? "CPU",
    frames: intOption("frames", v.frames, 1),
    start: intOption("start", v.start, 0) ?? 0,
    maxFaces: intOption("max-faces", v["max-faces"], 1) ?? 8,
    threshold,
    strategies,
    strip: v.strip,
    streams: intOption("streams", v.streams, 1),
    batcherDelayUs: intOption("batcher-delay", v["batcher-delay"], 0),
    ...(v.precision !== undefined ? { precision: parsePrecision(v.precision) } : {}),
    ...(v["calibration-frames"] !== undefined
      ? { calibrationFrames: intOption("calibration-frames", v["calibration-frames"], 1) }
      : {}),
  };
}

/** A progress line on stderr: redrawn in place on a terminal, one line per tenth otherwise. */
class Progress {
  private lastTenth = -1;
  constructor(private readonly total: number) {}

  update(done: number, faces: number, ms: number): void {
    const width = 24;
    const filled = Math.round((done / this.total) * width);
    const line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${this.total} frames  ${faces} faces  ${ms.toFixed(0)} ms/frame`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${line}`);
      if (done === this.total) process.stderr.write("\n");
      return;
    }
    const tenth = Math.floor((done / this.total) * 10);
    if (tenth !== this.lastTenth) {
      this.lastTenth = tenth;
      process.stderr.write(`${line}\n`);
    }
  }
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows.map((r) => "  " + r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ")).join("\n");
}

/** "1.50× faster" for a time ratio of 1.5, "2.00× slower" for 0.5. */
function faster(ratio: number): string {
  return ratio >= 1 ? `${ratio.toFixed(2)}× faster` : `${(1 / ratio).toFixed(2)}× slower`;
}

/** The summary printed after a run. */
export function formatSummary(frames: FrameResult[], maxFaces: number): string {
  const lines: string[] = [];
  const counts = frames.map((f) => f.faces.length);
  const detect = frames.reduce((a, f) => a + f.detectMs, 0);
  const crop = frames.reduce((a, f) => a + f.cropMs, 0);
  lines.push(
    `faces per frame: min ${Math.min(...counts)}, max ${Math.max(...counts)}, mean ${(counts.reduce((a, b) => a + b, 0) / counts.length).toFixed(2)}`,
  );
  lines.push(
    `face detection (static batch 1): ${detect.toFixed(0)} ms in total, ${(detect / frames.length).toFixed(1)} ms per frame; crops ${crop.toFixed(0)} ms`,
  );
  const outside = (part: keyof FrameResult["outsideMs"]) =>
    (frames.reduce((a, f) => a + f.outsideMs[part], 0) / frames.length).toFixed(1);
  const totals = frames.map((f) => f.outsideMs.total).sort((a, b) => a - b);
  const median = totals.length % 2 ? totals[totals.length >> 1] : (totals[totals.length / 2 - 1] + totals[totals.length / 2]) / 2;
  lines.push(
    `outside the networks: ${outside("total")} ms per frame, median ${median.toFixed(1)} ` +
      `(resize ${outside("resize")}, crops ${outside("crops")}, parse ${outside("parse")}, draw ${outside("draw")}; decoding and encoding excluded)`,
  );
  lines.push("");
  lines.push(`secondary networks (landmarks + head pose + eye state), identical inputs, maxFaces ${maxFaces}:`);
  const summary = summarize(frames);
  const first = summary[0];
  const rows = [["strategy", "infer calls", "samples", "total ms", "ms/frame", "median", `${first.strategy} is`]];
  for (const s of summary) {
    rows.push([
      STRATEGY_LABELS[s.strategy],
      String(s.requests),
      String(s.samples),
      s.totalMs.toFixed(0),
      s.meanMs.toFixed(1),
      s.medianMs.toFixed(1),
      s === first ? "—" : faster(s.totalMs / first.totalMs),
    ]);
  }
  lines.push(table(rows));
  const total = (k: number) => detect + crop + summary[k].totalMs;
  lines.push("");
  lines.push(
    `whole cascade per frame: ${summary.map((s, k) => `${s.strategy} ${(total(k) / frames.length).toFixed(1)} ms`).join(", ")}`,
  );
  return lines.join("\n");
}

/** Loads the cascade, processes `total` frames and writes them annotated; returns the results and the strip's frames. */
async function processVideo(
  args: DemoArgs,
  info: VideoInfo,
  total: number,
  writer: VideoWriter,
): Promise<{ results: FrameResult[]; strip: Frame[] }> {
  const ie = new IECore();
  const deviceName = ie.availableDevices.includes(args.device) ? ie.getConfig(args.device, "FULL_DEVICE_NAME") : args.device;
  console.log(
    `dynbatch demo: ${path.basename(args.video)} (${info.width}×${info.height}, ${+info.fps.toFixed(2)} fps), ${total} frames on ${deviceName}`,
  );
  let modelsDir: string | undefined;
  if (args.precision === "int8") {
    const int8 = await prepareInt8(ie, args.video, { frames: args.calibrationFrames ?? 24, start: args.start, log: console.log });
    modelsDir = int8.dir;
    console.log(`INT8 against FP32 on other frames of the video:\n${int8.accuracy}`);
  }
  const t = performance.now();
  const cascade = await FaceCascade.load(ie, {
    modelsDir,
    device: args.device,
    maxFaces: args.maxFaces,
    threshold: args.threshold,
    strategies: args.strategies,
  });
  console.log(
    `loaded 4 ${(args.precision ?? "fp32").toUpperCase()} networks × ${args.strategies.length} strategies in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const progress = new Progress(total);
  const results: FrameResult[] = [];
  const strip: Frame[] = [];
  const stripEvery = Math.max(1, Math.floor(total / 6));
  for await (const frame of readFrames(args.video, { start: args.start, maxFrames: total })) {
    const result = await cascade.processFrame(frame, frame.index, { annotate: true });
    results.push(result);
    await writer.write(frame);
    if (args.strip && (frame.index - args.start) % stripEvery === 0 && strip.length < 6) strip.push(frame);
    progress.update(results.length, result.faces.length, result.detectMs + result.cropMs + result.runs[0].ms.total);
  }
  return { results, strip };
}

/** Runs the video demo; returns the exit code. */
export async function runVideoDemo(argv: string[]): Promise<number> {
  const args = parseDemoArgs(argv);
  if (args === "help") {
    console.log(DEMO_USAGE);
    return 0;
  }
  if (args.batcherDelayUs !== undefined && args.streams === undefined)
    throw new InputError("--batcher-delay applies to --streams only");
  if (args.streams !== undefined)
    return runStreamsDemo({ ...args, streams: args.streams, batcherDelayUs: args.batcherDelayUs ?? 1000 });
  const info = probeVideo(args.video);
  const available = Math.max(0, info.frames - args.start);
  const total = Math.min(available, args.frames ?? available);
  if (total === 0) throw new InputError(`${args.video}: no frames from frame ${args.start} on (it has ${info.frames})`);
  // The writer checks the extension before anything slow happens.
  const writer = VideoWriter.open(args.out, { width: info.width, height: info.height, fps: info.fps });
  let done: { results: FrameResult[]; strip: Frame[] };
  try {
    done = await processVideo(args, info, total, writer);
  } catch (e) {
    // Leave no half-written file behind.
    await writer.close().catch(() => undefined);
    fs.rmSync(args.out, { force: true });
    throw e;
  }
  await writer.close();
  const { results, strip } = done;
  console.log("");
  console.log(formatSummary(results, args.maxFaces));
  console.log("");
  console.log(`wrote ${args.out} (${writer.frames} frames)`);
  if (args.strip) {
    fs.writeFileSync(args.strip, encodeStrip(strip, { columns: 3, tileWidth: 320 }));
    console.log(`wrote ${args.strip} (${strip.length} frames)`);
  }
  return 0;
}
