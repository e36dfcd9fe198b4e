#!/usr/bin/env bash
# strategy_table.sh NASC [SEEDS] [TRIALS]: random, evolution, bananas and
# predictor on examples/fashion_mlp.nas, every trial answered by the pipe
# evaluator bench/table_eval.py from bench/data/fashion_mlp_table.json
# (all 252 points trained once; see bench/README-proxies.md).  Prints the
# mean and standard deviation over seeds of the best validation accuracy
# after 25, 50 and 100 evaluations, and the wall time per search.
#
# STRATEGIES (environment) picks the configurations, each a strategy with
# its options after slashes: the zero-cost warm start rows of
# bench/README-proxies.md are
#   STRATEGIES="evolution evolution/warm_start=100 evolution/warm_start=100/warm_proxy=jacov"
# (the warm start's proxies are computed by nasc itself at each point's
# initialisation, on the Fashion-MNIST data, not read from the table).
set -euo pipefail
NASC=${1:?usage: strategy_table.sh NASC [SEEDS] [TRIALS]}
SEEDS=${2:-10}
TRIALS=${3:-100}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "CPU: $(lscpu | grep 'Model name' | sed 's/.*: *//')"
export OPENBLAS_NUM_THREADS=1
for conf in ${STRATEGIES:-random evolution bananas predictor}; do
    IFS=/ read -r -a parts <<<"$conf"
    opts=()
    for o in "${parts[@]:1}"; do opts+=(--strategy-opt "$o"); done
    s=${conf//\//_}
    start=$(date +%s.%N)
    for seed in $(seq 1 "$SEEDS"); do
        nice "$NASC" search "$HERE/../examples/fashion_mlp.nas" --strategy "${parts[0]}" ${opts[@]+"${opts[@]}"} \
            --trials "$TRIALS" --seed "$seed" \
            --evaluator "pipe:python3 $HERE/table_eval.py $HERE/data/fashion_mlp_table.json" \
            --db "$T/$s-$seed.db" --quiet >/dev/null 2>&1 || true
    done
    end=$(date +%s.%N)
    python3 - "$T" "$s" "$SEEDS" "$TRIALS" "$start" "$end" <<'PY'
import json, sqlite3, statistics, sys
T, s, seeds, trials, t0, t1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
cuts = [c for c in (25, 50, 100) if c <= trials]
best = {c: [] for c in cuts}
for seed in range(1, seeds + 1):
    db = sqlite3.connect(f"{T}/{s}-{seed}.db")
    accs = [json.loads(m)["accuracy"] for (m,) in db.execute(
        "select metrics from trials where answered = 'evaluator' and status = 'done' order by id")]
    for c in cuts:
        best[c].append(max(accs[:c]) if accs[:c] else float("nan"))
cells = "  ".join(f"{statistics.mean(best[c]):.4f} +- {statistics.pstdev(best[c]):.4f}" for c in cuts)
print(f"{s:40s} {cells}   ({(t1 - t0) / seeds:.1f} s per search)")
PY
done
