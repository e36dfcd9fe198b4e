#!/usr/bin/env bash
# Overhead per trial of `nasc search` itself, through the real front end:
# N trials of the NB-201 space (15,625 points) with a trivial `pipe`
# evaluator (bench/pipe_eval.c), per strategy.  Wall time / trials is an
# upper bound of the overhead (it includes the evaluator's round trip and
# the process start).  Usage: bench/search_cli_overhead.sh [NASC] [TRIALS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
NASC=${1:-$here/../build/nasc}
N=${2:-10000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/pe" "$here/pipe_eval.c"
printf '%-10s %8s %10s %12s\n' strategy trials wall_s us_per_trial
for s in random grid evolution local reinforce hyperband nsga2 tpe; do
    n=$N
    [ "$s" = tpe ] && n=$(( N < 2000 ? N : 2000 ))   # TPE's cost grows with its history
    start=$(date +%s.%N)
    "$NASC" search "$here/../examples/nb201.nas" --db "$tmp/$s.db" --strategy "$s" \
        --evaluator "pipe:$tmp/pe" --trials "$n" --quiet --json > "$tmp/$s.json"
    end=$(date +%s.%N)
    python3 - "$s" "$n" "$start" "$end" "$tmp/$s.json" <<'PY'
import json, sys
s, n, a, b, f = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
t = json.load(open(f))["trials"]
done = t["done"] + t["failed"] + t["infeasible"]
print(f"{s:<10} {done:8d} {b - a:10.2f} {(b - a) / done * 1e6:12.0f}")
PY
done
