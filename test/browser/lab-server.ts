/**
 * The JupyterLab of lab/ (lab/serve.py on Debian's jupyter_server) started for a test: on a free
 * loopback port, with a random token, its own settings and runtime folders, and stopped with
 * every kernel it started.
 */
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { ROOT } from "../helpers/models";

const PYTHON = "/usr/bin/python3";
const SERVE = path.join(ROOT, "lab", "serve.py");
/** What the frontend build and the extension build leave; scripts/lab-setup.sh makes both. */
const BUILT = [
  path.join(ROOT, "lab", "build", "static", "bundle.js"),
  path.join(ROOT, "lab", "build", "labextensions", "dynbatch-jupyterlab", "package.json"),
];
const READY = /JupyterLab is ready\. Open this URL in a browser:\s+(http:\/\/\S+)/;

export interface LabServer {
  /** The page to open, token included: http://127.0.0.1:PORT/lab?token=… */
  url: string;
  /** http://127.0.0.1:PORT/ */
  base: string;
  token: string;
  /** The server's output so far, for failure messages. */
  log(): string;
  /** Shuts down every kernel the server runs. */
  shutdownKernels(): Promise<void>;
  /** Shuts the kernels and the server down; returns the pids that had to be killed after that. */
  stop(): Promise<number[]>;
}

export interface LabOptions {
  /** The folder the file browser shows and kernels start in. */
  root: string;
  /** A scratch folder: user settings, workspaces and kernel connection files go under it. */
  work: string;
  /** Extra environment for the server and its kernels. */
  env?: Record<string, string>;
  /** Where the server loads prebuilt extensions from (default: lab/build/labextensions, the repository's build). */
  labextensions?: string;
}

/** Throws with the fix when the lab frontend or the extension has not been built. */
export function checkLabBuilt(): void {
  for (const file of BUILT) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`bash scripts/lab-setup.sh\` (part of scripts/setup.sh)`);
  }
}

/** A TCP port free on 127.0.0.1 right now (the server is told not to try others). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Pids of live processes whose command line mentions `text`. */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Resolves true once `child` has exited, false after `ms`. */
export function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Asks the server to shut every running kernel down (they run in sessions of their own). */
async function shutdownKernels(base: string, token: string): Promise<void> {
  const init = { headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(20_000) };
  const res = await fetch(new URL("api/kernels", base), init);
  const kernels = (await res.json()) as { id: string }[];
  await Promise.all(kernels.map((k) => fetch(new URL(`api/kernels/${k.id}`, base), { ...init, method: "DELETE" })));
}

/** Starts lab/serve.py and resolves once it listens. */
export async function startLab(options: LabOptions): Promise<LabServer> {
  checkLabBuilt();
  const port = await freePort();
  const token = randomBytes(24).toString("hex");
  const runtime = path.join(options.work, "runtime");
  fs.mkdirSync(runtime, { recursive: true });
  const args = [
    SERVE,
    `--port=${port}`,
    "--ServerApp.port_retries=0",
    "--no-browser",
    `--ServerApp.token=${token}`,
    `--ServerApp.root_dir=${options.root}`,
    `--DynbatchLab.state_dir=${path.join(options.work, "state")}`,
    ...(options.labextensions ? [`--DynbatchLab.labextensions_path=${options.labextensions}`] : []),
  ];
  const env = {
    ...process.env,
    ...options.env,
    // Kernel connection files go here, so every kernel's command line names this folder.
    JUPYTER_RUNTIME_DIR: runtime,
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
  };
  const child = spawn(PYTHON, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const log = () => output;

  const killAll = () => {
    child.kill("SIGKILL");
    for (const pid of processesMentioning(runtime)) process.kill(pid, "SIGKILL");
  };
  const url = await new Promise<string>((resolve, reject) => {
    // A server that never got ready is killed: its open pipes would keep the test run alive.
    const timer = setTimeout(() => {
      killAll();
      reject(new Error(`lab/serve.py did not start within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = READY.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`lab/serve.py exited (${code}) before it was ready:\n${output}`));
    });
  });
  const base = `http://127.0.0.1:${port}/`;

  const stop = async (): Promise<number[]> => {
    if (child.exitCode === null && child.signalCode === null) {
      // jupyter_server 1.23 can hang on SIGTERM while it shuts kernels down itself: do it first.
      await shutdownKernels(base, token).catch(() => undefined);
      child.kill("SIGTERM");
      if (!(await exited(child, 15_000))) {
        child.kill("SIGKILL");
        await exited(child, 5_000);
      }
    }
    const left = processesMentioning(runtime);
    for (const pid of left) process.kill(pid, "SIGKILL");
    return left;
  };
  return { url, base, token, log, shutdownKernels: () => shutdownKernels(base, token), stop };
}
