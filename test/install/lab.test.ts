/**
 * `dynbatch lab install/uninstall` in an isolated Jupyter: the extension lands where Debian's
 * jupyterlab_server (what `npm start` serves with) finds prebuilt extensions, and leaves again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { jupyterPaths } from "../../kernel/cli/install/jupyter";
import { EXTENSION_NAME, findLab, installLab, uninstallLab } from "../../kernel/cli/install/labext";
import { dynbatch, isolatedJupyter, scratch } from "./env";

const tmp = scratch("dynbatch-lab-install-");
const env = isolatedJupyter(tmp);

/** A stand-in for the prebuilt extension: what JupyterLab reads is package.json with `_build` and static/. */
function fakeBuild(version: string): string {
  const dir = path.join(tmp, `build-${version}`);
  fs.mkdirSync(path.join(dir, "static"), { recursive: true });
  const pkg = {
    name: EXTENSION_NAME,
    version,
    jupyterlab: { _build: { load: "static/remoteEntry.abc.js", mimeExtension: "./mimeExtension" } },
  };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg));
  fs.writeFileSync(path.join(dir, "static", "remoteEntry.abc.js"), "// entry\n");
  return dir;
}

/** What jupyterlab_server loads: name → version of every prebuilt extension on Jupyter's labextensions path. */
function served(): Record<string, string> {
  const code = `import json
from jupyter_core.paths import jupyter_path
from jupyterlab_server.config import get_federated_extensions
print(json.dumps({k: v["version"] for k, v in get_federated_extensions(jupyter_path("labextensions")).items()}))`;
  const r = spawnSync("/usr/bin/python3", ["-c", code], { encoding: "utf8", env });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("lab install puts the extension where jupyterlab_server loads it; a newer install replaces it; uninstall removes it", () => {
  const v1 = fakeBuild("0.1.0");
  const r = dynbatch(tmp, env, "lab", "install", "--from", v1);
  assert.equal(r.code, 0, r.stderr);
  const dest = path.join(env.JUPYTER_DATA_DIR!, "labextensions", EXTENSION_NAME);
  assert.match(r.stdout, new RegExp(`into ${dest}`));
  assert.equal(served()[EXTENSION_NAME], "0.1.0");
  assert.equal(dynbatch(tmp, env, "lab", "install", "--user", "--from", fakeBuild("0.2.0")).code, 0);
  assert.equal(served()[EXTENSION_NAME], "0.2.0");
  assert.deepEqual(findLab(jupyterPaths(env)), [{ dir: dest, version: "0.2.0" }]);
  const u = dynbatch(tmp, env, "lab", "uninstall");
  assert.equal(u.code, 0, u.stderr);
  assert.match(u.stdout, /removed /);
  assert.equal(served()[EXTENSION_NAME], undefined);
  assert.match(dynbatch(tmp, env, "lab", "uninstall").stdout, /not installed in the user data directory/);
});

test("--sys-prefix targets {sys.prefix}/share/jupyter; a folder without a build is a typed error", () => {
  const paths = { ...jupyterPaths(env), sysPrefix: path.join(tmp, "prefix", "share", "jupyter") };
  const dest = installLab(paths, "sys-prefix", fakeBuild("0.3.0"));
  assert.equal(dest, path.join(paths.sysPrefix, "labextensions", EXTENSION_NAME));
  assert.ok(fs.existsSync(path.join(dest, "static", "remoteEntry.abc.js")));
  assert.equal(uninstallLab(paths, "sys-prefix"), dest);
  assert.equal(uninstallLab(paths, "sys-prefix"), undefined);
  const empty = path.join(tmp, "empty");
  fs.mkdirSync(empty);
  const r = dynbatch(tmp, env, "lab", "install", "--from", empty);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /NOT_FOUND: .*empty has no prebuilt extension/);
  // A build that stopped half way: package.json written, its entry not.
  const half = fakeBuild("0.4.0");
  fs.rmSync(path.join(half, "static"), { recursive: true });
  assert.throws(
    () => installLab(paths, "user", half),
    /an incomplete build \(jupyterlab\._build\.load names static\/remoteEntry\.abc\.js, which is missing\)/,
  );
  fs.writeFileSync(path.join(half, "package.json"), JSON.stringify({ name: EXTENSION_NAME, version: "0.4.0" }));
  assert.throws(() => installLab(paths, "user", half), /jupyterlab\._build\.load is missing/);
  assert.ok(
    !fs.existsSync(path.join(paths.user, "labextensions", EXTENSION_NAME, "package.json")),
    "nothing installed from a broken build",
  );
});

test("lab command: bad arguments are typed errors; --help exits 0", () => {
  assert.match(dynbatch(tmp, env, "lab", "--help").stdout, /dynbatch lab install \[--user \| --sys-prefix\]/);
  assert.match(dynbatch(tmp, env, "lab").stderr, /BAD_INPUT: expected 'install' or 'uninstall', got nothing/);
  assert.match(dynbatch(tmp, env, "lab", "install", "--user", "--sys-prefix").stderr, /exclude each other/);
  assert.match(dynbatch(tmp, env, "lab", "install", "x").stderr, /unexpected arguments: x/);
});
