#!/bin/sh
# check_bench.sh: times `nasc check` on the generated front-end benchmark inputs.
#
# The front end promises a verdict "in well under a second" even on a 30-layer
# space of ~10^55 points and on a 5,000-line file; this script measures it.
# It generates the inputs with gen_spaces.py, checks once that `nasc check`
# accepts each of them (a benchmark of a failing check would time the error
# path), then runs it N times and prints the median wall and CPU time
# (user + sys: the figure to compare on a shared machine).
#
# With -s it adds the checker's scaling cases (docs/checker.md): conditional
# depth 1..N for N = 8, 16, 32, 64; 5 stages of conditional depth; 10, 20
# and 30 conv layers (and 7, which main's checker still survives) with
# kernel {1,3,5}, stride {1,2}, pad = 0 (conv1d on
# an input every point fits, and conv2d on 64x64, where check must report a
# counterexample: those *_2d cases are timed on their error).  With -p PEER
# every input is also timed with another nasc binary (say main's, built
# once from the commit to compare with), under a time limit of LIMIT
# seconds, and the ratio peer / this is printed; a peer that crashes or
# runs out of time is shown as such.  The CPU is printed with the figures.
#
# usage: bench/check_bench.sh [-n RUNS] [-b NASC_BINARY] [-o OUT_DIR] [-s] [-p PEER] [-l LIMIT]
#   defaults: 20 runs, $NASC or build/nasc, a temporary directory, no
#   scaling cases, no peer, 120 s
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=20
nasc=${NASC:-$root/build/nasc}
out=""
scale=""
peer=""
limit=120

while getopts n:b:o:sp:l:h opt; do
    case $opt in
        n) runs=$OPTARG ;;
        b) nasc=$OPTARG ;;
        o) out=$OPTARG ;;
        s) scale=--scale ;;
        p) peer=$OPTARG ;;
        l) limit=$OPTARG ;;
        *) sed -n '2,25p' "$0"; exit 2 ;;
    esac
done
if [ -n "$peer" ] && [ ! -x "$peer" ]; then
    echo "check_bench: no peer binary at $peer" >&2
    exit 2
fi
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

python3 "$here/gen_spaces.py" --out "$out" $scale 2>/dev/null

# median_ms FILE: the median of the numbers (nanoseconds) in FILE, in ms.
median_ms() {
    sort -n "$1" | awk '{ v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              printf "%.2f", m / 1e6 }'
}

# run_timed OUT CMD...: runs CMD, appends its wall time (ns) to OUT.wall and
# its CPU time (user + sys, ns, children included: getrusage, microsecond
# resolution) to OUT.cpu; returns CMD's exit status (128 + N on signal N).
# CPU time is what to compare on a shared machine.
run_timed() {
    o=$1
    shift
    python3 -c '
import resource, subprocess, sys, time
t0 = time.monotonic_ns()
rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.monotonic_ns() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1] + ".wall", "a") as f: print(wall, file=f)
with open(sys.argv[1] + ".cpu", "a") as f: print(int((r.ru_utime + r.ru_stime) * 1e9), file=f)
sys.exit(rc if rc >= 0 else 128 - rc)' "$o" "$@"
}

# time_loop INPUT: "WALL_MS CPU_MS", medians of `nasc check INPUT` over $runs runs.
time_loop() {
    : > "$out/self.wall"
    : > "$out/self.cpu"
    i=0
    while [ "$i" -lt "$runs" ]; do
        run_timed "$out/self" "$nasc" check "$1" || true
        i=$((i + 1))
    done
    echo "$(median_ms "$out/self.wall") $(median_ms "$out/self.cpu")"
}

# peer_ms INPUT: the peer's median CPU ms over min(runs, 3) runs, or what
# stopped it.
peer_ms() {
    : > "$out/peer.wall"
    : > "$out/peer.cpu"
    i=0
    n=$runs
    [ "$n" -gt 3 ] && n=3
    while [ "$i" -lt "$n" ]; do
        rc=0
        run_timed "$out/peer" timeout "$limit" "$peer" check "$1" || rc=$?
        case $rc in
            124) echo ">${limit}s"; return ;;
            0|1) ;;
            *) if [ "$rc" -gt 128 ]; then echo "crash(sig$((rc - 128)))"; else echo "exit$rc"; fi; return ;;
        esac
        i=$((i + 1))
    done
    median_ms "$out/peer.cpu"
}

lscpu | grep 'Model name' | sed 's/  */ /g' || true
names="deep30.nas deep30_unrolled.nas big5000.nas"
if [ -n "$scale" ]; then
    names="$names cdepth8.nas cdepth16.nas cdepth32.nas cdepth64.nas stages5.nas"
    names="$names conv7.nas conv10.nas conv20.nas conv30.nas conv7_2d.nas conv10_2d.nas conv20_2d.nas conv30_2d.nas"
fi
if [ -n "$peer" ]; then
    printf '%-22s %7s %9s %9s %12s %8s   (%s runs, %s; peer %s)\n' input lines wall_ms cpu_ms peer_cpu_ms \
        ratio "$runs" "$nasc" "$peer"
else
    printf '%-22s %7s %9s %9s   (%s runs, %s)\n' input lines wall_ms cpu_ms "$runs" "$nasc"
fi
status=0
for name in $names; do
    f=$out/$name
    rc=0
    "$nasc" check "$f" > "$out/check.log" 2>&1 || rc=$?
    case $name in
        *_2d.nas) want=1 ;; # these spaces have invalid points: the error is the answer
        *) want=0 ;;
    esac
    if [ "$rc" != "$want" ]; then
        echo "check_bench: nasc check $name exited $rc, expected $want; its output:" >&2
        cat "$out/check.log" >&2
        status=1
        continue
    fi
    t=$(time_loop "$f")
    wall=${t% *}
    cpu=${t#* }
    if [ -n "$peer" ]; then
        pm=$(peer_ms "$f")
        ratio=$(echo "$pm $cpu" | awk '$1 ~ /^[0-9.]+$/ && $2 > 0 { printf "%.1fx", $1 / $2; next } { print "-" }')
        printf '%-22s %7s %9s %9s %12s %8s\n' "$name" "$(wc -l < "$f")" "$wall" "$cpu" "$pm" "$ratio"
    else
        printf '%-22s %7s %9s %9s\n' "$name" "$(wc -l < "$f")" "$wall" "$cpu"
    fi
done
exit $status
