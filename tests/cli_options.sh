#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/cli_options.sh -- every command's --help against its parser (TAP).
#
# For every command `acdc --help` lists, every option row of `acdc CMD --help` must be an
# option the command accepts (given with the value its help names: a refused value is
# fine, "unknown option" or "needs a value" is not), and no option may be listed twice.
# The options simulate and sweep share must read the same in both helps (one table,
# cli/simopts.c).  The other direction -- every accepted option is listed -- holds by
# construction for commands built on cli/options.h and is tested in test_cli_options.c.
set -u
BUILD=${BUILD:-build}
ACDC=$(cd "$(dirname "$BUILD/acdc")" && pwd)/acdc
T=$BUILD/tests/cli-options-tmp
rm -rf "$T" && mkdir -p "$T"
. tests/tap.bash

commands=$("$ACDC" --help | sed -n '/^commands:/,/^$/{s/^  \([a-z]\+\) .*/\1/p}')
[ -n "$commands" ] || { notok "acdc --help lists no commands"; exit 1; }

# The option rows of a help text on stdin: the label of each line that starts with an
# option ("  -o, --output FILE   text", "      --no-noise   text"), one per line, split
# at ", " where a row names several ("--lr-a X, --lr-d X").
labels() {
    sed -n 's/^  \(-[A-Za-z0-9], \|    \)\(--[a-z0-9-]\+\([ =][^ ]\+\)\?\(, --[a-z0-9-]\+\( [^ ]\+\)\?\)*\).*/\2/p' |
        sed 's/, /\n/g' | grep '^--'
}

# The paragraph of a help on stdin that holds the option rows: the one ending in --help
# (a description may show options too, as plot's does).
options_paragraph() { awk '/^$/ { p = ""; next } { p = p $0 "\n" } /^  -h, --help/ { printf "%s", p; exit }'; }

for cmd in $commands; do
    help=$("$ACDC" "$cmd" --help) || { notok "acdc $cmd --help failed"; continue; }
    rows=$(options_paragraph <<<"$help" | labels)
    [ -n "$rows" ] || { notok "acdc $cmd --help lists no options"; continue; }
    dup=$(sed 's/[ =].*//' <<<"$rows" | sort | uniq -d | tr '\n' ' ')
    if [ -n "$dup" ]; then notok "acdc $cmd --help lists $dup more than once"; else
        ok "acdc $cmd --help lists each option once"; fi
    bad=()
    while read -r name value; do
        [ "$name" = --help ] && continue
        # in a scratch folder, without operands: the command stops at a usage error
        arg=$name${value:+=$value}
        out=$(cd "$T" && timeout 20 ${CLI_WRAPPER:-} "$ACDC" "$cmd" "$arg" 2>&1 </dev/null)
        rc=$?
        if [ $rc -ge 124 ] || [[ "$out" == *"unknown option"* ]] ||
               [[ "$out" == *"needs a value"* ]]; then
            bad+=("$name${value:+ $value}: exit $rc, $(head -1 <<<"$out")")
        fi
    done < <(sed 's/=/ /' <<<"$rows" | sort -u)
    if [ ${#bad[@]} -eq 0 ]; then ok "acdc $cmd accepts every option its help lists"
    else notok "acdc $cmd refuses options its help lists" "${bad[@]}"; fi
done

# The shared simulation options: the same rows, word for word, in simulate and sweep.
sweep=$("$ACDC" sweep --help | sed -n "/simulate's options/,/^  -h, --help/p" | sed '1d;$d')
simulate=$("$ACDC" simulate --help)
shared=$(labels <<<"$sweep" | wc -l)
if [ "$shared" -ge 12 ] && [[ "$simulate" == *"$sweep"* ]]; then
    ok "simulate and sweep list the $shared shared options alike"
else
    notok "simulate and sweep differ in the shared options ($shared rows in sweep)"
fi
