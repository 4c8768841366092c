#!/usr/bin/env bash
# Makes the notebooks runnable: Debian's Jupyter, the tslab kernel of this project, and the
# `dynbatch` package name resolvable from notebooks/. Idempotent: safe to run again.
# Expects `npm ci` to have run (tslab is a dependency in package.json).
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

# The kernel spec names this checkout's tslab binary, so it is rewritten when the checkout moves.
spec="$(/usr/bin/jupyter kernelspec list --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
spec = json.load(sys.stdin)["kernelspecs"].get("tslab")
print(spec["spec"]["argv"][0] if spec else "")
' || true)"
if [ "$spec" != "$TSLAB" ]; then
  echo "jupyter-setup: registering the tslab kernel ($TSLAB)"
  "$TSLAB" install --python=/usr/bin/python3 --binary="$TSLAB" >/dev/null
fi

# Notebooks import the package by its name. tslab resolves modules the Node10 way, upwards
# from notebooks/, so a link in notebooks/node_modules (untouched by npm) makes "dynbatch"
# this checkout: its package.json points at dist/kernel.
mkdir -p notebooks/node_modules
if [ "$(readlink notebooks/node_modules/dynbatch 2>/dev/null)" != "../.." ]; then
  ln -sfn ../.. notebooks/node_modules/dynbatch
fi
