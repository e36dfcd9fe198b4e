#!/usr/bin/env bash
# nasc proxies and the proxy evaluator as a user drives them, on the tiny
# IDX fixture: the correlation table and its JSON, reading points from a
# store, usage errors, and a search scored by proxies alone.
source "$(dirname "$0")/common.bash"
TINY="$SRC/tests/fixtures/cli/tiny.nas"
expect_exit 0 "$NASC" proxies "$TINY" --points 5 --seed 3 --json --quiet
python3 -c "
import json; d = json.load(open('$T/out'))
names = [c['name'] for c in d['correlations']]
assert names == ['grad_norm', 'snip', 'grasp', 'fisher', 'jacov', 'synflow', 'naswot', 'zen', 'l2_norm',
                 'plain', 'params', 'flops'], names
assert d['points'] == 5 and len(d['rows']) == 5 and len({json.dumps(r['point']) for r in d['rows']}) == 5
for c in d['correlations']:
    assert c['n'] + c['missing'] == 5, c
    assert c['spearman'] is None or -1 <= c['spearman'] <= 1, c
    assert c['kendall'] is None or -1 <= c['kendall'] <= 1, c
for r in d['rows']:
    assert 0 <= r['accuracy'] <= 1
    relu = r['point']['decisions']['act'] == 'relu'
    assert (r['naswot'] is None) == (not relu) or relu, r   # tanh points have no naswot
    if not relu: assert r['naswot'] is None, r
nas = [c for c in d['correlations'] if c['name'] == 'naswot'][0]
# tanh points have no ReLU; the 8- and 16-unit relu ones, a singular kernel on these 8x8 images
assert nas['missing'] == 5 and nas['reason'] == 'the network has no ReLU activation; the kernel is singular: two samples share an activation pattern', nas
" && ok || bad "proxies --json: every proxy, its correlations and rows"
# the same run twice: the same table (seeded sampling, init and training)
expect_exit 0 "$NASC" proxies "$TINY" --points 5 --seed 3 --quiet
cp "$T/out" "$T/t1"
expect_exit 0 "$NASC" proxies "$TINY" --points 5 --seed 3 --quiet
cmp -s "$T/out" "$T/t1" && ok || bad "proxies is reproducible"
expect_line "$T/out" "5 points; rank correlation of each proxy with validation accuracy"
# every trained accuracy of this fixture is 1: no rank correlation exists, and the table says so
expect_line "$T/out" "synflow       5       n/a      n/a"
# usage errors
expect_exit 2 "$NASC" proxies "$TINY"
expect_in "$T/err" "nasc proxies needs --points N (N >= 2) or --db RUN.db"
expect_exit 2 "$NASC" proxies "$TINY" --points zero
expect_in "$T/err" "--points needs a positive integer"
# a search with the proxy evaluator: milliseconds, no training
expect_exit 0 "$NASC" search "$TINY" --evaluator proxy --set 'search.objective=maximize(synflow)' \
    --trials 4 --db "$T/p.db" --quiet --json
python3 -c "
import json, sqlite3; d = json.load(open('$T/out')); m = d['best']['metrics']
assert 'synflow' in m and 'accuracy' not in m and 'train_time' not in m, m
o = json.loads(sqlite3.connect('$T/p.db').execute('select options from run').fetchone()[0])
assert o['evaluator'] == 'proxy', o" && ok || bad "the proxy evaluator scores by synflow alone"
# then --db: the stored trials (from a training search) are read, not retrained
expect_exit 0 "$NASC" search "$TINY" --trials 3 --db "$T/t.db" --quiet
expect_exit 0 "$NASC" proxies "$TINY" --db "$T/t.db" --json --quiet
python3 -c "
import json, sqlite3; d = json.load(open('$T/out'))
# one row per distinct point (a point answered again from the cache counts once)
acc = sorted(json.loads(m)['accuracy'] for (m,) in sqlite3.connect('$T/t.db').execute(
    'select min(metrics) from trials where status=\"done\" group by point'))
assert sorted(r['accuracy'] for r in d['rows']) == acc, (d['rows'], acc)" && ok || bad "proxies --db reads the accuracies"
# the proxy evaluator needs a proxy to score by
expect_exit 2 "$NASC" search "$TINY" --evaluator proxy --trials 2 --db "$T/q.db"
expect_in "$T/err" "the proxy evaluator reports only training-free proxies: name one in an objective"
# naswot undefined: each trial fails with the reason
expect_exit 1 "$NASC" search "$TINY" --evaluator proxy --set 'search.objective=maximize(naswot)' \
    --trials 6 --db "$T/n.db" --quiet
python3 -c "
import sqlite3
rows = sqlite3.connect('$T/n.db').execute('select point, status, error from trials').fetchall()
tanh = [r for r in rows if '\"tanh\"' in r[0] and r[1] != 'infeasible']
assert tanh and all(r[1] == 'failed' and r[2] == 'naswot is undefined for this network: the network has no ReLU activation'
                    for r in tanh), rows" && ok || bad "naswot missing on tanh points, with the reason"
# the builtin evaluator does not train a point whose needed proxy is undefined
expect_exit 1 "$NASC" search "$TINY" --set 'search.objective=maximize(naswot)' --trials 4 --db "$T/b.db" --quiet
python3 -c "
import sqlite3
rows = sqlite3.connect('$T/b.db').execute('select status, error, metrics from trials').fetchall()
assert rows and all(r[0] == 'failed' and r[1].startswith('naswot is undefined for this network: ') and r[2] is None
                    for r in rows), rows" && ok || bad "a missing needed proxy fails the trial before training"
# labels beyond the network's outputs: a clear error, never an out-of-bounds read
sed -e 's/-> Tensor\[4\]/-> Tensor[2]/' -e 's/return dense(h, 4)/return dense(h, 2)/' \
    -e "s|\\.\\./data/|$SRC/tests/fixtures/data/|g" "$TINY" > "$T/two.nas"
expect_exit 1 "$NASC" proxies "$T/two.nas" --points 2 --quiet
expect_in "$T/err" "set has label 2 but the network has only 2 outputs"
finish
