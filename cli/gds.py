# SPDX-License-Identifier: GPL-3.0-or-later
# cli/gds.py -- the GDSII layout of a fabricated element's levels, through gdspy.
# `acdc export` runs it as python3 -c with: LEVELS.h5 OUT.gds CELL.
# LEVELS.h5 holds `level` (rows x columns of phase levels 0 .. 2^bits - 1, row 0 at the
# top) and attributes bits, pitch_m and extent_rows (a 1D element: its one row of levels
# repeated over that many rows).  Layer b + 1 (b = 0 .. bits - 1, datatype 0) holds the
# pixels whose level has bit b set: the b-th of the binary masks of multi-level
# lithography, whose relief steps are 2^b times the smallest (compiler/EXPORT.md).
# Units: 1 um, precision 1 nm; pixel (x, row) spans x pitch .. (x + 1) pitch and
# (rows - 1 - row) pitch .. (rows - row) pitch (y up, row 0 at the top).
import sys

import gdspy
import h5py
import numpy as np


def runs(mask):
    """Half-open [start, end) runs of True in a 1D boolean array."""
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))


def main(src, out, cell_name):
    with h5py.File(src, "r") as f:
        level = np.asarray(f["level"][...], dtype=np.int64)
        bits = int(f.attrs["bits"])
        pitch_um = float(f.attrs["pitch_m"]) * 1e6
        extent = int(f.attrs["extent_rows"])
    lib = gdspy.GdsLibrary(unit=1e-6, precision=1e-9)
    cell = gdspy.Cell(cell_name)
    lib.add(cell)
    rows = level.shape[0] if extent == 0 else extent
    for b in range(bits):
        on = (level >> b) & 1 == 1
        if extent:  # a 1D element: every run spans the element's full height
            for x0, x1 in runs(on[0]):
                cell.add(gdspy.Rectangle((x0 * pitch_um, 0), (x1 * pitch_um, rows * pitch_um),
                                         layer=b + 1, datatype=0))
            continue
        for r in range(level.shape[0]):
            y0 = (rows - 1 - r) * pitch_um
            for x0, x1 in runs(on[r]):
                cell.add(gdspy.Rectangle((x0 * pitch_um, y0), (x1 * pitch_um, y0 + pitch_um),
                                         layer=b + 1, datatype=0))
    lib.write_gds(out)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: gds.py LEVELS.h5 OUT.gds CELL")
    main(sys.argv[1], sys.argv[2], sys.argv[3])
