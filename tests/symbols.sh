#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/symbols.sh -- the library has one prefix: every name it exports begins with acdc_
# (acdc_optics_..., acdc_compiler_..., acdc_sim_..., acdc_util_..., and the models'
# acdc_...), every macro of its headers with ACDC_, so that a program linking it may have
# its own util_error or sim_run.  Prints TAP; exits 0 (tests/run.sh counts the lines).
#
# The one name the compiler makes of ours: `#pragma omp critical(NAME)` defines the lock
# .gomp_critical_user_NAME (gcc; clang adds .var), a common symbol, so NAME is what must
# carry the prefix.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
. tests/tap.bash

# unprefixed: reads nm's output on stdin, prints each defined global name without acdc_
unprefixed() {
    awk 'NF >= 3 { print $NF }' |
        sed 's/^\.gomp_critical_user_\(.*\)\.var$/\1/; s/^\.gomp_critical_user_//' |
        grep -v '^acdc_' | sort -u
}

check_names() {   # $1 = what, $2 = its names without the prefix (one a line)
    if [ -z "$2" ]; then
        ok "$1"
    else
        notok "$1" "$(wc -l <<<"$2") without the prefix: $(head -8 <<<"$2" | tr '\n' ' ')"
    fi
}

static=$BUILD/libacdc-optics.a
shared=$BUILD/libacdc-optics.so
if [ -s "$static" ] && [ -s "$shared" ]; then
    n=$(nm -g --defined-only "$static" | awk 'NF >= 3' | wc -l)
    if [ "$n" -gt 100 ]; then
        check_names "every one of the $n global names $static defines begins with acdc_" \
            "$(nm -g --defined-only "$static" | unprefixed)"
    else
        notok "nm lists only $n global names in $static"
    fi
    check_names "every name $shared exports begins with acdc_" \
        "$(nm -D --defined-only "$shared" | unprefixed)"
else
    notok "no library in $BUILD (make all first)"
fi

# every macro the library's headers define (the include guards too)
macros=$(sed -n 's/^[[:space:]]*#[[:space:]]*define[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' \
             util/*.h models/*.h optics/*.h compiler/*.h sim/*.h)
if [ "$(wc -l <<<"$macros")" -gt 50 ]; then
    check_names "all $(wc -l <<<"$macros") macros of the library's headers begin with ACDC_" \
        "$(grep -v '^ACDC_' <<<"$macros" | sort -u)"
else
    notok "only $(wc -l <<<"$macros") macros found in the library's headers"
fi

# The check itself finds a name without the prefix: an object defining util_error, the
# lock of an unprefixed critical section, and acdc_ names it must let pass.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/bad.c" <<'C'
int util_error(void);
int acdc_fine(void);
int acdc_ok(void);
int util_error(void) { return 1; }
int acdc_fine(void)
{
    int r = 0;
#pragma omp critical(acdc_lock)
    r += 1;
    return r;
}
int acdc_ok(void)
{
    int r = 0;
#pragma omp critical(planner)
    r += 2;
    return r;
}
C
if ${CC:-cc} -std=c11 -fopenmp -c "$tmp/bad.c" -o "$tmp/bad.o" 2>"$tmp/err" &&
        ar rcs "$tmp/libbad.a" "$tmp/bad.o"; then
    got=$(nm -g --defined-only "$tmp/libbad.a" | unprefixed | tr '\n' ' ')
    if [ "$got" = "planner util_error " ]; then
        ok "the check finds util_error and the lock of critical(planner), passes acdc_ and critical(acdc_lock)"
    else
        notok "the check on a scratch library finds '$got', expected 'planner util_error '"
    fi
else
    notok "the scratch library for the self-test does not build" "$(head -2 "$tmp/err")"
fi
