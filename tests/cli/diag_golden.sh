#!/usr/bin/env bash
# The golden diagnostics of tests/fixtures/diag, through the tool: `nasc
# check NAME.nas` must print exactly NAME.expected on stderr and exit 1, or
# print nothing there and exit 0 when NAME.expected is empty (the same
# files test_front_diag compares through the library).
. "$(dirname "$0")/common.bash"
NASC=$(cd "$(dirname "$NASC")" && pwd)/$(basename "$NASC")
cd "$SRC/tests/fixtures/diag" || exit 1
n=0
for f in *.nas; do
    want=${f%.nas}.expected
    code=1
    [ -s "$want" ] || code=0
    expect_exit $code "$NASC" check "$f"
    if cmp -s "$T/err" "$want"; then ok; else bad "$f: stderr differs from $want"; diff "$T/err" "$want" | head -20 >&2; fi
    n=$((n + 1))
done
[ "$n" -ge 10 ] && ok || bad "only $n golden files"
finish
