#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/train.sh -- command-line tests of `acdc train` and `acdc eval` (TAP).
# Uses the embedded data set (examples/data/fashion-*.h5).  CLI_WRAPPER (e.g. valgrind)
# prefixes each run of the short cases.
set -u
BUILD=${BUILD:-build}
ACDC=$BUILD/acdc
T=$BUILD/tests/train-tmp
TR=examples/data/fashion-train.h5
TE=examples/data/fashion-test.h5
rm -rf "$T" && mkdir -p "$T"
. tests/tap.bash

# interrupted CKPT ERR ARGS...: runs acdc ARGS in the background, sends SIGINT once CKPT
# exists and sets rc to the exit status (stderr in ERR).  It waits up to 120 s (a slow,
# loaded or sanitized build) for the first checkpoint: a background job of a script
# ignores SIGINT until the program installs its handler, so a signal sent earlier would
# be lost and the run would finish normally.
interrupted() {
    local ck=$1 err=$2 pid
    shift 2
    "$ACDC" "$@" >/dev/null 2>"$err" &
    pid=$!
    for _ in $(seq 2400); do [ -e "$ck" ] && break; sleep 0.05; done
    kill -INT $pid
    wait $pid; rc=$?
}

# resumed FULL OUT THREADS WANT WHAT: resumes OUT's checkpoint (its default name) on THREADS
# threads; its output must hold WANT ("a resumed run WHAT") and the model must equal FULL's.
resumed() {
    "$ACDC" train --task classify --data "$TR" --resume --threads "$3" -o "$2" >"$2.out" 2>&1 &&
        grep -q "$4" "$2.out" && ok "a resumed run $5" || notok "a resumed run $5" "$(cat "$2.out")"
    h5diff -q -c "$1" "$2" >/dev/null 2>&1 && ok "the resumed model equals $1" ||
        notok "the resumed model equals $1" "$(h5diff -c "$1" "$2" 2>&1 | head -3)"
}

case_ 0 "usage: acdc train" train --help
case_ 0 "usage: acdc eval" eval --help
case_ 2 "no task" train -o "$T/m.h5"
case_ 2 "--task: 'regress'" train --task regress -o "$T/m.h5"
case_ 2 "needs --data" train --task classify -o "$T/m.h5"
case_ 2 "no output file" train --task classify --data "$TR"
case_ 2 "--lr: 'fast' is not a number" train --task classify --data "$TR" --lr fast -o "$T/m.h5"
case_ 2 "--layers: 0 is outside" train --task classify --data "$TR" -K 0 -o "$T/m.h5"
case_ 2 "--val: 0.95 is outside" train --task classify --data "$TR" --val 0.95 -o "$T/m.h5"
case_ 2 "--optimiser: 'lbfgs'" train --task classify --data "$TR" --optimiser lbfgs -o "$T/m.h5"
case_ 2 "unknown option" train --task classify --data "$TR" --frob -o "$T/m.h5"
case_ 2 "different files" train --task classify --data "$TR" -o "$T/m.h5" --checkpoint "$T/m.h5"
case_ 2 "draws its own data" train --task operator --data "$TR" -o "$T/m.h5"
case_ 2 "smaller than the 784 inputs" train --task classify --data "$TR" -n 100 -o "$T/m.h5"
case_ 1 "cannot open '$T/none'" train --task classify --data "$T/none" -o "$T/m.h5"
case_ 1 "cannot find 'train-images-idx3-ubyte'" train --task classify --data "$T" -o "$T/m.h5"
case_ 1 "no labels" train --task classify --data "$T/../cli-tmp/nolabels.h5" -o "$T/m.h5"
case_ 1 "row 0 has label 9, outside the classes 0..4 of --classes" train --task classify --data "$TR" --classes 5 -o "$T/m.h5"
case_ 1 "cannot open '$T/nockpt.h5'" train --task classify --data "$TR" --resume --checkpoint "$T/nockpt.h5" -o "$T/m.h5"

# A short real run: model, checkpoint, test accuracy; then eval and infer on it.
case_ 0 "test '$TE': 1000 rows" train --task classify --data "$TR" --test "$TE" -K 2 -e 2 \
    --lr 0.01 --threads 2 -o "$T/small.h5"
[ -s "$T/small.ckpt.h5" ] && ok "checkpoint written beside the output" ||
    notok "checkpoint written beside the output"
case_ 1 "not a checkpoint" train --task classify --data "$TR" --resume --checkpoint "$T/small.h5" -o "$T/m.h5"
case_ 0 "accuracy" eval "$T/small.h5" "$TE" -o "$T/eval.h5"
case_ 0 "/confusion" inspect "$T/eval.h5"
h5ls "$T/eval.h5" 2>/dev/null | grep -q 'confusion.*{10, 10}' && ok "eval file holds a 10 x 10 confusion matrix" ||
    notok "eval file holds a 10 x 10 confusion matrix"
case_ 0 "1000 rows x 10 outputs" infer "$T/small.ckpt.h5" "$TE" -o "$T/y.h5"
case_ 1 "has 8 columns but model" eval "$T/small.h5" "$T/../cli-tmp/data.h5"
case_ 2 "expected MODEL.h5 and DATA" eval "$T/small.h5"
case_ 2 "--split: 'dev'" eval "$T/small.h5" "$TE" --split dev
# The eval accuracy is the one train printed for the same test data.
a1=$("$ACDC" train --task classify --data "$TR" --test "$TE" -K 2 -e 2 --lr 0.01 -q -o "$T/small2.h5" | sed -n 's/.*accuracy \([0-9.]*\).*/\1/p')
a2=$("$ACDC" eval "$T/small2.h5" "$TE" | sed -n 's/^accuracy *//p')
[ -n "$a1" ] && [ "$a1" = "$a2" ] && ok "train's test accuracy ($a1) equals eval's ($a2)" ||
    notok "train's test accuracy ($a1) equals eval's ($a2)"
# Same seed and options twice: the same model, value for value (h5diff compares exactly).
h5diff -q "$T/small.h5" "$T/small2.h5" >/dev/null 2>&1 && ok "same seed gives the same model" ||
    notok "same seed gives the same model"

# Hardware-aware fine-tuning (--init, --hardware): refusals, a short run through the slm8
# surrogate, and a resume that ends where an uninterrupted run ends.
case_ 2 "the model options" train --task classify --data "$TR" --init "$T/small.h5" -K 3 -o "$T/hw.h5"
case_ 2 "--init fine-tunes" train --task classify --data "$TR" --init "$T/small.h5" -n 784 -o "$T/hw.h5"
case_ 2 "--resume continues" train --task classify --data "$TR" --init "$T/small.h5" --resume -o "$T/hw.h5"
case_ 2 "would be overwritten" train --task classify --data "$TR" --init "$T/small.h5" -o "$T/small.h5"
case_ 1 "cannot open '$T/none.h5'" train --task classify --data "$TR" --init "$T/none.h5" -o "$T/hw.h5"
case_ 2 "--hardware 'nosuch'" train --task classify --data "$TR" --init "$T/small.h5" --hardware nosuch -o "$T/hw.h5"
case_ 1 "has 784 inputs and 10 outputs; the data have 8 columns" train --task classify \
    --data "$T/../cli-tmp/data.h5" --init "$T/small.h5" -o "$T/hw.h5"
hw=(train --task classify --data "$TR" --test "$TE" --init "$T/small.h5" --hardware slm8
    --lr 1e-3 --threads 2)
${CLI_WRAPPER:-} "$ACDC" "${hw[@]}" --val 0.9 -e 1 -o "$T/hw.h5" >"$T/hw.out" 2>&1 &&
    grep -q "through the hardware: slm8, 2 optical chains, pixel-aware" "$T/hw.out" &&
    grep -q "lenses with the profile's wavefront error" "$T/hw.out" &&
    grep -q "through the hardware surrogate: accuracy" "$T/hw.out" &&
    ok "a run through the slm8 surrogate names the hardware and its test accuracy" ||
    notok "a run through the slm8 surrogate names the hardware and its test accuracy" "$(cat "$T/hw.out")"
h5dump -a /train/hardware "$T/hw.ckpt.h5" 2>/dev/null | grep -q '"slm8"' &&
    ok "the checkpoint records the hardware" || notok "the checkpoint records the hardware"
# the resumed run must restore the first stage's ideal lenses from the checkpoint
hw+=(--val 0.5 --hardware-lens ideal)
"$ACDC" "${hw[@]}" -e 2 -q -o "$T/hw2.h5" >/dev/null 2>&1
interrupted "$T/hw3.ckpt.h5" "$T/hw3.err" "${hw[@]}" -e 2 -q -o "$T/hw3.h5"
[ $rc = 3 ] && ok "SIGINT during hardware-aware training exits 3" ||
    notok "SIGINT during hardware-aware training exits 3 (got $rc)" "$(cat "$T/hw3.err")"
resumed "$T/hw2.h5" "$T/hw3.h5" 1 "through the hardware: slm8" "attaches the stored hardware"
case_ 2 "trains through 'slm8', not --hardware 'slm8-complex'" train --task classify --data "$TR" \
    --resume --hardware slm8-complex -o "$T/hw3.h5"
# a compiled system file as the hardware, and the operator task trained from scratch
"$ACDC" compile "$T/small.h5" --device slm8 -o "$T/small-slm8.h5" >/dev/null 2>&1
case_ 0 "through the hardware: slm8, 2 optical chains" train --task classify --data "$TR" \
    --init "$T/small.h5" --hardware "$T/small-slm8.h5" --hardware-lens ideal --val 0.9 -e 1 \
    -o "$T/hwsys.h5"
case_ 1 "carries 2 layers of n = 784 with 784 inputs; the model has 3 layers" train --task \
    classify --data "$TR" -K 3 --hardware "$T/small-slm8.h5" -e 1 -o "$T/hwsys.h5"
case_ 0 "val_mse" train --task operator --size 32 --rows 512 -K 2 -e 1 --hardware slm8 \
    --hardware-lens ideal -o "$T/hwop.h5"
case_ 2 "--hardware-lens: 'blurry'" train --task classify --data "$TR" --init "$T/small.h5" \
    --hardware slm8 --hardware-lens blurry -o "$T/hw.h5"

# Distillation (--distil): refusals, a short run that names its teacher in the checkpoint,
# a resume that ends where an uninterrupted run ends, and a teacher changed under it.
case_ 2 "--distil belongs to --task classify" train --task operator -K 2 --distil "$T/small.h5" -o "$T/kd.h5"
case_ 2 "need --distil MODEL.h5" train --task classify --data "$TR" --distil-weight 0.3 -o "$T/kd.h5"
case_ 2 "--distil-weight: 2 is outside" train --task classify --data "$TR" --distil "$T/small.h5" \
    --distil-weight 2 -o "$T/kd.h5"
case_ 2 "--distil-temperature: 'warm' is not a number" train --task classify --data "$TR" \
    --distil "$T/small.h5" --distil-temperature warm -o "$T/kd.h5"
case_ 2 "would be overwritten" train --task classify --data "$TR" --distil "$T/kd.h5" -o "$T/kd.h5"
case_ 1 "--distil '$T/none.h5'" train --task classify --data "$TR" --init "$T/small.h5" \
    --distil "$T/none.h5" -o "$T/kd.h5"
case_ 1 "--distil '$T/hwop.h5': the teacher has 32 inputs and 32 outputs; the model trained has 784 and 10" \
    train --task classify --data "$TR" --init "$T/small.h5" --distil "$T/hwop.h5" -o "$T/kd.h5"
kd=(train --task classify --data "$TR" --init "$T/small.h5" --distil "$T/small.h5"
    --distil-weight 0.7 --distil-temperature 3 --lr 1e-3 --val 0.5 -e 3)
"$ACDC" "${kd[@]}" --threads 2 -o "$T/kd.h5" >"$T/kd.out" 2>&1 &&
    grep -q "distilling from '$T/small.h5' (its numeric logits; weight 0.7, temperature 3)" "$T/kd.out" &&
    ok "a distilling run names its teacher" || notok "a distilling run names its teacher" "$(cat "$T/kd.out")"
h5dump -a /train/teacher "$T/kd.ckpt.h5" 2>/dev/null | grep -q "\"$T/small.h5\"" &&
    h5dump -a /train/distil "$T/kd.ckpt.h5" 2>/dev/null | grep -q "0.7" &&
    ok "the checkpoint records the teacher and the weight" ||
    notok "the checkpoint records the teacher and the weight"
h5diff -q "$T/kd.h5" "$T/small.h5" >/dev/null 2>&1 &&
    notok "distillation changed the model" || ok "distillation changed the model"
interrupted "$T/kd2.ckpt.h5" "$T/kd2.err" "${kd[@]}" --threads 1 -q -o "$T/kd2.h5"
[ $rc = 3 ] && ok "SIGINT during distillation exits 3" ||
    notok "SIGINT during distillation exits 3 (got $rc)" "$(cat "$T/kd2.err")"
case_ 2 "drop --distil-weight" train --task classify --data "$TR" --resume --distil-weight 0.1 -o "$T/kd2.h5"
cp "$T/kd2.ckpt.h5" "$T/kd2-copy.ckpt.h5"
case_ 1 "was trained on other data than '$TR' ('teacher=" train --task classify --data "$TR" \
    --resume --checkpoint "$T/kd2-copy.ckpt.h5" --distil "$T/hw.h5" -o "$T/kd3.h5"
resumed "$T/kd.h5" "$T/kd2.h5" 2 "distilling from '$T/small.h5'" "computes the stored teacher's logits again"
case_ 2 "the checkpoint's teacher '$T/small.h5' is also the output" train --task classify \
    --data "$TR" --resume --checkpoint "$T/kd2-copy.ckpt.h5" -o "$T/small.h5"
case_ 2 "trains without distillation: drop --distil" train --task classify --data "$TR" \
    --resume --checkpoint "$T/hw3.ckpt.h5" --distil "$T/small.h5" -o "$T/kd4.h5"

# Operator task.
case_ 0 "val_mse" train --task operator --size 16 --rows 1024 -K 2 --perm -e 2 -o "$T/op.h5"

# Interrupt and resume: SIGINT after the first checkpoint exits 3 and keeps it; --resume
# ends at exactly the model of an uninterrupted run.
args=(train --task classify --data "$TR" -K 6 -e 6 --lr 0.01 --threads 1 -q)
"$ACDC" "${args[@]}" -o "$T/full.h5" >/dev/null 2>&1
interrupted "$T/int.ckpt.h5" "$T/int.err" "${args[@]}" -o "$T/int.h5"
[ $rc = 3 ] && ok "SIGINT exits 3" || notok "SIGINT exits 3 (got $rc)" "$(cat "$T/int.err")"
grep -q "interrupted" "$T/int.err" && ok "interruption is reported" || notok "interruption is reported"
[ ! -e "$T/int.h5" ] && ok "no output after an interrupted run" || notok "no output after an interrupted run"
case_ 0 "ACDC model" inspect "$T/int.ckpt.h5"
case_ 0 "-" "${args[@]}" -o "$T/int.h5" --resume
h5diff -q -c "$T/full.h5" "$T/int.h5" >/dev/null 2>&1 && ok "resumed model equals the uninterrupted one" ||
    notok "resumed model equals the uninterrupted one" "$(h5diff -c "$T/full.h5" "$T/int.h5" 2>&1 | head -3)"
case_ 1 "checkpoint '$T/int.ckpt.h5' was made for 5000 rows" train --task classify --data "$TE" \
    -o "$T/int.h5" --resume

# The shipped hardware-trained 2D model (README, "Training through the hardware"): it
# reads, keeps its numeric accuracy on the embedded test images (0.895 when shipped) and
# compiles for its profile with the clipped masks it was trained through.
a=$("$ACDC" eval examples/data/fashion-acdc2d-slm1080.h5 "$TE" | sed -n 's/^accuracy *//p')
awk -v a="${a:-0}" 'BEGIN { exit !(a >= 0.88) }' && ok "the shipped slm1080 model: accuracy $a" ||
    notok "the shipped slm1080 model: accuracy ${a:-none} (want >= 0.88)"
case_ 0 "Fourier mask scaled to 0.5 of its largest value" compile \
    examples/data/fashion-acdc2d-slm1080.h5 --device slm1080 --set rules.fourier_clip=0.5 \
    -o "$T/slm1080-clip.h5"

# The shipped hardware-trained 1D model (README, "Training through the hardware"; a run
# of examples/train_hardware.sh slm8): it reads, keeps its numeric accuracy on the
# embedded test images (0.890 when shipped) and compiles for slm8, each double-phase pair
# down a strip of the device's 2464 rows, which the column averages.
a=$("$ACDC" eval examples/data/fashion-acdc-slm8.h5 "$TE" | sed -n 's/^accuracy *//p')
awk -v a="${a:-0}" 'BEGIN { exit !(a >= 0.88) }' && ok "the shipped slm8 model: accuracy $a" ||
    notok "the shipped slm8 model: accuracy ${a:-none} (want >= 0.88)"
case_ 0 "a strip of 2464 rows (9.22 mm), one pixel column per sample, the mean of them all" \
    compile examples/data/fashion-acdc-slm8.h5 --device slm8 -o "$T/slm8-hw.h5"
