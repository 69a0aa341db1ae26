#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/cli.sh -- runs tests/cli.cases against build/acdc and prints TAP.
# CLI_WRAPPER (e.g. "valgrind --error-exitcode=99 --leak-check=full") prefixes each run.
set -u
BUILD=${BUILD:-build}
# One case asks for an impossible allocation on purpose (--force-memory): under
# AddressSanitizer malloc must then return NULL, as it does without it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1}
ACDC=$BUILD/acdc
T=$BUILD/tests/cli-tmp
rm -rf "$T" && mkdir -p "$T"
if ! /usr/bin/python3 tests/fixtures.py "$T" 2>"$T/fixtures.err"; then
    echo "not ok 1 - fixtures: $(tail -1 "$T/fixtures.err")"
    exit 1
fi
i=0
while IFS=$'\t' read -r code text args; do
    case "$code" in ''|'#'*) continue ;; esac
    i=$((i + 1))
    text=${text//\$T/$T}
    args=${args//\$T/$T}
    # shellcheck disable=SC2086
    out=$(${CLI_WRAPPER:-} "$ACDC" $args 2>&1 </dev/null); rc=$?
    if [ "$rc" != "$code" ]; then
        echo "not ok $i - acdc $args: exit $rc, expected $code"
        echo "# $out" | head -3
    elif [ "$text" != "-" ] && [[ "$out" != *"$text"* ]]; then
        echo "not ok $i - acdc $args: output lacks '$text'"
        echo "# $out" | head -3
    else
        echo "ok $i - acdc $args"
    fi
done < tests/cli.cases
