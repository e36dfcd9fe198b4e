#!/bin/bash
# run_train_bench.sh: the training benchmark, nasc vs PyTorch, back to back
# in the same run (the machine is shared and noisy: only compare rows
# measured together).  For each net (MLP-S, CNN-S), thread count (1, 2)
# and OpenBLAS configuration (the default, then OPENBLAS_CORETYPE=SkylakeX
# for both sides), runs bench/train_bench and bench/train_torch.py REPS
# times alternately and prints the best samples/s of each, the ratio and
# the test accuracies.
#   bench/run_train_bench.sh [BUILD_DIR] [REPS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-/tmp/nasc-bench}
reps=${2:-2}
if [ ! -x "$build/train_bench" ]; then
    cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j2 >/dev/null
fi
best() {  # best samples/s and the accuracy of that run, from JSON lines on stdin
    /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.startswith("{")]
b = max(rows, key=lambda r: r["samples_per_s"])
print(b["samples_per_s"], b["test_accuracy"], b["core"])'
}
printf "%-5s %-3s %-9s %-9s %12s %12s %6s %8s %8s\n" net thr config core nasc_sps torch_sps ratio nasc_acc torch_acc
for cfg in ${CONFIGS:-env auto SkylakeX}; do
    for net in mlp cnn; do
        for thr in 1 2; do
            envs=()
            [ "$cfg" = SkylakeX ] && envs=(OPENBLAS_CORETYPE=SkylakeX)
            [ "$cfg" = auto ] && envs=(-u OPENBLAS_CORETYPE)
            n_out="" t_out=""
            for ((r = 0; r < reps; r++)); do
                n_out+=$(env "${envs[@]}" "$build/train_bench" $net $thr)$'\n'
                t_out+=$(env "${envs[@]}" /usr/bin/python3 "$here/train_torch.py" $net $thr)$'\n'
            done
            read -r ns na ncore <<<"$(printf "%s" "$n_out" | best)"
            read -r ts ta tcore <<<"$(printf "%s" "$t_out" | best)"
            ratio=$(/usr/bin/python3 -c "print(f'{$ns / $ts:.2f}')")
            printf "%-5s %-3s %-9s %-9s %12s %12s %6s %8s %8s\n" $net $thr $cfg "$ncore/$tcore" $ns $ts $ratio $na $ta
        done
    done
done
