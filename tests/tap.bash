# SPDX-License-Identifier: GPL-3.0-or-later
# tests/tap.bash -- TAP helpers shared by the shell test scripts (sourced, not run).
# Needs ACDC (the program under test); counts in i.
i=0
ok() { i=$((i + 1)); echo "ok $i - $1"; }
notok() { i=$((i + 1)); echo "not ok $i - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# case_ EXIT TEXT ARGS...: runs acdc ARGS, expects the exit code and TEXT in the output
# ("-" for any).  CLI_WRAPPER (e.g. valgrind) prefixes the run.
case_() {
    local code=$1 text=$2; shift 2
    local out rc
    out=$(${CLI_WRAPPER:-} "$ACDC" "$@" 2>&1 </dev/null); rc=$?
    if [ "$rc" != "$code" ]; then
        notok "acdc $*: exit $rc, expected $code" "$(head -3 <<<"$out")"
    elif [ "$text" != "-" ] && [[ "$out" != *"$text"* ]]; then
        notok "acdc $*: output lacks '$text'" "$(head -3 <<<"$out")"
    else
        ok "acdc $*"
    fi
}
