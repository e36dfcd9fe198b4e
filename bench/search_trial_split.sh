#!/usr/bin/env bash
# Where a builtin trial's time goes: N trials of a space with the builtin
# evaluator, then the split read back from the store (the time_* metrics
# the evaluator reports, train_time, and the trial's duration as the host
# measured it; "host" is the rest: graph build, messages, store).
# Usage: bench/search_trial_split.sh FILE.nas TRIALS [-j N] [--set ...]...
# e.g.   bench/search_trial_split.sh tests/fixtures/spec/fashion_cnn.nas 4 --set train.data_fraction=0.02
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
NASC=${NASC:-$here/../build/nasc}
F=${1:?FILE.nas}; N=${2:?TRIALS}; shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lscpu | grep 'Model name' | sed 's/  */ /g'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
nice "$NASC" search "$F" --db "$tmp/run.db" --strategy random --seed 1 --trials "$N" --quiet --json "$@" > "$tmp/out.json"
end=$(date +%s.%N)
python3 - "$tmp/run.db" "$start" "$end" "$N" <<'PY'
import json, sqlite3, sys
db, a, b, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rows = sqlite3.connect(db).execute(
    "select id, duration, metrics, answered from trials where status='done' and answered='evaluator' order by id").fetchall()
parts = ["time_data", "time_proxies", "train_time", "time_eval", "time_jit", "time_weights"]  # time_compile is part of time_jit
tot = {p: 0.0 for p in parts}; dur = 0.0
print(f"{'trial':>5} {'total':>8} " + " ".join(f"{p.replace('time_', ''):>9}" for p in parts) + f" {'host':>8} {'outside%':>9}")
for i, d, m, _ in rows:
    m = json.loads(m)
    v = [m.get(p, 0.0) for p in parts]
    host = d - sum(v)
    for p, x in zip(parts, v): tot[p] += x
    dur += d
    cc = m.get("time_compile")
    print(f"{i:5d} {d:8.2f} " + " ".join(f"{x:9.3f}" for x in v) + f" {host:8.3f} {100 * (1 - m['train_time'] / d):8.1f}%"
          + (f"  (jit compile {cc:.3f})" if cc is not None else ""))
k = len(rows)
if k:
    host = dur - sum(tot.values())
    print(f"{'mean':>5} {dur / k:8.2f} " + " ".join(f"{tot[p] / k:9.3f}" for p in parts) + f" {host / k:8.3f} {100 * (1 - tot['train_time'] / dur):8.1f}%")
print(f"search wall {b - a:.1f}s for {n} evaluations: {60 * n / (b - a):.2f} trials/min")
PY
