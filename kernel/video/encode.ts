/**
 * Encoding with ffmpeg in a child process: raw frames go to its stdin; the container and codec
 * follow the output file's extension (.mp4/.mov/.mkv → H.264, .gif, .png/.apng → animated image;
 * not animated WebP, which this ffmpeg cannot read back). Single images (PNG/JPEG) and frame strips are encoded to bytes for notebooks.
 */
import { spawn, ChildProcess } from "child_process";
import * as path from "path";
import { InputError } from "../errors";
import { exitOf, runTool } from "./ffmpeg";
import { assertFrame, Frame, PixelFormat } from "./frame";

export interface WriterOptions {
  width: number;
  height: number;
  /** Frames per second of the output. */
  fps: number;
  /** Byte order of the frames passed to write(); bgr24 by default. */
  format?: PixelFormat;
}

/** Extensions VideoWriter can write. */
export const VIDEO_EXTENSIONS = [".mp4", ".mov", ".mkv", ".gif", ".png", ".apng"] as const;

function codecArgs(file: string): string[] {
  switch (path.extname(file).toLowerCase()) {
    case ".mp4":
    case ".mov":
    case ".mkv":
      // yuv420p (what players expect) needs even sizes; faststart lets a browser play before the end.
      return [
        "-vf",
        "pad=ceil(iw/2)*2:ceil(ih/2)*2",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "23",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
      ];
    case ".gif":
      // One palette computed over the whole clip keeps colours stable between frames.
      return ["-vf", "split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=bayer", "-loop", "0"];
    case ".png":
    case ".apng":
      return ["-f", "apng", "-plays", "0"];
    default:
      throw new InputError(`${file}: unsupported output type; use one of ${VIDEO_EXTENSIONS.join(", ")}`);
  }
}

function rawInput(width: number, height: number, format: PixelFormat, fps?: number): string[] {
  return ["-f", "rawvideo", "-pix_fmt", format, "-s", `${width}x${height}`, ...(fps ? ["-r", String(fps)] : []), "-i", "-"];
}

/** Writes frames of one size into a video or animated image. close() finishes the file. */
export class VideoWriter {
  private count = 0;
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    readonly file: string,
    readonly options: Required<WriterOptions>,
    private readonly proc: ChildProcess,
    private readonly exited: Promise<void>,
  ) {
    exited.catch((e: Error) => (this.failure = e));
    // A write after ffmpeg died raises EPIPE on stdin; the exit error explains why.
    proc.stdin?.on("error", () => undefined);
  }

  /** Starts ffmpeg writing `file` (overwritten if it exists). */
  static open(file: string, options: WriterOptions): VideoWriter {
    const opts = { format: "bgr24" as PixelFormat, ...options };
    if (!(opts.fps > 0)) throw new InputError(`VideoWriter: fps ${opts.fps} must be > 0`);
    const args = ["-v", "error", "-y", ...rawInput(opts.width, opts.height, opts.format, opts.fps), ...codecArgs(file), file];
    const proc = spawn("ffmpeg", args, { stdio: ["pipe", "ignore", "pipe"] });
    return new VideoWriter(
      file,
      opts,
      proc,
      exitOf(proc, "ffmpeg", () => false),
    );
  }

  /** Frames written so far. */
  get frames(): number {
    return this.count;
  }

  /** Queues one frame; resolves when ffmpeg can take more (backpressure). */
  async write(frame: Frame): Promise<void> {
    if (this.closed) throw new InputError(`${this.file}: write after close`);
    if (this.failure) throw this.failure;
    assertFrame(frame);
    const { width, height, format } = this.options;
    if (frame.width !== width || frame.height !== height || frame.format !== format)
      throw new InputError(
        `${this.file}: frame ${frame.width}×${frame.height} ${frame.format} differs from the video's ${width}×${height} ${format}`,
      );
    const stdin = this.proc.stdin!;
    // A copy: the caller may draw on its frame again before ffmpeg has read it.
    if (!stdin.write(Buffer.from(frame.data))) {
      await Promise.race([new Promise((resolve) => stdin.once("drain", resolve)), this.exited]);
    }
    if (this.failure) throw this.failure;
    this.count++;
  }

  /** Ends the input and waits until ffmpeg has written the file. */
  async close(): Promise<void> {
    if (this.closed) return this.exited;
    this.closed = true;
    this.proc.stdin!.end();
    await this.exited;
    if (this.count === 0) throw new InputError(`${this.file}: no frames were written`);
  }
}

/** One frame as PNG or JPEG bytes. */
export function encodeImage(frame: Frame, type: "png" | "jpeg" = "png"): Buffer {
  assertFrame(frame);
  return runTool(
    "ffmpeg",
    [
      "-v",
      "error",
      ...rawInput(frame.width, frame.height, frame.format),
      "-frames:v",
      "1",
      "-c:v",
      type === "png" ? "png" : "mjpeg",
      "-f",
      "image2pipe",
      "-",
    ],
    frame.data,
  );
}

export interface StripOptions {
  /** Tiles per row (default: all frames in one row). */
  columns?: number;
  /** Width of one tile in pixels; the height keeps the aspect ratio (default 240). */
  tileWidth?: number;
  /** PNG (default) or JPEG, much smaller for photos (e.g. in a committed notebook). */
  type?: "png" | "jpeg";
}

/** Frames of one size side by side (rows of `columns`), scaled down, as PNG or JPEG bytes. */
export function encodeStrip(frames: Frame[], options: StripOptions = {}): Buffer {
  if (frames.length === 0) throw new InputError("encodeStrip: no frames");
  const { width, height, format } = frames[0];
  for (const f of frames) {
    assertFrame(f);
    if (f.width !== width || f.height !== height || f.format !== format)
      throw new InputError("encodeStrip: frames differ in size or pixel format");
  }
  const columns = Math.max(1, Math.min(frames.length, options.columns ?? frames.length));
  const rows = Math.ceil(frames.length / columns);
  const tileWidth = options.tileWidth ?? 240;
  const input = new Uint8Array(frames.length * width * height * 3);
  frames.forEach((f, i) => input.set(f.data, i * f.data.length));
  return runTool(
    "ffmpeg",
    [
      "-v",
      "error",
      ...rawInput(width, height, format),
      "-vf",
      `scale=${tileWidth}:-2,tile=${columns}x${rows}:padding=4:margin=4:color=white`,
      "-frames:v",
      "1",
      ...(options.type === "jpeg" ? ["-c:v", "mjpeg", "-q:v", "4"] : ["-c:v", "png"]),
      "-f",
      "image2pipe",
      "-",
    ],
    input,
  );
}
