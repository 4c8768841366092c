/**
 * `dynbatch kernel install`: one kernel per project, found by Jupyter itself (`jupyter kernelspec
 * list` in an isolated data dir); a second project never re-points the first one's kernel.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { jupyterPaths, pythonCandidates } from "../../kernel/cli/install/jupyter";
import {
  findKernel,
  findProject,
  installKernel,
  kernelSpec,
  projectDisplayName,
  projectKernelName,
  tslabBinary,
} from "../../kernel/cli/install/kernelspec";
import { ROOT } from "../helpers/models";
import { dynbatch, fakeProject, isolatedJupyter, scratch } from "./env";

const tmp = scratch("dynbatch-kernel-");
const env = isolatedJupyter(tmp);

function listed(): Record<string, { resource_dir: string; spec: { argv: string[]; display_name: string } }> {
  const r = spawnSync("/usr/bin/jupyter", ["kernelspec", "list", "--json"], { encoding: "utf8", env });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).kernelspecs;
}

test("two projects register two kernels; reinstalling one leaves the other as it was", () => {
  const a = fakeProject(tmp, "alpha");
  const b = fakeProject(path.join(tmp, "nested"), "alpha");
  for (const p of [a, b, a]) {
    const r = dynbatch(p, env, "kernel", "install");
    assert.equal(r.code, 0, r.stderr);
  }
  const nameA = dynbatch(a, env, "kernel", "name").stdout.trim();
  const nameB = dynbatch(b, env, "kernel", "name").stdout.trim();
  assert.match(nameA, /^dynbatch-[0-9a-f]{8}$/);
  assert.notEqual(nameA, nameB, "same folder name, different paths: different kernels");
  const specs = listed();
  for (const [name, project] of [
    [nameA, a],
    [nameB, b],
  ]) {
    assert.ok(specs[name], `${name} listed by jupyter kernelspec list`);
    assert.equal(specs[name].resource_dir, path.join(env.JUPYTER_DATA_DIR!, "kernels", name));
    assert.equal(specs[name].spec.display_name, "TypeScript (dynbatch: alpha)");
    assert.equal(
      fs.realpathSync(specs[name].spec.argv[0]),
      fs.realpathSync(path.join(ROOT, "node_modules", "tslab", "bin", "tslab")),
    );
    assert.deepEqual(findKernel(name, jupyterPaths(env))?.spec.metadata, { dynbatch: { project: fs.realpathSync(project) } });
  }
  assert.ok(!fs.existsSync(path.join(env.JUPYTER_DATA_DIR!, "kernels", "tslab")), "the shared `tslab` name is not written");
});

test("a kernel name another project holds is refused without --force, taken over with it", () => {
  const a = fakeProject(tmp, "owner");
  const b = fakeProject(tmp, "intruder");
  assert.equal(dynbatch(a, env, "kernel", "install", "--name", "shared").code, 0);
  const refused = dynbatch(b, env, "kernel", "install", "--name", "shared");
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /BAD_CONFIG: kernel 'shared' in .* belongs to the project .*owner; choose another --name or pass --force/,
  );
  assert.equal(findKernel("shared", jupyterPaths(env))?.spec.metadata?.dynbatch.project, fs.realpathSync(a));
  assert.equal(dynbatch(b, env, "kernel", "install", "--name", "shared", "--force").code, 0);
  assert.equal(findKernel("shared", jupyterPaths(env))?.spec.metadata?.dynbatch.project, fs.realpathSync(b));
  assert.throws(() => installKernel({ project: a, paths: jupyterPaths(env), name: "bad name" }), /kernel name 'bad name'/);
});

test("kernel command: bad arguments are typed errors; --help exits 0", () => {
  const p = fakeProject(tmp, "args");
  assert.match(dynbatch(p, env, "kernel", "--help").stdout, /dynbatch kernel install \[--name N\]/);
  assert.match(dynbatch(p, env, "kernel", "frob").stderr, /BAD_INPUT: expected 'install' or 'name', got 'frob'/);
  assert.match(dynbatch(p, env, "kernel", "install", "--user", "--sys-prefix").stderr, /exclude each other/);
  assert.match(dynbatch(p, env, "kernel", "install", "--bogus").stderr, /BAD_INPUT: Unknown option '--bogus'/);
});

test("--sys-prefix writes into the data dir of Jupyter's Python, which Jupyter lists", () => {
  const paths = jupyterPaths(env);
  assert.ok(paths.data.includes(paths.sysPrefix), `${paths.sysPrefix} among ${paths.data.join(", ")}`);
  assert.equal(paths.user, env.JUPYTER_DATA_DIR);
  // Writing into the real sys.prefix would touch the machine: the path it would use is checked instead.
  const fake = { ...paths, sysPrefix: path.join(tmp, "prefix", "share", "jupyter") };
  const r = installKernel({ project: fakeProject(tmp, "sys"), paths: fake, target: "sys-prefix" });
  assert.ok(fs.existsSync(path.join(fake.sysPrefix, "kernels", r.name, "kernel.json")));
});

test("project helpers: nearest package.json, tslab of the project, typed errors without either", () => {
  const p = fakeProject(tmp, "helpers");
  fs.mkdirSync(path.join(p, "notebooks"));
  assert.equal(findProject(path.join(p, "notebooks")), p);
  assert.equal(projectKernelName(path.join(p, "notebooks", "..")), projectKernelName(p));
  assert.equal(projectDisplayName(p), "TypeScript (dynbatch: helpers)");
  assert.equal(kernelSpec(p).argv[0], tslabBinary(p));
  const bare = path.join(scratch("dynbatch-bare-"), "bare");
  fs.mkdirSync(bare);
  assert.throws(() => tslabBinary(bare), /NOT_FOUND|tslab is not installed in .*bare: run `npm install tslab`/);
  assert.throws(() => findProject("/"), /no package.json in \/ or above/);
  assert.deepEqual(pythonCandidates({ DYNBATCH_PYTHON: "/opt/py" }), ["/opt/py", "python3", "/usr/bin/python3"]);
  assert.throws(
    () => jupyterPaths(env, ["/nonexistent/python3"]),
    /NOT_FOUND|no Python with Jupyter found \(tried \/nonexistent\/python3: .*ENOENT/,
  );
});

test("lab/serve.py offers this checkout's kernel under the name `dynbatch kernel name` prints", () => {
  const py = spawnSync(
    "/usr/bin/python3",
    ["-c", "import sys; sys.path.insert(0, 'lab'); import serve; print(serve.project_kernel_name())"],
    {
      cwd: ROOT,
      encoding: "utf8",
      env,
    },
  );
  assert.equal(py.status, 0, py.stderr);
  assert.equal(py.stdout.trim(), projectKernelName(ROOT));
});
