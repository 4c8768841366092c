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

/**
 * Throws unless `source` holds a complete prebuilt extension: package.json naming its entry
 * (`jupyterlab._build.load`) and that file. JupyterLab skips an incomplete one with only a warning
 * in the server's log ("is not a valid extension").
 */
export function checkBuild(source: string): void {
  const fix = "in a checkout, run `npm run build -w extension` (or scripts/lab-setup.sh) first";
  const pkgFile = path.join(source, "package.json");
  if (!fs.existsSync(pkgFile)) throw new NotFoundError(`${source} has no prebuilt extension (package.json): ${fix}`);
  const load = (JSON.parse(fs.readFileSync(pkgFile, "utf8")) as { jupyterlab?: { _build?: { load?: string } } }).jupyterlab
    ?._build?.load;
  if (!load || !fs.existsSync(path.join(source, load))) {
    throw new NotFoundError(
      `${pkgFile}: an incomplete build (jupyterlab._build.load ${load ? `names ${load}, which is missing` : "is missing"}): ${fix}`,
    );
  }
}

/** Copies the prebuilt extension in `source` into the target's labextensions/ (replacing an older copy); returns where. */
export function installLab(paths: JupyterPaths, target: Target = "user", source = PREBUILT): string {
  checkBuild(source);
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
