# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/test_h5py_crosscheck.py -- `acdc infer` on models written by h5py, against SciPy.

For each N, writes a cascade (biases, ReLU, permutations, n_in < n, n_out < n) with
h5py, runs build/acdc infer on it, and compares /y with an independent implementation
of the format's definition on scipy.fft.dct(type=2, norm='ortho').  Then the same for 2D
cascades (transform "dct2") on h x w grids, against scipy.fft.dctn / idctn on the
reshaped image, with input grids smaller than the layer grid placed in the top-left
corner.  Prints TAP.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from scipy.fft import dct, dctn, idct, idctn

BUILD = os.environ.get("BUILD", "build")
TOL = 1e-12


def reference(f, x):
    n = int(f.attrs["n"])
    n_in = int(f.attrs.get("n_in", n))
    n_out = int(f.attrs.get("n_out", n))
    v = np.zeros((x.shape[0], n))
    v[:, :n_in] = x
    for l in range(len(f["layers"])):
        g = f["layers"][str(l)]
        h1 = g["a"][...] * v + (g["a_bias"][...] if "a_bias" in g else 0)
        h2 = dct(h1, type=2, norm="ortho", axis=1)
        h3 = g["d"][...] * h2 + (g["d_bias"][...] if "d_bias" in g else 0)
        u = idct(h3, type=2, norm="ortho", axis=1)
        if g.attrs.get("activation", "none") == "relu":
            u = np.maximum(u, 0)
        v = u[:, g["perm"][...]] if "perm" in g else u
    return v[:, :n_out]


def reference2(f, x):
    """The 2D cascade of FORMAT.md: the input grid laid row by row into the top-left
    corner of the h x w grid, C2 = dctn(type=2, norm='ortho') on the reshaped image."""
    h, w = (int(v) for v in f.attrs["shape"])
    ih, iw = (int(v) for v in f.attrs.get("input_shape", (h, w)))
    n_out = int(f.attrs.get("n_out", h * w))
    b = x.shape[0]
    v = np.zeros((b, h, w))
    v[:, :ih, :iw] = x.reshape(b, ih, iw)
    v = v.reshape(b, h * w)
    for l in range(len(f["layers"])):
        g = f["layers"][str(l)]
        h1 = (g["a"][...] * v + (g["a_bias"][...] if "a_bias" in g else 0)).reshape(b, h, w)
        h2 = dctn(h1, type=2, norm="ortho", axes=(1, 2)).reshape(b, h * w)
        h3 = (g["d"][...] * h2 + (g["d_bias"][...] if "d_bias" in g else 0)).reshape(b, h, w)
        u = idctn(h3, type=2, norm="ortho", axes=(1, 2)).reshape(b, h * w)
        if g.attrs.get("activation", "none") == "relu":
            u = np.maximum(u, 0)
        v = u[:, g["perm"][...]] if "perm" in g else u
    return v[:, :n_out]


def write_layers(f, rng, n):
    """Three layers of n with both biases, permutations and ReLU but after the last."""
    for l in range(3):
        g = f.create_group(f"layers/{l}")
        g["a"] = 1 + 0.2 * rng.standard_normal(n)
        g["d"] = 1 + 0.2 * rng.standard_normal(n)
        g["a_bias"] = 0.1 * rng.standard_normal(n)
        g["d_bias"] = 0.1 * rng.standard_normal(n)
        g["perm"] = rng.permutation(n).astype(np.int64)
        g.attrs["activation"] = "relu" if l < 2 else "none"


def run_infer(mpath, dpath, opath):
    r = subprocess.run([f"{BUILD}/acdc", "infer", mpath, dpath, "-o", opath],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, f"acdc infer exited {r.returncode}: {r.stderr}"
    with h5py.File(opath, "r") as f:
        return f["y"][...], None


def check2d(rng, tmp, case, h, w, ih, iw):
    """One 2D case; returns True if it passed (and prints its TAP line)."""
    n, n_in, n_out = h * w, ih * iw, max(1, (h * w) // 2)
    mpath, dpath, opath = (os.path.join(tmp, s) for s in ("m2.h5", "d2.h5", "o2.h5"))
    with h5py.File(mpath, "w") as f:
        f.attrs["format"] = "acdc-model"
        f.attrs["version"] = 1
        f.attrs["n"] = n
        f.attrs["n_in"] = n_in
        f.attrs["n_out"] = n_out
        f.attrs["transform"] = "dct2"
        f.attrs["shape"] = np.array([h, w], dtype=np.int64)
        if (ih, iw) != (h, w):
            f.attrs["input_shape"] = np.array([ih, iw], dtype=np.int64)
        write_layers(f, rng, n)
    x = rng.standard_normal((11, n_in))
    with h5py.File(dpath, "w") as f:
        f["x"] = x
    y, err = run_infer(mpath, dpath, opath)
    name = f"2D {h}x{w} (input {ih}x{iw})"
    if y is None:
        print(f"not ok {case} - {name}: {err}")
        return False
    with h5py.File(mpath, "r") as f:
        ref = reference2(f, x)
    e = np.max(np.abs(y - ref)) / max(np.max(np.abs(ref)), 1e-300)
    if y.shape == ref.shape and e <= TOL:
        print(f"ok {case} - {name}: relative error {e:.2e} <= {TOL:g}")
        return True
    print(f"not ok {case} - {name}: relative error {e:.2e}, shape {y.shape}")
    return False


def check_refused(tmp, case, name, attrs, want):
    """A 3x5 model whose root attributes `attrs` break the 2D rules: acdc infer must exit
    1 with one line naming the file and `want` (the attribute)."""
    mpath, dpath, opath = (os.path.join(tmp, s) for s in ("bad.h5", "dbad.h5", "obad.h5"))
    with h5py.File(mpath, "w") as f:
        f.attrs["format"] = "acdc-model"
        f.attrs["version"] = 1
        f.attrs["n"] = 15
        for k, v in attrs.items():
            f.attrs[k] = v
        g = f.create_group("layers/0")
        g["a"] = np.ones(15)
        g["d"] = np.ones(15)
    with h5py.File(dpath, "w") as f:
        f["x"] = np.ones((2, int(attrs.get("n_in", 15))))
    r = subprocess.run([f"{BUILD}/acdc", "infer", mpath, dpath, "-o", opath],
                       capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    if r.returncode == 1 and len(lines) == 1 and mpath in lines[0] and want in lines[0]:
        print(f"ok {case} - refused {name}: {lines[0]}")
        return True
    print(f"not ok {case} - {name}: exit {r.returncode}, stderr {r.stderr!r}")
    return False


def main():
    rng = np.random.default_rng(2385)
    holder = tempfile.TemporaryDirectory(prefix="acdc-xcheck-")
    tmp = holder.name
    case = 0
    failed = 0
    for n in (1, 7, 784, 1024, 4099):
        case += 1
        n_in, n_out = max(1, n - n // 3), max(1, n // 2)
        mpath, dpath, opath = (os.path.join(tmp, s) for s in ("m.h5", "d.h5", "o.h5"))
        with h5py.File(mpath, "w") as f:
            f.attrs["format"] = "acdc-model"
            f.attrs["version"] = 1
            f.attrs["n"] = n
            f.attrs["n_in"] = n_in
            f.attrs["n_out"] = n_out
            write_layers(f, rng, n)
        x = rng.standard_normal((17, n_in))
        with h5py.File(dpath, "w") as f:
            f["x"] = x
        r = subprocess.run([f"{BUILD}/acdc", "infer", mpath, dpath, "-o", opath],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"not ok {case} - N = {n}: acdc infer exited {r.returncode}: {r.stderr}")
            failed += 1
            continue
        with h5py.File(opath, "r") as f:
            y = f["y"][...]
        with h5py.File(mpath, "r") as f:
            ref = reference(f, x)
        err = np.max(np.abs(y - ref)) / max(np.max(np.abs(ref)), 1e-300)
        if y.shape == ref.shape and err <= TOL:
            print(f"ok {case} - N = {n}: relative error {err:.2e} <= {TOL:g}")
        else:
            print(f"not ok {case} - N = {n}: relative error {err:.2e}, shape {y.shape}")
            failed += 1
    for h, w, ih, iw in ((1, 1, 1, 1), (1, 7, 1, 7), (7, 1, 7, 1), (3, 5, 3, 5),
                         (3, 5, 2, 4), (28, 28, 28, 28), (32, 32, 28, 28),
                         (31, 37, 31, 37)):
        case += 1
        if not check2d(rng, tmp, case, h, w, ih, iw):
            failed += 1
    pair = lambda a, b: np.array([a, b], dtype=np.int64)
    for name, attrs, want in (
            ("transform 'dct3'", {"transform": "dct3"}, "'transform'"),
            ("dct2 without shape", {"transform": "dct2"}, "'shape'"),
            ("dct2 shape 4x4 for n = 15", {"transform": "dct2", "shape": pair(4, 4)},
             "'shape'"),
            ("dct with shape 3x5", {"transform": "dct", "shape": pair(3, 5)}, "'shape'"),
            ("dct2 n_in = 8, no input_shape",
             {"transform": "dct2", "shape": pair(3, 5), "n_in": 8}, "'input_shape'"),
            ("dct2 input_shape 1x8 in 3x5",
             {"transform": "dct2", "shape": pair(3, 5), "n_in": 8,
              "input_shape": pair(1, 8)}, "'input_shape'")):
        case += 1
        if not check_refused(tmp, case, name, attrs, want):
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
