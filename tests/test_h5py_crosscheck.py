"""tests/test_h5py_crosscheck.py -- `acdc infer` on models written by h5py, against SciPy.

For each N, writes a cascade (biases, ReLU, permutations, n_in < n, n_out < n) with
h5py, runs build/acdc infer on it, and compares /y with an independent implementation
of the format's definition on scipy.fft.dct(type=2, norm='ortho').  Prints TAP.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from scipy.fft import dct, idct

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
            for l in range(3):
                g = f.create_group(f"layers/{l}")
                g["a"] = 1 + 0.2 * rng.standard_normal(n)
                g["d"] = 1 + 0.2 * rng.standard_normal(n)
                g["a_bias"] = 0.1 * rng.standard_normal(n)
                g["d_bias"] = 0.1 * rng.standard_normal(n)
                g["perm"] = rng.permutation(n).astype(np.int64)
                g.attrs["activation"] = "relu" if l < 2 else "none"
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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
