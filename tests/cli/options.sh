#!/usr/bin/env bash
# The command line itself: help, --version, unknown commands and options
# with did-you-mean, each command taking only its own options, and the
# exact message and exit status of each mistake (docs/tool.md).
. "$(dirname "$0")/common.bash"
F=$SRC/examples/fashion_mlp.nas
TINY_F=$SRC/tests/fixtures/cli/tiny.nas
export NO_COLOR=1

# ----- help and version: stdout, exit 0 -----
expect_exit 0 "$NASC" help
expect_line "$T/out" "usage: nasc COMMAND [ARGS] [OPTIONS]"
for c in check sample show train search build run report plugins help; do
    grep -qE "^  $c +[A-Za-z]" "$T/out" && ok || bad "nasc help does not list $c"
done
[ ! -s "$T/err" ] && ok || bad "nasc help wrote to stderr"
expect_exit 0 "$NASC" --help
cp "$T/out" "$T/help1"
expect_exit 0 "$NASC" -h
cmp -s "$T/out" "$T/help1" && ok || bad "nasc -h differs from nasc --help"
expect_exit 0 "$NASC" help check
expect_line "$T/out" "usage: nasc check FILE [--decisions] [--json] [-I DIR] [--set SECTION.KEY=V]"
expect_line "$T/out" "  --decisions            list every decision: label, kind, domain, condition"
expect_line "$T/out" "  --help, -h             print this help and exit"
cp "$T/out" "$T/help_check"
expect_exit 0 "$NASC" check --help
cmp -s "$T/out" "$T/help_check" && ok || bad "nasc check --help differs from nasc help check"
# --help wins over everything else on the line, even a bad option
expect_exit 0 "$NASC" check "$F" --bogus -h
cmp -s "$T/out" "$T/help_check" && ok || bad "nasc check FILE --bogus -h"
expect_exit 0 "$NASC" help search
expect_line "$T/out" "  --strategy-opt K=V     an option of the strategy (repeatable)"
! grep -qF -- "--output" "$T/out" && ok || bad "nasc help search lists -o, an option of train and build"
expect_exit 0 "$NASC" help --help
expect_line "$T/out" "usage: nasc help [COMMAND]"
expect_exit 2 "$NASC" help check extra
expect_text "$T/err" "nasc: unexpected argument 'extra'
usage: nasc help [COMMAND]"
expect_exit 0 "$NASC" help plugins
expect_line "$T/out" "usage: nasc plugins [--json]"
expect_exit 0 "$NASC" --version
grep -qxE "nasc [0-9]+\.[0-9]+\.[0-9]+" "$T/out" && ok || bad "--version: $(cat "$T/out")"
expect_exit 2 "$NASC"
expect_line "$T/err" "usage: nasc COMMAND [ARGS] [OPTIONS]"
[ ! -s "$T/out" ] && ok || bad "nasc with no command wrote to stdout"

# ----- unknown commands and options: exit 2, did you mean -----
expect_exit 2 "$NASC" chek "$F"
expect_text "$T/err" "nasc: unknown command 'chek'; did you mean 'check'?
run 'nasc help' for the list of commands"
expect_exit 2 "$NASC" serach "$F"
expect_line "$T/err" "nasc: unknown command 'serach'; did you mean 'search'?"
expect_exit 2 "$NASC" frobnicate
expect_line "$T/err" "nasc: unknown command 'frobnicate'"
expect_exit 2 "$NASC" help chek
expect_line "$T/err" "nasc: unknown command 'chek'; did you mean 'check'?"
expect_exit 2 "$NASC" --verison
expect_line "$T/err" "nasc: unknown option '--verison'; did you mean '--version'?"
expect_exit 2 "$NASC" search "$F" --trails 3
expect_text "$T/err" "nasc: unknown option '--trails' for 'nasc search'; did you mean '--trials'?
usage: nasc search FILE [--strategy S] [--strategy-opt K=V] [--trials N] [--time T] [--seed N]
             [--db RUN.db] [-j N] [--resume] [--force] [--evaluator E] [--space NAME]
             [--metrics A,B] [--retrain K] [--json] [--quiet] [-I DIR] [--set SECTION.KEY=V]"
expect_exit 2 "$NASC" check "$F" --decision
expect_line "$T/err" "nasc: unknown option '--decision' for 'nasc check'; did you mean '--decisions'?"
expect_exit 2 "$NASC" check "$F" --bogus
expect_line "$T/err" "nasc: unknown option '--bogus' for 'nasc check'"
expect_exit 2 "$NASC" train "$F" --arhc x
expect_line "$T/err" "nasc: unknown option '--arhc' for 'nasc train'; did you mean '--arch'?"
# an option of another command
expect_exit 2 "$NASC" check "$F" --trials 5
expect_text "$T/err" "nasc: 'nasc check' does not take --trials (an option of: search)
usage: nasc check FILE [--decisions] [--json] [-I DIR] [--set SECTION.KEY=V]"
expect_exit 2 "$NASC" sample "$F" -j4
expect_line "$T/err" "nasc: 'nasc sample' does not take -j (an option of: search)"
expect_exit 2 "$NASC" check "$F" --arch '{}'
expect_line "$T/err" "nasc: 'nasc check' does not take --arch (an option of: show, train, build, run)"
expect_exit 2 "$NASC" plugins --set train.epochs=3
expect_line "$T/err" "nasc: 'nasc plugins' does not take --set (an option of: check, sample, show, train, search, build, run, proxies, supernet, latency-table)"
expect_exit 2 "$NASC" report run.db --dot
expect_line "$T/err" "nasc: 'nasc report' does not take --dot (an option of: show)"
# values: missing, unexpected, malformed
expect_exit 2 "$NASC" show "$F" --arch
expect_line "$T/err" "nasc: option --arch needs a value (POINT)"
expect_exit 2 "$NASC" check "$F" --json=yes
expect_line "$T/err" "nasc: option --json takes no value"
expect_exit 2 "$NASC" sample "$F" --count 0
expect_line "$T/err" "nasc: --count needs a positive integer"
expect_exit 2 "$NASC" sample "$F" --seed=-1
expect_line "$T/err" "nasc: --seed needs a non-negative integer"
expect_exit 2 "$NASC" search "$F" -j 0
expect_line "$T/err" "nasc: -j needs an integer from 1 to 1024"
expect_exit 2 "$NASC" check
expect_text "$T/err" "nasc: 'nasc check' needs FILE
usage: nasc check FILE [--decisions] [--json] [-I DIR] [--set SECTION.KEY=V]"
expect_exit 2 "$NASC" check "$F" "$F"
expect_line "$T/err" "nasc: unexpected argument '$F'"
expect_exit 2 "$NASC" plugins extra
expect_line "$T/err" "nasc: unexpected argument 'extra'"
# values of build options, checked before anything is loaded
P='{"decisions": {"depth": 1, "act": "relu", "width[1]": 8}}'
expect_exit 2 "$NASC" build "$TINY_F" --arch "$P" --weights "$T/none" -o "$T/x" --emit exee
expect_text "$T/err" "nasc: --emit must be obj, lib, exe, llvm, asm or onnx, got 'exee'; did you mean 'exe'?"
expect_exit 2 "$NASC" build "$TINY_F" --arch "$P" --weights "$T/none" -o "$T/x" --dump-after fuse-ac
expect_text "$T/err" "nasc: --dump-after: unknown pass 'fuse-ac'; did you mean 'fuse-act'?"
expect_exit 2 "$NASC" build "$TINY_F" --arch "$P" --weights "$T/none" -o "$T/x" --dump-after zz
expect_text "$T/err" "nasc: --dump-after: unknown pass 'zz' (the passes: fold-bn, dce, quant, lower, fuse-bn, fuse-act, fuse-add, fuse-mul, fuse-pool, plan-memory)"
# spellings that are fine: --opt=value, -jN, -IDIR, --output for -o, -- before a file
expect_exit 0 "$NASC" sample "$F" --count=2 --seed=4
[ "$(wc -l < "$T/out")" = 2 ] && ok || bad "--count=2"
expect_exit 0 "$NASC" check "-I$SRC/stdlib" -- "$F"
expect_line "$T/out" "space FashionMLP: OK"

# ----- strategies, checked against the installed plugins' option docs -----
printf 'space S(x: Tensor[4]) -> Tensor[2] {\n    let w = choice {4, 8}\n    return dense(relu(dense(x, w)), 2)\n}\nsearch {\n    strategy  = evolutoin(population = 4)\n    trials    = 2\n}\n' > "$T/typo.nas"
expect_exit 1 "$NASC" check "$T/typo.nas"
expect_text "$T/err" "$T/typo.nas:6:17: error: unknown strategy 'evolutoin'
      strategy  = evolutoin(population = 4)
                  ^~~~~~~~~
$T/typo.nas:6:17: note: did you mean 'evolution'?"
sed -i 's/evolutoin(population = 4)/evolution(populaton = 4, zz = 1)/' "$T/typo.nas"
expect_exit 1 "$NASC" check "$T/typo.nas"
expect_text "$T/err" "$T/typo.nas:6:27: error: unknown option 'populaton' of strategy evolution
      strategy  = evolution(populaton = 4, zz = 1)
                            ^~~~~~~~~
$T/typo.nas:6:27: note: did you mean 'population'?
$T/typo.nas:6:42: error: unknown option 'zz' of strategy evolution (its options: population, sample, sigma, warm_start, warm_proxy)
      strategy  = evolution(populaton = 4, zz = 1)
                                           ^~"
sed -i 's/evolution(populaton = 4, zz = 1)/grid(population = 4)/' "$T/typo.nas"
expect_exit 1 "$NASC" check "$T/typo.nas"
expect_line "$T/err" "$T/typo.nas:6:22: error: unknown option 'population' of strategy grid (it takes no options)"
sed -i 's/grid(population = 4)/zzzz/' "$T/typo.nas"
expect_exit 1 "$NASC" check "$T/typo.nas"
expect_line "$T/err" "$T/typo.nas:6:17: error: unknown strategy 'zzzz' (installed: bananas, evolution, grid, hyperband, local, nsga2, predictor, random, reinforce, tpe; see nasc plugins)"
# the search stops before it starts, and so does a --set of the strategy
expect_exit 1 "$NASC" search "$T/typo.nas" --db "$T/typo.db"
expect_line "$T/err" "$T/typo.nas:6:17: error: unknown strategy 'zzzz' (installed: bananas, evolution, grid, hyperband, local, nsga2, predictor, random, reinforce, tpe; see nasc plugins)"
[ ! -e "$T/typo.db" ] && ok || bad "a search with an unknown strategy made a store"
expect_exit 1 "$NASC" check "$F" --set search.strategy=tpe2
expect_line "$T/err" "--set search.strategy=tpe2:1:17: error: unknown strategy 'tpe2'"
expect_line "$T/err" "--set search.strategy=tpe2:1:17: note: did you mean 'tpe'?"
# on the command line: usage errors
TINY=$SRC/tests/fixtures/cli/tiny.nas
expect_exit 2 "$NASC" search "$TINY" --db "$T/s.db" --strategy evolutoin
expect_text "$T/err" "nasc: --strategy evolutoin: unknown strategy 'evolutoin'; did you mean 'evolution'?"
expect_exit 2 "$NASC" search "$TINY" --db "$T/s.db" --strategy evolution --strategy-opt populaton=3
expect_text "$T/err" "nasc: --strategy-opt populaton=3: unknown option 'populaton' of strategy evolution; did you mean 'population'?"
expect_exit 2 "$NASC" search "$TINY" --db "$T/s.db" --strategy-opt max_retrie=3
expect_text "$T/err" "nasc: --strategy-opt max_retrie=3: unknown option 'max_retrie' of strategy random; did you mean 'max_retries'?"
expect_exit 2 "$NASC" search "$TINY" --db "$T/s.db" --strategy-opt max_retries
expect_text "$T/err" "nasc: --strategy-opt max_retries: expected KEY=VALUE"
[ ! -e "$T/s.db" ] && ok || bad "a search with a bad strategy option made a store"
# the strategy options that the plugins document are accepted
expect_exit 0 "$NASC" check "$SRC/tests/fixtures/cli/two_spaces.nas"
expect_exit 0 "$NASC" search "$TINY" --db "$T/ok.db" --trials 2 --strategy evolution --strategy-opt population=2 --strategy-opt sample=1 --quiet
finish
