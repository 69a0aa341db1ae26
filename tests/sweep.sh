#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/sweep.sh -- command-line tests of `acdc sweep` and `acdc plot` (TAP).
# A tiny system (n = 8, 2 layers, slm8) and 24 labelled rows made with h5py keep every
# run short.  CLI_WRAPPER (e.g. valgrind) prefixes each run of acdc.
set -u
BUILD=${BUILD:-build}
ACDC=$(cd "$(dirname "$BUILD/acdc")" && pwd)/acdc
T=$BUILD/tests/sweep-tmp
PY=/usr/bin/python3
rm -rf "$T" && mkdir -p "$T"
. tests/tap.bash
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }
is_png() { [ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
# h5 FILE EXPR: evaluates a Python expression with f = the open file, np = numpy.
h5() { "$PY" -c "import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
sys.exit(0 if ($2) else 1)" "$1"; }

"$PY" - "$T" <<'EOF' || { echo "not ok 1 - fixtures (needs python3-h5py)"; exit 0; }
import sys, h5py, numpy as np
rng = np.random.default_rng(2385)
with h5py.File(sys.argv[1] + "/data.h5", "w") as f:
    f["x"] = rng.uniform(0, 1, (24, 8))
    f["labels"] = rng.integers(0, 4, 24)
with h5py.File(sys.argv[1] + "/nolabels.h5", "w") as f:
    f["x"] = rng.uniform(0, 1, (24, 8))
EOF
"$ACDC" init -o "$T/model.h5" --n 8 --layers 2 --relu --perm --bias d --n-out 4 \
    --seed 7 >/dev/null &&
    "$ACDC" compile "$T/model.h5" -o "$T/sys.h5" --device slm8 >/dev/null ||
    { echo "not ok 1 - init and compile the test system"; exit 0; }
S=$T/sys.h5 D=$T/data.h5

case_ 0 "usage: acdc sweep" sweep --help
case_ 0 "usage: acdc plot" plot --help
# usage errors: exit 2, nothing written
case_ 2 "expected NAME=FROM:TO" sweep "$S" "$D" -o "$T/u.h5" --vary photons
case_ 2 "expected NAME=FROM:TO" sweep "$S" "$D" -o "$T/u.h5" --vary photons=1e3
case_ 2 "expected NAME=FROM:TO" sweep "$S" "$D" -o "$T/u.h5" --vary photons=1e3:1e5:4:8:9
case_ 2 "more than 10000: give STEPS" sweep "$S" "$D" -o "$T/u.h5" --vary camera.pixels=1:200000
case_ 2 "'1e3x' is not a number" sweep "$S" "$D" -o "$T/u.h5" --vary photons=1e3x:1e5
case_ 2 "unknown parameter 'colour'" sweep "$S" "$D" -o "$T/u.h5" --vary colour=1:2
case_ 2 "FROM 1e+06 is larger than TO 1000" sweep "$S" "$D" -o "$T/u.h5" --vary photons=1e6:1e3
case_ 2 "0 is outside" sweep "$S" "$D" -o "$T/u.h5" --vary phase-bits=1:4:0
case_ 2 "log spacing needs FROM > 0" sweep "$S" "$D" -o "$T/u.h5" --vary phase-error=0:1:4:log
case_ 2 "repeat values" sweep "$S" "$D" -o "$T/u.h5" --vary phase-bits=1:3:9
case_ 2 "17 is outside" sweep "$S" "$D" -o "$T/u.h5" --vary phase-bits=1:17
case_ 2 "unknown key 'colour'" sweep "$S" "$D" -o "$T/u.h5" --vary fourier.colour=1:2
case_ 2 "camera.adc_bits" sweep "$S" "$D" -o "$T/u.h5" --vary camera.adc_bits=8:40
case_ 2 "given twice" sweep "$S" "$D" -o "$T/u.h5" --vary photons=1:2 --vary photons=1:3
case_ 2 "at most two" sweep "$S" "$D" -o "$T/u.h5" --vary photons=1:2 --vary phase-bits=1:2 --vary phase-error=0:1
case_ 2 "nothing to vary" sweep "$S" "$D" -o "$T/u.h5"
case_ 2 "no output file" sweep "$S" "$D" --vary photons=1e2:1e4
case_ 2 "unknown option" sweep "$S" "$D" -o "$T/u.h5" --vary photons=1e2:1e4 --frob
check "no file after usage errors" test ! -e "$T/u.h5"
case_ 1 "cannot" sweep "$T/none.h5" "$D" -o "$T/u.h5" --vary photons=1e2:1e4

# a one-parameter sweep: log-spaced photons, mean and sd of every metric
case_ 0 "wrote '$T/ph.h5': 5 points, 3 trials each" sweep "$S" "$D" -o "$T/ph.h5" \
    --vary photons=1e2:1e6 --trials 3
check "photons are log-spaced, every point done, labelled metrics kept" h5 "$T/ph.h5" \
    "f.attrs['format'] == 'acdc-sweep' and np.allclose(f['params/0/values'][:], [1e2, 1e3, 1e4, 1e5, 1e6]) and f['done'][:].all() and 'acc_optical' in f['metrics'] and f['stages/1/rel_rms/sd'].shape == (5,)"
check "shot noise: the relative error falls from 1e2 to 1e4 photons" h5 "$T/ph.h5" \
    "f['metrics/rel_rms/mean'][0] > 2 * f['metrics/rel_rms/mean'][2] and (f['metrics/rel_rms/sd'][:] > 0).all()"
case_ 0 "phase_bits" sweep "$S" "$T/nolabels.h5" -o "$T/nl.h5" --vary fourier.phase_bits=2:8:4 --trials 1
check "profile key: integer values rounded; no accuracy without labels" h5 "$T/nl.h5" \
    "list(f['params/0/values'][:]) == [2, 4, 6, 8] and f['params/0'].attrs['integer'] == 1 and 'acc_optical' not in f['metrics']"

# interruption after 2 of 5 points (SIGINT through the real handler), then resume
ACDC_SWEEP_INTERRUPT_AFTER=2 "$ACDC" sweep "$S" "$D" -o "$T/int.h5" --vary photons=1e2:1e6 \
    --trials 3 >"$T/int.out" 2>&1 </dev/null
rc=$?
check "interrupted sweep exits 3" test "$rc" = 3
check "the interrupted file holds exactly the 2 finished points" h5 "$T/int.h5" \
    "list(f['done'][:]) == [1, 1, 0, 0, 0] and np.isnan(f['metrics/rel_rms/mean'][2:]).all()"
case_ 0 "2 of 5 points already done" sweep "$S" "$D" -o "$T/int.h5" --vary photons=1e2:1e6 --trials 3
check "resumed sweep equals the uninterrupted one" "$PY" -c "
import sys, h5py, numpy as np
a, b = h5py.File('$T/int.h5', 'r'), h5py.File('$T/ph.h5', 'r')
def same(g, h):
    for k in g:
        if isinstance(g[k], h5py.Group): same(g[k], h[k])
        elif k != 'seconds' and not np.array_equal(g[k][:], h[k][:]): sys.exit(1)
same(a['metrics'], b['metrics']); same(a['stages'], b['stages'])"
case_ 0 "5 of 5 points already done" sweep "$S" "$D" -o "$T/int.h5" --vary photons=1e2:1e6 --trials 3 --threads 2 --batch 5
case_ 1 "other settings ('trials=3' there, 'trials=2' here)" sweep "$S" "$D" -o "$T/int.h5" --vary photons=1e2:1e6 --trials 2
case_ 1 "other settings" sweep "$S" "$D" -o "$T/int.h5" --vary photons=1e2:1e6 --trials 3 --rows 10
case_ 0 "wrote" sweep "$S" "$D" -o "$T/int.h5" --vary photons=1e2:1e6 --trials 2 --restart
case_ 1 "not a sweep file" sweep "$S" "$D" -o "$T/model.h5" --vary photons=1e2:1e4
case_ 1 "does not exist" sweep "$S" "$D" -o "$T/new.h5" --vary photons=1e2:1e4 --resume

# a two-parameter grid
case_ 0 "6 points" sweep "$S" "$D" -o "$T/grid.h5" --vary phase-bits=2:4 \
    --vary phase-error=0:20mrad:2 --trials 2
check "grid: 3 x 2 arrays, phase error in rad" h5 "$T/grid.h5" \
    "f['done'].shape == (3, 2) and f['metrics/snr_db/mean'].shape == (3, 2) and np.allclose(f['params/1/values'][:], [0, 0.02]) and f['params/1'].attrs['unit'] == 'rad'"

# plots
case_ 0 "wrote '$T/ph.png'" plot "$T/ph.h5" -o "$T/ph.png"
check "sweep plot is a PNG" is_png "$T/ph.png"
case_ 0 "wrote" plot "$T/grid.h5" -o "$T/grid.png" --what rel_rms,accuracy
check "heatmap plot is a PNG" is_png "$T/grid.png"
case_ 0 "wrote" plot "$T/ph.h5" -o "$T/ph.svg" --what snr_db --stage 1
check "SVG plot is SVG" grep -q "<svg" "$T/ph.svg"
"$ACDC" simulate "$S" "$D" -o "$T/res.h5" >/dev/null 2>&1
"$ACDC" simulate "$S" "$T/nolabels.h5" -o "$T/resnl.h5" >/dev/null 2>&1
Q="$T/it's \$(touch pwned).png"
case_ 0 "wrote" plot "$T/res.h5" -o "$Q"
check "scatter plot is a PNG; a quote and \$(...) in the name stay a name" \
    eval 'is_png "$Q" && [ ! -e pwned ] && [ ! -e "$T/pwned" ]'
case_ 0 "wrote" plot "$T/res.h5" -o "$T/cm.png" --what confusion
check "confusion plot is a PNG" is_png "$T/cm.png"
"$ACDC" simulate "$S" "$D" -o "$T/planes.h5" --save-planes 2 >/dev/null 2>&1
case_ 0 "wrote" plot "$T/planes.h5" -o "$T/planes.png" --what planes --row 1
check "planes plot is a PNG" is_png "$T/planes.png"
case_ 2 "--row 2: " plot "$T/planes.h5" -o "$T/x.png" --what planes --row 2
check "1D planes keep the rank-4 layout (inputs x planes x samples x 2)" h5 "$T/planes.h5" \
    "f['planes/field'].ndim == 4 and f['planes/field'].shape[0] == 2 and f['planes/field'].shape[3] == 2"
# 2D planes (rank 5: inputs x planes x rows x columns x 2), made with h5py from a result:
# a Gaussian beam with a phase ramp, its Fourier spot, a checkerboard aperture
"$PY" - "$T" <<'EOF2' || notok "2D planes fixture"
import sys, shutil, h5py, numpy as np
t = sys.argv[1]
for name, last in (("planes2d", 2), ("planes2d-bad", 3)):
    shutil.copy(t + "/res.h5", t + "/" + name + ".h5")
    with h5py.File(t + "/" + name + ".h5", "a") as f:
        x = (np.arange(64) - 32) * 4e-3                       # mm
        X, Y = np.meshgrid(x, x)                              # y rows, x columns
        e = np.zeros((2, 3, 64, 64), complex)
        e[:, 0] = np.exp(-(X**2 + Y**2) / 0.01 + 2.385j * X)
        e[:, 1] = 30 * np.exp(-((X - 0.02)**2 + Y**2) / 1e-3)
        e[:, 2] = np.where((abs(X) < 0.06) & (abs(Y) < 0.06),
                           np.where((np.floor(X / 0.02) + np.floor(Y / 0.02)) % 2, -0.3, 1), 0)
        field = np.zeros((2, 3, 64, 64, last))
        field[..., 0], field[..., 1] = e.real, e.imag
        f["planes/field"] = field
        f["planes/pitch_m"] = [4e-6, 4e-6, 4e-6]
        f["planes"].attrs["names"] = "beam;spot;aperture"
EOF2
case_ 0 "wrote" plot "$T/planes2d.h5" -o "$T/planes2d.png" --what planes --row 1
png_width() { od -An -tu1 -j16 -N4 "$1" | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}'; }
check "2D planes plot is a PNG of images, two 600-pixel panels wide" \
    eval 'is_png "$T/planes2d.png" && [ "$(png_width "$T/planes2d.png")" = 1200 ] && [ "$(stat -c %s "$T/planes2d.png")" -gt 20000 ]'
case_ 1 "cannot read '/planes/field' in '$T/planes2d-bad.h5': dimension 4 is 3, expected 2" \
    plot "$T/planes2d-bad.h5" -o "$T/x.png" --what planes
case_ 1 "no saved planes" plot "$T/res.h5" -o "$T/x.png" --what planes
case_ 1 "has no /labels" plot "$T/resnl.h5" -o "$T/x.png" --what confusion
case_ 1 "neither a sweep" plot "$T/model.h5" -o "$T/x.png"
case_ 2 "not a sweep metric" plot "$T/ph.h5" -o "$T/x.png" --what colour
case_ 1 "had no labels" plot "$T/nl.h5" -o "$T/x.png" --what accuracy
case_ 1 "cannot" plot "$T/none.h5" -o "$T/x.png"
case_ 2 "must end in .png or .svg" plot "$T/ph.h5" -o "$T/x.jpg"
case_ 2 "expected one FILE.h5" plot -o "$T/x.png"
out=$(PATH=/nonexistent "$ACDC" plot "$T/ph.h5" -o "$T/x.png" 2>&1); rc=$?
check "plot without gnuplot on PATH: exit 1 naming the package" \
    test "$rc" = 1 -a -n "$(grep 'gnuplot not found' <<<"$out")"
check "no output file after failed plots" test ! -e "$T/x.png"
