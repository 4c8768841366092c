// build-labextension's --core-path wants a folder whose package.json is JupyterLab's core
// manifest; @jupyterlab/core-meta ships that manifest as core.package.json.
const fs = require("fs");
const path = require("path");

const source = require.resolve("@jupyterlab/core-meta/core.package.json");
const target = path.join(__dirname, "..", "..", ".cache", "core-meta");
fs.mkdirSync(target, { recursive: true });
fs.copyFileSync(source, path.join(target, "package.json"));
