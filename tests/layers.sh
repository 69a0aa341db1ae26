#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/layers.sh -- the include arrows of acdc-optics, checked in every file.
#
#   cli -> sim -> compiler -> {models, optics} -> util
#
# A folder may include its own headers and those of the folders its arrows reach:
#   util      util
#   models    models, util            (knows nothing of light)
#   optics    optics, util            (knows nothing of ACDC)
#   compiler  compiler, models, optics, util
#   sim       sim, compiler, models, optics, util -- but not compiler/compile.h: the
#             simulator runs compiled systems, it does not compile; and not
#             compiler/surrogate.h: the compiler's differentiable model of its hardware
#             is for training, the simulator stays the independent judge
#   cli       everything
# bench/, examples/, fuzz/ and tests/ sit beside cli and may include any library header.
# Prints TAP; exits 0 (tests/run.sh counts the lines).  Usage: tests/layers.sh [TOP]
# (TOP: the tree to check, default the repository; the self-test uses a scratch tree).
set -u
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
i=0
ok() { i=$((i + 1)); echo "ok $i - $1"; }
notok() { i=$((i + 1)); echo "not ok $i - $1"; }

allowed() {   # $1 = folder of the including file, $2 = included path
    local from=$1 inc=$2 to=${2%%/*}
    case "$from" in
        util) [ "$to" = util ] ;;
        models) [ "$to" = models ] || [ "$to" = util ] ;;
        optics) [ "$to" = optics ] || [ "$to" = util ] ;;
        compiler) case "$to" in compiler|models|optics|util) true ;; *) false ;; esac ;;
        sim) [ "$inc" != compiler/compile.h ] && [ "$inc" != compiler/surrogate.h ] &&
             case "$to" in sim|compiler|models|optics|util) true ;; *) false ;; esac ;;
        *) true ;;
    esac
}

check_tree() {   # $1 = top; prints one line per violation, returns their count
    local t=$1 bad=0 f from inc
    for from in util models optics compiler sim; do
        [ -d "$t/$from" ] || continue
        for f in "$t/$from"/*.c "$t/$from"/*.h; do
            [ -e "$f" ] || continue
            while IFS= read -r inc; do
                if ! allowed "$from" "$inc"; then
                    echo "${f#"$t"/}: includes \"$inc\", against the arrows"
                    bad=$((bad + 1))
                fi
            done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
        done
    done
    return $bad
}

out=$(check_tree "$top"); n=$?
if [ "$n" -eq 0 ]; then
    ok "every #include in util, models, optics, compiler and sim follows the arrows"
else
    notok "$n #include(s) break the arrows"
    sed 's/^/# /' <<<"$out"
fi

# Self-test: a scratch tree with one file per forbidden direction must be caught, and an
# allowed include must not.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch"/{util,models,optics,compiler,sim}
printf '#include "models/model.h"\n' > "$scratch/util/a.c"
printf '#include "optics/field.h"\n' > "$scratch/models/a.c"
printf '#include "models/model.h"\n#include "compiler/system.h"\n' > "$scratch/optics/a.h"
printf '#include "sim/run.h"\n' > "$scratch/compiler/a.c"
printf '#include "compiler/compile.h"\n#include "cli/cli.h"\n#include "compiler/surrogate.h"\n' > "$scratch/sim/a.c"
printf '#include "compiler/system.h"\n#include "util/error.h"\n' > "$scratch/sim/b.c"
out=$(check_tree "$scratch"); n=$?
if [ "$n" -eq 8 ] && ! grep -q 'sim/b.c' <<<"$out"; then
    ok "the check catches each forbidden direction (8 of 8) and passes an allowed include"
else
    notok "self-test: caught $n of 8 forbidden includes"
    sed 's/^/# /' <<<"$out"
fi
