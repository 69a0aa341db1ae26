#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/run.sh -- run every test of acdc-optics and end with "N passed, N failed".
#
# Arguments: the cmocka test binaries.  Also runs the command-line tests (tests/cli.sh)
# and the cross-checks written in Python (tests/test_*.py, need python3-h5py / scipy).
set -u
BUILD=${BUILD:-build}
export BUILD
pass=0; fail=0; failed=()
count() {   # $1 = name, reads TAP on stdin
    local line
    while IFS= read -r line; do
        case "$line" in
            "ok "*) pass=$((pass + 1)) ;;
            "not ok "*) fail=$((fail + 1)); failed+=("$1: ${line#not ok }") ; echo "$line" ;;
            "#"*) echo "$line" ;;
        esac
    done
}
for t in "$@"; do
    name=$(basename "$t")
    echo "== $name"
    out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1); rc=$?
    count "$name" <<<"$out"
    if [ $rc -ne 0 ] && ! grep -q '^not ok' <<<"$out"; then
        fail=$((fail + 1)); failed+=("$name: exited $rc"); echo "$out" | tail -20
    fi
done
# A script that exits non-zero without a failing test, or reports no test at all, has
# failed itself (a missing program, a crashed fixture): count it, show its tail.
script_result() {   # $1 = name, $2 = exit code, $3 = output
    count "$1" <<<"$3"
    if ! grep -q '^\(not \)\?ok ' <<<"$3" ||
            { [ "$2" -ne 0 ] && ! grep -q '^not ok' <<<"$3"; }; then
        fail=$((fail + 1)); failed+=("$1: exited $2 after $(grep -c '^ok ' <<<"$3") tests")
        echo "$3" | tail -20
    fi
}
for s in tests/*.sh; do
    [ "$(basename "$s")" = run.sh ] && continue
    echo "== $(basename "$s")"
    out=$(bash "$s" 2>&1); rc=$?
    script_result "$(basename "$s")" $rc "$out"
done
PY=/usr/bin/python3
for p in tests/test_*.py; do
    [ -e "$p" ] || continue
    echo "== $(basename "$p")"
    out=$("$PY" "$p" 2>&1); rc=$?
    script_result "$(basename "$p")" $rc "$out"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "failures:"; printf '  %s\n' "${failed[@]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
