/** Temporary projects and a Jupyter of their own (JUPYTER_* folders in a temp dir), so no test touches the user's kernels or extensions. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../helpers/models";

export const BIN = path.join(ROOT, "dist", "kernel", "cli", "main.js");

/** A scratch folder removed when the process exits. */
export function scratch(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Environment with Jupyter's data, config and runtime folders under `dir` and no extra search path. */
export function isolatedJupyter(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_DATA_DIR: path.join(dir, "data"),
    JUPYTER_CONFIG_DIR: path.join(dir, "config"),
    JUPYTER_RUNTIME_DIR: path.join(dir, "runtime"),
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
  };
  delete env.JUPYTER_PATH;
  return env;
}

/** A project folder with a package.json and this checkout's tslab in its node_modules. */
export function fakeProject(parent: string, name: string): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(path.join(dir, "node_modules"), { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0" }));
  fs.symlinkSync(path.join(ROOT, "node_modules", "tslab"), path.join(dir, "node_modules", "tslab"));
  return dir;
}

/** Runs `dynbatch ARGS…` in `cwd` with `env`. */
export function dynbatch(
  cwd: string,
  env: NodeJS.ProcessEnv,
  ...args: string[]
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
