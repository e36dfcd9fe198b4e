#!/usr/bin/env bash
# supernet_bench.sh: weight sharing on examples/fashion_supernet.nas
# (docs/one-shot.md), every figure with the CPU and a peer from the same run:
#   1. supernet training time per epoch (uniform and sandwich) against one
#      stand-alone epoch of the largest subnet;
#   2. subnet evaluations per second with the supernet evaluator (-j 1);
#   3. ranking quality: Kendall tau and Spearman rho between supernet
#      accuracy and stand-alone accuracy over the N points a seeded random
#      search draws (the same N points for every evaluator).
# Budgets (small, to run on a shared machine; override by environment):
#   E_SN    supernet training epochs (uniform)                      1
#   E_SW    sandwich supernet epochs (a sandwich step trains 4      E_SN / 4
#           subnets: E_SN / 4 is the same CPU as the uniform one)
#   E_LONG  epochs of an extra, longer uniform supernet (0: none)   0
#   E_SA    stand-alone training epochs per point (fraction: that   0.2
#           fraction of one epoch of the 54,000 training images)
#   E_L     stand-alone epochs of the largest subnet, for step 1    0.2
#   N       points ranked                                           30
#   OUT     where the supernets, stores and logs stay     runs/supernet-bench
# Every command runs with one thread (train.threads=1) under the caller's
# nice; CPU seconds (user + sys) of each command go to $OUT/cpu.txt.
# usage: nice bench/supernet_bench.sh [build/nasc]
set -e
NASC=$(realpath "${1:-build/nasc}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
F=$SRC/examples/fashion_supernet.nas
E_SN=${E_SN:-1}
E_SW=${E_SW:-$(awk "BEGIN {print $E_SN / 4}")}
E_LONG=${E_LONG:-0}
E_SA=${E_SA:-0.2}
E_L=${E_L:-0.2}
N=${N:-30}
OUT=${OUT:-$SRC/runs/supernet-bench}
mkdir -p "$OUT"
T1=(--set train.threads=1)
# cpu NAME CMD...: runs CMD (stdout to $OUT/NAME.out, stderr to NAME.err),
# appends "NAME cpu_s wall_s" to $OUT/cpu.txt
# With REUSE=1, a step already started in $OUT (its .out exists: by an
# earlier run of this script, or by hand with the same command) is waited
# for and its figures reused instead of running it again.
reused() { [ "$REUSE" = 1 ] && [ -e "$OUT/$1.out" ]; }
cpu() {
    local n=$1; shift
    if reused "$n"; then
        while [ ! -s "$OUT/$n.time" ]; do sleep 10; done
    else
        /usr/bin/time -f "$n %U %S %e" -o "$OUT/$n.time" "$@" > "$OUT/$n.out" 2> "$OUT/$n.err"
    fi
    awk '{printf "%s %.2f %.2f\n", $1, $2 + $3, $4}' "$OUT/$n.time" >> "$OUT/cpu.txt"
}
cpuof() { awk -v n="$1" '$1 == n {print $2}' "$OUT/cpu.txt" | tail -1; }
wallof() { awk -v n="$1" '$1 == n {print $3}' "$OUT/cpu.txt" | tail -1; }
loop() { sed -n 's/.*trained in \([0-9.]*\) s.*/\1/p' "$OUT/$1.err" | tail -1; }
echo "$(date -u '+%F %H:%M UTC'); $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "budgets: supernet $E_SN epochs (sandwich $E_SW, long: $E_LONG), stand-alone $E_SA epochs per point, largest $E_L epochs, $N points"
[ "$REUSE" = 1 ] || : > "$OUT/cpu.txt"
LARGEST='{"decisions": {"stem": 32, "depth": 3, "width[1]": 32, "kernel[1]": 5, "op[1]": "conv3x3", "width[2]": 32, "kernel[2]": 5, "op[2]": "conv3x3", "width[3]": 32, "kernel[3]": 5, "op[3]": "conv3x3"}}'
SUPERNETS="uniform sandwich"
score() { # score NAME: the N points of a seeded random search, on supernet NAME
    reused "search_$1" || rm -f "$OUT/search_$1.db"
    cpu "search_$1" "$NASC" search "$F" --evaluator "supernet:$OUT/$1.safetensors" --strategy random --trials "$N" \
        --seed 1 -j 1 --db "$OUT/search_$1.db" "${T1[@]}" --quiet
}
cpu uniform "$NASC" supernet "$F" -o "$OUT/uniform.safetensors" --epochs "$E_SN" "${T1[@]}"
echo "uniform supernet: $(cpuof uniform) CPU s, loop $(loop uniform) s; load $(cut -d' ' -f1 /proc/loadavg)"
score uniform
cpu sandwich "$NASC" supernet "$F" -o "$OUT/sandwich.safetensors" --sampling sandwich --set train.epochs="$E_SW" "${T1[@]}"
echo "sandwich supernet: $(cpuof sandwich) CPU s, loop $(loop sandwich) s; load $(cut -d' ' -f1 /proc/loadavg)"
score sandwich
if [ "$E_LONG" != 0 ]; then
    cpu long "$NASC" supernet "$F" -o "$OUT/long.safetensors" --set train.epochs="$E_LONG" "${T1[@]}"
    echo "long uniform supernet: $(cpuof long) CPU s, loop $(loop long) s"
    SUPERNETS="$SUPERNETS long"
    score long
fi
echo "2. $N supernet-evaluator trials (uniform supernet): $(cpuof search_uniform) CPU s, $(wallof search_uniform) s wall"
# the largest at E_L and E_L / 2 epochs: the difference of the two commands'
# CPU times is the CPU of E_L / 2 epochs of its training loop alone (the
# evaluation of the validation and test sets and the proxies cancel out)
cpu largest "$NASC" train "$F" --arch "$LARGEST" --set train.epochs="$E_L" "${T1[@]}" --quiet --json
cpu largest_half "$NASC" train "$F" --arch "$LARGEST" --set train.epochs="$(awk "BEGIN {print $E_L / 2}")" "${T1[@]}" --quiet --json
tl=$(python3 -c "import json; print(json.load(open('$OUT/largest.out'))['train_time'])")
echo "largest stand-alone: $(cpuof largest) CPU s ($(cpuof largest_half) at half the epochs), loop $tl s wall"
awk -v e="$E_SN" -v ew="$E_SW" -v el="$E_L" -v cu="$(cpuof uniform)" -v cs="$(cpuof sandwich)" \
    -v cl="$(cpuof largest)" -v ch="$(cpuof largest_half)" 'BEGIN {
    l = (cl - ch) / (el / 2)
    printf "1. CPU s per training epoch (1 thread): largest stand-alone %.0f | supernet uniform %.0f (%.2fx) | sandwich %.0f (%.2fx)\n",
        l, cu / e, (cu / e) / l, cs / ew, (cs / ew) / l }'
reused alone || rm -f "$OUT/alone.db"
cpu alone "$NASC" search "$F" --strategy random --trials "$N" --seed 1 -j 1 --db "$OUT/alone.db" \
    --set train.epochs="$E_SA" "${T1[@]}" --quiet
echo "stand-alone: $N trials, $(cpuof alone) CPU s; load $(cut -d' ' -f1 /proc/loadavg)"
python3 "$SRC/bench/supernet_rank.py" "$OUT" "$E_SA" $SUPERNETS
