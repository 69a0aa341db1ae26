# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/fixtures.py -- writes the files the command-line tests read (needs h5py).

Usage: python3 tests/fixtures.py DIR
Valid ones are written the way a PyTorch user would, with h5py; the broken ones each
spoil one thing.
"""
import sys
import h5py
import numpy as np

d = sys.argv[1]
rng = np.random.default_rng(2385)


def model(path, n=8, layers=2, n_in=None, n_out=None, spoil=None):
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "acdc-model"
        f.attrs["version"] = 1
        f.attrs["n"] = n
        if n_in is not None:
            f.attrs["n_in"] = n_in
        if n_out is not None:
            f.attrs["n_out"] = n_out
        for l in range(layers):
            g = f.create_group(f"layers/{l}")
            g["a"] = 1 + 0.1 * rng.standard_normal(n)
            g["d"] = 1 + 0.1 * rng.standard_normal(n)
            g["d_bias"] = 0.05 * rng.standard_normal(n)
            g["perm"] = rng.permutation(n).astype(np.int64)
            g.attrs["activation"] = "relu" if l + 1 < layers else "none"
        if spoil:
            spoil(f)


def data(path, batch=5, dim=8, labels=True):
    with h5py.File(path, "w") as f:
        f["x"] = rng.standard_normal((batch, dim))
        if labels:
            f["labels"] = rng.integers(0, 3, batch).astype(np.int64)


def nan_d(f):
    a = f["layers/1/d"][...]
    a[3] = np.nan
    del f["layers/1/d"]
    f["layers/1/d"] = a


def bad_perm(f):
    del f["layers/0/perm"]
    f["layers/0/perm"] = np.array([0, 1, 2, 3, 4, 5, 6, 6], dtype=np.int64)


def short_a(f):
    del f["layers/1/a"]
    f["layers/1/a"] = np.ones(7)


def int_a(f):
    del f["layers/0/a"]
    f["layers/0/a"] = np.ones(8, dtype=np.int32)


def no_d(f):
    del f["layers/0/d"]


model(f"{d}/model.h5")
model(f"{d}/model-pad.h5", n=8, n_in=6, n_out=3)
model(f"{d}/nan.h5", spoil=nan_d)
model(f"{d}/perm.h5", spoil=bad_perm)
model(f"{d}/short.h5", spoil=short_a)
model(f"{d}/int.h5", spoil=int_a)
model(f"{d}/nod.h5", spoil=no_d)
data(f"{d}/data.h5")
data(f"{d}/data6.h5", dim=6)
data(f"{d}/nolabels.h5", labels=False)
# a data file that promises 10^9 rows but stores none (chunked, never written): tiny on
# disk, 5.8 TiB to read
with h5py.File(f"{d}/huge.h5", "w") as f:
    f.create_dataset("x", shape=(10**9, 784), chunks=(1, 784), dtype="f8")
with h5py.File(f"{d}/huge8.h5", "w") as f:   # 60 GiB promised, 8 columns
    f.create_dataset("x", shape=(10**9, 8), chunks=(1, 8), dtype="f8")
with open(f"{d}/text.h5", "w") as f:
    f.write("not hdf5\n")
open(f"{d}/empty.h5", "w").close()
with open(f"{d}/model.h5", "rb") as src, open(f"{d}/trunc.h5", "wb") as dst:
    b = src.read()
    dst.write(b[: len(b) // 2])
