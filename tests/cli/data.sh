#!/usr/bin/env bash
# train.normalize, train.augment and the CIFAR readers through the tool:
# on small CIFAR-10 files generated here, `normalize = standard` stores the
# transform with the weights, and train (its test accuracy), run, build's
# executable and build's header all apply that same transform; explicit
# statistics are stored exactly; typos get located diagnostics; a missing
# or cut CIFAR file is exit 1 with a message naming it.
. "$(dirname "$0")/common.bash"
mkdir -p "$T/cif"
python3 - "$T" <<'EOF'
import random, struct, sys
t = sys.argv[1]
random.seed(7)
def rec(label):  # a class-dependent colour plus noise, so training learns something
    px = bytes(min(255, max(0, (60 + 40 * ((label + c) % 3)) + random.randrange(-50, 50)))
               for c in range(3) for _ in range(1024))
    return bytes([label]) + px
for b in range(1, 6):
    open(f"{t}/cif/data_batch_{b}.bin", "wb").write(b"".join(rec(i % 10) for i in range(24)))
test = [rec((i * 7) % 10) for i in range(50)]
open(f"{t}/cif/test_batch.bin", "wb").write(b"".join(test))
xs = [p / 255.0 for r in test for p in r[1:]]
open(f"{t}/test.f32", "wb").write(struct.pack("<%df" % len(xs), *xs))
open(f"{t}/labels.txt", "w").write("".join(f"{r[0]}\n" for r in test))
EOF
cat > "$T/c.nas" <<EOF
space C(x: Tensor[3, 32, 32]) -> Tensor[10] {
    h = relu(conv2d(x, 4, 3, pad = 1))
    return dense(flatten(avgpool(h, 4)), 10)
}
train {
    data = cifar10("$T/cif")
    normalize = standard
    augment = [crop(pad = 4), flip, cutout(16)]
    batch = 16
    epochs = 2
}
EOF
P='{"space": "C", "decisions": {}}'
expect_exit 0 "$NASC" train "$T/c.nas" --arch "$P" -o "$T/w.st" --json
cp "$T/out" "$T/train.json"
# the statistics stored are those of the training split (90% of the 120
# images: the split is the trainer's, so recompute it from the metadata's
# own claim: every std positive, means those of pixels in [0, 1])
meta() { python3 -c "
import json, struct, sys
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
print(json.loads(b[8:8 + n])['__metadata__'].get('nasc.normalize', 'none'))" "$1"; }
meta "$T/w.st" > "$T/norm.json"
python3 -c "
import json; d = json.load(open('$T/norm.json'))
assert len(d['mean']) == 3 and len(d['std']) == 3, d
assert all(0 < m < 1 for m in d['mean']) and all(0 < s < 0.5 for s in d['std']), d" && ok || bad "nasc.normalize metadata: $(cat "$T/norm.json")"
# run applies it: its predictions score exactly the test accuracy train reported
expect_exit 0 "$NASC" run "$T/c.nas" --arch "$P" --weights "$T/w.st" --input "$T/test.f32"
cp "$T/out" "$T/run.txt"
python3 -c "
import json
pred = open('$T/run.txt').read().split(); lab = open('$T/labels.txt').read().split()
acc = sum(p == l for p, l in zip(pred, lab)) / len(lab)
want = json.load(open('$T/train.json'))['test_accuracy']
assert len(pred) == 50 and abs(acc - want) < 1e-9, (acc, want)" && ok || bad "run's accuracy differs from train's test accuracy"
# the built executable applies it too, to the last bit of the logits
expect_exit 0 "$NASC" run "$T/c.nas" --arch "$P" --weights "$T/w.st" --input "$T/test.f32" --logits
cp "$T/out" "$T/run_logits.txt"
expect_exit 0 "$NASC" build "$T/c.nas" --arch "$P" --weights "$T/w.st" -o "$T/model"
"$T/model" --logits "$T/test.f32" > "$T/exe_logits.txt" && ok || bad "the executable fails"
cmp -s "$T/run_logits.txt" "$T/exe_logits.txt" && ok || bad "the executable's logits differ from nasc run's"
# without the metadata the same weights give other logits: the transform is really applied
python3 -c "
import json, struct
b = open('$T/w.st', 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n]); del h['__metadata__']['nasc.normalize']
hb = json.dumps(h).encode(); hb += b' ' * (-len(hb) % 8)
open('$T/plain.st', 'wb').write(struct.pack('<Q', len(hb)) + hb + b[8 + n:])"
expect_exit 0 "$NASC" run "$T/c.nas" --arch "$P" --weights "$T/plain.st" --input "$T/test.f32" --logits
cmp -s "$T/out" "$T/run_logits.txt" && bad "run ignores nasc.normalize" || ok
# the library's header tells its caller the transform
expect_exit 0 "$NASC" build "$T/c.nas" --arch "$P" --weights "$T/w.st" -o "$T/lib.so" --emit lib
expect_in "$T/lib.h" "#define NASC_NASC_LIB_INPUT_CHANNELS 3"
expect_in "$T/lib.h" "#define NASC_NASC_LIB_INPUT_MEAN { (float)0x"
# explicit statistics are stored exactly as given
expect_exit 0 "$NASC" train "$T/c.nas" --arch "$P" -o "$T/e.st" --set 'train.normalize=standard(mean = [0.25, 0.5, 0.75], std = [0.5, 0.25, 0.125])' --set train.epochs=1
expect_text <(meta "$T/e.st") '{"mean": [0.25, 0.5, 0.75], "std": [0.5, 0.25, 0.125]}'
expect_exit 1 "$NASC" train "$T/c.nas" --arch "$P" --set 'train.normalize=standard(mean = [0.5, 0.5], std = [0.2, 0.2])'
expect_in "$T/err" "normalize = standard(...) gives 2 values per list, but the samples have 3 channels"
# with split = 0 the statistics are those of all 120 training images: check
# them against a direct computation (double sums, population std)
expect_exit 0 "$NASC" train "$T/c.nas" --arch "$P" -o "$T/s0.st" --set train.split=0 --set train.epochs=1
meta "$T/s0.st" > "$T/s0.json"
python3 -c "
import json
px = [[], [], []]
for b in range(1, 6):
    d = open('$T/cif/data_batch_%d.bin' % b, 'rb').read()
    for i in range(len(d) // 3073):
        r = d[i * 3073 + 1:(i + 1) * 3073]
        for c in range(3): px[c] += [v / 255.0 for v in r[c * 1024:(c + 1) * 1024]]
got = json.load(open('$T/s0.json'))
for c in range(3):
    m = sum(px[c]) / len(px[c]); s = (sum((v - m) ** 2 for v in px[c]) / len(px[c])) ** 0.5
    assert abs(got['mean'][c] - m) < 1e-6 and abs(got['std'][c] - s) < 1e-6, (c, got, m, s)" && ok || bad "standard statistics differ from a direct computation: $(cat "$T/s0.json")"
# normalize = unit (the default) stores nothing
expect_exit 0 "$NASC" train "$T/c.nas" --arch "$P" -o "$T/u.st" --set train.normalize=unit --set train.epochs=1
expect_text <(meta "$T/u.st") 'none'
# typos in the recipe: located diagnostics with a suggestion
cat > "$T/typo.nas" <<EOF
space C(x: Tensor[3, 32, 32]) -> Tensor[10] {
    return dense(flatten(x), 10)
}
train {
    data = cifar10("$T/cif")
    normalize = standrd
    augment = [crop(pda = 4), flip, cutuot(16)]
    normalise = standard
}
EOF
cat > "$T/std.nas" <<EOF
space C(x: Tensor[3, 32, 32]) -> Tensor[10] {
    return dense(flatten(x), 10)
}
train {
    normalize = standard(mean = [0.5, "a"])
}
EOF
expect_exit 1 "$NASC" check "$T/std.nas"
expect_line "$T/err" "$T/std.nas:5:17: error: standard(...) needs std = [...], one number per input channel"
expect_line "$T/err" "$T/std.nas:5:33: error: standard(...) needs mean = [...], one number per input channel"
expect_exit 1 "$NASC" check "$T/typo.nas"
expect_line "$T/err" "$T/typo.nas:6:17: error: normalize must be unit, standard or standard(mean = [...], std = [...])"
expect_line "$T/err" "$T/typo.nas:6:17: note: did you mean 'standard'?"
expect_line "$T/err" "$T/typo.nas:7:21: error: crop has no option 'pda'"
expect_line "$T/err" "$T/typo.nas:7:21: note: did you mean 'pad'?"
expect_line "$T/err" "$T/typo.nas:7:37: error: augment takes crop(pad = N), flip and cutout(N)"
expect_line "$T/err" "$T/typo.nas:7:37: note: did you mean 'cutout'?"
expect_line "$T/err" "$T/typo.nas:8:5: error: unknown train key 'normalise'"
expect_line "$T/err" "$T/typo.nas:8:5: note: did you mean 'normalize'?"
# augmenting flat samples is refused before training
cat > "$T/flat.nas" <<EOF
space M(x: Tensor[4]) -> Tensor[3] { return dense(x, 3) }
train {
    data = csv("$SRC/tests/fixtures/data/blobs.csv", label = "y")
    augment = flip
}
EOF
expect_exit 1 "$NASC" train "$T/flat.nas" --arch '{"space": "M", "decisions": {}}'
expect_in "$T/err" "augment needs image samples [C, H, W], but the samples are [4]"
# a cut or missing CIFAR file
head -c 5000 "$T/cif/data_batch_2.bin" > "$T/cut" && mv "$T/cut" "$T/cif/data_batch_2.bin"
expect_exit 1 "$NASC" train "$T/c.nas" --arch "$P"
expect_in "$T/err" "$T/cif/data_batch_2.bin: 5000 bytes is not a whole number of 3073-byte CIFAR-10 records"
rm "$T/cif/data_batch_2.bin"
expect_exit 1 "$NASC" train "$T/c.nas" --arch "$P"
expect_in "$T/err" "CIFAR-10 data: $T/cif/data_batch_2.bin is missing"
finish
