#!/bin/bash
# run_data_bench.sh: issue 16's benchmarks, back to back in one run.
#  1. Accuracy: one epoch (SGD 0.05/0.9, batch 128, all 60,000 Fashion-MNIST
#     images) with train.normalize = standard against PyTorch with the same
#     standardisation, MLP-S and CNN-S, seeds SEEDS (default 1-5): mean test
#     accuracy of each and the difference in points (target: within 0.3).
#     Each seed also runs PyTorch paired: from nasc's initial weights in
#     nasc's sample order (train_bench's PAIR file), so that the difference
#     is the implementations' alone, not the draw of the network and order.
#  2. Throughput: nasc samples/s (wall clock, so noisy on a shared machine)
#     with normalize = standard, without and with
#     augment = [crop(pad = 4), flip, cutout(16)], and their ratio.
# Runs on THREADS (default 1) threads, under nice; prints the CPU.
#   [SEEDS="1 2 3"] bench/run_data_bench.sh [BUILD_DIR] [THREADS]
set -euo pipefail
seeds=${SEEDS:-1 2 3 4 5}
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-/tmp/nasc-bench}
thr=${2:-1}
[ -x "$build/train_bench" ] || { cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build "$build" -j2 >/dev/null; }
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p')   threads: $thr   load: $(cut -d' ' -f1-3 /proc/loadavg)"
pair=$(mktemp /tmp/nasc-pair.XXXXXX)
trap 'rm -f "$pair"' EXIT
field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }
printf "%-4s %-5s %9s %9s %11s %10s %10s %10s %10s %6s\n" net seed nasc_acc torch_acc torch_paired \
    nasc_sps torch_sps aug_sps noaug_sps aug/no
for net in mlp cnn; do
    na=() ta=() pa=()
    for seed in $seeds; do
        n=$(nice "$build/train_bench" $net $thr $seed standard "$pair")
        t=$(nice /usr/bin/python3 "$here/train_torch.py" $net $thr $seed standard)
        p=$(nice /usr/bin/python3 "$here/train_torch.py" $net $thr $seed standard "$pair")
        a=$(nice "$build/train_bench" $net $thr $seed augment)
        nacc=$(field test_accuracy <<<"$n") tacc=$(field test_accuracy <<<"$t") pacc=$(field test_accuracy <<<"$p")
        nsps=$(field samples_per_s <<<"$n") tsps=$(field samples_per_s <<<"$t") asps=$(field samples_per_s <<<"$a")
        na+=("$nacc") ta+=("$tacc") pa+=("$pacc")
        printf "%-4s %-5s %9s %9s %11s %10s %10s %10s %10s %6s\n" $net $seed $nacc $tacc $pacc $nsps $tsps $asps \
            $nsps "$(/usr/bin/python3 -c "print(f'{$asps / $nsps:.2f}')")"
    done
    /usr/bin/python3 -c "
import statistics as s
n = [$(IFS=,; echo "${na[*]}")]; t = [$(IFS=,; echo "${ta[*]}")]; p = [$(IFS=,; echo "${pa[*]}")]
d = [100 * (a - b) for a, b in zip(n, t)]; dp = [100 * (a - b) for a, b in zip(n, p)]
se = s.stdev(d) / len(d) ** 0.5 if len(d) > 1 else float('nan')
print(f'$net mean of {len(n)} seeds: nasc {s.mean(n):.4f}  torch {s.mean(t):.4f}  difference {s.mean(d):+.2f} points'
      f' (standard error {se:.2f});  paired torch {s.mean(p):.4f}  difference {s.mean(dp):+.2f} points'
      f' (per seed {min(dp):+.2f} to {max(dp):+.2f})')"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# The augmentation alone, in CPU time (robust on a loaded machine): its
# share of a training step is train samples/s divided by this.
echo "augmentation alone: $(nice "$build/train_bench" cnn 1 1 augcost | field aug_samples_per_cpu_s) samples per CPU second"
