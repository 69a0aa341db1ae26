#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/kill.sh -- kills `acdc train` and `acdc sweep` at random moments (SIGINT,
# SIGTERM, SIGKILL; the moments come from a fixed seed) and checks that no kill leaves
# a corrupt output and that resuming ends at exactly the uninterrupted result (TAP).
#
# After each kill: the exit code is 3 (SIGINT/SIGTERM), killed (SIGKILL), 0 (the run
# had finished) or killed by SIGINT/SIGTERM before main() installed the handler (then no
# file may exist yet); the output and the checkpoint are each absent or a complete file that
# `acdc inspect` reads; SIGINT/SIGTERM leave no temporary (.NAME.acdc-tmp.PID) and no
# lock file (.NAME.acdc-lock).  A SIGKILL may leave both: the next run must take the
# lock over, and writing the same file again removes the dead process's temporary.  Then the run is resumed
# (train --resume, or sweep run again) and compared with the uninterrupted run: h5diff
# for the model (every value, exactly), every metric of the sweep (exactly).
# KILL_ROUNDS (default 12) kills per command.
set -u
BUILD=${BUILD:-build}
ACDC=$(cd "$(dirname "$BUILD/acdc")" && pwd)/acdc
T=$BUILD/tests/kill-tmp
PY=/usr/bin/python3
ROUNDS=${KILL_ROUNDS:-12}
rm -rf "$T" && mkdir -p "$T"
. tests/tap.bash
RANDOM=2385   # fixed seed: the same moments and signals every run
now_ms() { date +%s%3N; }
signals=(INT TERM KILL)

if ! command -v h5diff >/dev/null; then
    notok "h5diff (hdf5-tools) is installed"; exit 0
fi
"$PY" - "$T" <<'EOF' || { notok "fixtures"; exit 0; }
import sys, h5py, numpy as np
r = np.random.default_rng(2385)
with h5py.File(sys.argv[1] + "/data.h5", "w") as f:
    f["x"] = r.standard_normal((600, 16))
    f["labels"] = r.integers(0, 4, 600).astype(np.int64)
EOF
D=$T/data.h5

# A file is acceptable after a kill if it is absent or complete (inspect exits 0).
complete_or_absent() {
    [ ! -e "$1" ] && return 0
    "$ACDC" inspect "$1" >/dev/null 2>&1
}

# kill_one NAME SIGNAL DELAY_MS CMD...: starts CMD, kills it after DELAY_MS, sets rc.
kill_one() {
    local sig=$2 delay=$3; shift 3
    "$@" >/dev/null 2>"$T/err" </dev/null &
    local pid=$!
    sleep "$(printf '0.%03d' "$delay")"
    kill -s "$sig" "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null; rc=$?
}

# check_kill WHAT SIGNAL FILES...: exit code, files complete or absent, no temporaries.
check_kill() {
    local what=$1 sig=$2 f bad=""; shift 2
    case "$sig:$rc" in
        INT:3|TERM:3|KILL:137|*:0) ;;
        INT:130|TERM:143)
            # killed by the default action: the signal came before main() installed the
            # handler (it keeps it to the end); every file must be absent, or complete,
            # which the loop below checks
            ;;
        *) bad="exit $rc after SIG$sig: $(head -2 "$T/err")" ;;
    esac
    for f in "$@"; do
        complete_or_absent "$f" || bad="$bad; '$f' is not a complete file"
    done
    local left
    left=$(cd "$T/run" && ls -A | grep -E '\.acdc-(tmp\.[0-9]+|lock)$|\.tmp[0-9]+$' | head -2 | tr '\n' ' ')
    if [ "$sig" != KILL ] && [ -n "$left" ]; then
        bad="$bad; temporary or lock files left: $left"
    fi
    [ -z "$bad" ] && ok "$what" || notok "$what" "$bad"
}

# stale_after_resume WHAT: after a run that wrote every file again, no temporary of a
# dead process and no lock file is left in the run folder (a SIGKILL's leftovers).
stale_after_resume() {
    local left
    left=$(cd "$T/run" && ls -A | grep -E '\.acdc-(tmp\.[0-9]+|lock)$' | head -2 | tr '\n' ' ')
    [ -z "$left" ] || notok "$1: leftovers of the killed run removed by the next" "$left"
}

# --- acdc train -------------------------------------------------------------------
targs=(train --task classify --data "$D" -n 16 -K 2 -e 60 -b 16 --threads 1 -q)
t0=$(now_ms)
"$ACDC" "${targs[@]}" -o "$T/train-full.h5" >/dev/null 2>&1 || notok "uninterrupted training"
span=$(( $(now_ms) - t0 ))
[ "$span" -gt 999 ] && span=999
[ "$span" -lt 50 ] && span=50
kills=0
for r in $(seq "$ROUNDS"); do
    rm -rf "$T/run" && mkdir -p "$T/run"
    M=$T/run/m.h5; C=$T/run/m.ckpt.h5
    sig=${signals[$((RANDOM % 3))]}
    delay=$((RANDOM % span))
    kill_one train "$sig" "$delay" "$ACDC" "${targs[@]}" -o "$M"
    kills=$((kills + 1))
    check_kill "train: SIG$sig after ${delay} ms (exit $rc): output and checkpoint complete or absent" \
        "$sig" "$M" "$C"
    # resume from the checkpoint if there is one, else start again
    if [ ! -e "$M" ]; then
        if [ -e "$C" ]; then
            "$ACDC" "${targs[@]}" -o "$M" --resume >/dev/null 2>"$T/err"
        else
            "$ACDC" "${targs[@]}" -o "$M" >/dev/null 2>"$T/err"
        fi
        stale_after_resume "train: round $r"
    fi
    if h5diff -q "$T/train-full.h5" "$M" >/dev/null 2>&1; then
        ok "train: round $r resumed to the uninterrupted model"
    else
        notok "train: round $r resumed to the uninterrupted model" "$(head -2 "$T/err")" \
            "$(h5diff -c "$T/train-full.h5" "$M" 2>&1 | head -2)"
    fi
done

# --- acdc sweep -------------------------------------------------------------------
"$ACDC" compile "$T/train-full.h5" -o "$T/system.h5" --device slm8 >/dev/null 2>&1 ||
    notok "compile for the sweep"
sargs=(sweep "$T/system.h5" "$D" --vary photons=1e2:1e6:12 --trials 2 --rows 40 --threads 1)
t0=$(now_ms)
"$ACDC" "${sargs[@]}" -o "$T/sweep-full.h5" >/dev/null 2>&1 || notok "uninterrupted sweep"
span=$(( $(now_ms) - t0 ))
[ "$span" -gt 999 ] && span=999
[ "$span" -lt 50 ] && span=50
same_sweep() {
    "$PY" - "$1" "$2" <<'EOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
def same(g, h):
    assert set(g) == set(h), (sorted(g), sorted(h))
    for k in g:
        if isinstance(g[k], h5py.Group):
            same(g[k], h[k])
        elif k != "seconds":
            assert np.array_equal(g[k][()], h[k][()], equal_nan=g[k].dtype.kind == "f"), k
same(a, b)
EOF
}
for r in $(seq "$ROUNDS"); do
    rm -rf "$T/run" && mkdir -p "$T/run"
    W=$T/run/w.h5
    # every other round starts from a partly done sweep: a kill must keep that file
    if [ $((r % 2)) = 0 ]; then
        ACDC_SWEEP_INTERRUPT_AFTER=3 "$ACDC" "${sargs[@]}" -o "$W" >/dev/null 2>&1
    fi
    sig=${signals[$((RANDOM % 3))]}
    delay=$((RANDOM % span))
    kill_one sweep "$sig" "$delay" "$ACDC" "${sargs[@]}" -o "$W"
    kills=$((kills + 1))
    check_kill "sweep: SIG$sig after ${delay} ms (exit $rc): output complete or absent" "$sig" "$W"
    if [ $((r % 2)) = 0 ] && [ ! -e "$W" ]; then
        notok "sweep: round $r kept the partly done file"
    fi
    "$ACDC" "${sargs[@]}" -o "$W" >/dev/null 2>"$T/err"
    stale_after_resume "sweep: round $r"
    if same_sweep "$T/sweep-full.h5" "$W" 2>"$T/diff"; then
        ok "sweep: round $r resumed to the uninterrupted sweep"
    else
        notok "sweep: round $r resumed to the uninterrupted sweep" "$(head -2 "$T/err")" \
            "$(tail -1 "$T/diff")"
    fi
done
echo "# $kills kills"
rm -rf "$T"
