/** The addon's build requirements: found or missing by file, and the error a user gets when the addon is absent. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { NativeUnavailableError } from "../../kernel/errors";
import {
  aptCommand,
  defaultSearchDirs,
  missingPackages,
  REQUIREMENTS,
  unavailableError,
} from "../../kernel/plugins/requirements";
import { ROOT } from "../helpers/models";
import { scratch } from "./env";

const tmp = scratch("dynbatch-req-");

/** A fake root holding the files of the given packages only. */
function dirsWith(packages: string[]) {
  const root = fs.mkdtempSync(path.join(tmp, "root-"));
  const dirs = { path: [path.join(root, "bin")], include: [path.join(root, "include")], lib: [path.join(root, "lib")] };
  for (const r of REQUIREMENTS.filter((r) => packages.includes(r.package))) {
    const dir = { command: dirs.path[0], header: dirs.include[0], library: dirs.lib[0] }[r.kind];
    fs.mkdirSync(path.dirname(path.join(dir, r.file)), { recursive: true });
    fs.writeFileSync(path.join(dir, r.file), "");
  }
  return dirs;
}

test("missingPackages: each requirement found by its file, missing otherwise", () => {
  const all = REQUIREMENTS.map((r) => r.package);
  assert.deepEqual(missingPackages(dirsWith(all)), []);
  assert.deepEqual(missingPackages(dirsWith(all.filter((p) => p !== "libdnnl-dev"))), ["libdnnl-dev"]);
  assert.deepEqual(missingPackages(dirsWith([])), all);
  // This machine built the addon, so it has everything.
  assert.deepEqual(missingPackages(defaultSearchDirs()), []);
});

test("unavailableError names the missing packages, the apt command and the rebuild", () => {
  const e = unavailableError("/p/addon.node", undefined, ["libdnnl-dev", "g++"]);
  assert.ok(e instanceof NativeUnavailableError);
  assert.equal(e.code, "NATIVE_UNAVAILABLE");
  assert.deepEqual(e.missing, ["libdnnl-dev", "g++"]);
  assert.match(
    e.message,
    /\/p\/addon\.node was not built .*needs libdnnl-dev, g\+\+: sudo apt-get install libdnnl-dev g\+\+, then npm rebuild dynbatch/,
  );
  const load = unavailableError("/p/addon.node", new Error("libdnnl.so.2: cannot open shared object file\nmore"), []);
  assert.match(
    load.message,
    /does not load \(libdnnl\.so\.2: cannot open shared object file\); the build tools and libraries are present now: npm rebuild dynbatch$/,
  );
  assert.equal(aptCommand(["a", "b"]), "sudo apt-get install a b");
});

/** A copy of the installed package's JavaScript (dist/kernel, the install script) with no addon built. */
function packageWithoutAddon(): string {
  const pkg = path.join(tmp, "pkg");
  fs.cpSync(path.join(ROOT, "dist", "kernel"), path.join(pkg, "dist", "kernel"), { recursive: true });
  fs.cpSync(path.join(ROOT, "scripts", "install-native.js"), path.join(pkg, "scripts", "install-native.js"));
  fs.cpSync(
    path.join(ROOT, "models", "landmarks-regression-retail-0009"),
    path.join(pkg, "models", "landmarks-regression-retail-0009"),
    { recursive: true },
  );
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(pkg, "node_modules"));
  return pkg;
}

test("without the addon: require succeeds, readNetwork works, loadNetwork throws NATIVE_UNAVAILABLE; the install script skips the build and says why", () => {
  const pkg = packageWithoutAddon();
  const script = `
const d = require("./dist/kernel/index.js");
(async () => {
  const ie = new d.IECore();
  const net = await ie.readNetwork("models/landmarks-regression-retail-0009/FP16/landmarks-regression-retail-0009.xml");
  try { await ie.loadNetwork(net, "CPU"); console.log("loaded"); }
  catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, layers: net.layers ? net.layers.length : 0 })); }
})();`;
  const r = spawnSync(process.execPath, ["-e", script], { cwd: pkg, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const err = JSON.parse(r.stdout) as { name: string; code: string; message: string };
  assert.equal(err.name, "NativeUnavailableError");
  assert.equal(err.code, "NATIVE_UNAVAILABLE");
  assert.match(err.message, new RegExp(`${path.join(pkg, "build", "Release", "dynbatch_native.node")} was not built`));

  // No compiler or make on PATH: the script names them and the install still succeeds.
  const install = spawnSync(process.execPath, [path.join(pkg, "scripts", "install-native.js")], {
    cwd: pkg,
    encoding: "utf8",
    env: { ...process.env, PATH: "/nonexistent" },
  });
  assert.equal(install.status, 0, install.stderr);
  assert.match(
    install.stderr,
    /native addon .* was not built: g\+\+, make missing\.\n {2}sudo apt-get install g\+\+ make\n {2}then: npm rebuild dynbatch/,
  );
  assert.ok(!fs.existsSync(path.join(pkg, "build")));
});
