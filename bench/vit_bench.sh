#!/bin/bash
# vit_bench.sh: the sequence benchmark (issue 15), nasc vs PyTorch back to
# back in the same run: the fixed ViT of bench/vit.nas (4 layers, width 64,
# 4 heads, 16 tokens) trained EPOCHS epochs on Fashion-MNIST (Adam 1e-3,
# batch 128, 54,000 images), at THREADS threads, then test accuracy and
# batch-1 latency: nasc's JIT (`nasc run --bench`, median) against
# nn.TransformerEncoderLayer eager and TorchScript (bench/vit_torch.py).
#   bench/vit_bench.sh NASC [THREADS] [EPOCHS]
# Prints one line per side and the ratios; the machine is shared, so only
# compare rows of one run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nasc=${1:?usage: vit_bench.sh NASC [THREADS] [EPOCHS]}
thr=${2:-1}
ep=${3:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P='{"space": "ViT", "decisions": {}}'
lscpu | grep 'Model name'
nice "$nasc" train "$here/vit.nas" --arch "$P" --set train.threads=$thr --set train.epochs=$ep --json --quiet \
    -o "$tmp/w.safetensors" > "$tmp/train.json"
OPENBLAS_NUM_THREADS=$thr nice "$nasc" run "$here/vit.nas" --arch "$P" --weights "$tmp/w.safetensors" --bench --json \
    > "$tmp/run.json"
nice /usr/bin/python3 "$here/vit_torch.py" "$thr" "$ep" > "$tmp/torch.json"
/usr/bin/python3 - "$tmp" "$ep" <<'PY'
import json, sys
d, ep = sys.argv[1], float(sys.argv[2])
t = json.load(open(f"{d}/train.json")); r = json.load(open(f"{d}/run.json")); p = json.load(open(f"{d}/torch.json"))
sps = 54000 * ep / t["train_time"]
print(f"nasc   params {t['params']}  train {sps:8.1f} samples/s  test acc {t['test_accuracy']:.4f}  "
      f"latency JIT {r['latency_us']:8.1f} us")
print(f"torch  params {p['params']}  train {p['samples_per_s']:8.1f} samples/s  test acc {p['test_accuracy']:.4f}  "
      f"latency eager {p['latency_eager_us']:8.1f} us  TorchScript {p['latency_torchscript_us']:8.1f} us  ({p['framework']})")
print(f"ratios (nasc / torch): training {sps / p['samples_per_s']:.2f}x, latency speed-up vs eager "
      f"{p['latency_eager_us'] / r['latency_us']:.2f}x, vs TorchScript {p['latency_torchscript_us'] / r['latency_us']:.2f}x")
PY
