#!/usr/bin/env bash
# Installs every Debian package nasc needs to build, test and benchmark.
# Debian packages only: no other downloads. Safe to run more than once.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config
  flex bison
  llvm-19-dev clang-19
  libopenblas-dev zlib1g-dev
  libcriterion-dev
  libsqlite3-dev sqlite3
  libz3-dev
  openmpi-bin libopenmpi-dev
  dataset-fashion-mnist
  python3 binutils
  libonnx-dev protobuf-c-compiler libprotobuf-c-dev python3-onnx
  nodejs
)
if [ "${NASC_WITH_TORCH:-0}" = 1 ]; then PKGS+=(python3-torch); fi
# The front end's libFuzzer target (bench/fuzz_front.sh) needs clang's runtime.
if [ "${NASC_WITH_FUZZ:-0}" = 1 ]; then PKGS+=(clang-19 libclang-rt-19-dev); fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# ONNX Runtime for the ONNX export test (tests/cli/onnx.sh), test-only:
# the npm package carries its CPU library; --ignore-scripts skips its install
# script, which would download extras. Installed into tests/onnx/node_modules.
# Debian's nodejs needs Debian's npm beside it; NodeSource's nodejs carries npm.
if ! command -v npm >/dev/null; then $SUDO apt-get install -y -qq --no-install-recommends npm; fi
ORT_DIR="$(cd "$(dirname "$0")/.." && pwd)/tests/onnx"
if [ ! -d "$ORT_DIR/node_modules/onnxruntime-node" ]; then
  (cd "$ORT_DIR" && npm ci --ignore-scripts --no-audit --no-fund)
fi
