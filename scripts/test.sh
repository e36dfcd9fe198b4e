#!/usr/bin/env bash
# The README's test command: install the Debian packages, build, and run
# every test (Criterion suites and CLI tests) under ctest.
# NASC_SANITIZE=1 builds with AddressSanitizer and UBSan in build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
dir=build
extra=()
if [ "${NASC_SANITIZE:-0}" = 1 ]; then dir=build-asan; extra=(-DNASC_SANITIZE=ON); fi
cmake -S . -B "$dir" "${extra[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure -j"$(nproc)"
