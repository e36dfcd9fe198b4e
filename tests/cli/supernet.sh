#!/usr/bin/env bash
# nasc supernet (docs/one-shot.md) on the tiny IDX fixture: --explain,
# training (uniform and sandwich, deterministic under a seed), the supernet
# evaluator of a search, train --init, build/run from a supernet file, and
# bad input: usage errors (exit 2), recipe decisions, wrong files (exit 1).
. "$(dirname "$0")/common.bash"
F=$SRC/tests/fixtures/cli/tiny.nas
D=$SRC/tests/fixtures/data
P='{"decisions": {"depth": 2, "act": "relu", "width[1]": 8, "width[2]": 16}}'
expect_exit 0 "$NASC" supernet "$F" --explain
expect_line "$T/out" "supernet of space Tiny: 6 weight tensors, 1380 trainable weights (largest subnet 1380, smallest 556), shapes from 89 covering points"
expect_line "$T/out" "  depth                depth: layers of the deepest case, a subnet runs the first d (e.g. layer dense#2)"
expect_line "$T/out" "  act                  no weights depend on it: every value shares the same weights"
expect_line "$T/out" "  width[1]             width: leading channels of the largest tensor (e.g. layer dense)"
# training: progress on stderr, the file written, deterministic
expect_exit 0 "$NASC" supernet "$F" -o "$T/s1.safetensors" --seed 4
expect_in "$T/err" "supernet epoch 3/3"
expect_in "$T/err" "; supernet written to $T/s1.safetensors"
expect_exit 0 "$NASC" supernet "$F" -o "$T/s2.safetensors" --seed 4 --quiet
[ ! -s "$T/err" ] && ok || bad "--quiet still printed"
cmp -s "$T/s1.safetensors" "$T/s2.safetensors" && ok || bad "supernet training is not deterministic"
expect_exit 0 "$NASC" supernet "$F" -o "$T/sw.safetensors" --sampling sandwich --epochs 2 --quiet
cmp -s "$T/s1.safetensors" "$T/sw.safetensors" && bad "sandwich trained the same supernet" || ok
ls "$T"/*.tmp* 2>/dev/null && bad "a temporary file was left" || ok
# checkpoints: none left after a finished training; --resume without one starts afresh; an existing one
# is never overwritten unasked, and a file that is not a checkpoint is refused (resume itself is
# test_driver_supernet's resume_after_a_kill_is_bit_identical)
ls "$T"/*.ckpt.* 2>/dev/null && bad "a checkpoint outlived the training" || ok
expect_exit 0 "$NASC" supernet "$F" -o "$T/s3.safetensors" --seed 4 --resume
expect_in "$T/err" "no checkpoint $T/s3.ckpt.safetensors: training from the start"
cmp -s "$T/s1.safetensors" "$T/s3.safetensors" && ok || bad "--resume without a checkpoint trains another supernet"
cp "$T/s1.safetensors" "$T/s4.ckpt.safetensors"
expect_exit 1 "$NASC" supernet "$F" -o "$T/s4.safetensors" --seed 4
expect_line "$T/err" "nasc: $T/s4.ckpt.safetensors holds the checkpoint of an interrupted training of $T/s4.safetensors: continue it with --resume, or delete it to start afresh"
expect_exit 1 "$NASC" supernet "$F" -o "$T/s4.safetensors" --seed 4 --resume
expect_in "$T/err" "$T/s4.ckpt.safetensors is not a supernet training checkpoint"
rm -f "$T/s4.ckpt.safetensors"
# a temporary file a killed writer left (its process gone) is removed by the next training
echo partial > "$T/s5.ckpt.safetensors.tmp.999999999.1"
expect_exit 0 "$NASC" supernet "$F" -o "$T/s5.safetensors" --seed 4 --epochs 1 --quiet
[ ! -e "$T/s5.ckpt.safetensors.tmp.999999999.1" ] && ok || bad "a stale temporary checkpoint was left"
# the supernet evaluator: every trial scored from inherited weights
expect_exit 0 "$NASC" search "$F" --evaluator "supernet:$T/s1.safetensors" --trials 5 --db "$T/r.db" --quiet --json
python3 -c "
import json; d = json.load(open('$T/out'))
assert d['trials']['evaluated'] == 5 and d['trials']['failed'] == 0, d['trials']
m = d['best']['metrics']
assert 0 <= m['accuracy'] <= 1 and m['params'] > 0 and 'time_recalibrate' in m, m
" && ok || bad "search with the supernet evaluator"
# latency and the proxies on request, measured as the builtin evaluator does (proxies at initialisation)
expect_exit 0 "$NASC" search "$F" --evaluator "supernet:$T/s1.safetensors" --trials 3 --seed 2 --db "$T/rl.db" --quiet --metrics latency,synflow
expect_exit 0 "$NASC" report "$T/rl.db" --json
cp "$T/out" "$T/rl.json"
expect_exit 0 "$NASC" search "$F" --trials 3 --seed 2 --db "$T/rb.db" --quiet --metrics synflow
expect_exit 0 "$NASC" report "$T/rb.db" --json
python3 -c "
import json
sn = json.load(open('$T/rl.json'))['leaderboard']; bi = json.load(open('$T/out'))['leaderboard']
assert sn and all(t['metrics']['latency'] > 0 and 'time_jit' in t['metrics'] for t in sn), sn
syn = {json.dumps(t['point'], sort_keys=True): t['metrics']['synflow'] for t in bi}
same = [t for t in sn if json.dumps(t['point'], sort_keys=True) in syn]
assert same, 'no common point'
for t in same: assert t['metrics']['synflow'] == syn[json.dumps(t['point'], sort_keys=True)], t
" && ok || bad "supernet evaluator: latency and proxies on request"
# ... or named in the search section
sed -e "s|\.\./data/|$D/|g" -e "s|^    strategy .*|&\n    evaluator = supernet(\"$T/s1.safetensors\")|" "$F" > "$T/sec.nas"
expect_exit 0 "$NASC" check "$T/sec.nas"
expect_exit 0 "$NASC" search "$T/sec.nas" --trials 3 --db "$T/r3.db" --quiet --json
python3 -c "
import json; d = json.load(open('$T/out')); assert 'time_recalibrate' in d['best']['metrics'], d" && ok || bad "evaluator = supernet(...) in the section"
# fine-tuning from the inherited weights, compiling straight from the supernet
expect_exit 0 "$NASC" train "$F" --arch "$P" --init "$T/s1.safetensors" -o "$T/ft.safetensors" --json
expect_exit 0 "$NASC" run "$F" --arch "$P" --weights "$T/s1.safetensors" --input "$D/tiny-test-images-idx3-ubyte.gz"
[ "$(wc -l < "$T/out")" = 40 ] && ok || bad "run from a supernet prints one line per sample"
expect_exit 0 "$NASC" build "$F" --arch "$P" --weights "$T/s1.safetensors" -o "$T/model"
# usage errors
expect_exit 2 "$NASC" supernet "$F"
expect_line "$T/err" "nasc: nasc supernet needs --explain or -o SUPER.safetensors"
expect_exit 2 "$NASC" supernet "$F" -o "$T/x.safetensors" --sampling spos
expect_line "$T/err" "nasc: --sampling expects uniform or sandwich, not 'spos'"
expect_exit 2 "$NASC" supernet "$F" --explain --epochs 0
expect_exit 1 "$NASC" supernet "$F" -o "$T/no/such/dir/x.safetensors"
expect_line "$T/err" "nasc: cannot write $T/no/such/dir/x.safetensors: folder $T/no/such/dir: No such file or directory"
# a recipe decision must be fixed
sed -e "s|\.\./data/|$D/|g" -e 's/lr = 0.1,/lr = lr,/' -e 's/^    batch .*/&\n    lr = choice [0.01, 0.2] log/' "$F" > "$T/lr.nas"
expect_exit 1 "$NASC" supernet "$T/lr.nas" -o "$T/x.safetensors"
expect_in "$T/err" "error: decision 'train.lr' is part of the recipe, which a supernet does not share"
expect_exit 0 "$NASC" supernet "$T/lr.nas" -o "$T/x.safetensors" --set train.lr=0.05 --quiet --epochs 1
# wrong files name the file
# an edit outside the space keeps the supernet valid; one that changes its layers does not
sed -e "s|\.\./data/|$D/|g" "$F" > "$T/edited.nas"; echo "// edited" >> "$T/edited.nas"
expect_exit 0 "$NASC" train "$T/edited.nas" --arch "$P" --init "$T/s1.safetensors" --quiet
sed -e "s|\.\./data/|$D/|g" -e 's/choice {8, 16}/choice {8, 16, 32}/' "$F" > "$T/wider.nas"
expect_exit 1 "$NASC" train "$T/wider.nas" --arch "$P" --init "$T/s1.safetensors"
expect_in "$T/err" "supernet file $T/s1.safetensors was trained for another version of space Tiny (its layers differ: layout "
head -c 100 "$T/s1.safetensors" > "$T/trunc.safetensors"
expect_exit 1 "$NASC" train "$F" --arch "$P" --init "$T/trunc.safetensors"
expect_in "$T/err" "cannot read supernet file $T/trunc.safetensors"
expect_exit 1 "$NASC" train "$F" --arch "$P" --init "$T/ft.safetensors"
expect_in "$T/err" "$T/ft.safetensors is not a supernet file"
expect_exit 1 "$NASC" search "$F" --evaluator "supernet:$T/nope.safetensors" --trials 2 --db "$T/r2.db" --quiet
expect_in "$T/err" "cannot read supernet file $T/nope.safetensors"
finish
