#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/tolerance.sh -- command-line tests of `acdc tolerance` (TAP).
# A tiny system (n = 8, 2 layers, slm8) and 24 rows labelled with the model's own
# predictions (made with h5py) keep every run short.  CLI_WRAPPER (e.g. valgrind)
# prefixes each run of acdc.
set -u
BUILD=${BUILD:-build}
ACDC=$(cd "$(dirname "$BUILD/acdc")" && pwd)/acdc
T=$BUILD/tests/tolerance-tmp
PY=/usr/bin/python3
rm -rf "$T" && mkdir -p "$T"
. tests/tap.bash
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }
is_png() { [ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
# h5 FILE EXPR: evaluates a Python expression with f = the open file, np = numpy.
h5() { "$PY" -c "import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
sys.exit(0 if ($2) else 1)" "$1"; }
# one_line CODE ARGS...: acdc ARGS exits CODE and says so in exactly one line.
one_line() {
    local code=$1; shift
    local out rc
    out=$(${CLI_WRAPPER:-} "$ACDC" "$@" 2>&1 </dev/null); rc=$?
    if [ "$rc" = "$code" ] && [ "$(wc -l <<<"$out")" = 1 ] && [[ "$out" == "acdc tolerance: error: "* ]]; then
        ok "acdc $* (exit $code, one line)"
    else
        notok "acdc $*: exit $rc, expected $code in one line" "$(head -3 <<<"$out")"
    fi
}

"$ACDC" init -o "$T/model.h5" --n 8 --layers 2 --relu --perm --bias d --n-out 4 \
    --seed 7 >/dev/null &&
    "$ACDC" compile "$T/model.h5" -o "$T/sys.h5" --device slm8 >/dev/null &&
    "$PY" - "$T" <<'EOF' &&
import sys, h5py, numpy as np
rng = np.random.default_rng(2385)
with h5py.File(sys.argv[1] + "/x.h5", "w") as f:
    f["x"] = rng.uniform(0, 1, (24, 8))
with h5py.File(sys.argv[1] + "/nolabels.h5", "w") as f:
    f["x"] = rng.uniform(0, 1, (24, 8))
EOF
    "$ACDC" infer "$T/model.h5" "$T/x.h5" -o "$T/y.h5" >/dev/null &&
    "$PY" - "$T" <<'EOF' || { echo "not ok 1 - fixtures (needs python3-h5py)"; exit 0; }
import sys, h5py, numpy as np
d = sys.argv[1]
with h5py.File(d + "/y.h5", "r") as y, h5py.File(d + "/x.h5", "r") as x, \
        h5py.File(d + "/data.h5", "w") as f:
    f["x"] = x["x"][:]
    f["labels"] = np.argmax(y["y"][:], axis=1)
EOF
S=$T/sys.h5 D=$T/data.h5

case_ 0 "usage: acdc tolerance" tolerance --help
check "--help names every perturbation, the exit codes and what --set does" eval \
    '"$ACDC" tolerance --help | grep -q defocus-camera && "$ACDC" tolerance --help | grep -q "3 interrupted" && "$ACDC" tolerance --help | grep -q "recompile"'
case_ 0 "how far each perturbation" --help
# usage errors: exit 2, one line, nothing written
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --frobnicate
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --only bogus
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --only ,
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --budget 0
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --budget 1x
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --budget 1 --budget-rel-rms 0.1
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --trials 0
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --max-steps 31
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --rel-tol 0.9
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --plot "$T/u.jpg"
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --resume --restart
one_line 2 tolerance "$S" "$D"
one_line 2 tolerance "$S" -o "$T/u.h5"
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --perturb waist=1cm
one_line 2 tolerance "$S" "$T/nolabels.h5" -o "$T/u.h5"
one_line 2 tolerance "$S" "$D" -o "$T/u.h5" --set fourier.colour=1
check "no file after usage errors" test ! -e "$T/u.h5"
# data errors: exit 1, one line naming the file
one_line 1 tolerance "$T/none.h5" "$D" -o "$T/u.h5"
one_line 1 tolerance "$S" "$T/none.h5" -o "$T/u.h5"
one_line 1 tolerance "$S" "$D" -o "$T/model.h5"
one_line 1 tolerance "$S" "$D" -o "$T/new.h5" --resume
check "no file after data errors" test ! -e "$T/u.h5" -a ! -e "$T/new.h5"

# a real run: three perturbations, the file and the chart
R=(--only ref-phase,gain-rms,shift-image --trials 2)
case_ 0 "wrote '$T/tol.h5': 3 perturbations, 2 trials each" tolerance "$S" "$D" \
    -o "$T/tol.h5" "${R[@]}" --plot "$T/tol.png"
check "the chart is a PNG" is_png "$T/tol.png"
check "the file: format, conditions, one group per perturbation with its points" h5 "$T/tol.h5" \
    "f.attrs['format'] == 'acdc-tolerance' and f.attrs['budget'] == 0.01 and f.attrs['metric'] == 'acc_optical' and f.attrs['rows'] == 24 and f.attrs['trials'] == 2 and f.attrs['oversample'] == 4 and f.attrs['propagation'] in ('ideal', 'fresnel') and f.attrs['noise'] == 1 and sorted(f['perturbations']) == ['gain-rms', 'ref-phase', 'shift-image'] and f['baseline'].shape == (2,)"
check "ref-phase found: the cost reaches 0.01 at the value, its points (value, cost, sd)" h5 "$T/tol.h5" \
    "f['perturbations/ref-phase'].attrs['status'] == 'found' and f['perturbations/ref-phase/points'].shape[1] == 3 and f['perturbations/ref-phase'].attrs['evaluations'] == f['perturbations/ref-phase/points'].shape[0] and f['perturbations/ref-phase'].attrs['lo'] <= f['perturbations/ref-phase'].attrs['value'] <= f['perturbations/ref-phase'].attrs['hi'] and f['perturbations/ref-phase'].attrs['unit'] == 'rad'"
check "shift-image: no image-plane masks in this system, beyond its range" h5 "$T/tol.h5" \
    "f['perturbations/shift-image'].attrs['status'] == 'beyond' and 'no effect' in f['perturbations/shift-image'].attrs['note']"
case_ 0 "3 of 3 perturbations already done" tolerance "$S" "$D" -o "$T/tol.h5" "${R[@]}" \
    --threads 2 --batch 5
case_ 0 "wrote '$T/tol.svg'" tolerance "$S" "$D" -o "$T/tol.h5" "${R[@]}" --plot "$T/tol.svg"
check "SVG chart is SVG" grep -q "<svg" "$T/tol.svg"

# interrupted after one perturbation (SIGINT through the real handler), then resumed
ACDC_TOLERANCE_INTERRUPT_AFTER=1 "$ACDC" tolerance "$S" "$D" -o "$T/int.h5" "${R[@]}" \
    >"$T/int.out" 2>&1 </dev/null
rc=$?
check "interrupted run exits 3" test "$rc" = 3
check "the interrupted file holds the baseline and the one finished perturbation" h5 "$T/int.h5" \
    "list(f['perturbations']) == ['ref-phase'] and f['baseline'].shape == (2,)"
case_ 0 "1 of 3 perturbations already done" tolerance "$S" "$D" -o "$T/int.h5" "${R[@]}"
check "resumed file equals the uninterrupted one" "$PY" -c "
import sys, h5py, numpy as np
a, b = h5py.File('$T/int.h5', 'r'), h5py.File('$T/tol.h5', 'r')
ka = {k: v for k, v in a.attrs.items()}; kb = {k: v for k, v in b.attrs.items()}
if ka != kb or not np.array_equal(a['baseline'][:], b['baseline'][:]): sys.exit(1)
if sorted(a['perturbations']) != sorted(b['perturbations']): sys.exit(1)
for p in a['perturbations']:
    g, h = a['perturbations'][p], b['perturbations'][p]
    for k in g.attrs:
        if k != 'seconds' and not (g.attrs[k] == h.attrs[k] or (np.isnan(g.attrs[k]) and np.isnan(h.attrs[k]) if isinstance(g.attrs[k], float) else False)): sys.exit(1)
    if ('points' in g) != ('points' in h) or ('points' in g and not np.array_equal(g['points'][:], h['points'][:], equal_nan=True)): sys.exit(1)"
case_ 1 "other settings ('trials=2' there, 'trials=3' here)" tolerance "$S" "$D" -o "$T/int.h5" \
    --only ref-phase --trials 3
case_ 1 "other settings ('data=" tolerance "$S" "$D" -o "$T/int.h5" \
    "${R[@]}" --rows 10
case_ 0 "wrote" tolerance "$S" "$D" -o "$T/int.h5" --only ref-amplitude --trials 1 --restart -q

# without labels: a budget of relative error
case_ 0 "relative RMS error +0.05" tolerance "$S" "$T/nolabels.h5" -o "$T/rel.h5" \
    --only ref-amplitude --budget-rel-rms 0.05 --trials 2
check "rel_rms budget recorded" h5 "$T/rel.h5" \
    "f.attrs['metric'] == 'rel_rms' and f.attrs['budget'] == 0.05 and f['perturbations/ref-amplitude'].attrs['status'] == 'found'"

# the build sheet quotes the tolerances of this very system, and refuses another's
if [ -s "$T/tol.h5" ]; then
    case_ 0 "wrote" export "$S" -o "$T/export" -q --no-gds --tolerance "$T/tol.h5"
    check "the build sheet quotes the tolerances" grep -q "^## Tolerances (from $T/tol.h5)" \
        "$T/export/build-sheet.md"
    "$ACDC" compile "$T/model.h5" -o "$T/sys2.h5" --device slm8-complex >/dev/null
    err=$("$ACDC" export "$T/sys2.h5" -o "$T/export2" -q --tolerance "$T/tol.h5" 2>&1); rc=$?
    [ "$rc" = 1 ] && [[ "$err" == *"tolerances of another system"* ]] &&
        ok "export --tolerance refuses another system's tolerances" ||
        notok "export --tolerance refuses another system's tolerances: exit $rc" "$err"
fi
if [ -s "$T/tol.h5" ]; then
    case_ 0 "tolerance analysis (acdc tolerance), 3 of its perturbations finished" inspect "$T/tol.h5"
fi
