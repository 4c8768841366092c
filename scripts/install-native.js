// npm's install step for dynbatch (package.json "install", replacing binding.gyp's default
// `node-gyp rebuild`): builds the native addon from source when the compiler and libraries are
// present. When one is missing it says which and lets the install succeed, as a failed build would
// otherwise abort `npm install` for a user who only wants the readers and the analysis; the first
// use of the addon then throws a NativeUnavailableError naming the packages
// (kernel/plugins/requirements.ts holds the list).
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const requirements = path.join(root, "dist", "kernel", "plugins", "requirements.js");

// Like onnxruntime-node's ONNXRUNTIME_NODE_INSTALL=skip: for installs that bring an addon built
// elsewhere (copied into build/Release/) or need only the readers and the analysis.
if (process.env.DYNBATCH_NATIVE_INSTALL === "skip") process.exit(0);

// A checkout's `npm ci` runs this before the TypeScript build: there it just builds.
if (fs.existsSync(requirements)) {
  const { missingPackages, aptCommand } = require(requirements);
  const missing = missingPackages();
  if (missing.length > 0) {
    console.warn(
      `dynbatch: the native addon (CPU and GPU plugins) was not built: ${missing.join(", ")} missing.\n` +
        `  ${aptCommand(missing)}\n  then: npm rebuild dynbatch`,
    );
    process.exit(0);
  }
}

// npm hands scripts its own node-gyp (npm_config_node_gyp). Debian's nodejs ships its headers in
// /usr/include/node: using them needs no download, which offline machines cannot do.
const args = ["rebuild"];
if (process.execPath === "/usr/bin/node" && fs.existsSync("/usr/include/node/node_api.h")) args.push("--nodedir=/usr");
const gyp = process.env.npm_config_node_gyp;
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { cwd: root, stdio: "inherit" })
  : spawnSync("node-gyp", args, { cwd: root, stdio: "inherit" });
if (r.status !== 0) {
  console.warn(
    `dynbatch: building the native addon failed (${r.error ? r.error.message : `exit ${r.status}`}); see the log above, then: npm rebuild dynbatch`,
  );
}
