#!/usr/bin/env bash
# nasc build --emit onnx, checked by two independent consumers: Debian's
# python3-onnx checker (structure, full shape inference) and ONNX Runtime
# (npm onnxruntime-node under node, installed into tests/onnx by
# scripts/install-deps.sh) on 1,000 Fashion-MNIST test images: the same
# argmax as `nasc run` on every image and every logit within 1e-4.
# The points cover every IR operation: an MLP (dense, gelu/tanh,
# layernorm, dropout, standardised inputs), a CNN (conv, batchnorm, relu6,
# hswish, swish, sigmoid, residual add, depthwise, squeeze-excite, concat,
# max/avg pooling, global pooling) and Ops (conv1d, 1-D pools, zero, softmax);
# Vit and Rows (seq.nas) the sequence operations but embedding, which
# only the checker sees (its inputs are token ids, not images).
# Exit 77 (ctest: skipped) when node or onnxruntime-node is missing.
. "$(dirname "$0")/common.bash"
FX=$SRC/tests/fixtures/onnx
D=$SRC/tests/fixtures/data
ORT=$SRC/tests/onnx
PY=/usr/bin/python3
if ! command -v node >/dev/null || [ ! -d "$ORT/node_modules/onnxruntime-node" ]; then
    echo "SKIP: ONNX Runtime is not installed (scripts/install-deps.sh runs npm install in tests/onnx)"
    exit 77
fi
"$PY" -c "import onnx" 2>/dev/null || { bad "python3-onnx is missing (scripts/install-deps.sh)"; finish; exit 1; }
# 1,000 Fashion-MNIST test images (Debian's dataset-fashion-mnist), else the fixture's 20
IMG=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
[ -f "$IMG" ] || IMG=$D/fmnist-tiny/t10k-images-idx3-ubyte.gz
node "$ORT/ort_check.js" prep "$IMG" 1000 "$T/fm.f32" > /dev/null && ok || bad "preparing the inputs"
node "$ORT/ort_check.js" prep "$D/tiny-test-images-idx3-ubyte.gz" 1000 "$T/t8.f32" > /dev/null && ok || bad "inputs"

# check NAME SPACE POINT INPUTS SHAPE: train, export, check, compare
check() {
    local n=$1 f=$FX/$2 p=$3 in=$4 shape=$5
    expect_exit 0 "$NASC" train "$f" --arch "$p" -o "$T/$n.safetensors" --quiet
    expect_exit 0 "$NASC" build "$f" --arch "$p" --weights "$T/$n.safetensors" -o "$T/$n.onnx" --emit onnx
    expect_in "$T/err" "wrote $T/$n.onnx (ONNX, opset 17)"
    "$PY" - "$T/$n.onnx" "$p" > "$T/py" 2>&1 <<'PY' && ok || { bad "$n: onnx checker"; sed 's/^/  | /' "$T/py" >&2; }
import json, sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
meta = {p.key: p.value for p in m.metadata_props}
want = json.loads(sys.argv[2])
got = json.loads(meta["nasc.point"])
assert got["space"] == want["space"] and got["decisions"] == want["decisions"], (got, want)
assert meta["nasc.space"] == want["space"]
assert [o.version for o in m.opset_import] == [17]
names = {i.name for i in m.graph.initializer}
assert all(i.name in names for i in m.graph.initializer)
assert [i.name for i in m.graph.input] == ["input"] and [o.name for o in m.graph.output] == ["output"]
print(len(m.graph.node), "nodes", sorted({n.op_type for n in m.graph.node}))
PY
    "$NASC" run "$f" --arch "$p" --weights "$T/$n.safetensors" --input "$in" > "$T/$n.arg" &&
        "$NASC" run "$f" --arch "$p" --weights "$T/$n.safetensors" --input "$in" --logits > "$T/$n.log" && ok ||
        bad "$n: nasc run"
    node "$ORT/ort_check.js" compare "$T/$n.onnx" "$in" "$shape" "$T/$n.arg" "$T/$n.log" 1e-4 > "$T/ort" 2>&1 &&
        ok || bad "$n: ONNX Runtime disagrees with nasc run: $(cat "$T/ort")"
    echo "$n: $(cat "$T/ort")"
}
check mlp-gelu mlp.nas '{"space": "MLP", "decisions": {"act": "gelu"}}' "$T/fm.f32" 1,28,28
# the argmax comparison means something: the MLP predicts many classes
[ "$(sort -u "$T/mlp-gelu.arg" | wc -l)" -ge 5 ] && ok || bad "the MLP predicts fewer than 5 classes"
check mlp-tanh mlp.nas '{"space": "MLP", "decisions": {"act": "tanh"}}' "$T/fm.f32" 1,28,28
check cnn-relu6 cnn.nas '{"space": "CNN", "decisions": {"act": "relu6"}}' "$T/fm.f32" 1,28,28
check cnn-hswish cnn.nas '{"space": "CNN", "decisions": {"act": "hswish"}}' "$T/fm.f32" 1,28,28
check ops ops.nas '{"space": "Ops", "decisions": {"k": 3}}' "$T/t8.f32" 8,8
# the sequence operations (issue 15): patches, per-token dense, positions, attention, matmul, transpose
check vit seq.nas '{"space": "Vit", "decisions": {"heads": 4}}' "$T/fm.f32" 1,28,28
check rows seq.nas '{"space": "Rows", "decisions": {}}' "$T/fm.f32" 28,28
# the standardisation is in the graph: raw pixels in, the same predictions out
"$PY" -c "
import onnx, sys; m = onnx.load('$T/mlp-gelu.onnx'); ops = [n.op_type for n in m.graph.node[:4]]
assert ops == ['Reshape', 'Sub', 'Div', 'Reshape'], ops
assert 'nasc.normalize' in {p.key for p in m.metadata_props}" && ok || bad "normalisation nodes"
# the examples' points export and pass the checker too (3 stages, residuals)
P='{"space": "FashionCNN", "decisions": {"act": "swish", "stages": 3, "width[1]": 16, "kernel[1]": 5, "residual[1]": true, "width[2]": 32, "kernel[2]": 3, "residual[2]": true, "width[3]": 16, "kernel[3]": 3, "residual[3]": false, "train.lr": 0.05}}'
expect_exit 0 "$NASC" train "$SRC/examples/fashion_cnn.nas" --arch "$P" -o "$T/fc.safetensors" --quiet \
    --set 'train.data=idx("'"$D"'/fmnist-tiny/train-images-idx3-ubyte.gz", "'"$D"'/fmnist-tiny/train-labels-idx1-ubyte.gz")'
expect_exit 0 "$NASC" build "$SRC/examples/fashion_cnn.nas" --arch "$P" --weights "$T/fc.safetensors" -o "$T/fc.onnx" --emit onnx
"$PY" -c "import onnx; onnx.checker.check_model(onnx.load('$T/fc.onnx'), full_check=True)" && ok || bad "fashion_cnn checker"

# bad input: nothing half-written, clear messages
P='{"space": "MLP", "decisions": {"act": "gelu"}}'
expect_exit 1 "$NASC" build "$FX/mlp.nas" --arch "$P" --weights "$T/mlp-gelu.safetensors" -o "$T/no/such/dir/m.onnx" --emit onnx
expect_in "$T/err" "cannot write $T/no/such/dir/m.onnx: No such file or directory"
expect_exit 1 "$NASC" build "$FX/mlp.nas" --arch "$P" --weights "$T/cnn-relu6.safetensors" -o "$T/wrong.onnx" --emit onnx
expect_in "$T/err" "does not match this network"
[ ! -e "$T/wrong.onnx" ] && ok || bad "a failed export left its output behind"
expect_exit 2 "$NASC" build "$FX/mlp.nas" --arch "$P" --weights "$T/mlp-gelu.safetensors" -o "$T/x.onnx" --emit onx
expect_in "$T/err" "--emit must be obj, lib, exe, llvm, asm or onnx, got 'onx'; did you mean 'onnx'?"
expect_exit 2 "$NASC" build "$FX/mlp.nas" --arch "$P" --weights "$T/mlp-gelu.safetensors" -o "$T/x.onnx" --emit onnx --cpu x86-64
expect_text "$T/err" "nasc: --cpu does not apply to --emit onnx"
# a model over an existing file replaces it whole
echo junk > "$T/old.onnx"
expect_exit 0 "$NASC" build "$FX/mlp.nas" --arch "$P" --weights "$T/mlp-gelu.safetensors" -o "$T/old.onnx" --emit onnx
cmp -s "$T/old.onnx" "$T/mlp-gelu.onnx" && ok || bad "the same point exports the same bytes"
ls "$T" | grep -q 'tmp-' && bad "temporary files left: $(ls "$T" | grep tmp-)" || ok
finish
