# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/test_torch_roundtrip.py -- the PyTorch module of examples/torch against `acdc`.

Imports the shipped models (examples/data/fashion-acdc.h5, 1D; fashion-acdc2d.h5, 2D)
into torch and compares its forward pass on the first 300 rows of fashion-test.h5 with
`acdc infer`; exports torch models with random parameters (1D and 2D, biases, ReLU,
permutations, n_in < n, n_out < n, input standardisation) and checks that `acdc inspect`
accepts them and `acdc infer` gives the torch outputs; and that export then import gives
the same parameters bit for bit.  Agreement: relative error ||y_torch - y_acdc|| /
||y_acdc|| <= 1e-10 in float64 (observed 1e-15 to 1e-13).  Prints TAP; without torch, one
"ok ... # SKIP" line saying so.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

BUILD = os.environ.get("BUILD", "build")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOL = 1e-10
ROWS = 300

try:
    import torch
except ImportError as e:
    print("1..1")
    print(f"ok 1 # SKIP torch is not importable ({e}): the PyTorch round trip not tried "
          "(Debian: apt-get install python3-torch)")
    sys.exit(0)

sys.path.insert(0, os.path.join(ROOT, "examples", "torch"))
import acdc_torch  # noqa: E402

ACDC = os.path.join(ROOT, BUILD, "acdc")
case = 0
failed = 0


def report(ok, text):
    global case, failed
    case += 1
    failed += not ok
    print(f"{'ok' if ok else 'not ok'} {case} - {text}")


def infer(model, data, out):
    r = subprocess.run([ACDC, "infer", model, data, "-o", out], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return None, f"acdc infer exited {r.returncode}: {r.stderr.strip()}"
    with h5py.File(out, "r") as f:
        return f["y"][...], ""


def rel(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def compare(name, m, data, tmp, model_path):
    with h5py.File(data, "r") as f:
        x = np.asarray(f["x"][...], dtype=np.float64)
    y, err = infer(model_path, data, os.path.join(tmp, "out.h5"))
    if y is None:
        report(False, f"{name}: {err}")
        return
    with torch.no_grad():
        yt = m(torch.from_numpy(x)).numpy()
    if yt.shape != y.shape:
        report(False, f"{name}: torch gives {yt.shape}, acdc infer {y.shape}")
        return
    e = rel(yt, y)
    report(e <= TOL, f"{name}: relative error {e:.2e} (limit {TOL:g}), "
                     f"{y.shape[0]} rows x {y.shape[1]} outputs")


def shipped(tmp, model):
    path = os.path.join(ROOT, "examples", "data", model)
    data = os.path.join(tmp, "rows.h5")
    with h5py.File(os.path.join(ROOT, "examples", "data", "fashion-test.h5"), "r") as f, \
            h5py.File(data, "w") as g:
        g["x"] = np.asarray(f["x"][:ROWS], dtype=np.float64)
        labels = f["labels"][:ROWS]
    m = acdc_torch.load(path)
    compare(f"{model} imported into torch ({m.transform}, {m.layers} layers) against "
            "acdc infer", m, data, tmp, path)
    with torch.no_grad():
        acc = float((m(torch.from_numpy(h5py.File(data, "r")["x"][...])).argmax(1).numpy()
                     == labels).mean())
    report(acc > 0.7, f"{model} in torch classifies {100 * acc:.1f}% of {ROWS} test rows "
                      "(a trained model: above 70%)")


def random_model(rng, n, K, n_in, n_out, transform="dct", shape=None, input_shape=None):
    m = acdc_torch.ACDCCascade(n, K, n_in=n_in, n_out=n_out, transform=transform,
                               shape=shape, input_shape=input_shape)
    with torch.no_grad():
        for name in ("a", "d"):
            getattr(m, name).copy_(torch.from_numpy(1 + 0.3 * rng.standard_normal((K, n))))
        for name in ("a_bias", "d_bias"):
            getattr(m, name).copy_(torch.from_numpy(0.1 * rng.standard_normal((K, n))))
        for l in range(K):
            m.perm[l] = torch.from_numpy(rng.permutation(n).astype(np.int64))
        m.relu[:] = torch.from_numpy(rng.random(K) < 0.6)
    m.set_standardisation(rng.standard_normal(n_in), 0.5 + rng.random(n_in))
    return m


def exported(rng, tmp, name, m):
    path = os.path.join(tmp, f"{name}.h5")
    acdc_torch.save(m, path)
    r = subprocess.run([ACDC, "inspect", path], capture_output=True, text=True)
    report(r.returncode == 0 and str(m.n) in r.stdout,
           f"{name}: acdc inspect accepts the exported file (exit {r.returncode}"
           f"{': ' + r.stderr.strip() if r.returncode else ''})")
    data = os.path.join(tmp, f"{name}-x.h5")
    with h5py.File(data, "w") as f:
        f["x"] = rng.standard_normal((40, m.n_in))
    compare(f"{name}: torch forward against acdc infer on the exported file", m, data, tmp,
            path)
    back = acdc_torch.load(path)
    sd, sb = m.state_dict(), back.state_dict()
    same = sd.keys() == sb.keys() and all(torch.equal(sd[k], sb[k]) for k in sd)
    report(same and back.shape == m.shape and back.input_shape == m.input_shape
           and (back.n, back.n_in, back.n_out) == (m.n, m.n_in, m.n_out),
           f"{name}: export then import gives the same state dict bit for bit "
           f"({len(sd)} tensors)")


def main():
    print("1..13")
    if not os.access(ACDC, os.X_OK):
        print(f"not ok 1 - {ACDC} is not built")
        return 1
    rng = np.random.default_rng(17)
    with tempfile.TemporaryDirectory() as tmp:
        shipped(tmp, "fashion-acdc.h5")
        shipped(tmp, "fashion-acdc2d.h5")
        exported(rng, tmp, "random 1D (n 37, 3 layers, n_in 30, n_out 11)",
                 random_model(rng, 37, 3, 30, 11))
        exported(rng, tmp, "random 2D (5 x 7 grid, 4 layers, input 4 x 6, n_out 9)",
                 random_model(rng, 35, 4, 24, 9, "dct2", (5, 7), (4, 6)))
        exported(rng, tmp, "random 2D (1 x 6 grid, 2 layers)",
                 random_model(rng, 6, 2, 6, 6, "dct2", (1, 6), None))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
