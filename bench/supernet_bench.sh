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
#   E_SN    supernet training epochs                                1
#   E_LONG  epochs of an extra, longer uniform supernet (0: none)   0
#   E_SA    stand-alone training epochs per point (fraction: that   0.2
#           fraction of one epoch of the 54,000 training images)
#   E_L     stand-alone epochs of the largest subnet, for step 1    0.2
#   N       points ranked                                           30
#   OUT     where the supernets, stores and logs stay               bench/out/sn
# Every command runs with one thread (train.threads=1) under the caller's
# nice; CPU seconds (user + sys) of each command go to $OUT/cpu.txt.
# usage: nice bench/supernet_bench.sh [build/nasc]
set -e
NASC=$(realpath "${1:-build/nasc}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
F=$SRC/examples/fashion_supernet.nas
E_SN=${E_SN:-1}
E_LONG=${E_LONG:-0}
E_SA=${E_SA:-0.2}
E_L=${E_L:-0.2}
N=${N:-30}
OUT=${OUT:-$SRC/bench/out/sn}
mkdir -p "$OUT"
T1=(--set train.threads=1)
# cpu NAME CMD...: runs CMD (stdout to $OUT/NAME.out, stderr to NAME.err),
# appends "NAME cpu_s wall_s" to $OUT/cpu.txt
cpu() {
    local n=$1; shift
    /usr/bin/time -f "$n %U %S %e" -o "$OUT/$n.time" "$@" > "$OUT/$n.out" 2> "$OUT/$n.err"
    awk '{printf "%s %.2f %.2f\n", $1, $2 + $3, $4}' "$OUT/$n.time" >> "$OUT/cpu.txt"
}
cpuof() { awk -v n="$1" '$1 == n {print $2}' "$OUT/cpu.txt" | tail -1; }
wallof() { awk -v n="$1" '$1 == n {print $3}' "$OUT/cpu.txt" | tail -1; }
loop() { sed -n 's/.*trained in \([0-9.]*\) s.*/\1/p' "$OUT/$1.err" | tail -1; }
echo "$(date -u '+%F %H:%M UTC'); $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "budgets: supernet $E_SN epochs (long: $E_LONG), stand-alone $E_SA epochs per point, largest $E_L epochs, $N points"
: > "$OUT/cpu.txt"
LARGEST='{"decisions": {"stem": 32, "depth": 3, "width[1]": 32, "kernel[1]": 5, "op[1]": "conv3x3", "width[2]": 32, "kernel[2]": 5, "op[2]": "conv3x3", "width[3]": 32, "kernel[3]": 5, "op[3]": "conv3x3"}}'
SUPERNETS="uniform sandwich"
cpu uniform "$NASC" supernet "$F" -o "$OUT/uniform.safetensors" --epochs "$E_SN" "${T1[@]}"
echo "uniform supernet: $(cpuof uniform) CPU s, loop $(loop uniform) s; load $(cut -d' ' -f1 /proc/loadavg)"
cpu largest "$NASC" train "$F" --arch "$LARGEST" --set train.epochs="$E_L" "${T1[@]}" --quiet --json
tl=$(python3 -c "import json; print(json.load(open('$OUT/largest.out'))['train_time'])")
echo "largest stand-alone: $(cpuof largest) CPU s, loop $tl s"
rm -f "$OUT/alone.db"
cpu alone "$NASC" search "$F" --strategy random --trials "$N" --seed 1 -j 1 --db "$OUT/alone.db" \
    --set train.epochs="$E_SA" "${T1[@]}" --quiet
echo "stand-alone: $N trials, $(cpuof alone) CPU s; load $(cut -d' ' -f1 /proc/loadavg)"
cpu sandwich "$NASC" supernet "$F" -o "$OUT/sandwich.safetensors" --sampling sandwich --epochs "$E_SN" "${T1[@]}"
echo "sandwich supernet: $(cpuof sandwich) CPU s, loop $(loop sandwich) s; load $(cut -d' ' -f1 /proc/loadavg)"
if [ "$E_LONG" != 0 ]; then
    cpu long "$NASC" supernet "$F" -o "$OUT/long.safetensors" --epochs "$E_LONG" "${T1[@]}"
    echo "long uniform supernet: $(cpuof long) CPU s, loop $(loop long) s"
    SUPERNETS="$SUPERNETS long"
fi
lu=$(loop uniform); ls=$(loop sandwich)
awk -v e="$E_SN" -v el="$E_L" -v lu="$lu" -v ls="$ls" -v tl="$tl" 'BEGIN {
    printf "1. training loop per epoch (wall s, 1 thread): largest stand-alone %.1f | supernet uniform %.1f (%.2fx) | sandwich %.1f (%.2fx)\n",
        tl / el, lu / e, (lu / e) / (tl / el), ls / e, (ls / e) / (tl / el) }'
for S in $SUPERNETS; do
    rm -f "$OUT/search_$S.db"
    cpu "search_$S" "$NASC" search "$F" --evaluator "supernet:$OUT/$S.safetensors" --strategy random --trials "$N" \
        --seed 1 -j 1 --db "$OUT/search_$S.db" "${T1[@]}" --quiet
done
echo "2. $N supernet-evaluator trials (uniform supernet): $(cpuof search_uniform) CPU s, $(wallof search_uniform) s wall"
python3 "$SRC/bench/supernet_rank.py" "$OUT" "$E_SA" $SUPERNETS
