#!/usr/bin/env bash
# The zero-cost warm start (--strategy-opt warm_start=N, warm_proxy=NAME)
# as a user drives it on the tiny IDX fixture: the opening trials are the
# proxy's best of the sample, the scores are the proxy evaluator's and are
# recorded in the store (kv warm_start), not as trials; the same seed gives
# the same search; --resume neither recomputes nor changes the warm start;
# bad values fail with clear messages.
source "$(dirname "$0")/common.bash"
TINY="$SRC/tests/fixtures/cli/tiny.nas"
# q DB SQL: the rows of a query, one a line (python's sqlite3, as the other tests)
q() { python3 -c "import sqlite3, sys; [print('|'.join(map(str, r))) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]" "$@"; }
EVO=(--strategy evolution --strategy-opt population=4 --strategy-opt sample=2)
# every point's synflow, from the proxy evaluator (grid: all 12 points)
expect_exit 0 "$NASC" search "$TINY" --strategy grid --evaluator proxy --set 'search.objective=maximize(synflow)' \
    --trials 20 --db "$T/px.db" --quiet
expect_exit 0 "$NASC" search "$TINY" "${EVO[@]}" --strategy-opt warm_start=50 --trials 8 --seed 4 --db "$T/w.db" --quiet
python3 - "$T" <<'PY' && ok || bad "the opening trials are the proxy's top; the record holds the proxy evaluator's scores"
import json, sqlite3, sys
T = sys.argv[1]
px = {p: json.loads(m)["synflow"] for p, m in sqlite3.connect(f"{T}/px.db").execute(
    "select point, metrics from trials where status = 'done'")}
db = sqlite3.connect(f"{T}/w.db")
rec = json.loads(db.execute("select value from kv where key = 'warm_start'").fetchone()[0])
assert rec["proxy"] == "synflow" and rec["seconds"] >= 0 and len(rec["key"]) == 16, rec
pts = rec["points"]
# 50 draws of a 12-point space: every point, once, with the proxy evaluator's value
assert len(pts) == 12 and len({json.dumps(p["point"]) for p in pts}) == 12, pts
for p in pts:
    assert abs(p["value"] - px[json.dumps(p["point"])]) <= 1e-9 * abs(p["value"]), (p, px)
top = sorted(pts, key=lambda p: -p["value"])[:4]
trials = db.execute("select point, answered from trials order by id").fetchall()
assert [json.loads(t[0]) for t in trials[:4]] == [p["point"] for p in top], (trials[:4], top)
# the warm start is not trials: 8 evaluations, as without it
assert sum(1 for t in trials if t[1] == "evaluator") == 8, trials
PY
# the same seed: the same trials and the same scores
expect_exit 0 "$NASC" search "$TINY" "${EVO[@]}" --strategy-opt warm_start=50 --trials 8 --seed 4 --db "$T/w2.db" --quiet
python3 - "$T" <<'PY' && ok || bad "the warm start is reproducible under a seed"
import json, sqlite3, sys
T = sys.argv[1]
def get(db):
    c = sqlite3.connect(f"{T}/{db}")
    rec = json.loads(c.execute("select value from kv where key = 'warm_start'").fetchone()[0])
    return c.execute("select point, status from trials order by id").fetchall(), rec["points"], rec["key"]
assert get("w.db") == get("w2.db")
PY
# --resume: an interrupted search (3 trials), its record tampered with in a
# way that keeps the ranking (every value doubled), resumed to 8 trials:
# the same trials as the uninterrupted run, and the record is still the
# doubled one (answered from the store, not computed again)
expect_exit 0 "$NASC" search "$TINY" "${EVO[@]}" --strategy-opt warm_start=50 --trials 3 --seed 4 --db "$T/r.db" --quiet
python3 - "$T/r.db" <<'PY'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rec = json.loads(c.execute("select value from kv where key = 'warm_start'").fetchone()[0])
for p in rec["points"]: p["value"] *= 2
c.execute("update kv set value = ? where key = 'warm_start'", (json.dumps(rec),))
c.commit()
PY
q "$T/r.db" "select value from kv where key = 'warm_start'" > "$T/rec1"
expect_exit 0 "$NASC" search "$TINY" "${EVO[@]}" --strategy-opt warm_start=50 --trials 8 --seed 4 --db "$T/r.db" \
    --resume --quiet
expect_exit 0 q "$T/r.db" "select value from kv where key = 'warm_start'"
cmp -s "$T/out" "$T/rec1" && ok || bad "--resume rewrote the warm-start record"
[ "$(q "$T/r.db" 'select point, status from trials order by id')" = \
  "$(q "$T/w.db" 'select point, status from trials order by id')" ] && ok || bad "resume: other trials"
# bananas: its initial training set is the proxy's best (here the smallest params first)
expect_exit 0 "$NASC" search "$TINY" --strategy bananas --strategy-opt init=3 --strategy-opt warm_start=40 \
    --strategy-opt warm_proxy=-params --strategy-opt epochs=20 --trials 4 --db "$T/b.db" --quiet
python3 - "$T/b.db" <<'PY' && ok || bad "bananas opens with the smallest networks"
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rec = json.loads(c.execute("select value from kv where key = 'warm_start'").fetchone()[0])
assert rec["proxy"] == "params", rec
first = [json.loads(m)["params"] for (m,) in c.execute("select metrics from trials order by id limit 3")]
assert first == sorted(p["value"] for p in rec["points"])[:3], (first, rec)
PY
# a proxy undefined for every sampled point: a clear error, not a random start
expect_exit 1 "$NASC" search "$TINY" "${EVO[@]}" --strategy-opt warm_start=50 --strategy-opt warm_proxy=naswot \
    --trials 4 --db "$T/n.db" --quiet
expect_in "$T/err" "evolution: warm start: naswot is undefined for all 12 sampled points"
# bad values
expect_exit 1 "$NASC" search "$TINY" --strategy evolution --strategy-opt warm_start=lots --trials 2 --db "$T/x.db"
expect_in "$T/err" "evolution: option 'warm_start' must be an integer in [0, 1e+06], got 'lots'"
expect_exit 1 "$NASC" search "$TINY" --strategy bananas --strategy-opt warm_start=20 --strategy-opt warm_proxy=synflw \
    --trials 2 --db "$T/x.db"
expect_in "$T/err" "bananas: option 'warm_proxy': 'synflw' is not a training-free proxy (grad_norm, snip, grasp"
expect_exit 1 "$NASC" search "$TINY" --strategy evolution --strategy-opt warm_proxy=snip --trials 2 --db "$T/x.db"
expect_in "$T/err" "evolution: option 'warm_proxy' needs warm_start=N"
[ ! -e "$T/x.db" ] && ok || bad "a refused option claimed a store"
# nasc plugins shows the options
expect_exit 0 "$NASC" plugins
expect_in "$T/out" "warm_start = 0  zero-cost warm start"
expect_in "$T/out" "warm_proxy = synflow"
finish
