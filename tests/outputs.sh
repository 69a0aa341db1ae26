#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/outputs.sh -- the rules every command's outputs follow (util/output.h, issue 16),
# TAP:
#   1. an output that names an input -- by the same path, through a symbolic link, through
#      a hard link, inside an output folder, in an input folder of IDX files -- exits 2
#      naming both, the input unchanged; every command of `acdc --help` has such a case
#      here (or is listed as writing nothing), so a command added later must join;
#   2. a destination that is not a regular file is written into, never replaced:
#      /dev/full gives exit 1 with "No space left on device" and stays a device (root
#      only); a FIFO receives the whole file;
#   3. two runs writing one file: the second exits 1 naming the first one's PID; a lock
#      file left by a killed process is taken over and removed;
#   5. SIGINT and SIGTERM at several moments of compile, infer, init, simulate, sweep and
#      train, the last right at the end: exit 3 (or 0, finished), no temporary or lock
#      left, the destination absent or complete (`acdc inspect` reads it);
#   6. a stale temporary of a dead process is removed by the next write to the same
#      destination; one of a live process is not.
set -u
BUILD=${BUILD:-build}
ACDC=$(cd "$(dirname "$BUILD/acdc")" && pwd)/acdc
T=$BUILD/tests/outputs-tmp
PY=/usr/bin/python3
rm -rf "$T" && mkdir -p "$T"
. tests/tap.bash

"$PY" - "$T" <<'EOF' || { notok "fixtures (needs python3-h5py)"; exit 0; }
import sys, h5py, numpy as np, struct
t = sys.argv[1]
r = np.random.default_rng(16)
with h5py.File(t + "/d.h5", "w") as f:
    f["x"] = r.standard_normal((60, 16))
    f["labels"] = r.integers(0, 4, 60).astype(np.int64)
with h5py.File(t + "/big.h5", "w") as f:
    f["x"] = r.standard_normal((2500, 256))
import os
os.makedirs(t + "/idx")
for stem in ("train", "t10k"):
    img = r.integers(0, 256, (40, 4, 4)).astype(np.uint8)
    lab = r.integers(0, 4, 40).astype(np.uint8)
    with open(f"{t}/idx/{stem}-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 40, 4, 4) + img.tobytes())
    with open(f"{t}/idx/{stem}-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 0x801, 40) + lab.tobytes())
EOF
D=$T/d.h5 M=$T/m.h5 S=$T/s.h5 R=$T/r.h5
"$ACDC" init -o "$M" --n 16 --layers 2 >/dev/null &&
    "$ACDC" compile "$M" -o "$S" --device slm8 -q >/dev/null &&
    "$ACDC" simulate "$S" "$D" -o "$R" --no-noise >/dev/null ||
    { notok "fixtures: init, compile, simulate"; exit 0; }

sum() { md5sum <"$1" | cut -d' ' -f1; }

# --- 1. an output that names an input ----------------------------------------------
# refuse CMD INPUT ARGS...: the ARGS with @ standing for the output, run three times --
# @ = INPUT, a symbolic link to it, a hard link to it -- each must exit 2 with a line
# naming both and leave INPUT as it was.
covered=" "
refuse() {
    local cmd=$1 input=$2; shift 2
    covered="$covered$cmd "
    local before dir base how out a args err rc
    before=$(sum "$input")
    dir=$(dirname "$input") base=$(basename "$input")
    for how in path symlink hardlink; do
        case $how in
            path) out=$input ;;
            symlink) out=$dir/sym-$base; rm -f "$out"; ln -s "$base" "$out" ;;
            hardlink) out=$dir/hard-$base; rm -f "$out"; ln "$input" "$out" ;;
        esac
        args=()
        for a in "$@"; do args+=("${a//@/$out}"); done
        err=$("$ACDC" "$cmd" "${args[@]}" 2>&1 >/dev/null </dev/null); rc=$?
        if [ "$rc" = 2 ] && [[ "$err" == *"'$out'"*"'$input'"* || "$err" == *"'$input'"*"'$out'"* ||
              ( "$out" = "$input" && "$err" == *"'$input'"* ) ]] &&
            [ "$(sum "$input")" = "$before" ] && [ "$(wc -l <<<"$err")" = 1 ]; then
            ok "$cmd, output = input ($how): exit 2, '$err'"
        else
            notok "$cmd, output = input ($how) ${args[*]}: exit $rc" "$err" \
                "input $( [ "$(sum "$input")" = "$before" ] && echo unchanged || echo CHANGED)"
        fi
        [ "$how" = path ] || rm -f "$out"
    done
}
refuse compile "$M" "$M" -o @
refuse compile "$D" "$M" --verify "$D" -o @ --device slm8
refuse eval "$D" "$M" "$D" -o @
refuse eval "$M" "$M" "$D" -o @
refuse eval "$T/idx/t10k-images-idx3-ubyte" "$M" "$T/idx" -o @
refuse infer "$M" "$M" "$D" -o @
refuse infer "$D" "$M" "$D" -o @
refuse simulate "$S" "$S" "$D" -o @
refuse simulate "$D" "$S" "$D" -o @
refuse sweep "$S" "$S" "$D" -o @ --vary photons=1e2:1e4:2 --restart
refuse sweep "$D" "$S" "$D" -o @ --vary photons=1e2:1e4:2
refuse tolerance "$D" "$S" "$D" -o @ --only gain-rms
cp "$D" "$T/dfig.png"
refuse tolerance "$T/dfig.png" "$S" "$T/dfig.png" -o "$T/tol.h5" --plot @ --only gain-rms
refuse train "$D" --task classify --data "$D" -e 1 -o @
refuse train "$T/idx/train-images-idx3-ubyte" --task classify --data "$T/idx" -e 1 \
    -o "$T/t.h5" --checkpoint @
refuse train "$T/idx/train-labels-idx1-ubyte" --task classify --data "$T/idx" -e 1 -o @
refuse train "$M" --task classify --data "$D" --init "$M" -e 1 -o "$T/t.h5" --checkpoint @
refuse export "$S" "$S" -o @ --no-gds
cp "$R" "$T/rfig.png"
refuse plot "$T/rfig.png" "$T/rfig.png" -o @

# an input inside an output folder, named as a file the command writes there
mkdir -p "$T/exp" && cp "$S" "$T/exp/camera.tsv"
before=$(sum "$T/exp/camera.tsv")
err=$("$ACDC" export "$T/exp/camera.tsv" -o "$T/exp" --no-gds 2>&1 >/dev/null); rc=$?
[ "$rc" = 2 ] && [[ "$err" == *"is the input"* ]] && [ "$(sum "$T/exp/camera.tsv")" = "$before" ] &&
    ok "export: an input inside the output folder, written there: exit 2, '$err'" ||
    notok "export: an input inside the output folder: exit $rc" "$err"
# two outputs that are one file
err=$("$ACDC" train --task operator -e 1 -o "$T/o.h5" --checkpoint "$T/./o.h5" 2>&1); rc=$?
[ "$rc" = 2 ] && ok "train: output and checkpoint one file: exit 2" ||
    notok "train: output and checkpoint one file: exit $rc" "$err"

# every command is covered (inspect writes nothing, init reads nothing)
for c in $("$ACDC" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 {print $1}'); do
    if [ "$c" = inspect ] || [ "$c" = init ] || [[ "$covered" == *" $c "* ]]; then
        ok "command '$c': output = input refused (or it reads or writes nothing)"
    else
        notok "command '$c' has no output = input case in tests/outputs.sh"
    fi
done

# --- 2. destinations that are not regular files -------------------------------------
if [ "$(id -u)" = 0 ] && [ -c /dev/full ]; then
    err=$("$ACDC" infer "$M" "$D" -o /dev/full 2>&1); rc=$?
    [ "$rc" = 1 ] && [[ "$err" == *"'/dev/full': No space left on device"* ]] && [ -c /dev/full ] &&
        ok "infer -o /dev/full: exit 1, '$err', still a device" ||
        notok "infer -o /dev/full: exit $rc" "$err" "$(ls -l /dev/full)"
    ln -sf /dev/full "$T/full.png"
    err=$("$ACDC" plot "$R" -o "$T/full.png" 2>&1); rc=$?
    [ "$rc" = 1 ] && [[ "$err" == *"No space left on device"* ]] && [ -c /dev/full ] &&
        [ -L "$T/full.png" ] && ok "plot -o a link to /dev/full: exit 1, '$err'" ||
        notok "plot -o a link to /dev/full: exit $rc" "$err" "$(ls -l /dev/full)"
else
    ok "# SKIP -o /dev/full needs root (a device node the test cannot replace otherwise)"
fi
leftover() { ls -A "${TMPDIR:-/tmp}" | grep -E "^\.full\.acdc-tmp\.[0-9]+$" | head -1; }
[ -z "$(leftover)" ] && ok "no temporary left in \$TMPDIR" || notok "temporary left" "$(leftover)"
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/from-fifo.h5" &
reader=$!
"$ACDC" infer "$M" "$D" -o "$T/fifo" >/dev/null 2>"$T/err"; rc=$?
wait "$reader"
[ "$rc" = 0 ] && [ -p "$T/fifo" ] && "$ACDC" inspect "$T/from-fifo.h5" >/dev/null 2>&1 &&
    ok "infer -o FIFO: the whole file went through it, still a FIFO" ||
    notok "infer -o FIFO: exit $rc" "$(cat "$T/err")"

# --- 3. two writers ------------------------------------------------------------------
W=$T/w.h5
sweep_long=(sweep "$S" "$D" -o "$W" --vary photons=1e2:1e6:400 --trials 3 -q)
"$ACDC" "${sweep_long[@]}" >/dev/null 2>"$T/err1" &
first=$!
for _ in $(seq 100); do [ -e "$T/.w.h5.acdc-lock" ] && break; sleep 0.05; done
err=$("$ACDC" sweep "$S" "$D" -o "$W" --vary photons=1e2:1e4:3 --trials 2 2>&1); rc=$?
[ "$rc" = 1 ] && [[ "$err" == *"'$W' is being written by another acdc (PID $first)"* ]] &&
    ok "a second sweep into one file: exit 1, '$err'" ||
    notok "a second sweep into one file: exit $rc (first PID $first)" "$err"
kill -INT "$first"; wait "$first"; rc=$?
[ "$rc" = 3 ] && ok "the first sweep, interrupted: exit 3" || notok "the first sweep: exit $rc" "$(cat "$T/err1")"
[ ! -e "$T/.w.h5.acdc-lock" ] && ok "no lock file left" || notok "lock file left"
# a lock file a killed process left: not locked, so taken over, then removed
echo 999999 >"$T/.w.h5.acdc-lock"
"$ACDC" infer "$M" "$D" -o "$W" >/dev/null 2>"$T/err"; rc=$?
[ "$rc" = 0 ] && [ ! -e "$T/.w.h5.acdc-lock" ] && ok "a stale lock file is taken over and removed" ||
    notok "stale lock file: exit $rc" "$(cat "$T/err")"

# --- 5. signals ------------------------------------------------------------------------
mkdir -p "$T/sig"
# handler_ready PID: waits until PID catches SIGINT (main() installed the handler)
handler_ready() {
    local m
    for _ in $(seq 400); do
        m=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 0
        [ -n "$m" ] && (( (16#$m >> 1) & 1 )) && return 0
        sleep 0.005
    done
}
# interrupt NAME OUT ARGS...: one uninterrupted run gives the span; then SIGINT and
# SIGTERM at 0, 1/3, 2/3 and all of it (right at the end)
interrupt() {
    local name=$1 out=$2; shift 2
    local t0 span sig frac delay pid rc left bad
    rm -rf "$T/sig" && mkdir -p "$T/sig"
    t0=$(date +%s%3N)
    "$ACDC" "$@" >/dev/null 2>&1 || notok "$name: uninterrupted run"
    span=$(( $(date +%s%3N) - t0 ))
    for sig in INT TERM; do
        for frac in 0 33 67 100; do
            rm -rf "$T/sig" && mkdir -p "$T/sig"
            delay=$(( span * frac / 100 ))
            "$ACDC" "$@" >/dev/null 2>"$T/err" </dev/null &
            pid=$!
            handler_ready "$pid"
            sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
            kill -s "$sig" "$pid" 2>/dev/null
            wait "$pid"; rc=$?
            bad=""
            [ "$rc" = 3 ] || [ "$rc" = 0 ] || bad="exit $rc: $(head -1 "$T/err")"
            left=$(ls -A "$T/sig" | grep -E '\.acdc-(tmp\.[0-9]+|lock)$' | tr '\n' ' ')
            [ -z "$left" ] || bad="$bad; left behind: $left"
            [ ! -e "$out" ] || "$ACDC" inspect "$out" >/dev/null 2>&1 || bad="$bad; '$out' incomplete"
            [ -z "$bad" ] && ok "$name: SIG$sig at ${delay} ms of ${span}: exit $rc, clean" ||
                notok "$name: SIG$sig at ${delay} ms of ${span}" "$bad"
        done
    done
}
interrupt compile "$T/sig/c.h5" compile "$M" -o "$T/sig/c.h5" --device slm8 --verify "$D" \
    --verify-rows 20 -q
"$ACDC" init -o "$T/m256.h5" --n 256 --layers 8 >/dev/null
interrupt infer "$T/sig/y.h5" infer "$T/m256.h5" "$T/big.h5" -o "$T/sig/y.h5"
interrupt init "$T/sig/i.h5" init -o "$T/sig/i.h5" --n 32768 --layers 16
interrupt simulate "$T/sig/r.h5" simulate "$S" "$D" -o "$T/sig/r.h5" --trials 3
interrupt sweep "$T/sig/w.h5" sweep "$S" "$D" -o "$T/sig/w.h5" --vary photons=1e2:1e6:5 \
    --trials 2 -q
interrupt train "$T/sig/t.h5" train --task classify --data "$D" -n 16 -K 2 -e 20 -q \
    -o "$T/sig/t.h5"

# --- 6. stale temporaries ------------------------------------------------------------
sh -c 'exit 0' & dead=$!; wait "$dead"
sleep 300 & live=$!
for f in y.h5 fig.png; do
    touch "$T/.$f.acdc-tmp.$dead" "$T/.$f.acdc-tmp.$live"
done
"$ACDC" infer "$M" "$D" -o "$T/y.h5" >/dev/null && "$ACDC" plot "$R" -o "$T/fig.png" >/dev/null
for f in y.h5 fig.png; do
    [ ! -e "$T/.$f.acdc-tmp.$dead" ] && ok "'$f': the temporary of dead PID $dead removed" ||
        notok "'$f': the temporary of dead PID $dead left"
    [ -e "$T/.$f.acdc-tmp.$live" ] && ok "'$f': the temporary of live PID $live kept" ||
        notok "'$f': the temporary of live PID $live removed"
done
kill "$live" 2>/dev/null; wait "$live" 2>/dev/null
rm -rf "$T"
