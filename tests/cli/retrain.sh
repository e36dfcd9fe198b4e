#!/usr/bin/env bash
# search.retrain / --retrain K (docs/one-shot.md) on the tiny IDX fixture: the
# top K points of a supernet search trained stand-alone at the end, both
# scores in the store (retrain table, linked by trial) and the report (text
# and --json, with Kendall tau and Spearman rho checked against an
# independent computation); a resume after a kill during retraining retrains
# only what was not finished; a version-2 store is read as is and upgraded
# by a writer; bad values are clear errors.
. "$(dirname "$0")/common.bash"
F=$SRC/tests/fixtures/cli/tiny.nas
D=$SRC/tests/fixtures/data
expect_exit 0 "$NASC" supernet "$F" -o "$T/s.safetensors" --seed 4 --quiet
expect_exit 0 "$NASC" search "$F" --evaluator "supernet:$T/s.safetensors" --trials 8 --db "$T/r.db" --retrain 3
expect_in "$T/err" "retraining the top 3 points stand-alone"
expect_in "$T/out" "retrained stand-alone (the top 3 by accuracy):"
expect_in "$T/out" "ranking: "
python3 - "$T/r.db" <<'PY' && ok || bad "the retrain table"
import sqlite3, sys, json, os
c = sqlite3.connect(sys.argv[1])
rows = c.execute("select trial, rank, status, metrics, weights from retrain order by rank").fetchall()
assert [r[1] for r in rows] == [1, 2, 3] and all(r[2] == 'done' for r in rows), rows
ids = {r[0] for r in c.execute("select id from trials where status = 'done'")}
for t, rank, st, m, w in rows:
    assert t in ids, t
    m = json.loads(m); assert 0 <= m['accuracy'] <= 1 and m['epochs'] == 3 and 'train_time' in m, m
    assert os.path.exists(os.path.join(os.path.dirname(sys.argv[1]), os.path.basename(w))) or os.path.exists(w), w
assert c.execute("select value from kv where key = 'schema_version'").fetchone()[0] == '3'
assert json.loads(c.execute("select options from run").fetchone()[0])['retrain'] == 3
PY
# killed during retraining: rank 2 unfinished, rank 3 never started; --resume retrains those two only
python3 - "$T/r.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("update retrain set status = 'running', metrics = NULL where rank = 2")
c.execute("delete from retrain where rank = 3")
c.commit()
PY
before=$(python3 -c "import sqlite3; print(sqlite3.connect('$T/r.db').execute('select started from retrain where rank = 1').fetchone()[0])")
expect_exit 0 "$NASC" search "$F" --db "$T/r.db" --resume
expect_in "$T/err" "retraining the top 3 points stand-alone (the others were retrained before)"
[ "$(grep -c 'stand-alone accuracy' "$T/err")" = 2 ] && ok || bad "resume retrained more (or less) than the two unfinished"
python3 - "$T/r.db" "$before" <<'PY' && ok || bad "resume: the retrain rows"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("select rank, status, started from retrain order by rank").fetchall()
assert [r[:2] for r in rows] == [(1, 'done'), (2, 'done'), (3, 'done')], rows
assert repr(rows[0][2]) == sys.argv[2] or abs(rows[0][2] - float(sys.argv[2])) < 1e-6, "rank 1 was retrained again"
PY
# the report's figures against an independent computation, on figures made to differ
python3 - "$T/r.db" <<'PY'
import sqlite3, sys, json
c = sqlite3.connect(sys.argv[1])
search = {1: 0.9, 2: 0.7, 3: 0.8}   # by rank
alone = {1: 0.85, 2: 0.80, 3: 0.60}
for trial, rank in c.execute("select trial, rank from retrain").fetchall():
    c.execute("update trials set objectives = ? where id = ?", (json.dumps([search[rank]]), trial))
    c.execute("update retrain set metrics = ? where trial = ?", (json.dumps({"accuracy": alone[rank]}), trial))
c.commit()
PY
expect_exit 0 "$NASC" report "$T/r.db" --json
python3 - "$T/out" <<'PY' && ok || bad "report --json: retrain figures"
import json, sys, itertools
r = json.load(open(sys.argv[1]))['retrain']
x = [p['search'] for p in r['points']]; y = [p['standalone_accuracy'] for p in r['points']]
assert x == [0.9, 0.7, 0.8] and y == [0.85, 0.80, 0.60], (x, y)
n = len(x); pairs = list(itertools.combinations(range(n), 2))
tau = sum((x[i] - x[j]) * (y[i] - y[j]) > 0 for i, j in pairs) - sum((x[i] - x[j]) * (y[i] - y[j]) < 0 for i, j in pairs)
tau /= len(pairs)
rank = lambda v: [sorted(v).index(a) + 1 for a in v]
rx, ry = rank(x), rank(y)
rho = 1 - 6 * sum((a - b) ** 2 for a, b in zip(rx, ry)) / (n * (n * n - 1))
assert abs(r['kendall_tau'] - tau) < 1e-12 and abs(r['spearman_rho'] - rho) < 1e-12, (r, tau, rho)
assert r['n'] == 3 and r['objective'] == 'accuracy'
PY
expect_exit 0 "$NASC" report "$T/r.db"
expect_line "$T/out" "ranking: Kendall tau 0.333, Spearman rho 0.500 between the search's accuracy and the stand-alone accuracy (3 points)"
# the section key; a version-2 store (no retrain table) is read as is, and upgraded by a writer
sed -e "s|\.\./data/|$D/|g" -e "s|^    trials .*|    trials = 4\n    retrain = 2\n    evaluator = supernet(\"$T/s.safetensors\")|" "$F" > "$T/sec.nas"
expect_exit 0 "$NASC" search "$T/sec.nas" --db "$T/r2.db" --quiet --json
python3 -c "import json; r = json.load(open('$T/out'))['retrain']; assert len(r['points']) == 2, r" && ok || bad "search --json: retrain"
expect_exit 0 "$NASC" report "$T/r2.db" --json
python3 -c "import json; r = json.load(open('$T/out'))['retrain']; assert len(r['points']) == 2, r" && ok || bad "retrain = 2 in the section"
expect_exit 0 "$NASC" search "$F" --trials 2 --db "$T/r5.db" --quiet --json
python3 -c "import json; d = json.load(open('$T/out')); assert 'retrain' not in d, d" && ok || bad "search --json without retrain"
python3 -c "
import sqlite3; c = sqlite3.connect('$T/r2.db'); c.execute('drop table retrain')
c.execute(\"update kv set value = '2' where key = 'schema_version'\"); c.commit()"
expect_exit 0 "$NASC" report "$T/r2.db"
grep -q "retrained" "$T/out" && bad "a version-2 store shows retrained points" || ok
expect_exit 0 "$NASC" search "$T/sec.nas" --db "$T/r2.db" --resume --quiet
python3 -c "
import sqlite3; c = sqlite3.connect('$T/r2.db')
assert c.execute(\"select value from kv where key = 'schema_version'\").fetchone()[0] == '3'
assert c.execute('select count(*) from retrain').fetchone()[0] == 2" && ok || bad "a version-2 store upgraded and retrained"
# bad values
sed -e "s|\.\./data/|$D/|g" -e "s|^    trials .*|&\n    retrain = 0|" "$F" > "$T/zero.nas"
expect_exit 1 "$NASC" check "$T/zero.nas"
expect_in "$T/err" "error: retrain must be a positive int: how many of the best points to train stand-alone at the end"
sed -e "s|\.\./data/|$D/|g" -e "s|^    trials .*|&\n    retrain = 2.5|" "$F" > "$T/frac.nas"
expect_exit 1 "$NASC" check "$T/frac.nas"
expect_in "$T/err" "retrain must be a positive int"
sed -e "s|\.\./data/|$D/|g" -e "s|^    trials .*|&\n    retrian = 2|" "$F" > "$T/typo.nas"
expect_exit 1 "$NASC" check "$T/typo.nas"
expect_in "$T/err" "unknown search key 'retrian'"
expect_in "$T/err" "did you mean 'retrain'?"
expect_exit 2 "$NASC" search "$F" --retrain 0 --db "$T/x.db"
expect_line "$T/err" "nasc: --retrain needs a positive integer (how many of the best points to retrain), not '0'"
expect_exit 2 "$NASC" search "$F" --retrain five --db "$T/x.db"
expect_exit 2 "$NASC" search "$F" --retrain 2 --evaluator "exec:true" --db "$T/x.db"
expect_line "$T/err" "nasc: --retrain = 2 trains the best points as the builtin evaluator does (the train section): it cannot follow an exec or pipe evaluator"
expect_exit 2 "$NASC" train "$F" --arch '{"decisions": {"depth": 1, "act": "relu", "width[1]": 8}}' --retrain 2
finish
