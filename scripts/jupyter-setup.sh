#!/usr/bin/env bash
# Makes the notebooks runnable: Debian's Jupyter, the tslab kernel of this project, and the
# `dynbatch` package name resolvable from notebooks/. Idempotent: safe to run again.
# Expects `npm ci` (tslab is a dependency in package.json) and `npm run build:ts` to have run.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/apt.sh
# Debian's packages, used through /usr/bin/python3: a python3 earlier on PATH (pyenv, venv)
# may not see them.
apt_ensure jupyter-client python3-nbclient python3-ipykernel jupyter-nbconvert python3-nbformat

TSLAB="$PWD/node_modules/.bin/tslab"
if [ ! -x "$TSLAB" ]; then
  echo "jupyter-setup: $TSLAB is missing; run npm ci first" >&2
  exit 1
fi

# This checkout's own kernel, named after its folder (dynbatch-<hash>), so that a second clone
# registers a kernel of its own instead of re-pointing this one; rewritten on each run because it
# names this checkout's tslab binary. Needs the TypeScript build (dist/).
node dist/kernel/cli/main.js kernel install >/dev/null

# Notebooks import the package by its name. tslab resolves modules the Node10 way, upwards
# from notebooks/, so a link in notebooks/node_modules (untouched by npm) makes "dynbatch"
# this checkout: its package.json points at dist/kernel.
mkdir -p notebooks/node_modules
if [ "$(readlink notebooks/node_modules/dynbatch 2>/dev/null)" != "../.." ]; then
  ln -sfn ../.. notebooks/node_modules/dynbatch
fi
