#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/export_check.py SYSTEM.h5 DIR -- rebuild every mask of a compiled system from
what `acdc export` wrote, by the rules of compiler/EXPORT.md alone, and compare it with
the system file's device codes bit for bit.

Independent of the exporter's code: images are read with Pillow, GDSII layouts with
libGDSII's GDSIIConvert (--raw), the drive tables, manifest and camera map as text.
Prints one line per check and exits 1 at the first mismatch."""
import glob
import os
import re
import subprocess
import sys

import h5py
import numpy as np
from PIL import Image


def fail(msg):
    print("export_check: " + msg)
    sys.exit(1)


def read_lut(path):
    grey_to_level = {}
    for line in open(path):
        line = line.split("#", 1)[0].split()
        if line:
            grey_to_level[int(line[0])] = int(line[2])
    table = np.full(65536, -1, dtype=np.int64)
    for g, lv in grey_to_level.items():
        table[g] = lv
    return table


def read_manifest(path):
    rows = []
    head = None
    for line in open(path):
        if line.startswith("# role"):
            head = line[2:].rstrip("\n").split("\t")
            continue
        if line.startswith("#"):
            continue
        vals = line.rstrip("\n").split("\t")
        rows.append(dict(zip(head, vals)))
    return rows


def code_column(rank, modulation, layout, part, ix, iy):
    """Which code column pixel (ix, iy) of a sample shows (EXPORT.md, 'Pixels')."""
    if modulation == "complex":
        return part
    if modulation == "amplitude":
        return 0
    if layout == "rows":
        return iy & 1
    if rank == 1:
        return ix & 1
    return (ix + iy) & 1 if layout == "checkerboard" else ix & 1


def gds_levels(path, width, height, bits, pitch_um, extent):
    """Rasterise the BOUNDARY rectangles of layers 1..bits (libGDSII's raw dump)."""
    out = subprocess.run(["GDSIIConvert", path, "--raw"], capture_output=True, text=True)
    if out.returncode != 0:
        fail("GDSIIConvert could not read %s: %s" % (path, out.stderr.strip()))
    level = np.zeros((height, width), dtype=np.int64)
    units = None
    layer = None
    rows = extent if extent else height
    for line in out.stdout.splitlines():
        m = re.search(r"(UNITS|LAYER|XY) \(\s*\d+\)\s*=\s*(.*)$", line)
        if not m:
            continue
        kind, vals = m.group(1), m.group(2).split()
        if kind == "UNITS":
            units = float(vals[1])  # metres per database unit
        elif kind == "LAYER":
            layer = int(vals[0])
        else:
            xy = np.array([int(v) for v in vals], dtype=np.int64).reshape(-1, 2)
            step = pitch_um * 1e-6 / units  # database units per pixel
            x0, x1 = xy[:, 0].min() / step, xy[:, 0].max() / step
            y0, y1 = xy[:, 1].min() / step, xy[:, 1].max() / step
            for v in (x0, x1, y0, y1):
                if abs(v - round(v)) > 1e-6:
                    fail("%s: a rectangle off the pixel grid" % path)
            x0, x1, y0, y1 = int(round(x0)), int(round(x1)), int(round(y0)), int(round(y1))
            if extent:
                if (y0, y1) != (0, rows):
                    fail("%s: a 1D element's rectangle does not span its %d rows" % (path, rows))
                level[0, x0:x1] |= 1 << (layer - 1)
            else:
                r0, r1 = rows - y1, rows - y0  # row 0 at the top
                level[r0:r1, x0:x1] |= 1 << (layer - 1)
    if units is None:
        fail("%s: no UNITS record" % path)
    return level


def main(system, folder):
    f = h5py.File(system, "r")
    rank = int(f.attrs.get("rank", 1))
    lam = float(f.attrs["wavelength_m"])
    manifest = read_manifest(os.path.join(folder, "manifest.tsv"))
    checked = 0
    images = {}
    covered = {}
    for row in manifest:
        role, chain, stage = row["role"], int(row["chain"]), int(row["stage"])
        if role == "input":
            continue
        dev = f["profile"][role].attrs
        modulation = dev["modulation"].decode() if isinstance(dev["modulation"], bytes) else dev["modulation"]
        layout = dev["double_phase"]
        layout = layout.decode() if isinstance(layout, bytes) else layout
        codes = f["chains/%d/stages/%d/%s/codes" % (chain, stage, role)][...]
        samples, px, py = int(row["samples"]), int(row["px"]), int(row["py"])
        x0, y0, w, h = (int(row[k]) for k in ("x0", "y0", "width", "height"))
        # a 1D plane: one row, or two when a double-phase pair sits down the strip
        rows1 = 2 if modulation == "phase" and layout == "rows" and h > 1 else 1
        nrow = h if rank == 2 else rows1
        if row["file"].startswith("doe-"):
            base = os.path.join(folder, row["file"][:-4])
            d = h5py.File(base + ".h5", "r")
            level = d["level"][...]
            bits = int(d.attrs["bits"])
            nidx = float(d.attrs["refractive_index"])
            height = d["height_m"][...]
            if not np.allclose(height, lam * level / (2**bits * (nidx - 1)), rtol=1e-12, atol=0):
                fail("%s.h5: height_m is not wavelength level / (2^bits (n - 1))" % base)
            png = np.asarray(Image.open(base + ".png"), dtype=np.int64)
            if not np.array_equal(np.rint(png * (2**bits - 1) / 255.0).astype(np.int64), level):
                fail("%s.png: the image's levels differ from the .h5's" % base)
            gds = base + ".gds"
            if os.path.exists(gds):
                g = gds_levels(gds, w, nrow, bits, float(d.attrs["pitch_m"]) * 1e6,
                               int(d.attrs["extent_rows"]))
                if not np.array_equal(g, level):
                    fail("%s: the layout's levels differ from the .h5's" % gds)
                checked += 1
            parts = [(0, level)]
        else:
            files = row["file"].split(",")
            parts = []
            for part, name in enumerate(files):
                img = np.asarray(Image.open(os.path.join(folder, name)), dtype=np.int64)
                if img.shape != (int(row["rows"]), int(row["cols"])):
                    fail("%s: %s pixels, the device has %sx%s" % (name, img.shape, row["cols"], row["rows"]))
                if int(row["mirrored"]):
                    img = img[:, ::-1]
                suffix = "" if len(files) == 1 else ("-amplitude" if part == 0 else "-phase")
                lut = read_lut(os.path.join(folder, "lut-%s%s.txt" % (role, suffix)))
                lv = lut[img]
                parts.append((part, lv[y0:y0 + nrow, x0:x0 + w]))
                cov = covered.setdefault(name, np.zeros(img.shape, dtype=bool))
                cov[y0:y0 + h, x0:x0 + w] = True
                images[name] = (img, row["mirrored"])
                if rank == 1:
                    for r in range(rows1):
                        if not (img[y0 + r:y0 + h:rows1, x0:x0 + w] == img[y0 + r, x0:x0 + w]).all():
                            fail("%s: a 1D plane's rows differ" % name)
        for part, lv in parts:
            for iy in range(py if rank == 2 else rows1):
                for ix in range(px):
                    col = code_column(rank, modulation, layout, part, ix, iy)
                    got = lv[iy::py, ix::px] if rank == 2 else lv[iy:iy + 1, ix::px]
                    want = codes[:, col].reshape(samples if rank == 2 else 1, samples)
                    if not np.array_equal(got, want):
                        bad = np.argwhere(got != want)[0]
                        fail("%s chain %d stage %d pixel (%d,%d) of the samples: level %d, "
                             "codes say %d (sample %s)" % (role, chain, stage, ix, iy,
                                                            got[tuple(bad)], want[tuple(bad)], bad))
            checked += 1
    for name, (img, _) in images.items():
        if img[~covered[name]].any():
            fail("%s: pixels outside every plane are not grey 0" % name)
    # the camera map against the system file
    cam = f["profile/camera"].attrs
    cols, crow = int(cam["pixels"]), int(cam["rows"]) if "rows" in cam else 1
    m = int(f.attrs["m"])
    n = int(f.attrs["n"])
    for line in open(os.path.join(folder, "camera.tsv")):
        if line.startswith("#"):
            continue
        c, j, smp, cx, cy, mx = (int(v) for v in line.split("\t"))
        if smp != int(f["chains/%d/pixel" % c][j]):
            fail("camera.tsv: chain %d component %d sample %d, the file says %d" % (c, j, smp, f["chains/%d/pixel" % c][j]))
        if rank == 1 and (cx != cols // 2 - m // 2 + smp or cy != crow // 2):
            fail("camera.tsv: chain %d component %d on pixel (%d, %d)" % (c, j, cx, cy))
        if rank == 2 and ((cx - smp % m) % m or (cy - smp // m) % m):
            fail("camera.tsv: chain %d component %d on pixel (%d, %d)" % (c, j, cx, cy))
        if mx != cols - 1 - cx:
            fail("camera.tsv: port I- column %d" % mx)
    # the build sheet lists every element of /elements
    sheet = open(os.path.join(folder, "build-sheet.md")).read()
    for i in range(len(f["elements"])):
        e = f["elements/%d" % i].attrs
        typ = e["type"].decode() if isinstance(e["type"], bytes) else e["type"]
        z = "%.3f" % (1e3 * float(e["z_m"]))
        if not re.search(r"^\| E%d \| [^|]*%s[^|]* \| %s \|" % (i, re.escape(typ.split()[0]), re.escape(z)),
                         sheet, re.M):
            fail("build-sheet.md: element %d (%s at %s mm) is not listed" % (i, typ, z))
    print("export_check: %d planes rebuilt bit for bit, camera map and %d elements checked"
          % (checked, len(f["elements"])))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
