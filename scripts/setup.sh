#!/usr/bin/env bash
# Installs everything dynbatch needs on a fresh Debian 12 machine and builds it.
# Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/apt.sh
# oneDNN is the CPU math library; ffmpeg decodes the test image and video. OpenCL headers + ICD
# loader and CLBlast (GEMM) build the GPU plugin; pocl is an OpenCL device on the CPU so the GPU
# plugin is built and tested on machines without a GPU (DYNBATCH_GPU_ALLOW_CPU=1). clang-format
# checks native/'s style in `npm run lint` (Debian 12's version 14: others may format differently).
apt_ensure libdnnl-dev g++ make python3 ffmpeg \
  ocl-icd-opencl-dev opencl-headers libclblast-dev pocl-opencl-icd clinfo clang-format

# onnxruntime-node's own CPU library ships in the package; its postinstall would download CUDA
# libraries from nuget.org (unreachable here and unused). The variable, not an .npmrc key: npm warns
# that unknown project config keys stop working in its next major version.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# npm ci already built the addon (package.json's install script, scripts/install-native.js): rebuild
# only when stale.
addon=build/Release/dynbatch_native.node
if [ ! -f "$addon" ] || [ -n "$(find native binding.gyp -newer "$addon" -print -quit)" ]; then
  echo "setup: building the native addon"
  npm run --silent build:native
fi
echo "setup: building the TypeScript sources"
npm run --silent build:ts

# The notebooks: Debian's Jupyter, the tslab kernel, and `dynbatch` resolvable from notebooks/.
bash scripts/jupyter-setup.sh
# JupyterLab 4 with the dynbatch extension (npm start) and chromium for the browser tests.
bash scripts/lab-setup.sh
