/**
 * `dynbatch doctor`: what this installation has and lacks (native addon, OpenCL devices, the
 * project's kernel, the JupyterLab extension), each part reported even when another fails.
 */
import * as fs from "fs";
import * as path from "path";
import { parseOptions } from "./args";
import { loadAddon, loadGpuAddon } from "../plugins/native";
import { JupyterPaths, jupyterPaths } from "./install/jupyter";
import { findKernel, findProject, projectKernelName } from "./install/kernelspec";
import { findLab } from "./install/labext";

export const DOCTOR_USAGE = `usage: dynbatch doctor [--json]

Reports the package, oneDNN's version and CPU ISA, the OpenCL devices, whether this project's tslab
kernel is registered (and where), and where the JupyterLab extension is installed among the
folders \`jupyter --paths\` lists. Always exits 0: a missing part is reported, not an error.

  --json      one JSON object instead of text
  -h, --help  this text`;

/** A part that could not be checked says why instead. */
type Part<T> = T | { error: string };

export interface DoctorReport {
  package: { version: string; root: string };
  native: Part<{ onednn: string; isa: string }>;
  opencl: Part<{ devices: { index: number; name: string; type: string; platform: string }[] }>;
  jupyter: Part<{ python: string; data: string[] }>;
  kernel: Part<{ name: string; project: string; registered?: { dir: string; runs: string; runsExists: boolean } }>;
  lab: Part<{ installed: { dir: string; version: string }[] }>;
}

function attempt<T>(f: () => T): Part<T> {
  try {
    return f();
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const PACKAGE_ROOT = path.resolve(__dirname, "../../..");

/** Gathers the report; `cwd` picks the project whose kernel is looked for. */
export function doctor(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): DoctorReport {
  const version = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
  const paths: Part<JupyterPaths> = attempt(() => jupyterPaths(env));
  const withPaths = <T>(f: (p: JupyterPaths) => T): Part<T> =>
    "error" in paths ? { error: paths.error } : attempt(() => f(paths));
  return {
    package: { version, root: PACKAGE_ROOT },
    native: attempt(() => ({ onednn: loadAddon().dnnlVersion(), isa: loadAddon().cpuIsa() })),
    opencl: attempt(() => ({
      devices: loadGpuAddon()
        .gpuDevices()
        .map((d) => ({ index: d.index, name: d.name, type: d.type, platform: d.platform })),
    })),
    jupyter: withPaths((p) => ({ python: p.python, data: p.data })),
    kernel: withPaths((p) => {
      const project = findProject(cwd);
      const name = projectKernelName(project);
      const found = findKernel(name, p);
      const runs = found?.spec.argv?.[0] ?? "";
      return { name, project, ...(found && { registered: { dir: found.dir, runs, runsExists: fs.existsSync(runs) } }) };
    }),
    lab: withPaths((p) => ({ installed: findLab(p) })),
  };
}

/** The report as text, one line per fact, with the command that fixes what is missing. */
export function formatDoctor(r: DoctorReport): string {
  const line = <T extends object>(label: string, part: Part<T>, ok: (v: T) => string) =>
    `${label.padEnd(9)} ${"error" in part ? `unavailable: ${part.error}` : ok(part)}`;
  return [
    `dynbatch  ${r.package.version} (${r.package.root})`,
    line("oneDNN", r.native, (n) => `${n.onednn}, CPU ISA ${n.isa}`),
    line("OpenCL", r.opencl, (o) =>
      o.devices.length ? o.devices.map((d) => `[${d.index}] ${d.name} (${d.type}, ${d.platform})`).join("; ") : "no devices",
    ),
    line("jupyter", r.jupyter, (j) => `${j.python}; data dirs ${j.data.join(", ")}`),
    line("kernel", r.kernel, (k) =>
      k.registered
        ? `${k.name} registered in ${k.registered.dir}, runs ${k.registered.runs}${k.registered.runsExists ? "" : " (missing: run `npx dynbatch kernel install` again)"}`
        : `${k.name} (for ${k.project}) not registered: npx dynbatch kernel install`,
    ),
    line("lab", r.lab, (l) =>
      l.installed.length
        ? l.installed.map((x) => `${x.version} in ${x.dir}`).join("; ")
        : "extension not installed: npx dynbatch lab install",
    ),
  ].join("\n");
}

export async function runDoctor(argv: string[]): Promise<number> {
  const { values: v } = parseOptions({
    args: argv,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (v.help) console.log(DOCTOR_USAGE);
  else {
    const r = doctor();
    console.log(v.json ? JSON.stringify(r, null, 2) : formatDoctor(r));
  }
  return 0;
}
