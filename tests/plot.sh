#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/plot.sh -- `acdc plot` as a paper or a lab notebook needs it (TAP): PDF output,
# the data and the script kept with --data and --script (the script redraws the figure),
# a read-only folder refused in one line with nothing on standard output, a sweep whose
# means are all NaN refused before gnuplot naming the file and the dataset, and
# gnuplot's own output condensed into one line (a stand-in gnuplot on PATH that fails
# or warns).  A tiny system (n = 8, slm8) and 16 labelled rows keep it short.
set -u
BUILD=${BUILD:-build}
ACDC=$(cd "$(dirname "$BUILD/acdc")" && pwd)/acdc
T=$(cd "$BUILD" && pwd)/tests/plot-tmp
PY=/usr/bin/python3
rm -rf "$T" && mkdir -p "$T"
. tests/tap.bash
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }
# one_line EXIT TEXT ARGS...: exit code EXIT, exactly one line on stderr holding TEXT,
# nothing on stdout.
one_line() {
    local code=$1 text=$2; shift 2
    local err rc out
    out=$("$ACDC" "$@" 2>"$T/err" </dev/null); rc=$?
    err=$(cat "$T/err")
    if [ "$rc" = "$code" ] && [ "$(wc -l <"$T/err")" = 1 ] && [[ "$err" == *"$text"* ]] &&
            [ -z "$out" ]; then
        ok "acdc $* -> one line: $err"
    else
        notok "acdc $*: exit $rc (expected $code), $(wc -l <"$T/err") lines on stderr, \
$(printf %s "$out" | wc -c) bytes on stdout" "$(head -8 "$T/err")"
    fi
}

command -v gnuplot >/dev/null || { echo "1..0 # SKIP gnuplot is not installed"; exit 0; }
"$PY" - "$T" <<'EOF' || { echo "not ok 1 - fixtures (needs python3-h5py)"; exit 0; }
import sys, h5py, numpy as np
rng = np.random.default_rng(17)
with h5py.File(sys.argv[1] + "/data.h5", "w") as f:
    f["x"] = rng.uniform(0, 1, (16, 8))
    f["labels"] = rng.integers(0, 4, 16)
EOF
"$ACDC" init -o "$T/model.h5" --n 8 --layers 2 --relu --n-out 4 --seed 3 >/dev/null &&
    "$ACDC" compile "$T/model.h5" -o "$T/sys.h5" --device slm8 >/dev/null &&
    "$ACDC" sweep "$T/sys.h5" "$T/data.h5" -o "$T/ph.h5" --vary photons=1e3:1e5:3 \
        --trials 2 >/dev/null 2>&1 &&
    "$ACDC" simulate "$T/sys.h5" "$T/data.h5" -o "$T/res.h5" >/dev/null 2>&1 ||
    { echo "not ok 1 - init, compile, sweep and simulate the test system"; exit 0; }

# PDF beside PNG and SVG, by the extension
for src in ph res; do
    "$ACDC" plot "$T/$src.h5" -o "$T/$src.pdf" >"$T/out" 2>&1
    check "$src: -o $src.pdf writes a PDF ($(head -c 8 "$T/$src.pdf" 2>/dev/null | tr -dc '[:print:]'))" \
        test "$(head -c 5 "$T/$src.pdf" 2>/dev/null)" = "%PDF-"
done
"$ACDC" plot "$T/res.h5" -o "$T/cm.pdf" --what confusion >/dev/null 2>&1
check "confusion as PDF" test "$(head -c 5 "$T/cm.pdf" 2>/dev/null)" = "%PDF-"
one_line 2 "must end in .png or .svg or .pdf" plot "$T/ph.h5" -o "$T/x.eps"

# --data and --script
out=$("$ACDC" plot "$T/ph.h5" -o "$T/k.png" --what rel_rms,accuracy --data "$T/k.dat" \
      --script "$T/k.gp" 2>&1); rc=$?
check "--data and --script: exit 0, each file named ($out)" \
    test "$rc" = 0 -a "$(grep -c "^wrote '$T/k\.\(png\|dat\|gp\)'" <<<"$out")" = 3
"$PY" - "$T" <<'EOF' && ok "--data: one block per panel, the sweep's photons, means (rel_rms; accuracy in %) and sd, as in the file" || notok "--data holds the sweep's numbers"
import sys, h5py, numpy as np
t = sys.argv[1]
blocks = open(t + "/k.dat").read().split("\n\n\n")
assert len(blocks) == 2, len(blocks)
f = h5py.File(t + "/ph.h5", "r")
x = f["/params/0/values"][...] if "/params/0/values" in f else None
for b, (m, s) in zip(blocks, [("rel_rms", 1), ("acc_optical", 100)]):
    lines = [l for l in b.splitlines() if l and not l.startswith("#")]
    v = np.array([[float(w) for w in l.split()] for l in lines])
    assert v.shape == (3, 4), v.shape
    assert np.allclose(v[:, 0], [1e3, 1e4, 1e5], rtol=1e-12), v[:, 0]
    assert np.allclose(v[:, 1], s * f[f"/metrics/{m}/mean"][...], rtol=1e-12)
    assert np.allclose(v[:, 2], s * f[f"/metrics/{m}/sd"][...], rtol=1e-12)
assert blocks[1].splitlines()[0] == "# $d1", blocks[1].splitlines()[0]
EOF
check "--script names the figure itself in its set output line, not a temporary" \
    test "$(grep -c "^set output '$T/k.png'$" "$T/k.gp")" = 1 -a "$(grep -c '\.tmp' "$T/k.gp")" = 0
mv "$T/k.png" "$T/k-acdc.png"
(cd "$T" && gnuplot k.gp >/dev/null 2>&1)
check "gnuplot k.gp draws the figure again, the same size" \
    test -s "$T/k.png" -a "$(od -An -tx1 -j16 -N8 "$T/k.png" 2>/dev/null)" = \
         "$(od -An -tx1 -j16 -N8 "$T/k-acdc.png")"
one_line 2 "--data '$T/ph.h5' would overwrite the file plotted" \
    plot "$T/ph.h5" -o "$T/y.png" --data "$T/ph.h5"
one_line 2 "give a file name of its own" plot "$T/ph.h5" -o "$T/y.png" --script "$T/y.png"

# a read-only folder: one line naming the figure, no image on standard output, nothing
# left behind (as root, run as nobody, for whom the folder is read-only)
mkdir -p "$T/ro" && chmod 555 "$T/ro" && chmod 755 "$T"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ACDC" plot "$T/ph.h5" \
          -o "$T/ro/f.png" 2>"$T/err"); rc=$?
    check "read-only folder (as nobody): exit 1, one line naming '$T/ro/f.png', \
$(printf %s "$out" | wc -c) bytes on stdout: $(head -1 "$T/err")" \
        test "$rc" = 1 -a "$(wc -l <"$T/err")" = 1 -a -z "$out" -a \
             -n "$(grep -F "'$T/ro/f.png'" "$T/err")"
elif [ "$(id -u)" != 0 ]; then
    one_line 1 "'$T/ro/f.png'" plot "$T/ph.h5" -o "$T/ro/f.png"
else
    ok "# SKIP root without setpriv: the read-only folder is writable to root"
fi
check "nothing left in the read-only folder" test -z "$(ls -A "$T/ro")"
one_line 1 "'/proc/acdc-plot-test.png'" plot "$T/ph.h5" -o /proc/acdc-plot-test.png

# a sweep whose means are all NaN: refused before gnuplot, naming file and dataset
cp "$T/ph.h5" "$T/nan.h5"
"$PY" -c "import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r+'); f['/metrics/rel_rms/mean'][...] = np.nan" "$T/nan.h5"
one_line 1 "'$T/nan.h5': /metrics/rel_rms/mean is NaN at every finished point" \
    plot "$T/nan.h5" -o "$T/nan.png"
check "no figure of the NaN sweep" test ! -e "$T/nan.png"
"$ACDC" plot "$T/nan.h5" -o "$T/nan-acc.png" --what accuracy >/dev/null 2>&1
check "its other metrics still plot" test -s "$T/nan-acc.png"

# gnuplot's own output condensed into one line: a stand-in gnuplot that fails after 7
# lines, and one that draws (copies a PNG to the set output file) with 3 warnings
mkdir -p "$T/bin"
cat >"$T/bin/gnuplot" <<'EOF'
#!/bin/sh
out=$(sed -n "s/^set output '\(.*\)'\$/\1/p" | head -1)
for k in 1 2 3 4 5 6; do echo "         line $k of gnuplot's complaint" >&2; done
echo "\"-\" line 9: all points y value undefined!" >&2
exit 1
EOF
sed -e 's/^for k in 1 2 3 4 5 6/for k in 1 2/' -e 's/^exit 1$/cp "$PNG" "$out"; exit 0/' \
    "$T/bin/gnuplot" >"$T/bin/gnuplot-ok"
chmod +x "$T/bin/gnuplot" "$T/bin/gnuplot-ok"
out=$(PATH=$T/bin:$PATH "$ACDC" plot "$T/ph.h5" -o "$T/g.png" 2>"$T/err"); rc=$?
check "gnuplot failing with 7 lines: exit 1, one line naming the figure and gnuplot's last line: $(head -1 "$T/err")" \
    test "$rc" = 1 -a "$(wc -l <"$T/err")" = 1 -a -z "$out" -a \
         -n "$(grep -F "drawing '$T/g.png': \"-\" line 9: all points y value undefined!" "$T/err")"
check "no figure and no temporary after gnuplot failed" test -z "$(ls "$T" | grep '^g\.png')"
PATH=$T/bin:$PATH "$ACDC" plot "$T/ph.h5" -o "$T/y.png" --data "$T/y.dat" --script "$T/y.gp" \
    >/dev/null 2>&1
check "a failed plot keeps neither data nor script" test ! -e "$T/y.dat" -a ! -e "$T/y.gp"
mkdir -p "$T/bin2" && cp "$T/bin/gnuplot-ok" "$T/bin2/gnuplot"
out=$(PNG=$T/k-acdc.png PATH=$T/bin2:$PATH "$ACDC" plot "$T/ph.h5" -o "$T/w.png" 2>"$T/err"); rc=$?
check "gnuplot warning: exit 0, one line on stderr naming the figure: $(head -1 "$T/err")" \
    test "$rc" = 0 -a "$(wc -l <"$T/err")" = 1 -a "$out" = "wrote '$T/w.png'" -a \
         -n "$(grep -F "acdc: warning: gnuplot drawing '$T/w.png' said 3 lines, the last:" "$T/err")"
check "... and the figure is in place" cmp -s "$T/w.png" "$T/k-acdc.png"
echo "1..$i"
