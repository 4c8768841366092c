/**
 * The tslab kernel of one project. Its name and display name come from the project's folder, so
 * two checkouts or projects on one machine each get their own kernel instead of re-pointing a
 * shared `tslab` kernel at whichever was set up last (which breaks the other's `display`).
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ConfigError, NotFoundError } from "../../errors";
import { JupyterPaths } from "./jupyter";

/** What a kernel.json written here holds (Jupyter's kernel spec plus the project it belongs to). */
export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: "typescript";
  metadata: { dynbatch: { project: string } };
}

/** `dynbatch-` and 8 hex digits of the SHA-256 of the project folder's real path (lab/serve.py computes the same). */
export function projectKernelName(project: string): string {
  return `dynbatch-${createHash("sha256").update(fs.realpathSync(project)).digest("hex").slice(0, 8)}`;
}

export function projectDisplayName(project: string): string {
  return `TypeScript (dynbatch: ${path.basename(fs.realpathSync(project))})`;
}

/** The nearest folder at or above `dir` with a package.json: the project whose node_modules the kernel uses. */
export function findProject(dir: string): string {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "package.json"))) return d;
    if (path.dirname(d) === d)
      throw new NotFoundError(`no package.json in ${dir} or above: run this in your project (npm init -y)`);
  }
}

/** The tslab executable the project resolves (its own copy, so `display` finds the tslab that runs the kernel). */
export function tslabBinary(project: string): string {
  let pkgFile: string;
  try {
    pkgFile = require.resolve("tslab/package.json", { paths: [project] });
  } catch {
    throw new NotFoundError(`tslab is not installed in ${project}: run \`npm install tslab\` there`);
  }
  const bin = (JSON.parse(fs.readFileSync(pkgFile, "utf8")) as { bin: Record<string, string> }).bin.tslab;
  return path.join(path.dirname(pkgFile), bin);
}

export function kernelSpec(project: string, displayName = projectDisplayName(project)): KernelSpec {
  return {
    argv: [tslabBinary(project), "kernel", "--config-path", "{connection_file}"],
    display_name: displayName,
    language: "typescript",
    metadata: { dynbatch: { project: fs.realpathSync(project) } },
  };
}

/** Where `name` is registered: the first data directory holding it, as Jupyter searches them. */
export function findKernel(name: string, paths: JupyterPaths): { dir: string; spec: Partial<KernelSpec> } | undefined {
  for (const data of paths.data) {
    const file = path.join(data, "kernels", name, "kernel.json");
    if (fs.existsSync(file))
      return { dir: path.dirname(file), spec: JSON.parse(fs.readFileSync(file, "utf8")) as Partial<KernelSpec> };
  }
  return undefined;
}

export interface KernelInstallOptions {
  project: string;
  paths: JupyterPaths;
  /** Default: projectKernelName(project). */
  name?: string;
  /** The data directory: per user (default) or the Python environment's. */
  target?: "user" | "sys-prefix";
  /** Replace a kernel of that name that belongs to another project (or to no dynbatch project). */
  force?: boolean;
}

/**
 * Writes the project's kernel spec into `<data dir>/kernels/<name>/`. A kernel of the same name
 * that another project registered is left alone unless `force`: taking it over would break that project.
 */
export function installKernel(o: KernelInstallOptions): { name: string; dir: string; spec: KernelSpec } {
  const name = o.name ?? projectKernelName(o.project);
  if (!/^[a-z0-9._-]+$/i.test(name))
    throw new ConfigError(`kernel name '${name}': use letters, digits, '.', '_' and '-' only (Jupyter's rule)`);
  const spec = kernelSpec(o.project, o.name ? `TypeScript (dynbatch: ${name})` : undefined);
  const dir = path.join(o.target === "sys-prefix" ? o.paths.sysPrefix : o.paths.user, "kernels", name);
  const file = path.join(dir, "kernel.json");
  if (fs.existsSync(file) && !o.force) {
    const owner = (JSON.parse(fs.readFileSync(file, "utf8")) as Partial<KernelSpec>).metadata?.dynbatch?.project;
    if (owner !== spec.metadata.dynbatch.project) {
      throw new ConfigError(
        `kernel '${name}' in ${dir} belongs to ${owner ? `the project ${owner}` : "another installation"}; choose another --name or pass --force to take it over`,
      );
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(spec, null, 1) + "\n");
  return { name, dir, spec };
}
