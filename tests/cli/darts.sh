#!/usr/bin/env bash
# nasc supernet --method (docs/differentiable.md) on the tiny cell fixture:
# --explain says how each decision takes part, every method trains and
# writes the supernet, the derived point and the alphas, deterministically
# under a seed; the derived point builds; bad input: an unknown method
# (exit 2), nothing to relax and NaN (exit 1, the step and what named).
. "$(dirname "$0")/common.bash"
F=$SRC/tests/fixtures/cli/tiny_cells.nas
D=$SRC/tests/fixtures/data
expect_exit 0 "$NASC" supernet "$F" --method darts --explain
expect_in "$T/out" "differentiable supernet of space TinyCells, --method darts (softmax mixture): 6 relaxed decisions, 1 held fixed"
expect_in "$T/out" "  width                fixed at 6: layer conv2d@0:10:29 has another shape or attributes at width = 4 than at 6"
expect_in "$T/out" "  op[1]                relaxed: alpha over 3 alternatives"
expect_in "$T/out" "  inp                  relaxed: alpha over 2 alternatives"
expect_in "$T/out" "  se                   relaxed: alpha over 2 alternatives, mixed at 1 point"
# a decision written as a constant is not searched
sed -e "s|\.\./data/|$D/|g" -e 's/let width = choice {4, 6}/let width = 4/' -e 's/let se = choice {false, true}/let se = false/' "$F" > "$T/const.nas"
expect_exit 0 "$NASC" supernet "$T/const.nas" --method gdas --explain
expect_in "$T/out" "5 relaxed decisions, 0 held fixed"
for m in darts gdas fbnet proxyless; do
    E=1; [ $m = darts ] || [ $m = fbnet ] && E=2
    expect_exit 0 "$NASC" supernet "$F" --method $m -o "$T/$m.safetensors" --epochs $E --seed 3
    expect_in "$T/err" "epoch $E/$E  loss"
    expect_in "$T/err" "parameter-free argmax"
    [ -s "$T/$m.point.json" ] && [ -s "$T/$m.alpha.json" ] && ok || bad "$m: files missing"
    python3 -c "
import json
a = json.load(open('$T/$m.alpha.json')); p = json.load(open('$T/$m.point.json'))
assert a['method'] == '$m' and a['epoch'] == $E and len(a['history']) == $E, a
assert a['point'] == p, (a['point'], p)
rel = [d for d in a['decisions'] if d['kind'] == 'relaxed']
assert len(rel) == 6
for d in rel:
    ps = [x['p'] for x in d['alternatives']]
    assert abs(sum(ps) - 1) < 1e-5
    best = max(d['alternatives'], key=lambda x: x['alpha'])['value']
    assert d['argmax'] == best and str(p['decisions'].get(d['decision'], best)).lower() == best.lower(), d
taus = [h['tau'] for h in a['history']]
assert all(abs(t - 5.0 * 0.956 ** i) < 1e-9 for i, t in enumerate(taus)), taus
" && ok || bad "$m: alpha file"
    expect_exit 0 "$NASC" show "$F" --arch "$T/$m.point.json"
done
# deterministic under a seed
expect_exit 0 "$NASC" supernet "$F" --method darts -o "$T/again.safetensors" --epochs 2 --seed 3 --quiet
[ ! -s "$T/err" ] && ok || bad "--quiet still printed"
cmp -s "$T/darts.safetensors" "$T/again.safetensors" && cmp -s "$T/darts.alpha.json" "$T/again.alpha.json" && ok || bad "darts is not deterministic"
# from the search to a compiled binary
expect_exit 0 "$NASC" build "$F" --arch "$T/darts.point.json" --weights "$T/darts.safetensors" -o "$T/model"
[ -x "$T/model" ] && ok || bad "no binary"
expect_exit 0 "$NASC" run "$F" --arch "$T/darts.point.json" --weights "$T/darts.safetensors" --input "$D/tiny-test-images-idx3-ubyte.gz"
[ "$(wc -l < "$T/out")" = 40 ] && ok || bad "run from the differentiable supernet"
# the latency table and the latency term
expect_exit 0 "$NASC" latency-table "$F" -o "$T/lut.json" --points 3
expect_in "$T/err" "on 3 random points the table's sum is"
python3 -c "
import json; t = json.load(open('$T/lut.json'))
assert t['space'] == 'TinyCells' and t['check_points'] == 3 and len(t['check']) == 3, t
assert all(v >= 0 for v in t['layers'].values()) and 'op[1].Conv[1].conv2d@0:5:75' in t['layers'], t['layers']
" && ok || bad "latency table"
expect_exit 0 "$NASC" supernet "$F" --method fbnet --latency-table "$T/lut.json" -o "$T/lat.safetensors" --epochs 1
expect_in "$T/err" "loss CE * 0.2 * log(latency)^0.6"
grep -q '"argmax_latency_us"' "$T/lat.alpha.json" && ok || bad "no latency in the history"
echo '{"space": "Other", "layers": {}}' > "$T/other.json"
expect_exit 1 "$NASC" supernet "$F" --method proxyless --latency-table "$T/other.json" -o "$T/x.safetensors"
expect_line "$T/err" "nasc: latency table $T/other.json is of space Other, not TinyCells"
echo '{"space": "TinyCells", "layers": {}}' > "$T/empty.json"
expect_exit 1 "$NASC" supernet "$F" --method proxyless --latency-table "$T/empty.json" -o "$T/x.safetensors"
expect_in "$T/err" "has no entry for layer conv2d@0:10:29: measure it again with nasc latency-table"
# bad input
expect_exit 2 "$NASC" supernet "$F" --method dart --explain
expect_line "$T/err" "nasc: --method expects darts, gdas, fbnet or proxyless, not 'dart' (did you mean darts?)"
expect_exit 2 "$NASC" supernet "$F" --method darts
expect_exit 2 "$NASC" supernet "$F" --method darts --sampling uniform -o "$T/x.safetensors"
printf 'space W(x: Tensor[1, 8, 8]) -> Tensor[4] {\n    let width = choice {4, 8}\n    return dense(flatten(conv2d(x, width, 3)), 4)\n}\n' > "$T/w.nas"
expect_exit 1 "$NASC" supernet "$T/w.nas" --method fbnet --explain
expect_in "$T/err" "error: space W has no categorical decision to relax: nothing for --method fbnet to search"
expect_in "$T/err" "note: decision 'width' is held fixed"
sed -e "s|\.\./data/|$D/|g" -e 's/lr = 0.05/lr = 1e30/' "$F" > "$T/nan.nas"
expect_exit 1 "$NASC" supernet "$T/nan.nas" --method darts -o "$T/nan.safetensors" --epochs 2 --quiet
expect_in "$T/err" "nasc: differentiable search failed: step "
grep -qE "became (nan|-nan|inf)" "$T/err" && ok || bad "NaN not named"
[ ! -e "$T/nan.safetensors" ] && ok || bad "a NaN run wrote a file"
ls "$T"/*.tmp* 2>/dev/null && bad "a temporary file was left" || ok
finish
