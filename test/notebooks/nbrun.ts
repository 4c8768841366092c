/**
 * Runs notebooks headless with the tslab kernel (test/notebooks/run_notebook.py on Debian's
 * nbclient) and reads their outputs back.
 */
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { projectKernelName } from "../../kernel/cli/install/kernelspec";
import { ROOT } from "../helpers/models";

export const NOTEBOOKS = path.join(ROOT, "notebooks");
const PYTHON = "/usr/bin/python3";
const RUNNER = path.join(ROOT, "test", "notebooks", "run_notebook.py");
/** This checkout's kernel (scripts/jupyter-setup.sh registers it); the notebooks' metadata names a generic one. */
export const KERNEL = projectKernelName(ROOT);
/** The kernelspec stored in the committed notebooks: no machine registers it, so a JupyterLab picks the one TypeScript kernel it offers (or asks). */
export const NOTEBOOK_KERNELSPEC = { name: "dynbatch", display_name: "TypeScript (dynbatch)", language: "typescript" };

export interface Output {
  output_type: "stream" | "display_data" | "execute_result" | "error";
  name?: "stdout" | "stderr";
  text?: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

export interface Cell {
  cell_type: "code" | "markdown";
  source: string;
  outputs?: Output[];
  metadata?: Record<string, unknown>;
}

export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
}

/** Throws with the fix when the machine lacks what the notebooks need (scripts/jupyter-setup.sh provides it). */
export function checkSetup(): void {
  const fix = "run `bash scripts/jupyter-setup.sh` (part of scripts/setup.sh)";
  const nbclient = spawnSync(PYTHON, ["-c", "import nbclient"], { encoding: "utf8" });
  if (nbclient.status !== 0) throw new Error(`${PYTHON} cannot import nbclient: ${fix}`);
  const specs = spawnSync("/usr/bin/jupyter", ["kernelspec", "list", "--json"], { encoding: "utf8" });
  if (specs.status !== 0 || !JSON.parse(specs.stdout).kernelspecs?.[KERNEL]) throw new Error(`this checkout's kernel ${KERNEL} is not registered: ${fix}`);
  if (!fs.existsSync(path.join(NOTEBOOKS, "node_modules", "dynbatch", "package.json")))
    throw new Error(`notebooks/node_modules/dynbatch does not resolve: ${fix}`);
}

/** Problems a clean run must not have: error outputs and anything written to stderr. */
export function problems(nb: Notebook): string[] {
  return nb.cells.flatMap((c, i) =>
    (c.outputs ?? [])
      .filter((o) => o.output_type === "error" || o.name === "stderr")
      .map((o) => `cell ${i}: ${o.output_type === "error" ? `${o.ename}: ${o.evalue}` : o.text}`),
  );
}

/**
 * Executes `file` (kernel started in `cwd`, notebooks/ by default) in quick mode and returns the
 * executed notebook; rejects with the failing outputs when a cell fails.
 */
export function runNotebook(file: string, cwd = NOTEBOOKS): Promise<Notebook> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-nb-")), path.basename(file));
  const env = { ...process.env, DYNBATCH_QUICK: "1", PYDEVD_DISABLE_FILE_VALIDATION: "1" };
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [RUNNER, file, out, "--cwd", cwd, "--kernel", KERNEL, "--timeout", "300"], { env, maxBuffer: 1 << 26 }, (err, _stdout, stderr) => {
      const nb = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, "utf8")) as Notebook) : undefined;
      if (nb) for (const c of nb.cells) c.source = Array.isArray(c.source) ? c.source.join("") : c.source;
      if (err || !nb) {
        const detail = nb ? problems(nb).join("\n") : "";
        reject(new Error(`${path.basename(file)} failed:\n${detail || stderr}`));
      } else resolve(nb);
    });
  });
}

function text(o: Output): string {
  return Array.isArray(o.text) ? o.text.join("") : (o.text ?? "");
}

/** The display_data payloads of one MIME type, in output order. */
export function payloads(nb: Notebook, mime: string): unknown[] {
  return nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === "display_data" && o.data && mime in o.data).map((o) => o.data![mime]));
}

/** The text/plain part of every display, joined (multi-line strings are stored as line lists). */
export function displayTexts(nb: Notebook): string[] {
  return nb.cells.flatMap((c) =>
    (c.outputs ?? [])
      .filter((o) => o.output_type === "display_data" && o.data && "text/plain" in o.data)
      .map((o) => {
        const t = o.data!["text/plain"];
        return Array.isArray(t) ? t.join("") : String(t);
      }),
  );
}

/** Everything a notebook printed to stdout. */
export function stdout(nb: Notebook): string {
  return nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.name === "stdout").map(text)).join("");
}
