#!/usr/bin/env bash
# bench/int8_bench.sh: int8 vs fp32 for MLP-S and CNN-S (bench/README-int8.md).
#   1. trains both on Fashion-MNIST (bench/int8/*.nas; skipped when OUT has
#      the weights) and measures the test accuracy of the fp32 and the
#      --quant int8 build on the 10,000 test images (nasc run);
#   2. speed: bench/int8_bench (both builds in one process, alternated);
#   3. ram/flash of both builds (nasc show) against the object nasc build
#      writes (size) and what it mallocs at batch 1 (tests/deploy/arena_probe.c).
# Usage: bench/int8_bench.sh BUILD_DIR OUT_DIR   (from the repository root)
set -euo pipefail
B=${1:?usage: int8_bench.sh BUILD_DIR OUT_DIR}
O=${2:?}
mkdir -p "$O"
N=$B/nasc
FM=/usr/share/datasets/fashion-mnist
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
make -s -f bench/int8.mk BUILD="$B" >/dev/null

for net in mlp_s cnn_s; do
    f=bench/int8/$net.nas
    space=$(echo "$net" | tr a-z A-Z)
    p="{\"space\": \"$space\", \"decisions\": {}}"
    [ -s "$O/$net.safetensors" ] || nice "$N" train "$f" --arch "$p" -o "$O/$net.safetensors" --quiet > "$O/$net.train.txt"
    for q in none int8; do
        nice "$N" run "$f" --arch "$p" --weights "$O/$net.safetensors" --input "$FM/t10k-images-idx3-ubyte.gz" \
            --quant "$q" > "$O/$net.$q.pred"
    done
    python3 - "$FM/t10k-labels-idx1-ubyte.gz" "$O/$net.none.pred" "$O/$net.int8.pred" "$net" <<'PY'
import gzip, sys
labels = gzip.open(sys.argv[1]).read()[8:]
acc = []
for p in sys.argv[2:4]:
    pred = [int(l) for l in open(p)]
    assert len(pred) == len(labels) == 10000
    acc.append(sum(a == b for a, b in zip(pred, labels)) / 1e4)
agree = sum(a == b for a, b in zip(open(sys.argv[2]), open(sys.argv[3])))
print(f'{{"net": "{sys.argv[4]}", "test_acc_fp32": {acc[0]:.4f}, "test_acc_int8": {acc[1]:.4f}, '
      f'"diff_points": {100 * (acc[1] - acc[0]):.2f}, "same_prediction": {agree}}}')
PY
    for q in none int8; do
        "$N" show "$f" --arch "$p" --json --set "search.quant=$q" > "$O/$net.$q.show"
        "$N" build "$f" --arch "$p" --weights "$O/$net.safetensors" -o "$O/${net}_$q.o" --emit obj --quant "$q" --quiet
        sym=nasc_${net}_$q
        up=$(echo "$sym" | tr a-z A-Z)
        in_n=$(sed -n "s/^#define NASC_${up}_INPUT_SIZE \(.*\)/\1/p" "$O/${net}_$q.h")
        out_n=$(sed -n "s/^#define NASC_${up}_OUTPUT_SIZE \(.*\)/\1/p" "$O/${net}_$q.h")
        cc -O1 -DNASC_SYM="$sym" -DIN_N="$in_n" -DOUT_N="$out_n" -o "$O/$sym.probe" tests/deploy/arena_probe.c \
            "$O/${net}_$q.o" -Wl,--wrap=malloc -lopenblas -lm
        python3 - "$O/$net.$q.show" "$(size "$O/${net}_$q.o" | awk 'NR == 2 {print $4}')" \
            "$("$O/$sym.probe" 1)" "$net" "$q" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
size, used = int(sys.argv[2]), int(sys.argv[3])
io = d["ram"] - d["arena_bytes"]
print(f'{{"net": "{sys.argv[4]}", "quant": "{sys.argv[5]}", "ram": {d["ram"]}, "ram_measured": {used + io}, '
      f'"flash": {d["flash"]}, "flash_size": {size}}}')
PY
    done
done
OPENBLAS_NUM_THREADS=1 nice "$B/int8_bench" --rounds 21
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
