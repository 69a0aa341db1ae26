# SPDX-License-Identifier: GPL-3.0-or-later
"""examples/torch/acdc_torch.py -- an ACDC cascade as a torch.nn.Module, and the round
trip to and from this project's model file (models/FORMAT.md).

The module computes exactly what `acdc infer` computes.  One layer maps x (length n) to

    y = perm( act( C^T (d * (C (a * x + a_bias)) + d_bias) ) )

with C the orthonormal DCT-II (transform "dct"), or the separable 2D DCT-II of an h x w
grid stored row-major (transform "dct2").  The cascade standardises its input,
(x - mean) / scale, when the file holds /input, zero-pads it to n (for dct2: the
in_h x in_w input grid in the top-left corner of the h x w grid), runs the layers in
order and returns the first n_out values.

The DCT is an explicit orthonormal matrix, built once in float64 from the formula of
FORMAT.md and applied with a matrix product.  torch 1.13 has no DCT of its own; a DCT
through torch.fft would take a reordering and a complex twiddle per call, costs O(n log n)
instead of O(n^2), and is worth it only for large n.  This project's layers are small
(784 for a 28 x 28 image in 1D; for dct2 the matrices are h x h and w x w, 32 x 32 for
Fashion-MNIST), where the matrix is the simplest exact choice: one product, the same
rounding as any dense product, and autograd needs nothing more.  An n x n float64 matrix
takes 8 n^2 bytes (4.9 MB at n = 784; 0.5 GB at n = 8192, where an FFT version would be
the better choice).

Command line:

    python3 acdc_torch.py check MODEL.h5 DATA.h5 [--rows R]   # forward pass, prints logits
    python3 acdc_torch.py copy MODEL.h5 OUT.h5                # import, then export again

Needs torch, h5py and numpy.
"""
import math
import sys

import h5py
import numpy as np
import torch
from torch import nn

FORMAT = "acdc-model"
VERSION = 1


def dct_matrix(n, dtype=torch.float64):
    """The orthonormal DCT-II as an n x n matrix: C[k][j] = sqrt(2/n) e_k cos(pi (2j+1) k
    / (2n)), e_0 = 1/sqrt(2), e_k = 1 otherwise.  C^T is its inverse (the DCT-III)."""
    k = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    j = torch.arange(n, dtype=torch.float64).unsqueeze(0)
    c = math.sqrt(2.0 / n) * torch.cos(math.pi * (2 * j + 1) * k / (2 * n))
    c[0] /= math.sqrt(2.0)
    return c.to(dtype)


class ACDCCascade(nn.Module):
    """K ACDC layers of size n, as models/FORMAT.md defines them.

    Parameters (trainable): a, d, a_bias, d_bias, each (K, n).  Buffers: perm (K, n)
    int64 (identity where a layer has none), relu (K,) bool, and, when the model
    standardises its input, in_mean and in_scale (n_in,).  transform "dct" works on the
    vector; "dct2" on an h x w grid (shape), the input being an in_h x in_w grid
    (input_shape, default shape) placed in its top-left corner.
    """

    def __init__(self, n, layers, n_in=None, n_out=None, transform="dct", shape=None,
                 input_shape=None, dtype=torch.float64):
        super().__init__()
        n_in = n if n_in is None else int(n_in)
        n_out = n if n_out is None else int(n_out)
        if not (1 <= n_in <= n and 1 <= n_out <= n and layers >= 1):
            raise ValueError(f"need 1 <= n_in, n_out <= n = {n} and at least one layer")
        if transform == "dct":
            if shape is not None and tuple(shape) != (1, n):
                raise ValueError(f"transform dct: shape {tuple(shape)} is not (1, {n})")
            shape, input_shape = (1, n), (1, n_in)
        elif transform == "dct2":
            if shape is None or shape[0] * shape[1] != n:
                raise ValueError(f"transform dct2 needs shape (h, w) with h*w = n = {n}")
            input_shape = tuple(shape) if input_shape is None else tuple(input_shape)
            if (input_shape[0] * input_shape[1] != n_in or input_shape[0] > shape[0]
                    or input_shape[1] > shape[1]):
                raise ValueError(f"input_shape {input_shape} does not fit n_in = {n_in} "
                                 f"in shape {tuple(shape)}")
        else:
            raise ValueError(f"transform '{transform}' is neither dct nor dct2")
        self.n, self.n_in, self.n_out, self.transform = n, n_in, n_out, transform
        self.shape = tuple(int(v) for v in shape)
        self.input_shape = tuple(int(v) for v in input_shape)
        ones = torch.ones(layers, n, dtype=dtype)
        self.a = nn.Parameter(ones.clone())
        self.d = nn.Parameter(ones.clone())
        self.a_bias = nn.Parameter(torch.zeros(layers, n, dtype=dtype))
        self.d_bias = nn.Parameter(torch.zeros(layers, n, dtype=dtype))
        self.register_buffer("perm", torch.arange(n).repeat(layers, 1))
        relu = torch.ones(layers, dtype=torch.bool)
        relu[-1] = False
        self.register_buffer("relu", relu)
        self.register_buffer("in_mean", None)
        self.register_buffer("in_scale", None)
        h, w = self.shape
        if transform == "dct":
            self.register_buffer("c", dct_matrix(n, dtype))
        else:
            self.register_buffer("c_h", dct_matrix(h, dtype))
            self.register_buffer("c_w", dct_matrix(w, dtype))

    @property
    def layers(self):
        return self.a.shape[0]

    def set_standardisation(self, mean, scale):
        """x' = (x - mean) / scale before the cascade; None, None removes it."""
        if mean is None:
            self.in_mean = self.in_scale = None
            return
        mean = torch.as_tensor(mean, dtype=self.a.dtype).reshape(self.n_in)
        scale = torch.as_tensor(scale, dtype=self.a.dtype).reshape(self.n_in)
        if not bool((scale > 0).all()) or not bool(torch.isfinite(mean).all()):
            raise ValueError("every scale must be > 0 and every mean finite")
        self.in_mean, self.in_scale = mean, scale

    # The transforms on a batch of rows (b, n).
    def _dct(self, v):
        if self.transform == "dct":
            return v @ self.c.T
        h, w = self.shape
        g = v.reshape(-1, h, w)
        return (self.c_h @ g @ self.c_w.T).reshape(-1, h * w)

    def _idct(self, v):
        if self.transform == "dct":
            return v @ self.c
        h, w = self.shape
        g = v.reshape(-1, h, w)
        return (self.c_h.T @ g @ self.c_w).reshape(-1, h * w)

    def _pad(self, x):
        """(b, n_in) -> (b, n): zeros appended (dct), or the input grid in the top-left
        corner of the layer grid (dct2)."""
        b = x.shape[0]
        h, w = self.shape
        ih, iw = self.input_shape
        v = x.new_zeros(b, h, w)
        v[:, :ih, :iw] = x.reshape(b, ih, iw)
        return v.reshape(b, h * w)

    def forward(self, x):
        """x: (batch, n_in), or (n_in,) for one input.  Returns (batch, n_out)."""
        x = torch.as_tensor(x, dtype=self.a.dtype)
        if x.dim() == 1:
            x = x.unsqueeze(0)
        if x.shape[1] != self.n_in:
            raise ValueError(f"input rows of {x.shape[1]} values, the model takes {self.n_in}")
        if self.in_mean is not None:
            x = (x - self.in_mean) / self.in_scale
        v = self._pad(x)
        for l in range(self.layers):
            h2 = self._dct(self.a[l] * v + self.a_bias[l])
            z = self._idct(self.d[l] * h2 + self.d_bias[l])
            if self.relu[l]:
                z = torch.relu(z)
            v = z[:, self.perm[l]]
        return v[:, :self.n_out]


def _attr_int(f, name, default=None):
    if name not in f.attrs:
        if default is None:
            raise ValueError(f"'{f.filename}': no attribute '{name}'")
        return default
    return int(f.attrs[name])


def _attr_str(obj, name, default):
    v = obj.attrs.get(name, default)
    return v.decode() if isinstance(v, bytes) else str(v)


def load(path, dtype=torch.float64):
    """A model file (models/FORMAT.md) -> ACDCCascade with its parameters."""
    with h5py.File(path, "r") as f:
        fmt = _attr_str(f, "format", "")
        if fmt != FORMAT or _attr_int(f, "version") != VERSION:
            raise ValueError(f"'{path}' is not an acdc-model file of version {VERSION}")
        n = _attr_int(f, "n")
        transform = _attr_str(f, "transform", "dct")
        shape = tuple(int(v) for v in f.attrs["shape"]) if "shape" in f.attrs else None
        ishape = (tuple(int(v) for v in f.attrs["input_shape"])
                  if "input_shape" in f.attrs else None)
        if transform == "dct":
            shape = ishape = None   # (1, n) and (1, n_in) when present
        g = f["layers"]
        K = len(g)
        names = sorted(g.keys(), key=int)
        if names != [str(l) for l in range(K)]:
            raise ValueError(f"'{path}': /layers is not 0 .. {K - 1}")
        m = ACDCCascade(n, K, n_in=_attr_int(f, "n_in", n), n_out=_attr_int(f, "n_out", n),
                        transform=transform, shape=shape, input_shape=ishape, dtype=dtype)
        with torch.no_grad():
            for l in range(K):
                L = g[str(l)]
                for name in ("a", "d", "a_bias", "d_bias"):
                    if name in L:
                        getattr(m, name)[l] = torch.from_numpy(
                            np.asarray(L[name][...], dtype=np.float64)).to(dtype)
                if "perm" in L:
                    m.perm[l] = torch.from_numpy(np.asarray(L["perm"][...], dtype=np.int64))
                m.relu[l] = _attr_str(L, "activation", "none") == "relu"
        if "input" in f:
            m.set_standardisation(np.asarray(f["input/mean"][...], dtype=np.float64),
                                  np.asarray(f["input/scale"][...], dtype=np.float64))
    return m


def save(m, path):
    """ACDCCascade -> a model file that `acdc inspect` and `acdc infer` read.  Writes
    float64 and int64, every layer's a, d, both biases, its permutation and activation;
    transform, shape and input_shape for dct2 models (none of them for dct, as acdc
    writes 1D models); /input when the module standardises its input.  Written to a
    temporary beside path and renamed into place."""
    import os
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["version"] = np.int64(VERSION)
            f.attrs["n"] = np.int64(m.n)
            f.attrs["n_in"] = np.int64(m.n_in)
            f.attrs["n_out"] = np.int64(m.n_out)
            if m.transform == "dct2":
                f.attrs["transform"] = "dct2"
                f.attrs["shape"] = np.array(m.shape, dtype=np.int64)
                f.attrs["input_shape"] = np.array(m.input_shape, dtype=np.int64)
            with torch.no_grad():
                for l in range(m.layers):
                    g = f.create_group(f"layers/{l}")
                    for name in ("a", "d", "a_bias", "d_bias"):
                        g[name] = getattr(m, name)[l].detach().to(torch.float64).numpy()
                    g["perm"] = m.perm[l].numpy().astype(np.int64)
                    g.attrs["activation"] = "relu" if bool(m.relu[l]) else "none"
                if m.in_mean is not None:
                    f["input/mean"] = m.in_mean.detach().to(torch.float64).numpy()
                    f["input/scale"] = m.in_scale.detach().to(torch.float64).numpy()
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def main(argv):
    if len(argv) >= 3 and argv[0] == "check":
        rows = int(argv[argv.index("--rows") + 1]) if "--rows" in argv else 5
        m = load(argv[1])
        with h5py.File(argv[2], "r") as f:
            x = np.asarray(f["x"][:rows], dtype=np.float64)
            labels = f["labels"][:rows] if "labels" in f else None
        with torch.no_grad():
            y = m(torch.from_numpy(x))
        for i, row in enumerate(y.numpy()):
            tail = f"  label {labels[i]}" if labels is not None else ""
            print(f"row {i}: argmax {int(row.argmax())}{tail}: "
                  + " ".join(f"{v:.6g}" for v in row))
        return 0
    if len(argv) == 3 and argv[0] == "copy":
        save(load(argv[1]), argv[2])
        print(f"wrote '{argv[2]}'")
        return 0
    print(__doc__.split("Command line:")[1].split("Needs")[0].rstrip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
