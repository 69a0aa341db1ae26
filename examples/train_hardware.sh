#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# examples/train_hardware.sh -- fine-tune the shipped cascades through the compiler's
# model of their hardware, then let the simulator judge (README, "Training through the
# hardware").
#
#   bash examples/train_hardware.sh slm8|slm1080 [FASHION_DIR [OUT_DIR]]
#
# slm8     the 1D cascade (examples/data/fashion-acdc.h5, 88.37% numeric) on 4K LCoS
#          phase SLMs: 4 epochs through the surrogate with ideal lenses (fast), then 2
#          through the surrogate with the profile's objective (0.02 waves of primary
#          spherical, about 2x slower), Adam, 5% held out.  A run of it (2026-12-06, 2360 s
#          on one thread) ships as examples/data/fashion-acdc-slm8.h5.
# slm1080  the 2D cascade (examples/data/fashion-acdc2d.h5, 89.26% numeric) on 1080p
#          LCoS phase SLMs (4 x 4 superpixels; 2D systems keep ideal lenses): 2 epochs,
#          batch 256, Adam 1e-3; 1 epoch at 3e-4 and 1 at 1e-4, both distilled from the
#          numeric model (w = 0.9, T = 4); then 1 epoch at 5e-4 and 1 at 2e-4 through the
#          hardware with its Fourier masks clipped at half their largest value
#          (rules.fourier_clip = 0.5, compiler/README.md), which the final system keeps.
# Each then compiles the result for the profile and simulates all 10,000 test images
# with the defaults (resolved pixels, the profile's noise and lens) and, for slm8, again
# with ideal lenses.  FASHION_DIR defaults to Debian's dataset-fashion-mnist; the test
# images are made into an HDF5 file by build/examples/make_fashion_subset.
set -eu
BUILD=${BUILD:-build}
P=${1:?usage: train_hardware.sh slm8|slm1080 [FASHION_DIR [OUT_DIR]]}
D=${2:-/usr/share/datasets/fashion-mnist}
OUT=${3:-examples/out}
T=${THREADS:-2}
mkdir -p "$OUT/fashion-full"
[ -s "$OUT/fashion-full/fashion-test.h5" ] ||
    "$BUILD/examples/make_fashion_subset" "$D" "$OUT/fashion-full" 10 10000
TEST=$OUT/fashion-full/fashion-test.h5
A="$BUILD/acdc"
start=$(date +%s)
case "$P" in
slm8)
    "$A" train --task classify --data "$D" --test "$TEST" --init examples/data/fashion-acdc.h5 \
        --hardware slm8 --hardware-lens ideal --lr 1e-3 -e 4 --val 0.05 --threads "$T" \
        -o "$OUT/slm8-hw1.h5"
    "$A" train --task classify --data "$D" --test "$TEST" --init "$OUT/slm8-hw1.h5" \
        --hardware slm8 --lr 5e-4 -e 2 --val 0.05 --seed 3 --threads "$T" \
        -o "$OUT/slm8-hw.h5"
    ;;
slm1080)
    KD="--distil examples/data/fashion-acdc2d.h5 --distil-weight 0.9 --distil-temperature 4"
    "$A" train --task classify --data "$D" --test "$TEST" --init examples/data/fashion-acdc2d.h5 \
        --hardware slm1080 --lr 1e-3 -e 2 -b 256 --val 0.05 --threads "$T" \
        -o "$OUT/slm1080-hw1.h5"
    "$A" train --task classify --data "$D" --test "$TEST" --init "$OUT/slm1080-hw1.h5" \
        --hardware slm1080 --lr 3e-4 -e 1 -b 256 --val 0.05 --seed 3 $KD --threads "$T" \
        -o "$OUT/slm1080-hw2.h5"
    "$A" train --task classify --data "$D" --test "$TEST" --init "$OUT/slm1080-hw2.h5" \
        --hardware slm1080 --lr 1e-4 -e 1 -b 256 --val 0.05 --seed 5 $KD --threads "$T" \
        -o "$OUT/slm1080-hw3.h5"
    # the clipped hardware: a system file carries the rule into --hardware
    "$A" compile "$OUT/slm1080-hw3.h5" --device slm1080 --set rules.fourier_clip=0.5 \
        -o "$OUT/slm1080-hw3-clip.h5"
    "$A" train --task classify --data "$D" --test "$TEST" --init "$OUT/slm1080-hw3.h5" \
        --hardware "$OUT/slm1080-hw3-clip.h5" --lr 5e-4 -e 1 -b 256 --val 0.05 --seed 7 $KD \
        --threads "$T" -o "$OUT/slm1080-hw4.h5"
    "$A" compile "$OUT/slm1080-hw4.h5" --device slm1080 --set rules.fourier_clip=0.5 \
        -o "$OUT/slm1080-hw4-clip.h5"
    "$A" train --task classify --data "$D" --test "$TEST" --init "$OUT/slm1080-hw4.h5" \
        --hardware "$OUT/slm1080-hw4-clip.h5" --lr 2e-4 -e 1 -b 256 --val 0.05 --seed 9 $KD \
        --threads "$T" -o "$OUT/slm1080-hw.h5"
    ;;
*)
    echo "train_hardware.sh: '$P' is not slm8 or slm1080" >&2
    exit 2
    ;;
esac
echo "training wall time: $(( $(date +%s) - start )) s"
CLIP=
[ "$P" = slm1080 ] && CLIP="--set rules.fourier_clip=0.5"
"$A" compile "$OUT/$P-hw.h5" --device "$P" $CLIP -o "$OUT/$P-hw-sys.h5"
"$A" simulate "$OUT/$P-hw-sys.h5" "$TEST" --threads "$T" -o "$OUT/$P-hw-sim.h5"
if [ "$P" = slm8 ]; then
    "$A" simulate "$OUT/$P-hw-sys.h5" "$TEST" --threads "$T" --propagation ideal \
        -o "$OUT/$P-hw-sim-ideal.h5"
fi
