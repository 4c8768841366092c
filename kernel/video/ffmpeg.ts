/** Running Debian's ffmpeg/ffprobe as child processes, with their failures as typed errors. */
import { ChildProcess, execFileSync } from "child_process";
import { InputError } from "../errors";

const MISSING = "is not installed (apt-get install ffmpeg)";
/** stdout a tool may write to runTool (256 MiB): a probe or a short clip's frames, never a stream. */
const MAX_TOOL_OUTPUT_BYTES = 256 << 20;
/** End of a failing tool's stderr kept for its error: the last lines say why, the banner before them does not. */
const STDERR_TAIL_CHARS = 4000;

/** Runs a tool to completion, optionally feeding `input` on stdin, and returns its stdout. */
export function runTool(cmd: "ffmpeg" | "ffprobe", args: string[], input?: Uint8Array): Buffer {
  try {
    return execFileSync(cmd, args, {
      maxBuffer: MAX_TOOL_OUTPUT_BYTES,
      input,
      stdio: [input ? "pipe" : "ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === "ENOENT") throw new InputError(`${cmd} ${MISSING}`);
    throw new InputError(`${cmd} failed: ${err.stderr?.toString().trim() || err.message}`);
  }
}

/**
 * Resolves when a spawned tool exits; rejects with an InputError carrying the end of its stderr when it
 * fails. `expected()` tells whether a signal exit was caused by us (the reader stopped early).
 */
export function exitOf(proc: ChildProcess, cmd: string, expected: () => boolean): Promise<void> {
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_TAIL_CHARS);
  });
  return new Promise((resolve, reject) => {
    proc.on("error", (e: NodeJS.ErrnoException) =>
      reject(new InputError(e.code === "ENOENT" ? `${cmd} ${MISSING}` : `${cmd}: ${e.message}`)),
    );
    proc.on("close", (code, signal) => {
      if (code === 0 || expected()) resolve();
      else reject(new InputError(`${cmd} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || "no message"}`));
    });
  });
}
