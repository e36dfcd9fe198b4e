#!/bin/sh
# check_bench.sh: times `nasc check` on the generated front-end benchmark inputs.
#
# The front end promises a verdict "in well under a second" even on a 30-layer
# space of ~10^55 points and on a 5,000-line file; this script measures it.
# It generates the inputs with gen_spaces.py, checks once that `nasc check`
# accepts each of them (a benchmark of a failing check would time the error
# path), then runs it N times and prints the median wall time.  It uses
# hyperfine when installed, else a loop timed with `date +%s%N`.
#
# usage: bench/check_bench.sh [-n RUNS] [-b NASC_BINARY] [-o OUT_DIR]
#   defaults: 20 runs, $NASC or build/nasc, a temporary directory
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=20
nasc=${NASC:-$root/build/nasc}
out=""

while getopts n:b:o:h opt; do
    case $opt in
        n) runs=$OPTARG ;;
        b) nasc=$OPTARG ;;
        o) out=$OPTARG ;;
        *) sed -n '2,13p' "$0"; exit 2 ;;
    esac
done
case $runs in ''|*[!0-9]*|0) echo "check_bench: -n needs a positive integer" >&2; exit 2 ;; esac
if [ ! -x "$nasc" ]; then
    echo "check_bench: no nasc binary at $nasc (build it, or pass -b PATH / NASC=PATH)" >&2
    exit 2
fi
if [ -z "$out" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi

# The generated files import std.blocks and std.cells: point the search path
# at this tree's stdlib whatever the binary's built-in default is.
NASC_PATH=$root/stdlib
export NASC_PATH

python3 "$here/gen_spaces.py" --out "$out" 2>/dev/null

# median_ms FILE: the median of the numbers (nanoseconds) in FILE, in ms.
median_ms() {
    sort -n "$1" | awk '{ v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              printf "%.2f", m / 1e6 }'
}

# time_loop INPUT: median wall time of `nasc check INPUT` over $runs runs.
time_loop() {
    samples=$out/samples.txt
    : > "$samples"
    i=0
    while [ "$i" -lt "$runs" ]; do
        t0=$(date +%s%N)
        "$nasc" check "$1" > /dev/null 2>&1
        t1=$(date +%s%N)
        echo $((t1 - t0)) >> "$samples"
        i=$((i + 1))
    done
    median_ms "$samples"
}

# time_hyperfine INPUT: the same through hyperfine (median of its runs).
time_hyperfine() {
    json=$out/hyperfine.json
    hyperfine --runs "$runs" --warmup 1 --export-json "$json" --style none \
        "'$nasc' check '$1'" > /dev/null 2>&1
    python3 -c 'import json, sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1e3))' "$json"
}

if command -v hyperfine > /dev/null 2>&1; then how=hyperfine; else how=loop; fi
printf '%-22s %7s %12s   (%s, %s runs, %s)\n' input lines median_ms "$how" "$runs" "$nasc"
status=0
for name in deep30.nas deep30_unrolled.nas big5000.nas; do
    f=$out/$name
    if ! "$nasc" check "$f" > "$out/check.log" 2>&1; then
        echo "check_bench: nasc check $name failed; its output:" >&2
        cat "$out/check.log" >&2
        status=1
        continue
    fi
    if [ "$how" = hyperfine ]; then ms=$(time_hyperfine "$f"); else ms=$(time_loop "$f"); fi
    printf '%-22s %7s %12s\n' "$name" "$(wc -l < "$f")" "$ms"
done
exit $status
