#!/usr/bin/env bash
# Clones the repository into an empty folder, builds it and runs the whole
# suite there, with nothing beside the clone: what a user who clones nasc
# gets.  Not part of ctest (it runs ctest).  Usage:
#     bash tests/cli/fresh-clone.bash [REPO]     (default: this working copy)
set -euo pipefail
repo=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
git clone -q "$repo" "$d/p"
cd "$d/p"
echo "cloned $(git log --oneline -1) into $d/p; beside it: $(ls "$d")"
nice cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
nice cmake --build build -j2 > /dev/null
cd build && nice ctest --output-on-failure -j2
