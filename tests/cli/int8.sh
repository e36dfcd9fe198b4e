#!/usr/bin/env bash
# --quant int8 (docs/deployment.md) as a user meets it: nasc run and the
# built executable agree with each other and stay near fp32; calibration is
# deterministic and --calib changes it; ram/flash of the int8 build equal
# what its object really uses; a search with quant = int8 measures the int8
# build; bad values, a network with nothing to quantise and ONNX are refused
# with nothing written.
. "$(dirname "$0")/common.bash"
D=$SRC/tests/fixtures
TEST=$D/data/fmnist-tiny/t10k-images-idx3-ubyte.gz
CC=${CC:-cc}

# train NAME FILE POINT, then compare int8 with fp32 on the fixture's test images
near_fp32() {
    local n=$1 f=$2 p=$3
    expect_exit 0 "$NASC" train "$f" --arch "$p" -o "$T/$n.st" --quiet
    expect_exit 0 "$NASC" run "$f" --arch "$p" --weights "$T/$n.st" --input "$TEST" --logits
    cp "$T/out" "$T/$n.f32"
    expect_exit 0 "$NASC" run "$f" --arch "$p" --weights "$T/$n.st" --input "$TEST" --logits --quant int8
    cp "$T/out" "$T/$n.q8"
    expect_exit 0 "$NASC" build "$f" --arch "$p" --weights "$T/$n.st" -o "$T/$n.exe" --quant int8 --quiet
    "$T/$n.exe" --logits "$TEST" > "$T/$n.exe.q8" && ok || bad "$n: the int8 executable runs"
    python3 - "$T/$n.f32" "$T/$n.q8" "$T/$n.exe.q8" "$n" <<'PY' && ok || bad "$n: int8 vs fp32"
import sys
rows = lambda p: [[float(v) for v in l.split()] for l in open(p)]
f, q, e = rows(sys.argv[1]), rows(sys.argv[2]), rows(sys.argv[3])
assert len(f) == len(q) == len(e) > 0, (len(f), len(q), len(e))
scale = max(abs(v) for r in f for v in r)
err = max(abs(a - b) for rf, rq in zip(f, q) for a, b in zip(rf, rq)) / scale
assert 0 < err < 0.05, f"{sys.argv[4]}: int8 logits off fp32 by {err:.4f} of the largest"
# the executable computes what nasc run computes (printed to 6 digits)
assert all(abs(a - b) <= 1e-5 * max(1, abs(a)) for rq, re in zip(q, e) for a, b in zip(rq, re))
same = sum(max(range(len(a)), key=a.__getitem__) == max(range(len(b)), key=b.__getitem__) for a, b in zip(f, q))
assert same >= 0.9 * len(f), f"argmax agrees on {same}/{len(f)}"
print(f"{sys.argv[4]}: int8 vs fp32 max error {err:.4f} of the largest logit, argmax {same}/{len(f)}")
PY
}
MLP='{"space": "MLP", "decisions": {"act": "gelu"}}'
CNN='{"space": "CNN", "decisions": {"act": "hswish"}}'
near_fp32 mlp "$D/onnx/mlp.nas" "$MLP"
near_fp32 cnn "$D/onnx/cnn.nas" "$CNN"

# calibration is deterministic; another --calib gives other scales
build_ll() { mkdir -p "$T/$1" && "$NASC" build "$D/onnx/cnn.nas" --arch "$CNN" --weights "$T/cnn.st" \
    -o "$T/$1/m.ll" --emit llvm --quant int8 "${@:2}" --quiet && cp "$T/$1/m.ll" "$T/$1.body"; }
build_ll a && build_ll b && cmp -s "$T/a.body" "$T/b.body" && ok || bad "two int8 builds differ"
build_ll c --calib 3 && ! cmp -s "$T/a.body" "$T/c.body" && ok || bad "--calib 3 changed nothing"
build_ll d --calib 256 && cmp -s "$T/a.body" "$T/d.body" && ok || bad "the default is not --calib 256"

# ram and flash of the int8 build (nasc show under search.quant = int8) are the object's
for n in mlp cnn; do
    f=$D/onnx/$n.nas
    p=$MLP
    [ $n = cnn ] && p=$CNN
    expect_exit 0 "$NASC" show "$f" --arch "$p" --json --set search.quant=int8
    read -r ram flash io <<< "$(python3 -c "
import json; d = json.load(open('$T/out')); print(d['ram'], d['flash'], d['ram'] - d['arena_bytes'])")"
    expect_exit 0 "$NASC" show "$f" --arch "$p" --json
    fp_flash=$(python3 -c "import json; print(json.load(open('$T/out'))['flash'])")
    expect_exit 0 "$NASC" build "$f" --arch "$p" --weights "$T/$n.st" -o "$T/q$n.o" --emit obj --quant int8 --quiet
    sz=$(size "$T/q$n.o" | awk 'NR == 2 {print $4}')
    [ "$sz" = "$flash" ] && ok || bad "$n: int8 flash $flash, but size says $sz"
    up=$(echo "nasc_q$n" | tr a-z A-Z)
    in_n=$(sed -n "s/^#define NASC_${up}_INPUT_SIZE \(.*\)/\1/p" "$T/q$n.h")
    out_n=$(sed -n "s/^#define NASC_${up}_OUTPUT_SIZE \(.*\)/\1/p" "$T/q$n.h")
    $CC -O1 -DNASC_SYM="nasc_q$n" -DIN_N="$in_n" -DOUT_N="$out_n" -o "$T/q$n.probe" \
        "$SRC/tests/deploy/arena_probe.c" "$T/q$n.o" -Wl,--wrap=malloc -lopenblas -lm && ok || bad "$n: probe links"
    used=$("$T/q$n.probe" 1)
    [ $((ram - io)) = "$used" ] && ok || bad "$n: int8 ram $ram - io $io != the $used bytes the object mallocs"
    echo "$n int8: ram $ram (arena $used), flash $flash (fp32 flash $fp_flash)"
done
# the MLP's weights dominate: int8 flash is well under its fp32 flash
expect_exit 0 "$NASC" show "$D/onnx/mlp.nas" --arch "$MLP" --json
f32=$(python3 -c "import json; print(json.load(open('$T/out'))['flash'])")
expect_exit 0 "$NASC" show "$D/onnx/mlp.nas" --arch "$MLP" --json --set search.quant=int8
q8=$(python3 -c "import json; print(json.load(open('$T/out'))['flash'])")
[ $((q8 * 2)) -lt "$f32" ] && ok || bad "int8 flash $q8 is not under half of fp32's $f32"

# a search with quant = int8 measures the int8 build's latency
expect_exit 0 "$NASC" search "$D/deploy/tiny_flash.nas" --db "$T/s.db" --json --trials 2 \
    --set 'search.quant=int8' --set 'search.objective=minimize latency'
python3 - "$T/s.db" <<'PY' && ok || bad "search with quant = int8"
import json, sqlite3, sys
rows = [json.loads(m) for (m,) in sqlite3.connect(sys.argv[1]).execute(
    "select metrics from trials where status = 'done'")]
assert len(rows) == 2 and all(r["latency"] > 0 for r in rows), rows
PY
printf 'space S(x: Tensor[4]) -> Tensor[2] { return dense(x, 2) }\nsearch { quant = int4 }\n' > "$T/bq.nas"
expect_exit 1 "$NASC" check "$T/bq.nas"
expect_in "$T/err" "quant must be int8 or none"

# bad input: clear errors, nothing written
B=(build "$D/onnx/cnn.nas" --arch "$CNN" --weights "$T/cnn.st" -o "$T/bad.o")
expect_exit 2 "$NASC" "${B[@]}" --quant int4
expect_in "$T/err" "--quant must be int8 (or none), got 'int4'"
expect_exit 2 "$NASC" "${B[@]}" --quant int8 --calib 0
expect_in "$T/err" "--calib needs a positive number"
expect_exit 2 "$NASC" "${B[@]}" --quant int8 --calib many
expect_exit 2 "$NASC" "${B[@]}" --calib 10
expect_in "$T/err" "--calib applies only with --quant int8"
expect_exit 2 "$NASC" "${B[@]}" --quant int8 --emit onnx
expect_in "$T/err" "--quant does not apply to --emit onnx"
expect_exit 2 "$NASC" run "$D/onnx/cnn.nas" --arch "$CNN" --weights "$T/cnn.st" --bench --quant 8bit
[ ! -e "$T/bad.o" ] && [ ! -e "$T/bad.h" ] && ok || bad "a refused build wrote output"
# nothing to quantise: a network without dense or convolution layers
cat > "$T/nodense.nas" <<'EOF'
space P(x: Tensor[1, 28, 28]) -> Tensor[196] { return flatten(maxpool(x, 2)) }
train {
    data = idx("DATA/train-images-idx3-ubyte.gz", "DATA/train-labels-idx1-ubyte.gz")
    epochs = 1
}
EOF
sed -i "s|DATA|$D/data/fmnist-tiny|g" "$T/nodense.nas"
python3 -c "
import struct
open('$T/empty.safetensors', 'wb').write(struct.pack('<Q', 2) + b'{}')"
expect_exit 1 "$NASC" build "$T/nodense.nas" --arch '{"space": "P", "decisions": {}}' --weights "$T/empty.safetensors" -o "$T/nd.o" --emit obj \
    --quant int8
expect_in "$T/err" "nothing to quantise (the network has no dense or convolution layer)"
[ ! -e "$T/nd.o" ] && [ ! -e "$T/nd.h" ] && ok || bad "a refused int8 build wrote output"
expect_exit 0 "$NASC" build "$T/nodense.nas" --arch '{"space": "P", "decisions": {}}' --weights "$T/empty.safetensors" -o "$T/nd.o" --emit obj
finish
