/**
 * The prebuilt dynbatch-jupyterlab extension copied into (or removed from) a Jupyter data
 * directory's labextensions/ folder, where JupyterLab ≥ 4 loads prebuilt extensions from, the way
 * a pip-installed extension places it (`jupyter labextension list` then shows it).
 */
import * as fs from "fs";
import * as path from "path";
import { NotFoundError } from "../../errors";
import { JupyterPaths } from "./jupyter";

export const EXTENSION_NAME = "dynbatch-jupyterlab";

/** The package's prebuilt extension (built by `npm run build -w extension`, shipped in the npm package). */
export const PREBUILT = path.resolve(__dirname, "../../../../extension/labextension");

export type Target = "user" | "sys-prefix";

function labextensionsDir(paths: JupyterPaths, target: Target): string {
  return path.join(target === "sys-prefix" ? paths.sysPrefix : paths.user, "labextensions", EXTENSION_NAME);
}

/** Copies the prebuilt extension in `source` into the target's labextensions/ (replacing an older copy); returns where. */
export function installLab(paths: JupyterPaths, target: Target = "user", source = PREBUILT): string {
  if (!fs.existsSync(path.join(source, "package.json"))) {
    throw new NotFoundError(
      `${source} has no prebuilt extension (package.json): in a checkout, run \`npm run build -w extension\` first`,
    );
  }
  const dest = labextensionsDir(paths, target);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.cpSync(source, dest, { recursive: true, dereference: true });
  return dest;
}

/** Removes the extension from the target's labextensions/; returns the folder removed, or undefined when it was not there. */
export function uninstallLab(paths: JupyterPaths, target: Target = "user"): string | undefined {
  const dest = labextensionsDir(paths, target);
  if (!fs.existsSync(dest)) return undefined;
  fs.rmSync(dest, { recursive: true, force: true });
  return dest;
}

/** Every copy JupyterLab would see, in its search order (the first one wins), with its version. */
export function findLab(paths: JupyterPaths): { dir: string; version: string }[] {
  return paths.data.flatMap((data) => {
    const file = path.join(data, "labextensions", EXTENSION_NAME, "package.json");
    if (!fs.existsSync(file)) return [];
    return [
      { dir: path.dirname(file), version: String((JSON.parse(fs.readFileSync(file, "utf8")) as { version?: string }).version) },
    ];
  });
}
