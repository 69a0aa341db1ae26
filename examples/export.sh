#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# examples/export.sh -- what a lab builds from: the shipped 2D cascade compiled for
# 1080p LCoS phase SLMs (slm1080) and exported (compiler/EXPORT.md), and the README's
# figures of it: the first Fourier-plane SLM's image as loaded, and a 48 x 48-pixel
# corner of one plane around its optical axis, 8 x enlarged (Pillow).
#
#   bash examples/export.sh [OUT_DIR]
set -eu
BUILD=${BUILD:-build}
OUT=${1:-examples/out/export}
A="$BUILD/acdc"
mkdir -p "$OUT"
"$A" compile examples/data/fashion-acdc2d.h5 --device slm1080 -o "$OUT/slm1080-sys.h5" >/dev/null
"$A" export "$OUT/slm1080-sys.h5" -o "$OUT/slm1080"
/usr/bin/python3 - "$OUT/slm1080" "$OUT" <<'PY'
import sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
rows = [l.rstrip("\n").split("\t") for l in open(src + "/manifest.tsv") if not l.startswith("#")]
plane = next(r for r in rows if r[0] == "fourier" and r[4] == "fourier-0.png")
cols, mirrored = int(plane[5]), int(plane[7])
ax, ay = float(plane[15]), float(plane[16])
img = Image.open(src + "/fourier-0.png")
x = int(cols - ax) if mirrored else int(ax)   # the axis in the image as loaded
y = int(ay)
img.crop((x - 24, y - 24, x + 24, y + 24)).resize((384, 384), Image.NEAREST).save(
    out + "/slm1080-fourier-0-axis.png")
print("wrote '%s/slm1080-fourier-0-axis.png'" % out)
PY
