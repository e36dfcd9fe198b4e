#!/usr/bin/env bash
# Sequence models (issue 15) end to end on small data: a ViT-style point on
# 28x28 images (patches of 7: 16 tokens) and a point reading image rows as
# 28 steps train, and `nasc run` (JIT) and the built executable (AOT) print
# the same logits; integer tokens from a CSV train an embedding model; bad
# input (ids outside the vocabulary, sequences of the wrong length) fails
# with exit 1 and a message naming the layer or the data.
. "$(dirname "$0")/common.bash"
D=$SRC/tests/fixtures/data/fmnist-tiny
cat > "$T/vit.nas" <<NAS
import std.transformer
space V(x: Tensor[1, 28, 28]) -> Tensor[10] {
    let heads = choice {2, 4}
    h = PatchEmbed(x, 7, 32)
    h = EncoderLayer(h, heads, 64)
    h = EncoderLayer(h, 2, 64, prenorm = false, conv = true)
    return Classifier(h, 10)
}
space R(x: Tensor[28, 28]) -> Tensor[10] {
    let s = positional(dense(x, 16), sinusoidal = true)
    s = EncoderLayer(s, 2, 32, causal = true)
    let c = TCResidual(TCBlock(transpose(s), 16, 3), 3, dilation = 2)
    return dense(global_avgpool(SepConv1d(c, 16, 5)), 10)
}
train V {
    data = idx("$D/train-images-idx3-ubyte.gz", "$D/train-labels-idx1-ubyte.gz")
    epochs = 2
    batch = 16
    optimizer = adam(lr = 2e-3)
}
train R {
    data = idx("$D/train-images-idx3-ubyte.gz", "$D/train-labels-idx1-ubyte.gz")
    epochs = 1
    batch = 16
}
NAS
expect_exit 0 "$NASC" check "$SRC/examples/fashion_vit.nas"
expect_exit 0 "$NASC" check "$SRC/examples/fashion_seq.nas"
for sp in V R; do
    P="{\"space\": \"$sp\", \"decisions\": {\"heads\": 4}}"
    [ $sp = R ] && P='{"space": "R", "decisions": {}}'
    expect_exit 0 "$NASC" train "$T/vit.nas" --arch "$P" -o "$T/$sp.safetensors" --quiet
    expect_in "$T/out" "accuracy"
    expect_exit 0 "$NASC" run "$T/vit.nas" --arch "$P" --weights "$T/$sp.safetensors" --input "$D/t10k-images-idx3-ubyte.gz" --logits
    cp "$T/out" "$T/$sp.jit"
    [ "$(wc -l < "$T/$sp.jit")" = 20 ] && ok || bad "$sp: run prints one line per sample"
    expect_exit 0 "$NASC" build "$T/vit.nas" --arch "$P" --weights "$T/$sp.safetensors" -o "$T/$sp.exe"
    "$T/$sp.exe" --logits "$D/t10k-images-idx3-ubyte.gz" > "$T/$sp.aot" && ok || bad "$sp: the built executable fails"
    cmp -s "$T/$sp.jit" "$T/$sp.aot" && ok || bad "$sp: AOT logits differ from nasc run"
done

# integer tokens (a CSV of ids): the class counts the ids below 3 (0, 1, 2 or more)
python3 - "$T" <<'PY'
import random, sys
r = random.Random(3)
def rows(path, n, cols=6, bad=None):
    with open(path, "w") as f:
        f.write(",".join(f"t{i}" for i in range(cols)) + ",y\n")
        for k in range(n):
            t = [r.randrange(10) for _ in range(cols)]
            if bad is not None and k == bad: t[2] = 10
            f.write(",".join(map(str, t)) + f",{min(sum(v < 3 for v in t), 2)}\n")
rows(sys.argv[1] + "/tok.csv", 600)
rows(sys.argv[1] + "/oov.csv", 50, bad=7)
rows(sys.argv[1] + "/short.csv", 50, cols=5)
PY
cat > "$T/tok.nas" <<NAS
import std.transformer
space Tok(x: Tensor[6]) -> Tensor[3] {
    h = TokenEmbed(x, 10, 16)
    return Classifier(EncoderLayer(h, 2, 32), 3)
}
train {
    data = csv("$T/tok.csv", label = "y")
    epochs = 8
    batch = 32
    optimizer = adam(lr = 3e-3)
}
NAS
TP='{"space": "Tok", "decisions": {}}'
expect_exit 0 "$NASC" train "$T/tok.nas" --arch "$TP" --json -o "$T/tok.safetensors" --quiet
python3 -c "import json; a = json.load(open('$T/out'))['accuracy']; assert a >= 0.8, a" && ok || bad "the token model does not learn (ids below 3)"
expect_exit 1 "$NASC" train "$T/tok.nas" --arch "$TP" --set "train.data=csv(\"$T/oov.csv\", label = \"y\")" --quiet
expect_in "$T/err" "token id 10 at position 2, outside the vocabulary of embedding layer 'TokenEmbed.embedding'"
expect_exit 1 "$NASC" train "$T/tok.nas" --arch "$TP" --set "train.data=csv(\"$T/short.csv\", label = \"y\")" --quiet
expect_in "$T/err" "samples have 5 values but the network input expects 6"
# nasc run on raw float32 ids: one id outside the vocabulary names the layer
python3 -c "
import struct; open('$T/ids.f32', 'wb').write(struct.pack('12f', 1, 2, 3, 4, 5, 6, 0, 0, 12, 0, 0, 0))"
expect_exit 1 "$NASC" run "$T/tok.nas" --arch "$TP" --weights "$T/tok.safetensors" --input "$T/ids.f32"
expect_in "$T/err" "sample 2 has token id 12 at position 2"
# the token model exports to ONNX (Cast + Gather) and ONNX Runtime agrees, when installed
expect_exit 0 "$NASC" build "$T/tok.nas" --arch "$TP" --weights "$T/tok.safetensors" -o "$T/tok.onnx" --emit onnx
ORT=$SRC/tests/onnx
if command -v node >/dev/null && [ -d "$ORT/node_modules/onnxruntime-node" ]; then
    python3 -c "
import random, struct; r = random.Random(5)
open('$T/ids60.f32', 'wb').write(struct.pack('360f', *[r.randrange(10) for _ in range(360)]))"
    "$NASC" run "$T/tok.nas" --arch "$TP" --weights "$T/tok.safetensors" --input "$T/ids60.f32" > "$T/tok.arg" &&
        "$NASC" run "$T/tok.nas" --arch "$TP" --weights "$T/tok.safetensors" --input "$T/ids60.f32" --logits > "$T/tok.log" &&
        ok || bad "nasc run on token ids"
    node "$ORT/ort_check.js" compare "$T/tok.onnx" "$T/ids60.f32" 6 "$T/tok.arg" "$T/tok.log" 1e-4 > "$T/ort" 2>&1 &&
        ok || bad "ONNX Runtime disagrees on the token model: $(cat "$T/ort")"
fi
# the checker: heads that do not divide the width, patches that do not tile the image
cat > "$T/bad.nas" <<'NAS'
space B(x: Tensor[1, 28, 28]) -> Tensor[10] {
    let heads = choice {2, 3}
    h = dense(patches(x, 7), 32)
    return dense(mean_tokens(attention(h, heads)), 10)
}
NAS
expect_exit 1 "$NASC" check "$T/bad.nas"
expect_in "$T/err" "attention heads must divide the width (or give head_dim): the width and heads are 32 and 3"
expect_in "$T/err" "when heads = 3"
finish
