/** `dynbatch lab`: installs the JupyterLab extension into the user's JupyterLab, or removes it. */
import { InputError } from "../errors";
import { parseOptions } from "./args";
import { jupyterPaths } from "./install/jupyter";
import { installLab, PREBUILT, Target, uninstallLab } from "./install/labext";

export const LAB_USAGE = `usage: dynbatch lab install [--user | --sys-prefix] [--from DIR]
       dynbatch lab uninstall [--user | --sys-prefix]

install     copies the prebuilt dynbatch-jupyterlab extension into <data dir>/labextensions/, where
            JupyterLab >= 4 loads it from (restart JupyterLab; \`jupyter labextension list\` shows it)
uninstall   removes it from there

  --user        the per-user Jupyter data directory (default; JUPYTER_DATA_DIR moves it)
  --sys-prefix  {sys.prefix}/share/jupyter of the Python that runs Jupyter (a venv, conda env)
  --from DIR    install this prebuilt extension folder instead of the package's (a build of your own)
  -h, --help    this text

The Python asked for Jupyter's paths: DYNBATCH_PYTHON, else python3, else /usr/bin/python3.`;

export async function runLab(argv: string[]): Promise<number> {
  const parsed = parseOptions({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: "string" },
      user: { type: "boolean" },
      "sys-prefix": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(LAB_USAGE);
    return 0;
  }
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw new InputError(`unexpected arguments: ${extra.join(" ")}`);
  if (action !== "install" && action !== "uninstall")
    throw new InputError(`expected 'install' or 'uninstall', got ${action ? `'${action}'` : "nothing"}\n\n${LAB_USAGE}`);
  if (v.user && v["sys-prefix"]) throw new InputError("--user and --sys-prefix exclude each other");
  const target: Target = v["sys-prefix"] ? "sys-prefix" : "user";
  const paths = jupyterPaths();
  if (action === "install") {
    const source = v.from ?? PREBUILT;
    console.log(`installed ${source}\n  into ${installLab(paths, target, source)}\nrestart JupyterLab to load it`);
  } else {
    const removed = uninstallLab(paths, target);
    console.log(removed ? `removed ${removed}` : `not installed in the ${target} data directory; nothing to remove`);
  }
  return 0;
}
