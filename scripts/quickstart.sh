#!/usr/bin/env bash
# The main job of the README: install what nasc needs (Debian packages),
# build it, and run a small search on Fashion-MNIST that ends with the best
# network compiled into a standalone executable, which is then run on the
# test set.  Re-running it resumes nothing: it starts a fresh search.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
N=build/nasc
echo "== nasc check examples/quickstart.nas"
$N check examples/quickstart.nas --decisions
echo "== nasc sample (3 random points)"
$N sample examples/quickstart.nas --count 3 --seed 1
echo "== nasc search (12 trials on Fashion-MNIST, regularized evolution, 2 workers)"
rm -f runs/Quickstart.db runs/Quickstart.db-wal runs/Quickstart.db-shm
$N search examples/quickstart.nas --db runs/Quickstart.db -j 2
echo "== nasc build: the best point, compiled ahead of time"
$N build examples/quickstart.nas --arch runs/Quickstart.best.json --weights runs/Quickstart.best.safetensors -o runs/quickstart-model
echo "== the compiled model on the 10,000 test images"
T=/usr/share/datasets/fashion-mnist
./runs/quickstart-model "$T/t10k-images-idx3-ubyte.gz" > runs/predictions.txt
python3 - "$T/t10k-labels-idx1-ubyte.gz" runs/predictions.txt <<'PY'
import gzip, sys
labels = gzip.open(sys.argv[1]).read()[8:]
preds = [int(l) for l in open(sys.argv[2])]
ok = sum(int(a == b) for a, b in zip(labels, preds))
print(f"runs/quickstart-model: {ok}/{len(preds)} test images right ({ok / len(preds):.4f})")
PY
$N run examples/quickstart.nas --arch runs/Quickstart.best.json --weights runs/Quickstart.best.safetensors --bench
