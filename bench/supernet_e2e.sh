#!/usr/bin/env bash
# supernet_e2e.sh: one-shot search end to end on examples/fashion_supernet.nas
# (issue 11), against plain search in the same run:
#   (a) N stand-alone trials of evolution (the file's evolution(population =
#       16, sample = 4)), each trained E_SA epochs;
#   (b) a uniform supernet trained E_SN epochs + RATIO*N evolution trials on
#       the supernet + stand-alone retraining (E_SA epochs, `nasc train
#       --arch`) of the top K distinct points of `nasc report --json`; the
#       winner is the retrained point with the best validation accuracy.
# Reported: the CPU seconds (user + sys) of every command of (a) and (b), and
# the winner's test accuracy (10,000 test images).  The test accuracy of
# (a)'s winner comes from retraining it the same way (`nasc train --arch`,
# same seed and budget), which is measurement only and not counted in (a).
# Environment: N (50), RATIO (10), K (5), E_SA (0.2), E_SN (1), OUT
# (runs/supernet-e2e); SUPER=FILE SUPER_CPU=S reuse a uniform supernet trained
# elsewhere (E_SN epochs, e.g. by supernet_bench.sh) and count its S CPU s;
# A_DB=RUN.db A_CPU=S take (a) from a finished stand-alone search (e.g.
# supernet_bench.sh's random one, runs/supernet-bench/alone.db) that took S CPU s;
# ONLY=a or ONLY=b runs one side (the other side's figures are read from
# OUT if present).  One thread per command; run under nice.
# usage: nice bench/supernet_e2e.sh [build/nasc]
set -e
NASC=$(realpath "${1:-build/nasc}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
F=$SRC/examples/fashion_supernet.nas
N=${N:-50}
RATIO=${RATIO:-10}
K=${K:-5}
E_SA=${E_SA:-0.2}
E_SN=${E_SN:-1}
OUT=${OUT:-$SRC/runs/supernet-e2e}
ONLY=${ONLY:-ab}
mkdir -p "$OUT"
T1=(--set train.threads=1)
cpu() { # cpu NAME CMD...: as in supernet_bench.sh, into $OUT/cpu.txt
    local n=$1; shift
    /usr/bin/time -f "$n %U %S %e" -o "$OUT/$n.time" "$@" > "$OUT/$n.out" 2> "$OUT/$n.err"
    awk '{printf "%s %.2f %.2f\n", $1, $2 + $3, $4}' "$OUT/$n.time" >> "$OUT/cpu.txt"
}
# top DB K: the first K distinct points of the leaderboard, one JSON a line
top() {
    "$NASC" report "$1" --json --top 1000 | python3 -c "
import json, sys
seen, n = set(), int(sys.argv[1])
for e in json.load(sys.stdin)['leaderboard']:
    p = json.dumps(e['point'], sort_keys=True)
    if p not in seen and len(seen) < n:
        seen.add(p); print(p)" "$2"
}
retrain() { # retrain NAME POINT: stand-alone training of POINT, E_SA epochs
    cpu "$1" "$NASC" train "$F" --arch "$2" --set train.epochs="$E_SA" "${T1[@]}" --quiet --json
}
touch "$OUT/cpu.txt"
echo "$(date -u '+%F %H:%M UTC'); $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "budgets: N=$N, (b) $((RATIO * N)) supernet trials, top $K retrained, stand-alone $E_SA epochs, supernet $E_SN epochs"
if [[ $ONLY == *a* ]]; then
    if [ -n "$A_DB" ]; then
        echo "a_search ${A_CPU:?A_CPU: the CPU seconds of the search A_DB} 0" >> "$OUT/cpu.txt"
    else
        A_DB=$OUT/a.db
        rm -f "$A_DB"
        cpu a_search "$NASC" search "$F" --strategy evolution --trials "$N" --seed 1 -j 1 --db "$A_DB" \
            --set train.epochs="$E_SA" "${T1[@]}" --quiet
    fi
    retrain a_winner "$(top "$A_DB" 1)"
    echo "(a) done $(date -u +%H:%M); load $(cut -d' ' -f1 /proc/loadavg)"
fi
if [[ $ONLY == *b* ]]; then
    if [ -n "$SUPER" ]; then
        echo "b_supernet ${SUPER_CPU:?SUPER_CPU: the CPU seconds of training SUPER} 0" >> "$OUT/cpu.txt"
    else
        SUPER=$OUT/uniform.safetensors
        cpu b_supernet "$NASC" supernet "$F" -o "$SUPER" --set train.epochs="$E_SN" "${T1[@]}"
    fi
    rm -f "$OUT/b.db"
    cpu b_search "$NASC" search "$F" --evaluator "supernet:$SUPER" --strategy evolution --trials "$((RATIO * N))" \
        --seed 1 -j 1 --db "$OUT/b.db" "${T1[@]}" --quiet
    i=0
    top "$OUT/b.db" "$K" > "$OUT/b_top.jsonl"
    while read -r p; do
        i=$((i + 1))
        retrain "b_retrain$i" "$p"
    done < "$OUT/b_top.jsonl"
    echo "(b) done $(date -u +%H:%M); load $(cut -d' ' -f1 /proc/loadavg)"
fi
python3 - "$OUT" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
cpu = {}
for line in open(out + "/cpu.txt"):
    n, c, _ = line.split()
    cpu[n] = float(c)  # the last run of each command counts
def res(name):
    return json.load(open("%s/%s.out" % (out, name)))
if "a_search" in cpu and os.path.exists(out + "/a_winner.out"):
    w = res("a_winner")
    print("(a) %.0f CPU s; winner: validation %.4f, test %.4f (retrained for the test figure, not counted)"
          % (cpu["a_search"], w["accuracy"], w["test_accuracy"]))
ret = sorted(glob.glob(out + "/b_retrain*.out"))
if "b_search" in cpu and ret:
    names = [os.path.basename(r)[:-4] for r in ret]
    tot = cpu["b_supernet"] + cpu["b_search"] + sum(cpu[n] for n in names)
    rs = [res(n) for n in names]
    w = max(rs, key=lambda r: r["accuracy"])
    print("(b) %.0f CPU s (supernet %.0f + search %.0f + %d retrainings %.0f); winner: validation %.4f, test %.4f"
          % (tot, cpu["b_supernet"], cpu["b_search"], len(rs), sum(cpu[n] for n in names),
             w["accuracy"], w["test_accuracy"]))
    print("    retrained top %d: validation %s" % (len(rs), ", ".join("%.4f" % r["accuracy"] for r in rs)))
    if "a_search" in cpu and os.path.exists(out + "/a_winner.out"):
        a = res("a_winner")
        print("(b)/(a): CPU %.1f %%, test accuracy %+.2f points" %
              (100 * tot / cpu["a_search"], 100 * (w["test_accuracy"] - a["test_accuracy"])))
PY
