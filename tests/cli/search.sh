#!/usr/bin/env bash
# nasc search as a user drives it, with an exec evaluator that logs its
# calls: the run's options are stored and used on --resume, an option given
# again must agree (an error naming both values otherwise), a changed
# source names both hashes, the cache never calls the evaluator.
source "$(dirname "$0")/common.bash"
Q="$SRC/examples/quickstart.nas"
cat > "$T/ev.sh" <<SH
#!/bin/sh
read p
echo "\$p" >> "$T/calls.txt"
n=\$(printf '%s' "\$p" | wc -c)
echo "{\"accuracy\": 0.\$n}"
SH
chmod +x "$T/ev.sh"
DB="$T/r/q.db"
expect_exit 0 "$NASC" search "$Q" --evaluator "exec:$T/ev.sh" --trials 4 --seed 5 --set train.epochs=2 \
    --strategy-opt population=3 --db "$DB" --json
python3 -c "
import json, sqlite3
o = json.loads(sqlite3.connect('$DB').execute('select options from run').fetchone()[0])
assert o == {'evaluator': 'exec:$T/ev.sh', 'trials': 4, 'time': 0, 'strategy': 'evolution',
             'strategy_opts': ['population=3', 'sample=2'], 'seed': 5, 'sets': ['train.epochs=2']}, o
" && ok || bad "the run's options are stored"
[ "$(wc -l < "$T/calls.txt")" = 4 ] && ok || bad "4 evaluations"
# resumed with nothing but a new budget: the stored exec evaluator, seed and
# options are used (the builtin trainer would need data, and be slow)
expect_exit 0 "$NASC" search "$Q" --db "$DB" --resume --trials 7 --json
python3 -c "
import json; d = json.load(open('$T/out'))
assert d['trials']['evaluated'] == 7, d" && ok || bad "resume continues to the new budget"
[ "$(wc -l < "$T/calls.txt")" = 7 ] && ok || bad "the stored evaluator was used: $(wc -l < "$T/calls.txt") calls"
python3 -c "
import sqlite3
c = sqlite3.connect('$DB')
assert c.execute('select count(*) from trials where answered=\"evaluator\"').fetchone()[0] == 7
assert c.execute('select json_extract(options, \"$.trials\") from run').fetchone()[0] == 7
pts = [r[0] for r in c.execute('select point from trials where answered=\"evaluator\"')]
assert len(pts) == len(set(pts)), 'a point evaluated twice'
" && ok || bad "evaluations and the new budget in the store"
# conflicting options: exit 2, both values named, nothing run
expect_exit 2 "$NASC" search "$Q" --db "$DB" --resume --evaluator builtin
expect_in "$T/err" "--evaluator builtin: this search was started with --evaluator exec:$T/ev.sh"
expect_exit 2 "$NASC" search "$Q" --db "$DB" --resume --seed 9
expect_in "$T/err" "--seed 9: this search was started with --seed 5"
expect_exit 2 "$NASC" search "$Q" --db "$DB" --resume --set train.epochs=3
expect_in "$T/err" "--set train.epochs=3: this search was started with --set train.epochs=2"
expect_exit 2 "$NASC" search "$Q" --db "$DB" --resume --strategy-opt population=4
expect_in "$T/err" "the strategy options would be population=4 sample=2; this search was started with population=3 sample=2"
expect_exit 2 "$NASC" search "$Q" --db "$DB" --resume --strategy random
expect_in "$T/err" "--strategy random: this search was started with --strategy evolution"
# the same values again are no conflict
expect_exit 0 "$NASC" search "$Q" --db "$DB" --resume --seed 5 --set train.epochs=2 --strategy-opt population=3
[ "$(wc -l < "$T/calls.txt")" = 7 ] && ok || bad "nothing left to evaluate"
# a changed source: both hashes named; --force continues
sed 's/choice {32, 64, 128}/choice {32, 64, 96}/' "$Q" > "$T/q2.nas"
cp "$SRC/stdlib/std/blocks.nas" "$T/" 2>/dev/null
expect_exit 1 "$NASC" search "$T/q2.nas" -I "$SRC/stdlib" --db "$DB" --resume
python3 - "$T/err" <<'PY' && ok || bad "both hashes named"
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"changed since this search started \(source hash ([0-9a-f]{16}), now ([0-9a-f]{16});", t)
assert m and m.group(1) != m.group(2), t
PY
# --strategy-opt overrides the file's option instead of "given twice"
expect_exit 0 "$NASC" search "$Q" --evaluator "exec:$T/ev.sh" --trials 2 --strategy-opt sample=3 --db "$T/o.db"
python3 -c "
import json, sqlite3
o = json.loads(sqlite3.connect('$T/o.db').execute('select options from run').fetchone()[0])
assert o['strategy_opts'] == ['population=4', 'sample=3'], o" && ok || bad "--strategy-opt overrides the file"
# usage errors exit 2 and claim no store
expect_exit 2 "$NASC" search "$Q" -j 999 --db "$T/j.db"
expect_in "$T/err" "-j expects a number of workers from 1 to 256, not 999"
[ ! -e "$T/j.db" ] && ok || bad "-j 999 created its store"
expect_exit 2 "$NASC" search "$Q" --evaluator 'exec(' --db "$T/j.db"
expect_in "$T/err" "--evaluator expects builtin, proxy, exec(\"COMMAND\"), pipe(\"COMMAND\"), exec:COMMAND, pipe:COMMAND or supernet:FILE, not 'exec('"
# a strategy that refuses its options starts nothing and claims no store
expect_exit 2 "$NASC" search "$Q" --evaluator "exec:$T/ev.sh" --strategy-opt bogus=1 --db "$T/s.db"
expect_in "$T/err" "unknown option 'bogus'"
[ ! -e "$T/s.db" ] && ok || bad "a search that failed to start claimed its store"
# the section's form exec("...") on the command line
expect_exit 0 "$NASC" search "$Q" --evaluator "exec(\"$T/ev.sh\")" --trials 2 --db "$T/x.db" --quiet --json
python3 -c "import json; d=json.load(open('$T/out')); assert d['trials']['evaluated']==2, d" && ok || bad "exec(\"...\")"
# no feasible trial: exit 1 with a message
expect_exit 1 "$NASC" search "$Q" --evaluator 'exec:sh -c "exit 3"' --trials 2 --db "$T/f.db" --quiet
expect_in "$T/err" "no trial was feasible: 2 failed, 0 infeasible"
# --json gives the whole Pareto front, points and metrics
F2="$SRC/examples/fashion_cnn.nas"
expect_exit 0 "$NASC" search "$F2" --evaluator "exec:sh -c 'read p; echo {\\\"accuracy\\\": 0.5, \\\"latency\\\": 3}'" \
    --trials 3 --db "$T/p.db" --quiet --json
python3 -c "
import json; d = json.load(open('$T/out'))
assert len(d['front']) == 3 and all(set(m) == {'trial', 'point', 'metrics'} for m in d['front']), d['front']
assert d['front'][0]['point']['space'] == 'FashionCNN' and d['front'][0]['metrics']['latency'] == 3
" && ok || bad "search --json prints the front with points and metrics"
# several spaces: --space NAME picks one; none or a wrong one says which there are
sed 's/^train {/train Quickstart {/; s/^search {/search Quickstart {/' "$Q" > "$T/two.nas"
sed -n '/^space Quickstart/,/^}/p' "$Q" | sed 's/space Quickstart/space Other/' >> "$T/two.nas"
expect_exit 1 "$NASC" search "$T/two.nas" -I "$SRC/stdlib" --evaluator "exec:$T/ev.sh" --db "$T/t.db"
expect_in "$T/err" "two.nas holds 2 spaces (Quickstart, Other): choose one with --space NAME"
expect_exit 2 "$NASC" search "$T/two.nas" -I "$SRC/stdlib" --space Nope --evaluator "exec:$T/ev.sh" --db "$T/t.db"
expect_in "$T/err" "two.nas has no space Nope (its spaces: Quickstart, Other)"
expect_exit 0 "$NASC" search "$T/two.nas" -I "$SRC/stdlib" --space Other --evaluator "exec:$T/ev.sh" --trials 2 \
    --db "$T/t.db" --quiet --json
python3 -c "import json; d=json.load(open('$T/out')); assert d['best']['point']['space']=='Other', d" \
    && ok || bad "--space Other"
# a store of another space is refused, naming both
expect_exit 1 "$NASC" search "$T/two.nas" -I "$SRC/stdlib" --space Quickstart --db "$T/t.db" --resume
expect_in "$T/err" "this store holds a search of the space Other, not Quickstart (use --force to resume anyway)"
# the builtin evaluator measures test accuracy and proxies only when asked
TINY="$SRC/tests/fixtures/cli/tiny.nas"
expect_exit 0 "$NASC" search "$TINY" --trials 2 --db "$T/b1.db" --quiet --json
python3 -c "
import json, sqlite3
d = json.load(open('$T/out')); m = d['best']['metrics']
assert 'accuracy' in m and 'naswot' not in m and 'synflow' not in m, m
assert 0 <= m['test_accuracy'] <= 1, 'the best trial is tested once, at the end'
rows = sqlite3.connect('$T/b1.db').execute('select id, metrics from trials').fetchall()
tested = [i for i, t in rows if 'test_accuracy' in json.loads(t or '{}')]
assert tested == [d['best']['trial']], tested" && ok || bad "nothing unasked measured; the best tested at the end"
expect_exit 0 "$NASC" search "$TINY" --trials 2 --db "$T/b2.db" --quiet --json --metrics test_accuracy,synflow
python3 -c "
import json; m = json.load(open('$T/out'))['best']['metrics']
assert 0 <= m['test_accuracy'] <= 1 and 'synflow' in m and 'naswot' not in m, m" && ok || bad "--metrics"
expect_exit 2 "$NASC" search "$TINY" --metrics bogus --db "$T/b3.db"
expect_in "$T/err" "--metrics: 'bogus' is not a metric measured on request (test_accuracy, latency, throughput, ram, flash, naswot, synflow, grad_norm, snip, grasp, fisher, jacov, zen, l2_norm, plain)"
# a budget larger than the space: stops once the strategy finds nothing new, and says so
expect_exit 0 "$NASC" search "$Q" --evaluator "exec:$T/ev.sh" --strategy random --trials 40 --db "$T/big.db" --json
expect_in "$T/err" "stopped after 200 proposals in a row that needed no evaluation"
python3 -c "
import json; t = json.load(open('$T/out'))['trials']
assert t['evaluated'] < 40 and t['cached'] > 0, t" && ok || bad "stops on an exhausted space"
# progress: plain lines off a terminal with the rate; --quiet: none
expect_exit 0 "$NASC" search "$Q" --evaluator "exec:$T/ev.sh" --trials 2 --db "$T/g.db"
grep -Eq '^\[1/2 [0-9.]+s\] trial 1 done: accuracy = [0-9.]+, best accuracy [0-9.]+ \(#1\), [0-9.]+/min, ETA [0-9]+s$' "$T/err" \
    && ok || { bad "progress line"; cat "$T/err" >&2; }
expect_exit 0 "$NASC" search "$Q" --evaluator "exec:$T/ev.sh" --trials 2 --db "$T/h.db" --quiet
[ ! -s "$T/err" ] && ok || bad "--quiet printed: $(cat "$T/err")"
finish
