#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/hostile.sh -- hostile inputs and environments (TAP): a full disk, a FIFO or a
# device where a file is expected, labels out of range, numbers that overflow, absurd
# sizes, a resume on other data, overrides of the wrong kind, very long paths.
# Each case checks the exit code and the one-line message naming the file or row.
# The full-disk cases mount a 64 KiB tmpfs in a private mount namespace (root only);
# elsewhere they are skipped, visibly.
set -u
BUILD=${BUILD:-build}
ACDC=$(cd "$(dirname "$BUILD/acdc")" && pwd)/acdc
T=$(mkdir -p "$BUILD/tests" && cd "$BUILD/tests" && pwd)/hostile-tmp
PY=/usr/bin/python3
rm -rf "$T" && mkdir -p "$T"
. tests/tap.bash

"$PY" - "$T" <<'PYEOF' || { echo "not ok 1 - fixtures (needs python3-h5py)"; exit 0; }
import sys, h5py, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(16)
def data(name, x, labels=None):
    with h5py.File(f"{d}/{name}", "w") as f:
        f["x"] = x
        if labels is not None:
            f["labels"] = np.asarray(labels, dtype=np.int64)
x = rng.uniform(0, 1, (24, 8))
data("data.h5", x, rng.integers(0, 4, 24))
data("other.h5", rng.uniform(0, 1, (24, 8)), rng.integers(0, 4, 24))
lab = rng.integers(0, 4, 24); lab[17] = 9999
data("label9999.h5", x, lab)
lab = rng.integers(0, 4, 24); lab[5] = -1
data("labelneg.h5", x, lab)
lab = rng.integers(0, 4, 24); lab[3] = 2**63 - 1
data("labelmax.h5", x, lab)
big = x.copy(); big[11, 2] = 1e308
data("huge.h5", big, rng.integers(0, 4, 24))
big = x.copy(); big[7, 0] = -1e200
data("big.h5", big, rng.integers(0, 4, 24))
data("big-rows.h5", rng.uniform(0, 1, (4000, 8)), rng.integers(0, 4, 4000))
PYEOF
"$ACDC" init -o "$T/blowup.h5" --n 8 --layers 2 --relu --perm --bias d --n-out 4 \
    --seed 7 >/dev/null && "$PY" - "$T/blowup.h5" <<'PYEOF' || { echo "not ok 1 - fixtures"; exit 0; }
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:   # finite weights whose product overflows
    for l in ("0", "1"):
        a = f[f"layers/{l}/a"][...]; a[:] = 1e300
        f[f"layers/{l}/a"][...] = a
PYEOF
"$ACDC" init -o "$T/model.h5" --n 8 --layers 2 --relu --perm --bias d --n-out 4 \
    --seed 7 >/dev/null &&
    "$ACDC" compile "$T/model.h5" -o "$T/sys.h5" --device slm8 >/dev/null ||
    { echo "not ok 1 - init and compile the test system"; exit 0; }
M=$T/model.h5 S=$T/sys.h5 D=$T/data.h5

# --- class 4: a full disk.  Each command writes into a 64 KiB tmpfs whose free space was
# cut to 8 KiB by a filler, must exit 1 with one line saying so, not crash, and leave
# nothing but the filler behind.
full() {
    local what=$1; shift
    local dir=$T/full out
    mkdir -p "$dir"
    # HDF5's own block after a failed H5Fcreate is not this project's leak (the file
    # says why); every other leak still fails under the sanitizers
    out=$(LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$PWD/tests/lsan-hdf5.supp:print_suppressions=0" \
        unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs "$1" || exit 99
        head -c 57344 /dev/zero >"$1/filler" 2>/dev/null
        shift; "$@" </dev/null 2>&1 >/dev/null; rc=$?
        echo "rc=$rc left=$(ls "$(dirname "$0")/full" | grep -v "^filler$" | tr "\n" " ")"' \
        "$T/x" "$dir" "$@")
    local last=${out##*$'\n'} msg=${out%$'\n'*}
    if [[ "$last" != "rc=1 left=" ]]; then
        notok "full disk: $what: $last (expected rc=1, nothing left)" "$msg"
    elif [ "$(printf '%s\n' "$msg" | wc -l)" != 1 ] ||
        [[ "$msg" != *"No space left on device"* ]] || [[ "$msg" == *acdc-tmp* ]]; then
        notok "full disk: $what: expected one line with 'No space left on device', naming the output (not its temporary)" "$msg"
    else
        ok "full disk: $what"
    fi
}
if [ "$(id -u)" = 0 ] && unshare -m sh -c "mount -t tmpfs -o size=64k tmpfs '$T'" 2>/dev/null
then
    F=$T/full
    full init "$ACDC" init -o "$F/m.h5" --n 256 --layers 40
    full compile "$ACDC" compile "$M" -o "$F/s.h5" --device slm8
    full infer "$ACDC" infer "$M" "$T/big-rows.h5" -o "$F/y.h5"
    full simulate "$ACDC" simulate "$S" "$T/big-rows.h5" -o "$F/r.h5"
    full train "$ACDC" train --task classify --data "$T/big-rows.h5" -n 256 -K 20 -e 1 \
        --val 0 -o "$F/t.h5"
    full sweep "$ACDC" sweep "$S" "$D" -o "$F/w.h5" --vary photons=1e3:1e6:400 --trials 1
else
    echo "# skipped: the full-disk cases need root and mount namespaces (unshare -m)"
fi

# --- class 7: what blocks -- a FIFO or a device where a file is expected is refused at
# once (timeout guards the test itself), whatever reads it.
mkfifo "$T/p.fifo" "$T/p.ini" "$T/p.h5"
hang() { local what=$1 text=$2; shift 2; local out rc
    out=$(timeout 10 "$ACDC" "$@" 2>&1 >/dev/null </dev/null); rc=$?
    if [ "$rc" = 1 ] && [[ "$out" == *"$text"* ]] && [ "$(wc -l <<<"$out")" = 1 ]; then
        ok "no hang: $what"
    else
        notok "no hang: $what: exit $rc (expected 1 and '$text')" "$out"
    fi; }
hang "profile FIFO" "cannot open '$T/p.ini': not a regular file (a FIFO)" \
    compile "$M" -o "$T/x.h5" -d "$T/p.ini"
hang "model FIFO" "cannot open '$T/p.h5': not a regular file (a FIFO)" \
    infer "$T/p.h5" "$D" -o "$T/x.h5"
hang "data FIFO" "cannot open '$T/p.h5': not a regular file (a FIFO)" \
    infer "$M" "$T/p.h5" -o "$T/x.h5"
hang "train data FIFO" "cannot open '$T/p.fifo': not a regular file (a FIFO)" \
    train --task classify --data "$T/p.fifo" -o "$T/x.h5"
hang "IDX labels FIFO" "cannot open '$T/p.fifo': not a regular file (a FIFO)" \
    eval "$M" "$T/p.fifo"
hang "system FIFO" "cannot open '$T/p.h5': not a regular file (a FIFO)" \
    sweep "$T/p.h5" "$D" -o "$T/x.h5" --vary photons=1e3:1e4:2
hang "data a device" "cannot open '/dev/zero': not a regular file (a character device)" \
    simulate "$S" /dev/zero -o "$T/x.h5"
hang "inspect FIFO" "not a regular file (a FIFO)" inspect "$T/p.h5"

# --- classes 7 and 9: labels are data, checked when read against the model's classes:
# exit 1 naming the file and the row (no 10001 x 10001 confusion matrix, no overflow)
L=$T/label9999.h5
case_ 1 "'$L': row 17 has label 9999, outside the classes 0..3 of the model" \
    infer "$M" "$L" -o "$T/x.h5"
case_ 1 "'$L': row 17 has label 9999, outside the classes 0..3 of the model" eval "$M" "$L"
case_ 1 "'$L': row 17 has label 9999, outside the classes 0..3 of the system" \
    simulate "$S" "$L" -o "$T/x.h5"
case_ 1 "'$L': row 17 has label 9999, outside the classes 0..3 of the system" \
    sweep "$S" "$L" -o "$T/x.h5" --vary photons=1e3:1e4:2
case_ 1 "'$L': row 17 has label 9999, outside the classes 0..3 of the system" \
    tolerance "$S" "$L" -o "$T/x.h5"
case_ 1 "'$L': row 17 has label 9999, outside the classes 0..3 of --classes" \
    train --task classify --data "$L" --classes 4 -e 1 -o "$T/x.h5"
case_ 1 "'$L': row 17 has label 9999, outside the classes 0..7 of a layer of n = 8" \
    train --task classify --data "$L" -e 1 -o "$T/x.h5"
case_ 1 "'$T/labelneg.h5': row 5 has label -1" infer "$M" "$T/labelneg.h5" -o "$T/x.h5"
case_ 1 "'$T/labelneg.h5': row 5 has label -1" \
    train --task classify --data "$T/labelneg.h5" -e 1 -o "$T/x.h5"
case_ 1 "'$T/labelmax.h5': row 3 has label 9223372036854775807" \
    train --task classify --data "$T/labelmax.h5" -e 1 -o "$T/x.h5"
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }
check "nothing written on a refused label" test ! -e "$T/x.h5"

# --- class 8: numbers that overflow -- refused on the way in (|x| > 1e150) and in flight
H=$T/huge.h5
for cmd in "infer $M $H -o $T/x.h5" "eval $M $H" "simulate $S $H -o $T/x.h5" \
    "sweep $S $H -o $T/x.h5 --vary photons=1e3:1e4:2" "tolerance $S $H -o $T/x.h5" \
    "train --task classify --data $H -e 1 -o $T/x.h5"; do
    # shellcheck disable=SC2086
    case_ 1 "'/x' in '$H': row 11, column 2 is 1e+308, beyond the bound 1e+150" $cmd
done
case_ 1 "'/x' in '$T/big.h5': row 7, column 0 is -1e+200" infer "$M" "$T/big.h5" -o "$T/x.h5"
case_ 1 "the outputs for '$D': row 0 is not finite" infer "$T/blowup.h5" "$D" -o "$T/x.h5"
case_ 1 "the model's outputs: row 0 is not finite" eval "$T/blowup.h5" "$D"
check "nothing written on a refused number" test ! -e "$T/x.h5"

# --- class 10: memory estimated before allocating, the estimate in the message
case_ 1 "a model of 100 layers of 100000000 needs 1" init -o "$T/x.h5" --n 100000000 --layers 100
avail_gib=$(awk '/MemAvailable/ {print int($2 / 1048576)}' /proc/meminfo 2>/dev/null)
if [ -n "$avail_gib" ] && [ "$avail_gib" -lt 30 ]; then
    case_ 1 "a sweep of 100000000 points needs" sweep "$S" "$D" -o "$T/x.h5" \
        --vary photons=1e3:1e6:10000 --vary phase-error=0:0.1rad:10000
else
    echo "# skipped: the 10^8-point sweep estimate (33 GiB) fits in ${avail_gib:-?} GiB here"
fi
check "nothing written on a refused allocation" test ! -e "$T/x.h5"

# --- class 11: a resume on other data of the same shape is refused, naming what differs
R=$T/resume
mkdir -p "$R"
"$ACDC" train --task classify --data "$D" -e 1 --val 0 -q -o "$R/m.h5" \
    --checkpoint "$R/c.h5" >/dev/null 2>&1
case_ 0 "-" train --task classify --data "$D" -e 2 --val 0 -q -o "$R/m.h5" \
    --checkpoint "$R/c.h5" --resume
case_ 1 "checkpoint '$R/c.h5' was trained on other data than '$T/other.h5' ('x=" \
    train --task classify --data "$T/other.h5" -e 3 --val 0 -q -o "$R/m.h5" \
    --checkpoint "$R/c.h5" --resume
"$PY" - "$D" "$R/relabel.h5" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "w") as g:
    g["x"] = f["x"][...]
    g["labels"] = (f["labels"][...] + 1) % 4
PYEOF
case_ 1 "other data than '$R/relabel.h5' ('labels=" \
    train --task classify --data "$R/relabel.h5" -e 3 --val 0 -q -o "$R/m.h5" \
    --checkpoint "$R/c.h5" --resume
"$PY" -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r+'); del f['train'].attrs['data']" \
    "$R/c.h5"
case_ 0 "warning: checkpoint '$R/c.h5' predates data fingerprints" \
    train --task classify --data "$T/other.h5" -e 3 --val 0 -q -o "$R/m.h5" \
    --checkpoint "$R/c.h5" --resume

# --- class 12: a profile key's range is read by the profile's own parser
case_ 2 "'camera.adc_bits': '0x4' is not an integer" \
    sweep "$S" "$D" -o "$T/x.h5" --vary camera.adc_bits=0x4:0x10
case_ 2 "'profile.name' is a text value, not a number" \
    sweep "$S" "$D" -o "$T/x.h5" --vary profile.name=1:2
case_ 2 "'lens.model' is a text value, not a number" \
    sweep "$S" "$D" -o "$T/x.h5" --vary lens.model=1:2
case_ 0 "wrote" sweep "$S" "$D" -o "$R/w.h5" --vary camera.adc_bits=4:10:2 --trials 1

# --- class 13: a message never loses its reason to a long path; one line
long=$T/$(printf 'a%.0s' $(seq 5000)).h5
out=$("$ACDC" init -o "$long" --n 8 --layers 1 2>&1 >/dev/null); rc=$?
if [ "$rc" = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && [[ "$out" == *"...a"*".h5': File name too long" ]]
then ok "long path: the reason kept, the path cut in the middle"
else notok "long path: exit $rc" "${out:0:100}...${out: -100}"; fi
out=$("$ACDC" infer "$long" "$D" -o "$T/x.h5" 2>&1 >/dev/null); rc=$?
if [ "$rc" = 1 ] && [[ "$out" == *".h5': File name too long" ]] && [ "${#out}" -lt 1100 ]
then ok "long input path: the reason kept"
else notok "long input path: exit $rc" "${out:0:100}...${out: -100}"; fi

echo "1..$i"
