#!/usr/bin/env bash
# The repository stands alone: no test, script, build file, example or
# document reads or links anything outside it (a user's clone has nothing
# beside it), bench/ included.
# tests/cli/fresh-clone.bash does the real check: clone, build, ctest.
. "$(dirname "$0")/common.bash"
cd "$SRC" || exit 1
paths=(CMakeLists.txt README.md tests scripts docs examples stdlib include plugins compiler runtime tools grammar)
existing=()
for p in "${paths[@]}"; do [ -e "$p" ] && existing+=("$p"); done
# the contract's folder beside the working copies (the parent's folder
# named by $contract), and absolute paths of the machine the project was
# written on; the pattern is assembled from parts so that this file reads
# nothing outside the repository and does not match itself
parent='\.\.' contract='shar''ed' root='/wo''rk'
grep -rnE "$parent/$contract|$root/(wt|main|$contract)" "${existing[@]}" bench \
    --exclude=self_contained.sh --exclude-dir=build --exclude-dir='build-*' > "$T/hits"
[ ! -s "$T/hits" ] && ok || { bad "references outside the repository:"; sed 's/^/  | /' "$T/hits" >&2; }
grep -rn 'NASC_SHARED_DIR' "${existing[@]}" --exclude=self_contained.sh > "$T/hits"
[ ! -s "$T/hits" ] && ok || { bad "NASC_SHARED_DIR is back:"; sed 's/^/  | /' "$T/hits" >&2; }
# the contract's examples the tests hold the project to are here
for f in fashion_mlp fashion_cnn mobile nb201; do
    [ -f tests/fixtures/spec/$f.nas ] && ok || bad "tests/fixtures/spec/$f.nas is missing"
done
# the references the README points to exist
for f in docs/language.md docs/tool.md docs/language-guide.md docs/extensions.md; do
    [ -f "$f" ] && grep -qF "($f)" README.md && ok || bad "README does not link $f"
done
finish
