#!/bin/bash
# run_data_bench.sh: issue 16's benchmarks, back to back in one run.
#  1. Accuracy: one epoch (SGD 0.05/0.9, batch 128, all 60,000 Fashion-MNIST
#     images) with train.normalize = standard against PyTorch with the same
#     standardisation, MLP-S and CNN-S, seeds 1-3: mean test accuracy of each
#     and the difference in points (target: within 0.3).
#  2. Throughput: nasc samples/s (wall clock, so noisy on a shared machine)
#     with normalize = standard, without and with
#     augment = [crop(pad = 4), flip, cutout(16)], and their ratio.
# Runs on THREADS (default 1) threads, under nice; prints the CPU.
#   bench/run_data_bench.sh [BUILD_DIR] [THREADS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-/tmp/nasc-bench}
thr=${2:-1}
[ -x "$build/train_bench" ] || { cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build "$build" -j2 >/dev/null; }
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p')   threads: $thr"
field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }
printf "%-4s %-5s %10s %10s %10s %10s %12s %12s %6s\n" net seed nasc_acc torch_acc nasc_sps torch_sps aug_sps noaug_sps aug/no
for net in mlp cnn; do
    na=() ta=()
    for seed in 1 2 3; do
        n=$(nice "$build/train_bench" $net $thr $seed standard)
        t=$(nice /usr/bin/python3 "$here/train_torch.py" $net $thr $seed standard)
        a=$(nice "$build/train_bench" $net $thr $seed augment)
        nacc=$(field test_accuracy <<<"$n") tacc=$(field test_accuracy <<<"$t")
        nsps=$(field samples_per_s <<<"$n") tsps=$(field samples_per_s <<<"$t") asps=$(field samples_per_s <<<"$a")
        na+=("$nacc") ta+=("$tacc")
        printf "%-4s %-5s %10s %10s %10s %10s %12s %12s %6s\n" $net $seed $nacc $tacc $nsps $tsps $asps $nsps \
            "$(/usr/bin/python3 -c "print(f'{$asps / $nsps:.2f}')")"
    done
    /usr/bin/python3 -c "
n = [$(IFS=,; echo "${na[*]}")]; t = [$(IFS=,; echo "${ta[*]}")]
import statistics as s
print(f'$net mean of seeds 1-3: nasc {s.mean(n):.4f}  torch {s.mean(t):.4f}  difference {100 * (s.mean(n) - s.mean(t)):+.2f} points')"
done
# The augmentation alone, in CPU time (robust on a loaded machine): its
# share of a training step is train samples/s divided by this.
echo "augmentation alone: $(nice "$build/train_bench" cnn 1 1 augcost | field aug_samples_per_cpu_s) samples per CPU second"
