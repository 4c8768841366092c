#!/usr/bin/env bash
# Makes the JupyterLab of lab/ runnable: Debian's jupyter_server and jupyterlab_server (the
# server), chromium (the browser tests), the dynbatch-jupyterlab extension build, the JupyterLab
# frontend build, and the extension linked where the server looks for prebuilt extensions.
# Idempotent: each build runs only when its sources are newer than its output.
# Expects `npm ci` and scripts/jupyter-setup.sh (the tslab kernel) to have run.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/apt.sh
apt_ensure python3-jupyter-server python3-jupyterlab-server chromium

if [ ! -d node_modules/@jupyterlab/application ]; then
  echo "lab-setup: node_modules lacks JupyterLab's packages; run npm ci first" >&2
  exit 1
fi

# True when `output` is missing or any file under the given sources is newer than it.
stale() {
  local output="$1"
  shift
  [ ! -e "$output" ] && return 0
  [ -n "$(find "$@" -newer "$output" -type f -print -quit 2>/dev/null)" ]
}

# The extension: its sources, its build config, and what it shares with the kernel (the report
# types, and the display helpers it bundles: names, formats, the graph layout and heat scale).
if stale extension/labextension/package.json extension/src extension/style extension/scripts \
  extension/package.json extension/webpack.config.js extension/tsconfig.json kernel/schema.ts kernel/display package-lock.json; then
  echo "lab-setup: building the dynbatch-jupyterlab extension"
  npm run --silent build -w extension >/dev/null
fi

# The frontend: our entry code, webpack config and the JupyterLab packages listed for it.
if stale lab/build/static/bundle.js lab/src lab/webpack.config.js lab/package.json package-lock.json; then
  echo "lab-setup: building the JupyterLab frontend (lab/build)"
  npm run --silent build -w lab >/dev/null
fi

# The server loads every prebuilt extension found in lab/build/labextensions, as a user's
# JupyterLab does from <sys-prefix>/share/jupyter/labextensions.
mkdir -p lab/build/labextensions
if [ "$(readlink lab/build/labextensions/dynbatch-jupyterlab 2>/dev/null)" != "../../../extension/labextension" ]; then
  ln -sfn ../../../extension/labextension lab/build/labextensions/dynbatch-jupyterlab
fi
