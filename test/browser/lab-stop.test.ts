/**
 * `npm start` stops on Ctrl-C (SIGINT) and SIGTERM with every kernel it started, also while a
 * tslab kernel is still starting (jupyter_server 1.23 alone waits for that kernel without limit).
 */
import assert from "node:assert/strict";
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { test } from "node:test";
import { ROOT } from "../helpers/models";
import { checkLabBuilt, exited, freePort, processesMentioning } from "./lab-server";

/** lab/serve.py's STOP_GRACE_S plus the polite shutdown before it, with room for a loaded machine. */
const STOP_LIMIT_MS = 20_000;

interface Started {
  base: string;
  token: string;
  runtime: string;
  child: ReturnType<typeof spawn>;
  output(): string;
}

async function npmStart(): Promise<Started> {
  checkLabBuilt();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-stop-"));
  const runtime = path.join(work, "runtime");
  fs.mkdirSync(runtime);
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const args = [
    "start",
    "--silent",
    "--",
    "--skip-setup",
    "--no-browser",
    `--port=${port}`,
    "--",
    "--ServerApp.port_retries=0",
    `--ServerApp.token=${token}`,
    `--DynbatchLab.state_dir=${path.join(work, "state")}`,
  ];
  // A process group of its own, as a terminal gives a foreground job.
  const child = spawn("npm", args, {
    cwd: ROOT,
    env: { ...process.env, JUPYTER_RUNTIME_DIR: runtime },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 60_000;
  while (!out.includes("JupyterLab is ready")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`npm start did not get ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base: `http://127.0.0.1:${port}/`, token, runtime, child, output: () => out };
}

function startKernel(s: Started): Promise<Response> {
  return fetch(new URL("api/kernels", s.base), {
    method: "POST",
    headers: { Authorization: `token ${s.token}`, "Content-Type": "application/json" },
    // No name: the server's default kernel, this checkout's (lab/serve.py).
    body: JSON.stringify({}),
  });
}

/** Kills whatever of `s` still runs: npm, the server (its command line holds the token), kernels. */
function killAll(s: Started): void {
  for (const pid of [...processesMentioning(s.token), ...processesMentioning(s.runtime)]) process.kill(pid, "SIGKILL");
}

/**
 * Sends `signal` the way it comes: SIGTERM to npm alone (a service manager, `kill`), SIGINT to the
 * whole process group (Ctrl-C in a terminal), then asserts the server exited and left no kernel.
 */
async function stopWith(s: Started, signal: NodeJS.Signals): Promise<void> {
  if (signal === "SIGINT") process.kill(-s.child.pid!, signal);
  else s.child.kill(signal);
  const stopped = await exited(s.child, STOP_LIMIT_MS);
  const left = processesMentioning(s.runtime);
  killAll(s);
  assert.ok(stopped, `npm start still ran ${STOP_LIMIT_MS} ms after ${signal}:\n${s.output()}`);
  assert.deepEqual(left, [], `kernels left running after ${signal}`);
}

test("npm start: SIGTERM while a tslab kernel is still starting stops the server and the kernel", async () => {
  const s = await npmStart();
  try {
    const starting = startKernel(s).catch(() => undefined);
    // Stop once the kernel process exists but before it can have answered.
    const deadline = Date.now() + 30_000;
    while (processesMentioning(s.runtime).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(processesMentioning(s.runtime).length > 0, `no kernel process started:\n${s.output()}`);
    await stopWith(s, "SIGTERM");
    await starting;
  } finally {
    killAll(s);
  }
});

test("npm start: Ctrl-C (SIGINT) with a running kernel stops without asking, kernels included", async () => {
  const s = await npmStart();
  try {
    const res = await startKernel(s);
    assert.equal(res.status, 201, await res.text());
    await stopWith(s, "SIGINT");
    assert.match(s.output(), /SIGINT: stopping the server and its kernels/);
  } finally {
    killAll(s);
  }
});
