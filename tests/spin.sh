#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/spin.sh -- acdc's OpenMP threads spin little while they wait (cli/main.c,
# spin_less): without OMP_WAIT_POLICY or GOMP_SPINCOUNT, acdc sets GOMP_SPINCOUNT=3000
# and executes itself once more, so that libgomp starts with it; a user's choice is left
# alone.  libgomp's OMP_DISPLAY_ENV shows what each start read (TAP).
set -u
BUILD=${BUILD:-build}
ACDC=$BUILD/acdc
i=0
check() {   # check DESCRIPTION STARTS SPINCOUNT ENV...
    local what=$1 starts=$2 spin=$3
    shift 3
    local out n last
    out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$@" OMP_DISPLAY_ENV=verbose \
              "$ACDC" --version 2>&1)
    n=$(grep -c 'OPENMP DISPLAY ENVIRONMENT BEGIN' <<<"$out")
    last=$(grep "GOMP_SPINCOUNT = " <<<"$out" | tail -1)
    i=$((i + 1))
    if [ "$n" = "$starts" ] && [[ "$last" == *"'$spin'"* ]] && grep -q '^acdc ' <<<"$out"; then
        echo "ok $i - $what"
    else
        echo "not ok $i - $what: libgomp started $n times (expected $starts), last $last"
    fi
}
check "unset: acdc starts again, once, with GOMP_SPINCOUNT 3000" 2 3000
check "GOMP_SPINCOUNT=12345 is the user's: one start, kept" 1 12345 GOMP_SPINCOUNT=12345
check "OMP_WAIT_POLICY=passive is the user's: one start, no spinning" 1 0 \
    OMP_WAIT_POLICY=passive
# under valgrind a second start would run outside it, unchecked: acdc stays as started
# (not a sanitized build: valgrind cannot run AddressSanitizer's programs)
if [ -n "${SANITIZE:-}" ]; then
    echo "ok $((i + 1)) - # SKIP a build with SANITIZE=$SANITIZE does not run under valgrind"
elif command -v valgrind >/dev/null; then
    i=$((i + 1))
    out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=true \
              valgrind -q --error-exitcode=99 "$ACDC" --version 2>&1); rc=$?
    n=$(grep -c 'OPENMP DISPLAY ENVIRONMENT BEGIN' <<<"$out")
    if [ "$rc" = 0 ] && [ "$n" = 1 ] && grep -q '^acdc ' <<<"$out"; then
        echo "ok $i - under valgrind: one start, checked by valgrind"
    else
        echo "not ok $i - under valgrind: exit $rc, libgomp started $n times"
    fi
else
    echo "ok $((i + 1)) - # SKIP valgrind is not installed"
fi
