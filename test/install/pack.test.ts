/**
 * What `npm pack` puts in the package: the compiled kernel with its types, the prebuilt JupyterLab
 * extension, the addon's sources and install script, every bundled model and medium; nothing of
 * the test suite; under 60 MB.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { checkBuild } from "../../kernel/cli/install/labext";
import { ROOT } from "../helpers/models";

const LIMIT_BYTES = 60 * 1024 * 1024;
/** What `npm pack` needs built first; scripts/setup.sh builds both. */
const BUILT = ["dist/kernel/index.d.ts", "extension/labextension/package.json"];

interface PackResult {
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

test("npm pack: types, extension, addon sources, models and media; no tests; under 60 MB", (t) => {
  for (const f of BUILT)
    assert.ok(
      fs.existsSync(path.join(ROOT, f)),
      `${f} is missing: run \`bash scripts/setup.sh\` (npm run build:ts, scripts/lab-setup.sh)`,
    );
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const [pack] = JSON.parse(out) as PackResult[];
  const files = new Set(pack.files.map((f) => f.path));
  t.diagnostic(
    `package: ${(pack.size / 1e6).toFixed(1)} MB packed, ${(pack.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${files.size} files`,
  );
  assert.ok(pack.size < LIMIT_BYTES, `packed size ${pack.size} B`);

  const tests = [...files].filter((f) => /^(dist\/)?test\//.test(f) || /\.test\.(js|ts|d\.ts)$/.test(f));
  assert.deepEqual(tests, [], "nothing of the test suite");
  // Every compiled module with its declaration, as the compiler wrote them.
  const compiled = (dir: string): string[] =>
    fs
      .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? compiled(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  const kernel = compiled("dist/kernel").filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"));
  assert.ok(kernel.length > 100);
  assert.deepEqual(
    kernel.filter((f) => !files.has(f)),
    [],
  );
  const tracked = (spec: string) =>
    execFileSync("git", ["ls-files", spec], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
  for (const f of [
    ...tracked("models"),
    ...tracked("media"),
    ...tracked("native/src"),
    "binding.gyp",
    "scripts/install-native.js",
  ]) {
    assert.ok(files.has(f), `${f} in the package`);
  }
  checkBuild(path.join(ROOT, "extension", "labextension"));
  for (const f of compiled("extension/labextension")) assert.ok(files.has(f), `${f} in the package`);
  assert.ok(!files.has("build/Release/dynbatch_native.node"), "the addon is built on install, for the user's oneDNN");
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    types: string;
    bin: Record<string, string>;
  };
  assert.ok(files.has(pkg.types) && files.has(pkg.bin.dynbatch));
});
