#!/usr/bin/env bash
# fault_counts.sh BUILD_DIR [ROUNDS]: runs the crash-and-fault suite
# (tests/test_search_faults.c, tests/cli/faults.sh) ROUNDS times (default
# 1; the long variant: 20) and totals the faults injected, survived and
# data lost per category, from the "FAULT cat injected=N survived=N
# lost=N" lines the tests print.
set -uo pipefail
B=${1:?usage: fault_counts.sh BUILD_DIR [ROUNDS]}
R=${2:-1}
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$B" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "CPU: $(lscpu | grep 'Model name' | sed 's/^Model name: *//')"
fails=0
for _ in $(seq "$R"); do
    (cd "$B" && ./test_search_faults -j1) >>"$log" 2>&1 || fails=$((fails + 1))
    bash "$SRC/tests/cli/faults.sh" "$B/nasc" "$SRC" >>"$log" 2>&1 || fails=$((fails + 1))
done
printf "%-20s %9s %9s %5s\n" category injected survived lost
grep '^FAULT ' "$log" | awk '{
    split($3, a, "="); split($4, b, "="); split($5, c, "=");
    inj[$2] += a[2]; sur[$2] += b[2]; lost[$2] += c[2] }
    END { for (k in inj) printf "%-20s %9d %9d %5d\n", k, inj[k], sur[k], lost[k] }' | sort
grep '^FAULT ' "$log" | awk '{ split($3, a, "="); split($4, b, "="); split($5, c, "=");
    ti += a[2]; ts += b[2]; tl += c[2] } END { printf "%-20s %9d %9d %5d\n", "total", ti, ts, tl }'
echo "suite runs failed: $fails of $((2 * R))"
