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
