#!/usr/bin/env bash
# supernet_bench.sh: weight sharing on examples/fashion_supernet.nas
# (docs/one-shot.md), every figure with the CPU and a peer from the same run:
#   1. supernet training CPU time (uniform and sandwich) against one
#      stand-alone training of the largest subnet on the same data budget;
#   2. subnet evaluations per second with the supernet evaluator (-j 1);
#   3. ranking quality: Kendall tau and Spearman rho between supernet
#      accuracy and stand-alone accuracy over N random points.
# Budgets (small, to run on a shared machine; override by environment):
#   E_SN  supernet training epochs (fraction of the training set)  0.3
#   E_SA  stand-alone training epochs per point                    0.1
#   N     points ranked                                            30
# usage: nice bench/supernet_bench.sh [build/nasc]
set -e
NASC=${1:-build/nasc}
SRC=$(cd "$(dirname "$0")/.." && pwd)
F=$SRC/examples/fashion_supernet.nas
E_SN=${E_SN:-0.3}
E_SA=${E_SA:-0.1}
N=${N:-30}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export TIMEFORMAT='%U %S %R'
cpu() { # cpu FILE CMD...: runs CMD, appends "user+sys wall" seconds to FILE
    local f=$1; shift
    { time "$@" > "$W/last.out" 2> "$W/last.err"; } 2> "$W/t"
    awk '{printf "%.2f %.2f\n", $1 + $2, $3}' "$W/t" >> "$f"
}
echo "$(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores; budgets: supernet $E_SN epochs, stand-alone $E_SA epochs, $N points"
LARGEST='{"decisions": {"stem": 32, "depth": 3, "width[1]": 32, "kernel[1]": 5, "op[1]": "conv3x3", "width[2]": 32, "kernel[2]": 5, "op[2]": "conv3x3", "width[3]": 32, "kernel[3]": 5, "op[3]": "conv3x3"}}'
cpu "$W/t_uniform" "$NASC" supernet "$F" -o "$W/uniform.safetensors" --set train.epochs="$E_SN" --set train.threads=1
lu=$(sed -n 's/.*trained in \([0-9.]*\) s.*/\1/p' "$W/last.err")
cpu "$W/t_sandwich" "$NASC" supernet "$F" -o "$W/sandwich.safetensors" --sampling sandwich --set train.epochs="$E_SN" --set train.threads=1
ls=$(sed -n 's/.*trained in \([0-9.]*\) s.*/\1/p' "$W/last.err")
cpu "$W/t_largest" "$NASC" train "$F" --arch "$LARGEST" --set train.epochs="$E_SN" --set train.threads=1 --quiet --json
cp "$W/last.out" "$W/largest.json"
read -r cu wu < "$W/t_uniform"; read -r cs ws < "$W/t_sandwich"; read -r cl wl < "$W/t_largest"
tl=$(python3 -c "import json; print(json.load(open('$W/largest.json'))['train_time'])")
echo "1. training loop on $E_SN epochs (wall s, same machine, same run): largest stand-alone $tl | supernet uniform $lu (ratio $(awk "BEGIN{printf \"%.2f\", $lu/$tl}")) | sandwich $ls (ratio $(awk "BEGIN{printf \"%.2f\", $ls/$tl}"))"
echo "1. training on $E_SN epochs (CPU s of the whole command, data loading included):  largest stand-alone $cl  |  supernet uniform $cu (ratio $(awk "BEGIN{printf \"%.2f\", $cu/$cl}"))  |  sandwich $cs (ratio $(awk "BEGIN{printf \"%.2f\", $cs/$cl}"))"
for S in uniform sandwich; do
    cpu "$W/t_search_$S" "$NASC" search "$F" --evaluator "supernet:$W/$S.safetensors" --strategy random --trials "$N" \
        --seed 1 --db "$W/$S.db" --set train.threads=1 --quiet
done
read -r ce we < "$W/t_search_uniform"
python3 -c "
import json, sqlite3
m = [json.loads(r[0]) for r in sqlite3.connect('$W/uniform.db').execute(\"select metrics from trials where status = 'done'\")]
t = sum(x['time_recalibrate'] + x['time_eval'] for x in m)
tl = json.load(open('$W/largest.json'))['train_time']
print('2. supernet evaluator: %d evaluations, %.2f s each (BN recalibration + validation, wall, in the workers) = %.2f per second;'
      ' whole search %s CPU s (%s s wall, data loading included); the largest stand-alone training loop alone took %.1f s wall'
      % (len(m), t / len(m), len(m) / t, '$ce', '$we', tl))"
python3 - "$W" "$NASC" "$F" "$E_SA" <<'PY'
import json, sqlite3, subprocess, sys
w, nasc, f, e_sa = sys.argv[1:]
def accs(db):
    c = sqlite3.connect(db)
    rows = c.execute("select point, metrics from trials where status = 'done' order by id").fetchall()
    return [(p, json.loads(m)["accuracy"]) for p, m in rows]
uni, sand = accs(w + "/uniform.db"), accs(w + "/sandwich.db")
sand = dict(sand)
alone, cpu = [], 0.0
import resource
for p, _ in uni:
    r = subprocess.run([nasc, "train", f, "--arch", p, "--json", "--quiet", "--set", "train.epochs=" + e_sa,
                        "--set", "train.threads=1"], capture_output=True, text=True, check=True)
    alone.append(json.loads(r.stdout)["accuracy"])
cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
def rank(v):
    o = sorted(range(len(v)), key=lambda i: v[i]); r = [0.0] * len(v); i = 0
    while i < len(o):
        j = i
        while j + 1 < len(o) and v[o[j + 1]] == v[o[i]]: j += 1
        for k in range(i, j + 1): r[o[k]] = (i + j) / 2
        i = j + 1
    return r
def spearman(a, b):
    ra, rb = rank(a), rank(b); n = len(a); ma = sum(ra) / n; mb = sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** .5; vb = sum((y - mb) ** 2 for y in rb) ** .5
    return cov / (va * vb) if va and vb else float("nan")
def kendall(a, b):
    c = d = ta = tb = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            x, y = a[i] - a[j], b[i] - b[j]
            if x == 0 and y == 0: continue
            if x == 0: ta += 1; continue
            if y == 0: tb += 1; continue
            if x * y > 0: c += 1
            else: d += 1
    return (c - d) / (((c + d + ta) * (c + d + tb)) ** .5) if c + d else float("nan")
for name, sup in (("uniform", [a for _, a in uni]), ("sandwich", [sand.get(p, float("nan")) for p, _ in uni])):
    print("3. %-8s supernet vs stand-alone (%s epochs) over %d points: Kendall tau %.3f, Spearman rho %.3f" %
          (name, e_sa, len(uni), kendall(sup, alone), spearman(sup, alone)))
print("   stand-alone accuracies: min %.3f max %.3f; supernet (uniform) min %.3f max %.3f" %
      (min(alone), max(alone), min(a for _, a in uni), max(a for _, a in uni)))
PY
