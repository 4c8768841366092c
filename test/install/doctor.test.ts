/** `dynbatch doctor` in an isolated Jupyter: each part checked against what was installed there and what the addon reports. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { DoctorReport, formatDoctor } from "../../kernel/cli/doctor";
import { EXTENSION_NAME } from "../../kernel/cli/install/labext";
import { loadAddon, loadGpuAddon } from "../../kernel/plugins/native";
import { dynbatch, fakeProject, isolatedJupyter, scratch } from "./env";

const tmp = scratch("dynbatch-doctor-");
const env = isolatedJupyter(tmp);

function report(cwd: string): DoctorReport {
  const r = dynbatch(cwd, env, "doctor", "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as DoctorReport;
}

test("doctor --json: oneDNN and OpenCL as the addon reports them; kernel and extension missing, then found where installed", () => {
  const project = fakeProject(tmp, "proj");
  const before = report(project);
  assert.deepEqual(before.native, { onednn: loadAddon().dnnlVersion(), isa: loadAddon().cpuIsa() });
  assert.deepEqual(
    "devices" in before.opencl && before.opencl.devices.map((d) => d.name),
    loadGpuAddon()
      .gpuDevices()
      .map((d) => d.name),
  );
  assert.ok("name" in before.kernel && before.kernel.registered === undefined);
  assert.ok("installed" in before.lab);
  assert.deepEqual(before.lab.installed, []);

  assert.equal(dynbatch(project, env, "kernel", "install").code, 0);
  const ext = path.join(env.JUPYTER_DATA_DIR!, "labextensions", EXTENSION_NAME);
  fs.mkdirSync(ext, { recursive: true });
  fs.writeFileSync(path.join(ext, "package.json"), JSON.stringify({ name: EXTENSION_NAME, version: "9.9.9" }));
  const after = report(project);
  assert.ok("name" in after.kernel && after.kernel.registered);
  assert.equal(after.kernel.registered.dir, path.join(env.JUPYTER_DATA_DIR!, "kernels", after.kernel.name));
  assert.equal(after.kernel.registered.runsExists, true);
  assert.deepEqual("installed" in after.lab && after.lab.installed, [{ dir: ext, version: "9.9.9" }]);

  const text = dynbatch(project, env, "doctor");
  assert.equal(text.code, 0);
  assert.equal(text.stdout.trim(), formatDoctor(after));
  assert.match(text.stdout, new RegExp(`^kernel +${after.kernel.name} registered in `, "m"));
});

test("doctor reports a part it cannot check and still exits 0", () => {
  const r = dynbatch(
    scratch("dynbatch-doctor-nopy-"),
    { ...env, DYNBATCH_PYTHON: "/nonexistent", PATH: "/nonexistent" },
    "doctor",
  );
  assert.equal(r.code, 0, r.stderr);
  // /usr/bin/python3 (Debian's Jupyter) is the last resort and answers on this machine: the kernel is
  // what fails here, for want of a package.json above a temp folder.
  assert.match(r.stdout, /^kernel +unavailable: no package.json in /m);
  assert.match(dynbatch(tmp, env, "doctor", "--help").stdout, /usage: dynbatch doctor \[--json\]/);
  assert.match(dynbatch(tmp, env, "doctor", "--bogus").stderr, /BAD_INPUT/);
});

test("formatDoctor names the fix for what is missing", () => {
  const r: DoctorReport = {
    package: { version: "1.0.0", root: "/p" },
    native: { error: "libdnnl.so.2: cannot open shared object file" },
    opencl: { devices: [] },
    jupyter: { python: "/usr/bin/python3", data: ["/d"] },
    kernel: { name: "dynbatch-00000000", project: "/proj" },
    lab: { installed: [] },
  };
  const text = formatDoctor(r);
  assert.match(text, /^oneDNN +unavailable: libdnnl\.so\.2/m);
  assert.match(text, /^OpenCL +no devices$/m);
  assert.match(text, /not registered: npx dynbatch kernel install$/m);
  assert.match(text, /extension not installed: npx dynbatch lab install$/m);
});
