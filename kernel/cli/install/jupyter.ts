/**
 * Where Jupyter looks for kernels and JupyterLab extensions, asked of Jupyter itself
 * (jupyter_core's paths) so that JUPYTER_DATA_DIR, JUPYTER_PATH and the Python environment
 * decide, as they do for `jupyter --paths`.
 */
import { spawnSync } from "child_process";
import { NotFoundError } from "../../errors";

export interface JupyterPaths {
  /** The Python whose jupyter_core answered. */
  python: string;
  /** The per-user data directory (`--user`): JUPYTER_DATA_DIR or ~/.local/share/jupyter. */
  user: string;
  /** `{sys.prefix}/share/jupyter` of that Python (`--sys-prefix`). */
  sysPrefix: string;
  /** Every data directory, searched in this order (`jupyter --paths`'s data list). */
  data: string[];
}

const PROBE = `
import json, os, sys
from jupyter_core.paths import jupyter_data_dir, jupyter_path
print(json.dumps({"user": jupyter_data_dir(), "sysPrefix": os.path.join(sys.prefix, "share", "jupyter"), "data": jupyter_path()}))
`;

/**
 * The Pythons tried, in order: DYNBATCH_PYTHON, then \`python3\` on PATH, then Debian's
 * /usr/bin/python3 (a pyenv or venv python3 earlier on PATH often lacks Jupyter).
 */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...(env.DYNBATCH_PYTHON ? [env.DYNBATCH_PYTHON] : []), "python3", "/usr/bin/python3"];
}

/** Asks the first of `pythons` that imports jupyter_core for its data directories. */
export function jupyterPaths(env: NodeJS.ProcessEnv = process.env, pythons = pythonCandidates(env)): JupyterPaths {
  const tried: string[] = [];
  for (const python of pythons) {
    const r = spawnSync(python, ["-c", PROBE], { encoding: "utf8", env });
    if (r.status === 0) return { python, ...(JSON.parse(r.stdout) as Omit<JupyterPaths, "python">) };
    tried.push(`${python}: ${r.error ? r.error.message : (r.stderr.trim().split("\n").pop() ?? `exit ${r.status}`)}`);
  }
  throw new NotFoundError(
    `no Python with Jupyter found (tried ${tried.join("; ")}); install it (Debian: sudo apt-get install jupyter-client python3-ipykernel) or set DYNBATCH_PYTHON`,
  );
}
