#!/usr/bin/env bash
# check-layers.sh: no module includes a header from a layer above it.
#
# Usage: check-layers.sh [SOURCE_DIR]   (run by ctest as `layers`)
#
# Each folder below is one layer; ALLOWED lists the layers its files may
# include from (its own always included).  A quoted include is resolved to
# the layer folder holding that header: the including file's own folder
# first (as the compiler does), else the layer folders.  An include of a
# header that lives in a layer not allowed prints
#   FILE:LINE: LAYER includes "HEADER" from LAYER2 (allowed: ...)
# and the script exits 1.  Headers in no layer folder (generated parser.h,
# test fixtures) are not layered and are skipped.  The same table is what
# CMakeLists.txt's DEPS say; keep the two in step (docs/design.md).
set -u
ROOT=${1:-$(dirname "$0")/..}
cd "$ROOT" || exit 2

# layer name -> folder (non-recursive: runtime/search is its own layer)
declare -A DIR=(
    [public]=include/nasc [common]=common [ir]=compiler/ir [front]=compiler/front
    [grammar]=grammar [passes]=compiler/passes [codegen]=compiler/codegen
    [runtime]=runtime [search]=runtime/search [driver]=driver [tools]=tools
)
below_driver="public common ir front passes codegen runtime search"
declare -A ALLOWED=(
    [public]=""
    [common]="public"
    [ir]="public common"
    [front]="public common ir grammar"
    [grammar]="public common ir front"
    [passes]="public common ir"
    [codegen]="public common ir passes"
    [runtime]="public common ir"
    [search]="public common"
    [driver]="$below_driver"
    [tools]="$below_driver driver"
)
# Plugins are built apart from the core and see only the public headers.
for d in plugins/*/; do
    [ -d "$d" ] || continue
    p=plugin:$(basename "$d")
    DIR[$p]=${d%/}
    ALLOWED[$p]="public"
done

# header basename (or nasc/NAME) -> the layers whose folder holds it
declare -A OWNER=()
for layer in "${!DIR[@]}"; do
    for h in "${DIR[$layer]}"/*.h; do
        [ -f "$h" ] || continue
        key=$(basename "$h")
        [ "$layer" = public ] && key=nasc/$key
        OWNER[$key]="${OWNER[$key]:-} $layer"
    done
done

status=0
for layer in "${!DIR[@]}"; do
    dir=${DIR[$layer]}
    for f in "$dir"/*.c "$dir"/*.h "$dir"/*.y "$dir"/*.l; do
        [ -f "$f" ] || continue
        while IFS=: read -r line hdr; do
            [ -f "$dir/$hdr" ] && continue # its own folder
            owners=${OWNER[$hdr]:-}
            [ -n "$owners" ] || continue
            ok=0
            for o in $owners; do
                case " $layer ${ALLOWED[$layer]} " in *" $o "*) ok=1 ;; esac
            done
            if [ $ok = 0 ]; then
                echo "$f:$line: $layer includes \"$hdr\" from${owners} (allowed: ${ALLOWED[$layer]:-none})"
                status=1
            fi
        done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
    done
done
[ $status = 0 ] && echo "layers: no include reaches up a layer"
exit $status
