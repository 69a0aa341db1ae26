#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/export.sh -- `acdc export` (TAP): every mask rebuilt from the exported images,
# drive tables and layouts alone equals the system file's device codes bit for bit
# (tests/export_check.py, which reads PNGs with Pillow and GDSII with libGDSII's
# GDSIIConvert), 1D and 2D, phase, complex, amplitude and fabricated devices; the build
# sheet lists every element; bad inputs exit 1 with one line.
set -u
BUILD=${BUILD:-build}
ACDC=$BUILD/acdc
T=$BUILD/tests/export-tmp
PY=/usr/bin/python3
export ACDC_PYTHON=$PY   # Debian's python3, which has gdspy (tests/README.md)
rm -rf "$T" && mkdir -p "$T"
. tests/tap.bash

# check NAME SYSTEM DIR: export_check on a folder
check() {
    local out
    if out=$("$PY" tests/export_check.py "$2" "$3" 2>&1); then
        ok "$1: $out"
    else
        notok "$1" "$out"
    fi
}

# one line on stderr, nothing on it but the error
one_line() {   # NAME EXIT ARGS...
    local name=$1 code=$2; shift 2
    local err rc
    err=$("$ACDC" "$@" 2>&1 >/dev/null </dev/null); rc=$?
    if [ "$rc" = "$code" ] && [ "$(wc -l <<<"$err")" = 1 ] && [[ "$err" == "acdc export: error: "* ]]; then
        ok "$name: exit $rc, '$err'"
    else
        notok "$name: exit $rc (expected $code) with $(wc -l <<<"$err") lines" "$err"
    fi
}

case_ 0 "usage: acdc export" export --help
"$ACDC" init -o "$T/chain.h5" --n 16 --layers 3 >/dev/null
"$ACDC" init -o "$T/deep.h5" --n 16 --layers 3 --relu --perm >/dev/null
"$ACDC" init -o "$T/sq.h5" --transform dct2 --shape 8x8 --layers 3 --relu --perm >/dev/null
compile() {   # OUT MODEL PROFILE [ARGS]
    local o=$1 m=$2 p=$3; shift 3
    "$ACDC" compile "$m" --device "$p" "$@" -o "$T/$o.h5" >/dev/null 2>&1 ||
        notok "compile $m for $p" "$("$ACDC" compile "$m" --device "$p" "$@" -o "$T/$o.h5" 2>&1 | tail -1)"
}
# 1D: a chain of three stages (point design: image-plane masks between them) on phase,
# complex, amplitude and fabricated devices; pixel-aware chains of one layer each
compile p8 "$T/chain.h5" slm8 --set rules.fourier_oversample=0
compile c8 "$T/chain.h5" slm8-complex --set rules.fourier_oversample=0
compile a8 "$T/chain.h5" amplitude-slm --set rules.fourier_oversample=0
compile d8 "$T/chain.h5" doe --set rules.fourier_oversample=0
compile r8 "$T/deep.h5" slm8
compile rd "$T/deep.h5" doe
# 2D: superpixels, planes tiled on the 1080p devices; a 2D DOE
compile q2 "$T/sq.h5" slm1080
compile qd "$T/sq.h5" doe
# the shipped models as the README shows them
compile f8 examples/data/fashion-acdc.h5 slm8
compile f2 examples/data/fashion-acdc2d.h5 slm1080
for s in p8 c8 a8 d8 r8 rd q2 qd f8 f2; do
    case_ 0 "wrote" export "$T/$s.h5" -o "$T/out-$s"
    check "$s" "$T/$s.h5" "$T/out-$s"
done
ls "$T/out-d8"/*.gds >/dev/null 2>&1 && ok "DOE layouts written" || notok "DOE layouts written"
ls "$T/out-c8"/fourier-0-amplitude.png "$T/out-c8"/fourier-0-phase.png >/dev/null 2>&1 &&
    ok "a complex device: two images per plane" || notok "a complex device: two images per plane"

# a transmissive device is not mirrored, and the check still holds
compile t8 "$T/chain.h5" slm8 --set rules.fourier_oversample=0 --set fourier.reflective=no \
    --set image.reflective=no
case_ 0 "wrote" export "$T/t8.h5" -o "$T/out-t8" -q
awk -F'\t' '!/^#/ && $1 != "input" && $8 != 0 {bad = 1} END {exit bad}' "$T/out-t8/manifest.tsv" &&
    ok "transmissive devices: manifest says not mirrored" ||
    notok "transmissive devices: manifest says not mirrored"
check "t8 (transmissive)" "$T/t8.h5" "$T/out-t8"
cmp -s "$T/out-t8/fourier-0.png" "$T/out-p8/fourier-0.png" &&
    notok "the mirrored image differs from the unmirrored one" ||
    ok "the mirrored image differs from the unmirrored one"

# a user drive table: 2 pi over grey 0..199 of an 8-bit device (a panel that reaches
# more than 2 pi), the rest left out; 10-bit phase: a 16-bit image
"$PY" -c "
import math
for g in range(200): print(g, 2 * math.pi * g / 200)" > "$T/lut200.txt"
compile u8 "$T/chain.h5" slm8 --set rules.fourier_oversample=0 --set fourier.phase_bits=7 \
    --set "fourier.lut=$T/lut200.txt"
case_ 0 "wrote" export "$T/u8.h5" -o "$T/out-u8" -q
check "u8 (drive table file)" "$T/u8.h5" "$T/out-u8"
awk '!/^#/ && $1 > 199 {bad = 1} END {exit bad}' "$T/out-u8/lut-fourier.txt" &&
    ok "the drive table's greys stay in the table" || notok "the drive table's greys stay in the table"
compile w8 "$T/chain.h5" slm8 --set rules.fourier_oversample=0 --set fourier.phase_bits=10
case_ 0 "wrote" export "$T/w8.h5" -o "$T/out-w8" -q
check "w8 (10-bit phase, 16-bit image)" "$T/w8.h5" "$T/out-w8"
"$PY" -c "
from PIL import Image; import sys
sys.exit(0 if Image.open('$T/out-w8/fourier-0.png').mode.startswith('I') else 1)" &&
    ok "10 device bits: a 16-bit PNG" || notok "10 device bits: a 16-bit PNG"

# bad inputs: one line, exit 1 (data) or 2 (usage)
"$ACDC" compile "$T/chain.h5" --device ideal -o "$T/ideal.h5" >/dev/null
one_line "ideal profile: nothing to export" 1 export "$T/ideal.h5" -o "$T/out-ideal"
one_line "missing system" 1 export "$T/none.h5" -o "$T/out-none"
one_line "output is the input (issue 16: exit 2)" 2 export "$T/p8.h5" -o "$T/p8.h5"
[ -s "$T/p8.h5" ] && "$ACDC" inspect "$T/p8.h5" >/dev/null && ok "the input named as output is intact" ||
    notok "the input named as output is intact"
one_line "output folder cannot be made" 1 export "$T/p8.h5" -o "$T/no/such/dir"
mkdir -p "$T/ro" && chmod 555 "$T/ro"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ACDC" export "$T/p8.h5" -o "$T/ro" 2>&1 >/dev/null); rc=$?
    [ "$rc" = 1 ] && [ "$(wc -l <<<"$err")" = 1 ] && ok "unwritable folder: '$err'" ||
        notok "unwritable folder: exit $rc" "$err"
elif [ "$(id -u)" != 0 ]; then
    one_line "unwritable folder" 1 export "$T/p8.h5" -o "$T/ro"
fi
ls "$T/ro" | grep -q . && notok "nothing left in the unwritable folder" || ok "nothing left in the unwritable folder"
echo "1 0.0" > "$T/lut-coarse.txt"; echo "2 3.1" >> "$T/lut-coarse.txt"
compile k8 "$T/chain.h5" slm8 --set rules.fourier_oversample=0 --set "fourier.lut=$T/lut-coarse.txt"
one_line "a drive table that cannot show every level" 1 export "$T/k8.h5" -o "$T/out-k8"
printf '0 0\n0 1\n' > "$T/lut-twice.txt"
compile k9 "$T/chain.h5" slm8 --set rules.fourier_oversample=0 --set "fourier.lut=$T/lut-twice.txt"
one_line "a grey given twice" 1 export "$T/k9.h5" -o "$T/out-k9"
compile k10 "$T/chain.h5" slm8 --set rules.fourier_oversample=0 --set "fourier.lut=$T/nolut.txt"
one_line "a drive table that is missing" 1 export "$T/k10.h5" -o "$T/out-k10"
err=$(ACDC_PYTHON=/nonexistent/python3 "$ACDC" export "$T/d8.h5" -o "$T/out-nopy" 2>&1 >/dev/null); rc=$?
[ "$rc" = 1 ] && [ "$(wc -l <<<"$err")" = 1 ] && [[ "$err" == *"python3-gdspy"* ]] &&
    ok "no python for the layouts: '$err'" || notok "no python for the layouts: exit $rc" "$err"
case_ 0 "wrote" export "$T/d8.h5" -o "$T/out-nogds" --no-gds
ls "$T/out-nogds"/*.gds >/dev/null 2>&1 && notok "--no-gds writes no layout" || ok "--no-gds writes no layout"
ls "$T"/out-*/*.tmp* >/dev/null 2>&1 && notok "no temporaries left" || ok "no temporaries left"
case_ 2 "no output folder" export "$T/p8.h5"
case_ 2 "expected one SYSTEM.h5" export -o "$T/x"
