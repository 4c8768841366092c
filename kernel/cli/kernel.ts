/** `dynbatch kernel`: registers this project's tslab kernel, or prints its name. */
import { InputError } from "../errors";
import { parseOptions } from "./args";
import { jupyterPaths } from "./install/jupyter";
import { findProject, installKernel, projectKernelName } from "./install/kernelspec";

export const KERNEL_USAGE = `usage: dynbatch kernel install [--name N] [--user | --sys-prefix] [--force]
       dynbatch kernel name

install   registers a tslab kernel that runs the project's own tslab, so notebooks in the project
          (the nearest folder with a package.json at or above the current one) resolve
          \`import { IECore } from "dynbatch"\` from its node_modules
name      prints the project's kernel name (what install registers without --name)

  --name N      kernel name (default dynbatch-<hash of the project folder>, one per project)
  --user        the per-user Jupyter data directory (default; JUPYTER_DATA_DIR moves it)
  --sys-prefix  the data directory of the Python environment that runs Jupyter
  --force       take over a kernel of that name registered by another project
  -h, --help    this text

The Python asked for Jupyter's paths: DYNBATCH_PYTHON, else python3, else /usr/bin/python3.`;

export async function runKernel(argv: string[]): Promise<number> {
  const parsed = parseOptions({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      user: { type: "boolean" },
      "sys-prefix": { type: "boolean" },
      force: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(KERNEL_USAGE);
    return 0;
  }
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw new InputError(`unexpected arguments: ${extra.join(" ")}`);
  const project = findProject(process.cwd());
  if (action === "name") {
    console.log(projectKernelName(project));
    return 0;
  }
  if (action !== "install")
    throw new InputError(`expected 'install' or 'name', got ${action ? `'${action}'` : "nothing"}\n\n${KERNEL_USAGE}`);
  if (v.user && v["sys-prefix"]) throw new InputError("--user and --sys-prefix exclude each other");
  const r = installKernel({
    project,
    paths: jupyterPaths(),
    name: v.name,
    target: v["sys-prefix"] ? "sys-prefix" : "user",
    force: v.force,
  });
  console.log(`registered the kernel '${r.name}' ("${r.spec.display_name}") in ${r.dir}\n  runs ${r.spec.argv[0]}`);
  return 0;
}
