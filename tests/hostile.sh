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
    out=$(unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs "$1" || exit 99
        head -c 57344 /dev/zero >"$1/filler" 2>/dev/null
        shift; "$@" </dev/null 2>&1 >/dev/null; rc=$?
        echo "rc=$rc left=$(ls "$(dirname "$0")/full" | grep -v "^filler$" | tr "\n" " ")"' \
        "$T/x" "$dir" "$@")
    local last=${out##*$'\n'} msg=${out%$'\n'*}
    if [[ "$last" != "rc=1 left=" ]]; then
        notok "full disk: $what: $last (expected rc=1, nothing left)" "$msg"
    elif [ "$(printf '%s\n' "$msg" | wc -l)" != 1 ] ||
        [[ "$msg" != *"No space left on device"* ]]; then
        notok "full disk: $what: expected one line with 'No space left on device'" "$msg"
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

echo "1..$i"
