#!/usr/bin/env bash
# The static metrics ram and flash (cg_footprint.h) against the real build:
# flash equals `size` of the object `nasc build --emit obj` writes, ram
# minus one sample in and out equals the largest malloc the linked object
# makes in a call at batch 1 (and the header's NASC_*_ARENA_BYTES(1)); then
# a search under `require flash < 5KB, ram < 1KB` refuses the points over
# the limit before any training.  Tolerance: exact (both are measured on
# the same compile; the test says so if that ever changes).
. "$(dirname "$0")/common.bash"
D=$SRC/tests/fixtures
CC=${CC:-cc}
# footprint NAME FILE POINT: show's ram/flash against the object and its mallocs
footprint() {
    local n=$1 f=$2 p=$3
    expect_exit 0 "$NASC" show "$f" --arch "$p" --json
    read -r ram flash io <<< "$(python3 -c "
import json; d = json.load(open('$T/out')); print(d['ram'], d['flash'], d['ram'] - d['arena_bytes'])")"
    expect_exit 0 "$NASC" train "$f" --arch "$p" -o "$T/$n.safetensors" --quiet
    expect_exit 0 "$NASC" build "$f" --arch "$p" --weights "$T/$n.safetensors" -o "$T/$n.o" --emit obj --quiet
    local sz
    sz=$(size "$T/$n.o" | awk 'NR == 2 {print $4}')
    [ "$sz" = "$flash" ] && ok || bad "$n: flash $flash, but size says $sz"
    local up in_n out_n
    up=$(echo "nasc_$n" | tr a-z- A-Z_)
    in_n=$(sed -n "s/^#define NASC_${up}_INPUT_SIZE \(.*\)/\1/p" "$T/$n.h")
    out_n=$(sed -n "s/^#define NASC_${up}_OUTPUT_SIZE \(.*\)/\1/p" "$T/$n.h")
    $CC -O1 -DNASC_SYM="nasc_$(echo "$n" | tr - _)" -DIN_N="$in_n" -DOUT_N="$out_n" -o "$T/$n.probe" \
        "$SRC/tests/deploy/arena_probe.c" "$T/$n.o" -Wl,--wrap=malloc -lopenblas -lm && ok || bad "$n: probe links"
    local used hdr
    used=$("$T/$n.probe" 1)
    [ $((ram - io)) = "$used" ] && ok || bad "$n: ram $ram - io $io != the $used bytes the object mallocs"
    [ "$io" = $((4 * (in_n + out_n))) ] && ok || bad "$n: io bytes $io"
    printf '#include "%s"\n#include <stdio.h>\nint main(void) { printf("%%lld\\n", (long long)NASC_%s_ARENA_BYTES(1)); }\n' \
        "$T/$n.h" "$up" > "$T/$n.hdr.c"
    hdr=$($CC -o "$T/$n.hdr" "$T/$n.hdr.c" && "$T/$n.hdr")
    [ "$hdr" = "$used" ] && ok || bad "$n: the header says $hdr bytes, the object mallocs $used"
    echo "$n: ram $ram (arena $used + io $io), flash $flash (size: $sz)"
}
footprint mlp "$D/onnx/mlp.nas" '{"space": "MLP", "decisions": {"act": "gelu"}}'
footprint cnn "$D/onnx/cnn.nas" '{"space": "CNN", "decisions": {"act": "hswish"}}'
footprint ops "$D/onnx/ops.nas" '{"space": "Ops", "decisions": {"k": 5}}'
footprint tiny "$D/cli/tiny.nas" '{"decisions": {"depth": 2, "act": "relu", "width[1]": 16, "width[2]": 8}}'

# ram and flash are sizes: a limit without a unit is a dimension error
expect_exit 0 "$NASC" check "$D/deploy/tiny_flash.nas"
printf 'space S(x: Tensor[4]) -> Tensor[2] { return dense(x, 2) }\nsearch { require flash < 5 }\n' > "$T/bad.nas"
expect_exit 1 "$NASC" check "$T/bad.nas"
expect_in "$T/err" "a size in bytes"

# the search refuses the points over the limits before evaluating them
expect_exit 0 "$NASC" search "$D/deploy/tiny_flash.nas" --db "$T/fl.db" --json
python3 - "$T/fl.db" <<'PY' && ok || bad "search under ram/flash limits"
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("select status, error, metrics from trials").fetchall()
assert len(rows) == 12, len(rows)
done = [json.loads(m) for s, e, m in rows if s == "done"]
refused = [(e, json.loads(m)) for s, e, m in rows if s == "infeasible"]
assert len(done) == 6 and len(refused) == 6, (len(done), len(refused))
for m in done:
    assert m["flash"] < 5120 and m["ram"] < 1024 and m["epochs"] == 3, m
for e, m in refused:
    assert e == "violates 'flash < 5120' (checked before evaluation)", e
    assert m["flash"] >= 5120 and "epochs" not in m and "accuracy" not in m, m
PY
# flash as an objective: the best point is the smallest of those trained
expect_exit 0 "$NASC" search "$D/deploy/tiny_flash.nas" --db "$T/ob.db" --json --set 'search.objective=minimize flash'
python3 - "$T/out" "$T/ob.db" <<'PY' && ok || bad "minimize flash"
import json, sqlite3, sys
best = json.load(open(sys.argv[1]))["best"]["metrics"]["flash"]
done = [json.loads(m)["flash"] for (m,) in sqlite3.connect(sys.argv[2]).execute(
    "select metrics from trials where status = 'done'")]
assert len(done) == 6 and best == min(done), (best, done)
PY
finish
