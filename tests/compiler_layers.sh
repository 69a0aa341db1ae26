#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/compiler_layers.sh -- the arrows inside compiler/ point one way (compiler/README.md):
#
#   compile.c  ->  system*.c  ->  profile.c
#
# The compiler uses the system (its rules, its file); the system never uses the compiler;
# the profile uses neither.  Checked on the sources, comments stripped: no #include of a
# header above, and no call of a function defined above.  Prints TAP, exits 0.
set -u
cd "$(dirname "$0")/.." || exit 1
n=0
ok() {   # $1 = 0 for success, $2 = description, $3 = details on failure
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        printf '# %s\n' "$3"
    fi
}
strip() { perl -0777 -pe 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g' "$1"; }
# exported functions defined in a file: a line starting a definition "type name(" at
# column 0, not static
defined_in() {
    strip "$1" | grep -E '^[a-z][a-z0-9_ *]*[ *]acdc_compiler_[a-z0-9_]+\(' | grep -v '^static' |
        sed -E 's/.*(acdc_compiler_[a-z0-9_]+)\(.*/\1/' | sort -u
}
# $1 = description, $2 = header, rest = files that must not include it
no_include() {
    local what=$1 hdr=$2 bad=""
    shift 2
    for f in "$@"; do
        [ -e "$f" ] || continue
        if strip "$f" | grep -qE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$hdr\""; then
            bad="$bad $f"
        fi
    done
    ok "$([ -z "$bad" ]; echo $?)" "$what" "includes $hdr:$bad"
}
# $1 = description, $2 = file defining the functions, rest = files that must not call them
no_call() {
    local what=$1 src=$2 bad=""
    shift 2
    local names
    names=$(defined_in "$src")
    if [ -z "$names" ]; then
        ok 1 "$what" "found no function defined in $src (the check would pass vacuously)"
        return
    fi
    for f in "$@"; do
        [ -e "$f" ] || continue
        for fn in $names; do
            if strip "$f" | grep -qE "\\b$fn[[:space:]]*\\("; then
                bad="$bad $f:$fn"
            fi
        done
    done
    ok "$([ -z "$bad" ]; echo $?)" "$what" "calls:$bad"
}

system_files=(compiler/system*.c compiler/system*.h)
profile_files=(compiler/profile.c compiler/profile.h)

no_include "no compiler/system* includes compiler/compile.h" compiler/compile.h \
    "${system_files[@]}"
no_call "no compiler/system* calls a function defined in compiler/compile.c" \
    compiler/compile.c "${system_files[@]}"
no_include "compiler/profile.* does not include compiler/compile.h" compiler/compile.h \
    "${profile_files[@]}"
no_include "compiler/profile.* does not include compiler/system.h" compiler/system.h "${profile_files[@]}"
for s in compiler/system*.c; do
    no_call "compiler/profile.* calls no function defined in $s" "$s" "${profile_files[@]}"
done
no_call "compiler/profile.* calls no function defined in compiler/compile.c" \
    compiler/compile.c "${profile_files[@]}"
exit 0
