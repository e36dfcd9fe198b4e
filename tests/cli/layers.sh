# layers.sh: scripts/check-layers.sh passes on the tree and catches an
# include that reaches up a layer (exact message, exit 1).
source "$(dirname "$0")/common.bash"
CHECK="$SRC/scripts/check-layers.sh"

# The tree as it is: no include reaches up.
expect_exit 0 bash "$CHECK" "$SRC"
expect_in "$T/out" "layers: no include reaches up a layer"

# A copy with two violations: common reaching into the runtime, and a
# plugin reaching into the search layer's internal header.
mkdir "$T/tree"
cp -r "$SRC/common" "$SRC/compiler" "$SRC/runtime" "$SRC/include" "$SRC/plugins" "$SRC/tools" "$T/tree/"
n=$(($(wc -l <"$T/tree/common/buf.c") + 1))
echo '#include "exec.h"' >>"$T/tree/common/buf.c"
m=$(($(wc -l <"$T/tree/plugins/grid/grid.c") + 1))
echo '#include "sr_util.h"' >>"$T/tree/plugins/grid/grid.c"
expect_exit 1 bash "$CHECK" "$T/tree"
expect_in "$T/out" "common/buf.c:$n: common includes \"exec.h\" from runtime (allowed: public)"
expect_in "$T/out" "plugins/grid/grid.c:$m: plugin:grid includes \"sr_util.h\" from search (allowed: public)"
[ "$(wc -l <"$T/out")" = 2 ] && ok || bad "expected exactly 2 violations, got: $(cat "$T/out")"
finish
