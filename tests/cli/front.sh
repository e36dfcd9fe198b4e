#!/usr/bin/env bash
# nasc check / sample / show as a user runs them: outputs, JSON, exit statuses.
. "$(dirname "$0")/common.bash"
EX=$SRC/examples
for f in "$SRC"/tests/fixtures/spec/*.nas "$EX"/*.nas; do
    [ -f "$f" ] || continue
    expect_exit 0 "$NASC" check "$f"
done
expect_exit 0 "$NASC" check "$EX/fashion_mlp.nas" --json
python3 -c "import json,sys; d=json.load(open('$T/out')); s=d['spaces'][0]; assert s['cardinality']=='252' and len(s['decisions'])==5, s" && ok || bad "check --json"
expect_exit 0 "$NASC" check "$EX/fashion_mlp.nas" --decisions
expect_in "$T/out" "width[3]"
expect_in "$T/out" "when depth >= 3"
# sample: reproducible under --seed, valid JSON lines, accepted by show
expect_exit 0 "$NASC" sample "$EX/fashion_cnn.nas" --count 5 --seed 11
cp "$T/out" "$T/s1"
expect_exit 0 "$NASC" sample "$EX/fashion_cnn.nas" --count 5 --seed 11
cmp -s "$T/out" "$T/s1" && ok || bad "sample is not reproducible"
[ "$(wc -l < "$T/s1")" = 5 ] && ok || bad "sample --count 5"
head -1 "$T/s1" > "$T/p.json"
expect_exit 0 "$NASC" show "$EX/fashion_cnn.nas" --arch "$T/p.json"
expect_in "$T/out" "total params"
expect_exit 0 "$NASC" show "$EX/fashion_cnn.nas" --arch "$T/p.json" --dot
expect_in "$T/out" "digraph"
expect_exit 0 "$NASC" show "$EX/fashion_mlp.nas" --json --arch '{"decisions": {"depth": 1, "act": "relu", "width[1]": 256}}'
python3 -c "import json; d=json.load(open('$T/out')); assert d['params']==203530, d['params']" && ok || bad "show --json params"
# bad input: exit 1 with file:line:col and a caret
printf 'space S(x: Tensor[4]) -> Tensor[2] {\n    return dense(x, 3)\n}\n' > "$T/bad.nas"
expect_exit 1 "$NASC" check "$T/bad.nas"
expect_in "$T/err" "bad.nas:2:12: error: S returns a tensor of shape [3], but its type says [2]"
expect_in "$T/err" "^"
printf 'space S(x: Tensor[4]) -> Tensor[2] {\n    let = 3\n}\n' > "$T/syntax.nas"
expect_exit 1 "$NASC" check "$T/syntax.nas"
expect_in "$T/err" "syntax.nas:2:"
head -c 3000 /dev/urandom > "$T/garbage.nas"
expect_exit 1 "$NASC" check "$T/garbage.nas"
expect_exit 1 "$NASC" check "$T/does-not-exist.nas"
expect_exit 1 "$NASC" show "$EX/fashion_mlp.nas" --arch '{"decisions": {"depth": 1}}'
expect_in "$T/err" "no value for decision 'act'"
expect_exit 1 "$NASC" show "$EX/fashion_mlp.nas" --arch '{"decisions": {"depth": 1, "act": "relu", "width[1]": 256, "width[2]": 64}}'
expect_in "$T/err" "inactive"
# usage errors: exit 2
expect_exit 2 "$NASC"
expect_exit 2 "$NASC" frobnicate
expect_exit 2 "$NASC" check
expect_exit 2 "$NASC" check "$EX/fashion_mlp.nas" --bogus
expect_exit 2 "$NASC" sample "$EX/fashion_mlp.nas" --count zero
expect_exit 0 "$NASC" --help
# --set overrides a section value and is checked like source
expect_exit 0 "$NASC" check "$EX/fashion_mlp.nas" --set train.epochs=3
expect_exit 1 "$NASC" check "$EX/fashion_mlp.nas" --set 'train.batch="x"'
finish
