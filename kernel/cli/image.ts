/** Decodes images with Debian's ffmpeg (a child process) into the planar BGR 0–255 layout OpenVINO IR models expect. */
import { execFileSync } from "child_process";
import { InputError } from "../errors";

function run(cmd: string, args: string[]): Buffer {
  try {
    return execFileSync(cmd, args, { maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === "ENOENT") throw new InputError(`${cmd} is not installed (apt-get install ffmpeg)`);
    throw new InputError(`${cmd} failed: ${err.stderr?.toString().trim() || err.message}`);
  }
}

export interface Crop {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Reads `file` (optionally a crop of it) resized to w×h as NCHW BGR floats (one image). */
export function loadBgrPlanar(file: string, w: number, h: number, crop?: Crop): Float32Array {
  const filters = [];
  if (crop) filters.push(`crop=${crop.w}:${crop.h}:${crop.x}:${crop.y}`);
  filters.push(`scale=${w}:${h}:flags=bilinear`);
  const raw = run("ffmpeg", ["-v", "error", "-i", file, "-vf", filters.join(","), "-f", "rawvideo", "-pix_fmt", "bgr24", "-"]);
  const out = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) out[c * w * h + i] = raw[i * 3 + c];
  return out;
}

/** Width and height of an image. */
export function imageSize(file: string): { width: number; height: number } {
  const out = run("ffprobe", [
    "-v",
    "error",
    "-select_streams",
    "v:0",
    "-show_entries",
    "stream=width,height",
    "-of",
    "csv=p=0",
    file,
  ])
    .toString()
    .trim();
  const [width, height] = out.split(",").map(Number);
  return { width, height };
}
