/**
 * Video decoding with ffmpeg in a child process: it streams raw frames on stdout, which are cut
 * into frames here. Reading is pull-based (the stream pauses while the consumer works), so a long
 * video never piles up in memory.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import { InputError } from "../errors";
import { exitOf, runTool } from "./ffmpeg";
import { Frame, PixelFormat } from "./frame";

export interface VideoInfo {
  width: number;
  height: number;
  /** Frames per second (the stream's nominal rate). */
  fps: number;
  /** Frames in the stream (counted by decoding when the container does not say). */
  frames: number;
  /** Seconds. */
  duration: number;
  codec: string;
}

function assertFile(file: string): void {
  if (!fs.existsSync(file)) throw new InputError(`${file}: no such file`);
}

/** Size, rate, frame count and codec of the first video stream of `file`. */
export function probeVideo(file: string): VideoInfo {
  assertFile(file);
  const json = JSON.parse(
    runTool("ffprobe", [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-of",
      "json",
      "-show_entries",
      "stream=width,height,r_frame_rate,nb_frames,codec_name:format=duration",
      file,
    ]).toString(),
  ) as { streams?: Record<string, string | number>[]; format?: { duration?: string } };
  const s = json.streams?.[0];
  if (!s) throw new InputError(`${file}: no video stream`);
  const [num, den] = String(s.r_frame_rate).split("/").map(Number);
  let frames = Number(s.nb_frames);
  if (!Number.isFinite(frames) || frames <= 0) {
    // Containers such as GIF and WebM carry no frame count: count packets instead.
    const out = runTool("ffprobe", [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-count_packets",
      "-show_entries",
      "stream=nb_read_packets",
      "-of",
      "csv=p=0",
      file,
    ]);
    frames = Number(out.toString().trim());
  }
  return {
    width: Number(s.width),
    height: Number(s.height),
    fps: den ? num / den : num,
    frames,
    duration: Number(json.format?.duration ?? NaN),
    codec: String(s.codec_name),
  };
}

export interface ReadOptions {
  /** Index of the first frame to return (default 0); earlier frames are decoded and skipped, so indices stay exact. */
  start?: number;
  /** Stop after this many frames (all when omitted). */
  maxFrames?: number;
  /** Byte order of the frames; bgr24 (the default) is what OpenVINO IR models expect. */
  format?: PixelFormat;
}

export interface VideoFrame extends Frame {
  /** 0-based position in the stream. */
  index: number;
}

/** Decodes `file` frame by frame. Breaking out of the loop stops ffmpeg. */
export async function* readFrames(file: string, options: ReadOptions = {}): AsyncGenerator<VideoFrame> {
  const { width, height } = probeVideo(file);
  const format = options.format ?? "bgr24";
  const max = options.maxFrames;
  if (max !== undefined && (!Number.isInteger(max) || max < 0)) throw new InputError(`maxFrames ${max}: expected an integer ≥ 0`);
  const start = options.start ?? 0;
  if (!Number.isInteger(start) || start < 0) throw new InputError(`start ${start}: expected an integer ≥ 0`);
  if (max === 0) return;
  const args = ["-v", "error", "-nostdin", "-i", file, "-map", "0:v:0", "-vsync", "passthrough"];
  // select counts decoded frames; seeking (-ss) would land on timestamps, not frame numbers.
  if (start > 0) args.push("-vf", `select=gte(n\\,${start})`);
  if (max !== undefined) args.push("-frames:v", String(max));
  args.push("-f", "rawvideo", "-pix_fmt", format, "-");
  const proc = spawn("ffmpeg", args, { stdio: ["ignore", "pipe", "pipe"] });
  let stopped = false;
  const exited = exitOf(proc, "ffmpeg", () => stopped);
  exited.catch(() => undefined); // awaited below; this keeps an early failure from being reported as unhandled

  const size = width * height * 3;
  let frame = new Uint8Array(size);
  let filled = 0;
  let index = start;
  try {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(size - filled, chunk.length - at);
        frame.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === size) {
          yield { index: index++, width, height, format, data: frame };
          frame = new Uint8Array(size);
          filled = 0;
        }
      }
    }
    await exited;
    if (filled !== 0) throw new InputError(`${file}: the stream ended inside frame ${index}`);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) {
      stopped = true;
      proc.kill("SIGKILL");
      await exited.catch(() => undefined);
    }
  }
}
