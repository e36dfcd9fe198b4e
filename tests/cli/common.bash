# Helpers for the CLI tests: each test script sources this, runs commands,
# and ends with `finish`, which prints "N passed, N failed".
NASC=${1:?usage: test.sh NASC SOURCE_DIR}
SRC=${2:?}
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
# expect_exit CODE CMD...: runs CMD, checks its exit status
expect_exit() {
    local want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" = "$want" ]; then ok; else bad "exit $got (wanted $want): $*"; sed 's/^/  | /' "$T/err" | head -20 >&2; fi
}
# expect_in FILE TEXT: FILE contains TEXT
expect_in() { if grep -qF -- "$2" "$1"; then ok; else bad "'$2' not in $1"; sed 's/^/  | /' "$1" | head -20 >&2; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# expect_line FILE TEXT: FILE has a line that is exactly TEXT
expect_line() { if grep -qxF -- "$2" "$1"; then ok; else bad "no line '$2' in $1"; sed 's/^/  | /' "$1" | head -20 >&2; fi; }
# expect_text FILE TEXT: FILE holds exactly TEXT (and a final newline)
expect_text() { if [ "$(cat "$1")" = "$2" ]; then ok; else bad "$1 is not as expected"; diff <(printf '%s\n' "$2") "$1" | sed 's/^/  | /' | head -20 >&2; fi; }
