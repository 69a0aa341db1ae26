#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# examples/train_fashion.sh -- the README's headline: a pure ACDC cascade on Fashion-MNIST.
#
#   bash examples/train_fashion.sh [FASHION_DIR [OUT_DIR]]
#
# Trains 7 ACDC layers of n = 784 (both biases, ReLU and a fixed random permutation
# between layers, logits = the first 10 outputs; 21 952 parameters, 9% of the MLP
# 256-128-100's ~247k) on all 60 000 training images, then evaluates on all 10 000 test
# images.  Adam at 1e-2 on every group, decoupled weight decay 2e-2, cosine schedule,
# batch 64, 15 epochs, per-pixel standardisation stored in the model, seed 1, 2 threads.
# Writes OUT_DIR/fashion-acdc.h5 (model), .ckpt.h5 (checkpoint) and -eval.h5 (loss,
# accuracy, confusion matrix).  FASHION_DIR defaults to Debian's dataset-fashion-mnist.
set -eu
BUILD=${BUILD:-build}
D=${1:-/usr/share/datasets/fashion-mnist}
OUT=${2:-examples/out}
mkdir -p "$OUT"
start=$(date +%s)
"$BUILD/acdc" train --task classify --data "$D" --test "$D" -K 7 -e 15 --lr 1e-2 \
    --weight-decay 2e-2 --val 0 --threads 2 -o "$OUT/fashion-acdc.h5"
echo "training wall time: $(( $(date +%s) - start )) s"
"$BUILD/acdc" eval "$OUT/fashion-acdc.h5" "$D" --threads 2 -o "$OUT/fashion-acdc-eval.h5"
