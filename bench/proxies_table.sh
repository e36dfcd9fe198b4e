#!/usr/bin/env bash
# proxies_table.sh NASC: the `nasc proxies` tables of bench/README-proxies.md
# on the shipped Fashion-MNIST spaces: all 252 points of the MLP space
# trained one epoch each (this run also writes the table the strategy
# benchmark answers from: bench/data/fashion_mlp_table.json), and 30
# points of the CNN space trained a tenth of an epoch each at lr 0.1 (5,400
# samples: the largest CNNs of the space cost about 4 minutes per quarter
# epoch on one loaded core, so N = 50 at more data did not fit the time
# this was measured in; a rerun at N = 50, a twentieth of an epoch, did
# not fit either: bench/README-proxies.md, section 4).  One BLAS thread,
# niced: about 10 min each on a lightly shared 2-core machine.
set -euo pipefail
NASC=${1:?usage: proxies_table.sh NASC}
HERE=$(cd "$(dirname "$0")" && pwd)
echo "CPU: $(lscpu | grep 'Model name' | sed 's/.*: *//')"
export OPENBLAS_NUM_THREADS=1
nice "$NASC" proxies "$HERE/../examples/fashion_mlp.nas" --points 252 --seed 1 --json --quiet \
    > "$HERE/data/fashion_mlp_table.json"
nice "$NASC" proxies "$HERE/../examples/fashion_cnn.nas" --points 30 --seed 1 --set train.epochs=0.1 --set train.lr=0.1 --json \
    --quiet > "$HERE/data/fashion_cnn_proxies.json"
for f in fashion_mlp_table fashion_cnn_proxies; do
    python3 - "$HERE/data/$f.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(sys.argv[1].rsplit("/", 1)[-1], d["points"], "points")
for c in d["correlations"]:
    f = lambda v: "n/a" if v is None else f"{v:.3f}"
    print(f"{c['name']:10s} {c['n']:4d} {f(c['spearman']):>8s} {f(c['kendall']):>8s}  missing {c['missing']}")
PY
done
