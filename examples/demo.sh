#!/usr/bin/env bash
# examples/demo.sh -- the end-to-end story on the embedded data (`make demo`).
#
#   train a small ACDC cascade on the embedded Fashion-MNIST subset
#   -> compile it for the realistic 8-bit SLM profile (slm8)
#   -> simulate the light for the 1000 test images
#   -> sweep the masks' phase bits and the photon budget (Monte Carlo, 2 trials)
#   -> resolve the devices' pixels: the point design against the pixel-aware one
#   -> PNG plots and a one-screen summary.
#
# Everything is written under examples/out/demo/ (git-ignored), which is emptied first.
# No download; about 2-3 minutes on 2 cores.  Environment: BUILD (default build),
# THREADS (default 2), ROWS (images per sweep point, default 200).
set -euo pipefail
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
ROWS=${ROWS:-200}
ACDC=$BUILD/acdc
DATA=examples/data
OUT=examples/out/demo
EPOCHS=6

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

step "1/7 training a 2-layer ACDC cascade (n = 784, ReLU, permutation), $EPOCHS epochs"
run "$OUT/train.log" "$ACDC" train --task classify --data "$DATA/fashion-train.h5" \
    --test "$DATA/fashion-test.h5" -K 2 -e "$EPOCHS" --lr 0.01 --seed 1 \
    --threads "$THREADS" -o "$OUT/model.h5"
step "2/7 compiling for the slm8 profile (8-bit phase-only LCoS masks, sCMOS camera)"
run "$OUT/compile.log" "$ACDC" compile "$OUT/model.h5" -o "$OUT/system.h5" --device slm8
step "3/7 simulating the light for the 1000 test images"
run "$OUT/simulate.log" "$ACDC" simulate "$OUT/system.h5" "$DATA/fashion-test.h5" \
    -o "$OUT/result.h5" --threads "$THREADS"
step "4/7 sweeping the masks' phase bits 1..8 ($ROWS images x 2 trials per point)"
run "$OUT/sweep-phase-bits.log" "$ACDC" sweep "$OUT/system.h5" "$DATA/fashion-test.h5" \
    -o "$OUT/sweep-phase-bits.h5" --vary phase-bits=1:8 --rows "$ROWS" --trials 2 \
    --threads "$THREADS"
step "5/7 sweeping the photon budget 1e3..1e9 per inference ($ROWS images x 2 trials)"
run "$OUT/sweep-photons.log" "$ACDC" sweep "$OUT/system.h5" "$DATA/fashion-test.h5" \
    -o "$OUT/sweep-photons.h5" --vary photons=1e3:1e9 --rows "$ROWS" --trials 2 \
    --threads "$THREADS"
step "6/7 resolving the pixels (4 sub-samples per sample): slm8, and ideal devices
       with the point and the pixel-aware design"
run "$OUT/pixels-slm8.log" "$ACDC" simulate "$OUT/system.h5" "$DATA/fashion-test.h5" \
    -o "$OUT/pixels-slm8.h5" --oversample 4 --threads "$THREADS"
run "$OUT/compile-point.log" "$ACDC" compile "$OUT/model.h5" -o "$OUT/ideal-point.h5"
run "$OUT/compile-aware.log" "$ACDC" compile "$OUT/model.h5" -o "$OUT/ideal-aware.h5" \
    --set rules.fourier_oversample=2
run "$OUT/pixels-point.log" "$ACDC" simulate "$OUT/ideal-point.h5" "$DATA/fashion-test.h5" \
    -o "$OUT/pixels-point.h5" --oversample 4 --threads "$THREADS"
run "$OUT/pixels-aware.log" "$ACDC" simulate "$OUT/ideal-aware.h5" "$DATA/fashion-test.h5" \
    -o "$OUT/pixels-aware.h5" --oversample 4 --threads "$THREADS"
step "7/7 plotting"
run "$OUT/plot.log" "$ACDC" plot "$OUT/sweep-phase-bits.h5" -o "$OUT/sweep-phase-bits.png"
run "$OUT/plot.log" "$ACDC" plot "$OUT/sweep-photons.h5" -o "$OUT/sweep-photons.png"
run "$OUT/plot.log" "$ACDC" plot "$OUT/result.h5" -o "$OUT/scatter.png"
run "$OUT/plot.log" "$ACDC" plot "$OUT/result.h5" -o "$OUT/confusion.png" --what confusion
total=$((SECONDS - start))

# The summary: numbers from the commands' own reports.
sim="$OUT/simulate.log"
acc_line=$(grep -m1 'accuracy: optical' "$sim")
acc_opt=$(sed -E 's/.*optical ([0-9.]+).*/\1/' <<<"$acc_line")
acc_num=$(sed -E 's/.*ideal ([0-9.]+).*/\1/' <<<"$acc_line")
agree=$(sed -E 's/.*agreement ([0-9.]+).*/\1/' <<<"$acc_line")
read -r rel snr cosine < <(awk '/end to end/ {print $4, $5, $6; exit}' "$sim")
rate=$(grep -m1 'inputs/s' "$sim" | sed -E 's/.*\(([0-9.]+) inputs\/s\).*/\1/')
pct() { awk -v x="$1" 'BEGIN {printf "%.1f%%", 100 * x}'; }
pixels() {  # a simulate log: optical accuracy and end-to-end rel RMS error
    local a r
    a=$(grep -m1 'accuracy: optical' "$1" | sed -E 's/.*optical ([0-9.]+).*/\1/')
    r=$(awk '/end to end/ {print $4; exit}' "$1")
    printf 'accuracy %s, rel RMS error %s' "$(pct "$a")" "$r"
}
table() {   # the sweep's per-point lines: value, rel RMS error, optical accuracy
    awk '/rel_rms/ {split($1, kv, "="); printf "    %-8s rel RMS %-8s acc %5.1f%% +- %.1f\n",
         kv[2], $3, 100 * $10, 100 * $12}' "$1"
}
cat <<EOF

== acdc demo: Fashion-MNIST through a simulated optical ACDC ($total s) ==
model     2 ACDC layers of 784, trained $EPOCHS epochs on 5000 embedded images
hardware  slm8: 8-bit phase-only SLM masks (double-phase), homodyne sCMOS camera
test set  1000 images; numeric model $(pct "$acc_num"), optical $(pct "$acc_opt")
          predictions agree on $(pct "$agree"); end to end: rel RMS error $rel,
          SNR $snr dB, cosine $cosine; $rate images/s of simulated light
phase bits of the masks ($ROWS images, mean +- sd of 2 trials):
$(table "$OUT/sweep-phase-bits.log")
photons per inference:
$(table "$OUT/sweep-photons.log")
resolved pixels (4 sub-samples per sample, all 1000 images):
    slm8 system above                  $(pixels "$OUT/pixels-slm8.log")
    ideal devices, point design        $(pixels "$OUT/pixels-point.log")
    ideal devices, pixel-aware design  $(pixels "$OUT/pixels-aware.log")
plots     $OUT/sweep-phase-bits.png  fidelity and accuracy vs phase bits
          $OUT/sweep-photons.png     fidelity and accuracy vs photon budget
          $OUT/scatter.png           optical vs ideal output, every logit
          $OUT/confusion.png         optical predictions vs labels
EOF
