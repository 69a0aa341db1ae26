#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# examples/demo.sh -- the end-to-end story on the embedded data (`make demo`).
#
#   train a small 2D ACDC cascade (2D DCT on the 28x28 image: spherical-lens 4f systems)
#   on the embedded Fashion-MNIST subset
#   -> compile it for the 1080p LCoS profile (slm1080): the point design and the
#      pixel-aware design (the profile's default, rules.fourier_oversample=auto: R = 2)
#   -> simulate the light for the 1000 test images: the point design with point samples
#      (the compiler's own model), then both designs with the pixels resolved (S = 4)
#   -> sweep the photon budget (Monte Carlo, 2 trials)
#   -> PNG plots (the pixel-aware design's planes among them) and a one-screen summary.
#
# Everything is written under examples/out/demo/ (git-ignored), which is emptied first.
# No download; under a minute on 2 cores.  Environment: BUILD (default build),
# THREADS (default 2), ROWS (images per sweep point, default 200).
set -euo pipefail
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
ROWS=${ROWS:-200}
ACDC=$BUILD/acdc
DATA=examples/data
OUT=examples/out/demo
EPOCHS=6
SHAPE=28x28
DEVICE=slm1080
# OpenMP threads sleep between the simulator's many short parallel loops instead of
# spinning: on a machine shared with other jobs a spinning team waits for a descheduled
# partner at every loop, and training and simulations ran 5-20x slower (CPU time too).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

[ -x "$ACDC" ] || { echo "demo: '$ACDC' not built: run 'make all' first" >&2; exit 1; }
for f in "$DATA/fashion-train.h5" "$DATA/fashion-test.h5"; do
    [ -r "$f" ] || { echo "demo: missing '$f'" >&2; exit 1; }
done
rm -rf -- "$OUT"
mkdir -p -- "$OUT"
start=$SECONDS
step() { printf '[%3ds] %s\n' $((SECONDS - start)) "$*"; }
run() {   # run LOG CMD...: the command's output goes to LOG; shown if it fails
    local log=$1; shift
    if ! "$@" >"$log" 2>&1; then
        echo "demo: failed: $*" >&2
        tail -5 "$log" >&2
        exit 1
    fi
}
TEST=$DATA/fashion-test.h5

step "1/6 training a 2-layer 2D ACDC cascade ($SHAPE grid, 2D DCT, ReLU, permutation),"\
" $EPOCHS epochs"
run "$OUT/train.log" "$ACDC" train --task classify --data "$DATA/fashion-train.h5" \
    --test "$TEST" --transform dct2 --shape "$SHAPE" -K 2 -e "$EPOCHS" --lr 0.01 \
    --seed 1 --threads "$THREADS" -o "$OUT/model.h5"
step "2/6 compiling for $DEVICE (1080p LCoS phase SLMs, 8 um, sCMOS camera):"\
" the point and the pixel-aware design"
run "$OUT/compile-point.log" "$ACDC" compile "$OUT/model.h5" -o "$OUT/system-point.h5" \
    --device "$DEVICE" --set rules.fourier_oversample=0
run "$OUT/compile-aware.log" "$ACDC" compile "$OUT/model.h5" -o "$OUT/system-aware.h5" \
    --device "$DEVICE"
step "3/6 simulating the 1000 test images: the point design with point samples (S = 1)"
run "$OUT/sim-point-s1.log" "$ACDC" simulate "$OUT/system-point.h5" "$TEST" \
    -o "$OUT/point-s1.h5" --oversample 1 --threads "$THREADS" -v
step "4/6 resolving the pixels (S = 4): the point design, then the pixel-aware design"\
" (planes kept)"
run "$OUT/sim-point-s4.log" "$ACDC" simulate "$OUT/system-point.h5" "$TEST" \
    -o "$OUT/point-s4.h5" --oversample 4 --threads "$THREADS" -v
run "$OUT/sim-aware-s4.log" "$ACDC" simulate "$OUT/system-aware.h5" "$TEST" \
    -o "$OUT/aware-s4.h5" --oversample 4 --save-planes 1 --threads "$THREADS" -v
step "5/6 sweeping the photon budget 1e4..1e10 per inference, point design, S = 1"\
" ($ROWS images x 2 trials)"
run "$OUT/sweep-photons.log" "$ACDC" sweep "$OUT/system-point.h5" "$TEST" \
    -o "$OUT/sweep-photons.h5" --vary photons=1e4:1e10 --rows "$ROWS" --trials 2 \
    --threads "$THREADS"
step "6/6 plotting"
run "$OUT/plot.log" "$ACDC" plot "$OUT/aware-s4.h5" -o "$OUT/planes.png" --what planes
run "$OUT/plot.log" "$ACDC" plot "$OUT/aware-s4.h5" -o "$OUT/scatter.png" \
    --title "pixel-aware design, resolved pixels (S = 4): optical versus ideal output"
run "$OUT/plot.log" "$ACDC" plot "$OUT/aware-s4.h5" -o "$OUT/confusion.png" --what confusion \
    --title "pixel-aware design, resolved pixels (S = 4): confusion matrix"
run "$OUT/plot.log" "$ACDC" plot "$OUT/point-s4.h5" -o "$OUT/scatter-point-s4.png" \
    --title "point design, resolved pixels (S = 4): optical versus ideal output"
run "$OUT/plot.log" "$ACDC" plot "$OUT/sweep-photons.h5" -o "$OUT/sweep-photons.png"
total=$((SECONDS - start))

# The summary: numbers and hardware from the commands' own reports.
pick() {  # pick FILE PATTERN SED-EXPR: the first line matching, rewritten ('?' if none)
    local v
    v=$(grep -m1 -- "$2" "$1" | sed -E "$3") || v=
    printf '%s' "${v:-?}"
}
pct() { awk -v x="$1" 'BEGIN {printf "%.1f%%", 100 * x}'; }
um() { sed -E 's/(\.[0-9]*[1-9])0+ um/\1 um/g; s/\.0+ um/ um/g'; }
bom() {   # a compile log: the SLMs that hold the planes, the lenses and the path
    local c=$1 i=' x input modulator ' f=' x Fourier-plane mask '
    local ex=', ([0-9]+ planes?) side by side on each of ([0-9x]+) px.*'
    printf 'SLMs: %s input (%s of %s px), %s Fourier (%s of %s px)\n' \
        "$(pick "$c" "$i" 's/^ *([0-9]+) x .*/\1/')" "$(pick "$c" "$i" "s/.*$ex/\\1/")" \
        "$(pick "$c" "$i" 's/.*, ([0-9]+x[0-9]+) px per plane.*/\1/')" \
        "$(pick "$c" "$f" 's/^ *([0-9]+) x .*/\1/')" "$(pick "$c" "$f" "s/.*$ex/\\1/")" \
        "$(pick "$c" "$f" 's/.*, ([0-9]+x[0-9]+) px per plane.*/\1/')"
    printf '%16sside by side on %s px each; f = %s mm, optical path %s mm' "" \
        "$(pick "$c" "$f" "s/.*$ex/\\2/")" \
        "$(pick "$c" 'every lens: f = ' 's/.*f = ([0-9.]+) mm.*/\1/')" \
        "$(pick "$c" 'total optical path' 's/.*path ([0-9.]+) mm.*/\1/')"
}
run_line() {  # a simulate log: its sampling, then accuracy, agreement, rel RMS, SNR
    local l=$1 smp a g r s
    if grep -q 'sampling: one point per sample' "$l"; then smp='point samples, S = 1'
    elif grep -q 'pixel-exact Fourier method' "$l"; then smp='resolved pixels, S = 4'
    else smp=$(pick "$l" '^sampling:' 's/^sampling: (.{0,22}).*/\1/'); fi
    a=$(pick "$l" 'accuracy: optical' 's/.*optical ([0-9.]+).*/\1/')
    g=$(pick "$l" 'accuracy: optical' 's/.*agreement ([0-9.]+).*/\1/')
    read -r r s < <(awk '/end to end/ {print $4, $5; exit}' "$l")
    printf '%-23s %7s %7s %8.3f %6.1f dB' "$smp" "$(pct "$a")" "$(pct "$g")" "$r" "$s"
}
table() {   # the sweep's per-point lines: value, rel RMS error, optical accuracy
    awk '/rel_rms/ {split($1, kv, "="); printf "    %-8.0e rel RMS %-8.3g acc %5.1f%% +- %.1f\n",
         kv[2], $3, 100 * $10, 100 * $12}' "$1"
}
acc_num=$(pick "$OUT/sim-point-s1.log" 'accuracy: optical' 's/.*ideal ([0-9.]+).*/\1/')
acc_rows=$(pick "$OUT/sweep-photons.log" '(ideal ' 's/.*\(ideal ([0-9.]+)\).*/\1/')
lenses=$(pick "$OUT/sim-aware-s4.log" '^propagation:' 's/^propagation: ([^(]*[^ (]).*/\1/')
sp=$(pick "$OUT/compile-point.log" 'superpixel of' 's/.*superpixel of ([0-9x]+) device.*/\1/')
samples=$(pick "$OUT/compile-point.log" 'samples per plane' \
    's/.*; ([0-9x]+) samples per plane at ([0-9.]+ um).*/\1 samples of \2/' | um)
slm=$(pick "$OUT/compile-point.log" ' x input modulator ' \
    "s/[^']*'([^']*)' \\((.*)\\), [0-9]+x[0-9]+ px per plane.*/\\1, \\2/")
cam=$(pick "$OUT/compile-point.log" 'homodyne detector' "s/.*camera '([^']*)'.*/\\1/")
laser=$(pick "$OUT/compile-point.log" ' x laser, ' 's/.* x laser, (.*)/\1/')
cat <<EOF

== acdc demo: Fashion-MNIST through a simulated 2D optical ACDC ($total s) ==
model     2 ACDC layers on a $SHAPE grid (2D DCT: spherical-lens 4f systems),
          trained $EPOCHS epochs on 5000 embedded images
hardware  $DEVICE: $slm;
          homodyne pair of '$cam'; laser $laser
          every sample a superpixel of $sp device pixels, $samples per plane
  point design  $(bom "$OUT/compile-point.log")
  pixel-aware   $(bom "$OUT/compile-aware.log")
test set  1000 images; numeric model $(pct "$acc_num"); every run: $lenses,
          $DEVICE noise (shot, read and dark noise, 8-bit masks, 30 mrad phase errors)
                         sampling                 optical   agree  rel RMS     SNR
    point design         $(run_line "$OUT/sim-point-s1.log")
    point design         $(run_line "$OUT/sim-point-s4.log")
    pixel-aware design   $(run_line "$OUT/sim-aware-s4.log")
photons per inference, point design, point samples ($ROWS images, mean +- sd of 2 trials;
numeric model $(pct "$acc_rows") on them):
$(table "$OUT/sweep-photons.log")
plots in $OUT/
    planes.png            pixel-aware, S = 4: intensity and phase at every plane (image 0)
    scatter.png           pixel-aware, S = 4: optical vs ideal logits
    confusion.png         pixel-aware, S = 4: optical predictions vs labels
    scatter-point-s4.png  point design, S = 4: optical vs ideal logits
    sweep-photons.png     point design, S = 1: fidelity and accuracy vs photon budget
EOF
