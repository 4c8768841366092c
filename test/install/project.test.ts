/**
 * The package as a user gets it: `npm pack`, then `npm install <tgz>` into a temporary project
 * outside the checkout (nothing links back to it), a TypeScript file compiled with the project's
 * TypeScript 5.0 (tslab's) that runs a bundled model with a dynamic batch, and a notebook run with
 * the kernel that `dynbatch kernel install` registers there (isolated Jupyter folders).
 * Quick mode (DYNBATCH_QUICK=1) skips the addon's build on install (DYNBATCH_NATIVE_INSTALL=skip)
 * and copies this checkout's build instead, which saves the minutes of compiling the C++.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { IECore, TOPOLOGY_MIME, TopologyReport } from "../../kernel";
import { irPath, ROOT } from "../helpers/models";
import { isolatedJupyter, scratch } from "./env";

const QUICK = process.env.DYNBATCH_QUICK === "1";
const tmp = scratch("dynbatch-project-");
const project = path.join(tmp, "my-project");
const env = isolatedJupyter(tmp);
const MODEL = "models/landmarks-regression-retail-0009/FP16/landmarks-regression-retail-0009.xml";

function run(cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { cwd: project, encoding: "utf8", env: { ...env, ...extraEnv }, maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

before(() => {
  for (const f of ["dist/kernel/index.d.ts", "extension/labextension/package.json", "build/Release/dynbatch_native.node"])
    assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} is missing: run \`bash scripts/setup.sh\``);
  const tgz = execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", tmp], { cwd: ROOT, encoding: "utf8" })
    .trim()
    .split("\n")
    .pop()!;
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "my-project", version: "1.0.0", private: true }));
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", path.join(tmp, tgz)], {
    ONNXRUNTIME_NODE_INSTALL: "skip",
    ...(QUICK && { DYNBATCH_NATIVE_INSTALL: "skip" }),
  });
  const addon = path.join(project, "node_modules", "dynbatch", "build", "Release", "dynbatch_native.node");
  if (QUICK) {
    fs.mkdirSync(path.dirname(addon), { recursive: true });
    fs.copyFileSync(path.join(ROOT, "build", "Release", "dynbatch_native.node"), addon);
  }
  assert.ok(fs.existsSync(addon), "the install built the addon");
});

test("installed package: nothing links back to the checkout", () => {
  const pkg = path.join(project, "node_modules", "dynbatch");
  assert.ok(!fs.lstatSync(pkg).isSymbolicLink());
  assert.ok(!fs.realpathSync(pkg).startsWith(fs.realpathSync(ROOT)));
  assert.ok(!fs.existsSync(path.join(pkg, "test")) && !fs.existsSync(path.join(pkg, "dist", "test")));
});

test("a TypeScript file compiled with TypeScript 5.0 runs a bundled model at batch 3, each sample as at batch 1", () => {
  const main = `import { IECore } from "dynbatch";
const C = 3 * 48 * 48;
async function main(): Promise<void> {
  const ie = new IECore();
  const net = await ie.readNetwork(${JSON.stringify(path.join(project, "node_modules", "dynbatch", MODEL))});
  net.batchSize = 4;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const req = exec.createInferRequest();
  const faces = Float32Array.from({ length: 3 * C }, (_, i) => (i * 37) % 255);
  req.setBatch(3);
  req.setInput("0", faces);
  await req.infer();
  const batched = Array.from(req.getBlob("95").data);
  let worst = 0;
  for (let s = 0; s < 3; s++) {
    req.setBatch(1);
    req.setInput("0", faces.subarray(s * C, (s + 1) * C));
    await req.infer();
    req.getBlob("95").data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - batched[s * 10 + i]))));
  }
  console.log(JSON.stringify({ shape: [3, 10], n: batched.length, worst }));
}
main().catch((e: Error) => {
  console.log(JSON.stringify({ error: e.message }));
  process.exitCode = 1;
});
`;
  fs.writeFileSync(path.join(project, "main.ts"), main);
  const tsc = path.join(project, "node_modules", "@tslab", "typescript-for-tslab", "bin", "tsc");
  assert.match(run(process.execPath, [tsc, "--version"]), /^Version 5\.0\./);
  // What a notebook sees: tslab's TypeScript 5.0 with tslab's @types/node (the newest one, hoisted
  // for protobufjs, uses syntax TypeScript 5.0 cannot read). Declarations are checked too (no skipLibCheck).
  const compilerOptions = {
    strict: true,
    target: "es2022",
    module: "commonjs",
    moduleResolution: "node10",
    lib: ["es2022"],
    typeRoots: ["node_modules/tslab/node_modules/@types"],
    types: ["node"],
  };
  fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["main.ts"] }));
  run(process.execPath, [tsc, "-p", "tsconfig.json"]);
  const out = JSON.parse(run(process.execPath, ["main.js"])) as { n: number; worst: number };
  assert.equal(out.n, 30);
  assert.ok(out.worst < 1e-4, `batch 3 vs three batch-1 runs: max |diff| ${out.worst}`);
});

test("dynbatch kernel install, then a notebook in the project imports dynbatch and displays a topology report", async () => {
  const npx = (...args: string[]) =>
    run(process.execPath, [path.join(project, "node_modules", "dynbatch", "dist", "kernel", "cli", "main.js"), ...args]);
  npx("kernel", "install");
  const name = npx("kernel", "name").trim();
  const notebook = {
    cells: [
      {
        cell_type: "code",
        metadata: {},
        outputs: [],
        source: `import { IECore, display } from "dynbatch";\nconst net = await new IECore().readNetwork("node_modules/dynbatch/${MODEL}");\ndisplay(net.analyze({ mode: "strict" }));`,
      },
    ],
    metadata: { kernelspec: { name: "dynbatch", display_name: "TypeScript (dynbatch)", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(path.join(project, "nb.ipynb"), JSON.stringify(notebook));
  run("/usr/bin/python3", [
    path.join(ROOT, "test", "notebooks", "run_notebook.py"),
    "nb.ipynb",
    "out.ipynb",
    "--kernel",
    name,
    "--timeout",
    "120",
  ]);
  const out = JSON.parse(fs.readFileSync(path.join(project, "out.ipynb"), "utf8")) as {
    cells: { outputs: { output_type: string; data?: Record<string, unknown> }[] }[];
  };
  const shown = out.cells[0].outputs.filter((o) => o.output_type === "display_data");
  assert.equal(shown.length, 1, JSON.stringify(out.cells[0].outputs));
  // The same analysis, run here from the checkout.
  const expected = (await new IECore().readNetwork(irPath("landmarks-regression-retail-0009"))).analyze({ mode: "strict" });
  const report = shown[0].data![TOPOLOGY_MIME] as TopologyReport;
  assert.equal(report.model, expected.model);
  assert.deepEqual(
    report.layers.map((l) => [l.name, l.verdict]),
    expected.layers.map((l) => [l.name, l.verdict]),
  );
  assert.ok("text/html" in shown[0].data!, "one bundle with its fallbacks: the project's tslab ran the kernel");
});
