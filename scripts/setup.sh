#!/usr/bin/env bash
# Installs everything dynbatch needs on a fresh Debian 12 machine and builds it.
# Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# oneDNN is the CPU math library; ffmpeg decodes the test image and video.
APT_PACKAGES="libdnnl-dev g++ make python3 ffmpeg"
# OpenCL headers + ICD loader, CLBlast (GEMM) for the GPU plugin; pocl is an OpenCL device on the
# CPU so the GPU plugin is built and tested on machines without a GPU (DYNBATCH_GPU_ALLOW_CPU=1).
APT_PACKAGES="$APT_PACKAGES ocl-icd-opencl-dev opencl-headers libclblast-dev pocl-opencl-icd clinfo"
missing=""
for p in $APT_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing apt packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# onnxruntime-node's own CPU library ships in the package; its binary download is skipped (.npmrc).
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: building the native addon and the TypeScript sources"
npm run --silent build

# The notebooks: Debian's Jupyter, the tslab kernel, and `dynbatch` resolvable from notebooks/.
bash scripts/jupyter-setup.sh
