# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/peers.py -- our benchmarks beside PyTorch (CPU) and numpy/scipy, in one run.

Three workloads, each timed first by our C program (build/bench/...) and then by the
peers in this process, at the same sizes, batch and thread count:

  layer        forward + backward of z = Cᵀ(d ⊙ C(a ⊙ x + a_bias) + d_bias) with all
               five gradients (a, d, both biases, dx), batch 256, N in {256, 1024, 4096},
               1 thread, best of several runs (bench_layer --no-dense).
               torch: the orthonormal DCT written with torch.fft.rfft/irfft through
               Makhoul's reordering, autograd for the backward, float32 and float64.
               scipy: scipy.fft.dct/idct (norm="ortho"), the backward written out
               (four transforms, as ours), float64.
  train        the K = 7, n = 784 cascade (both biases, ReLU, fixed permutations),
               softmax cross-entropy on the first 10 outputs, Adam, batch 64, on
               bench_train's synthetic rows; examples per second (shuffle and gather
               included) at 1 and 2 threads (bench_train).  torch float32 and float64.
  propagation  one 4096² band-limited angular-spectrum step: zero-pad to 8192², 2D FFT,
               multiply by the transfer function (precomputed, not timed), inverse 2D
               FFT, crop; 2 threads (bench_optics, OMP_NUM_THREADS=2).
               scipy.fft complex128 (workers=2); torch.fft complex128 and complex64.

Each table prints ours, the peer and "x" = peer time / our time (for throughput our
rate / the peer's): above 1, ours is faster.  A peer that cannot be imported is skipped
with a notice; the exit status is 1 if one of our programs failed.  Run by
`make bench-peers`; about 2-3 minutes on 2 cores, ~5 GB of memory.
"""

import argparse
import math
import os
import re
import subprocess
import sys
import time


def say(*a):
    print(*a, flush=True)


def best_of(fn, reps):
    """Smallest wall time of `reps` calls of fn()."""
    best = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


FAILED = []   # our programs that could not run or failed: the exit status is then 1


def run_ours(build, prog, args=(), threads=None):
    """Runs build/bench/prog and returns its stdout (echoed), or None if it failed."""
    path = os.path.join(build, "bench", prog)
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    try:
        r = subprocess.run([path, *args], env=env, capture_output=True, text=True,
                           check=False)
    except OSError as e:
        say(f"  ours: cannot run {path}: {e}")
        FAILED.append(prog)
        return None
    for line in r.stdout.splitlines():
        say("  | " + line)
    if r.returncode != 0:
        say(f"  ours: {path} exited with {r.returncode}: {r.stderr.strip()}")
        FAILED.append(prog)
        return None
    return r.stdout


def table(title, head, rows):
    say("")
    say(title)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    fmt = "  ".join("{:>%d}" % w for w in widths)
    say("  " + fmt.format(*head))
    for r in rows:
        say("  " + fmt.format(*r))


def ratio(peer, ours):
    return f"{peer / ours:.1f}" if ours and peer else "-"


# ---------------------------------------------------------------- peers available

def try_import(name):
    try:
        return __import__(name), None
    except Exception as e:  # any failure to load counts as "not installed"
        return None, f"{type(e).__name__}: {e}"


def describe_peers(torch, scipy, numpy):
    if torch is not None:
        cfg = torch.__config__.show()
        keys = ("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "USE_OPENMP")
        info = [m.group(0) for k in keys for m in [re.search(k + r"=[^,\s]+", cfg)] if m]
        fft = "MKL" if torch.backends.mkl.is_available() else "pocketfft"
        say(f"torch {torch.__version__} (CPU FFT: {fft}; {', '.join(info)}; "
            f"default threads {torch.get_num_threads()}, set per workload)")
    if scipy is not None:
        say(f"scipy {scipy.__version__} (scipy.fft: its bundled pocketfft), "
            f"numpy {numpy.__version__}")
    say("ours: FFTW 3 (the DCTs as REDFT10/REDFT01, the 2D DFTs with FFTW's threads)")


# ---------------------------------------------------------------- the DCT in torch

def torch_dct(torch):
    """Orthonormal DCT-II and its inverse (DCT-III) along the last axis for even N, with
    one real FFT each: Makhoul's reordering v = (x[0], x[2], ..., x[N-1], ..., x[3],
    x[1]); with V = DFT(v) and w_k = exp(-iπk/2N), X_k = Re(V_k w_k) and
    X_{N-k} = -Im(V_k w_k), so the half spectrum of rfft gives all N outputs."""
    cache = {}

    def tables(n, dtype):
        key = (n, dtype)
        if key not in cache:
            k = torch.arange(n // 2 + 1, dtype=torch.float64)
            w = torch.exp(-1j * math.pi * k / (2 * n))
            s = torch.full((n,), math.sqrt(2.0 / n), dtype=torch.float64)
            s[0] = math.sqrt(1.0 / n)
            cdt = torch.complex64 if dtype == torch.float32 else torch.complex128
            cache[key] = (w.to(cdt), s.to(dtype))
        return cache[key]

    def dct(x):
        n = x.shape[-1]
        w, s = tables(n, x.dtype)
        v = torch.cat([x[..., 0::2], x[..., 1::2].flip(-1)], dim=-1)
        c = torch.fft.rfft(v, dim=-1) * w
        lo = c.real                                   # X_0 .. X_{N/2}
        hi = -c.imag[..., 1:n // 2].flip(-1)          # X_{N/2+1} .. X_{N-1}
        return torch.cat([lo, hi], dim=-1) * s

    def idct(y):
        n = y.shape[-1]
        w, s = tables(n, y.dtype)
        x = y / s
        re = x[..., :n // 2 + 1]
        # X_{N-k} for k = 0..N/2, with X_N = 0
        im = torch.cat([torch.zeros_like(x[..., :1]), x[..., n // 2:].flip(-1)], dim=-1)
        c = torch.complex(re, -im) / w
        v = torch.fft.irfft(c, n=n, dim=-1)
        out = torch.empty_like(v)
        out[..., 0::2] = v[..., :n // 2]
        out[..., 1::2] = v[..., n // 2:].flip(-1)
        return out

    return dct, idct


def check_dct(torch, scipy):
    """The torch DCT against scipy's, so that the peer computes the right thing."""
    import numpy as np
    dct, idct = torch_dct(torch)
    x = np.random.default_rng(1).standard_normal((3, 784))
    t = torch.from_numpy(x)
    err1 = np.abs(dct(t).numpy() - scipy.fft.dct(x, norm="ortho")).max()
    err2 = np.abs(idct(t).numpy() - scipy.fft.idct(x, norm="ortho")).max()
    if not (err1 < 1e-12 and err2 < 1e-12):
        raise SystemExit(f"peers.py: the torch DCT is wrong ({err1:.3g}, {err2:.3g})")


# ---------------------------------------------------------------- workload 1: layer

LAYER_N = (256, 1024, 4096)
LAYER_BATCH = 256


def fill(np, n):
    """bench_layer's fill(): 0.5 + 0.25 ((i · 2654435761 mod 2³²) mod 1000) / 1000."""
    i = np.arange(n, dtype=np.uint64)
    return 0.5 + 0.25 * (((i * np.uint64(2654435761)) % np.uint64(1 << 32))
                         % np.uint64(1000)).astype(np.float64) / 1000.0


def layer_torch(torch, np, n, dtype, reps):
    dct, idct = torch_dct(torch)
    x = torch.from_numpy(fill(np, LAYER_BATCH * n).reshape(LAYER_BATCH, n)).to(dtype)
    dz = x.clone()
    x.requires_grad_(True)
    p = [torch.from_numpy(fill(np, n)).to(dtype).requires_grad_(True) for _ in range(4)]
    a, d, ab, db = p

    def step():
        z = idct(d * dct(a * x + ab) + db)
        torch.autograd.grad(z, [x, a, d, ab, db], dz)

    step()
    return best_of(step, reps)


def layer_scipy(sfft, np, n, reps):
    x = fill(np, LAYER_BATCH * n).reshape(LAYER_BATCH, n)
    dz = x.copy()
    a, d, ab, db = (fill(np, n) for _ in range(4))

    def step():
        h2 = sfft.dct(a * x + ab, norm="ortho", workers=1)
        z = sfft.idct(d * h2 + db, norm="ortho", workers=1)
        t = sfft.dct(dz, norm="ortho", workers=1)
        g_d, g_db = (h2 * t).sum(0), t.sum(0)
        s = sfft.idct(d * t, norm="ortho", workers=1)
        g_a, g_ab, dx = (x * s).sum(0), s.sum(0), a * s
        return z, g_d, g_db, g_a, g_ab, dx

    step()
    return best_of(step, reps)


def bench_layer(args, torch, scipy, np):
    say("\n== layer: forward + backward, batch 256, 1 thread ==")
    out = run_ours(args.build, "bench_layer", ["--no-dense"])
    ours = {}
    for line in (out or "").splitlines():
        f = line.split()
        if len(f) >= 3 and f[0].isdigit():
            ours[int(f[0])] = float(f[1]) / 1e3
    rows = []
    if torch is not None:
        torch.set_num_threads(1)
    for n in LAYER_N:
        reps = 15 if n <= 1024 else 7
        row = [n, f"{1e3 * ours[n]:.2f}" if n in ours else "-"]
        for dt in ("float32", "float64"):
            if torch is None:
                row += ["-", "-"]
                continue
            t = layer_torch(torch, np, n, getattr(torch, dt), reps)
            row += [f"{1e3 * t:.2f}", ratio(t, ours.get(n))]
        if scipy is None:
            row += ["-", "-"]
        else:
            t = layer_scipy(scipy.fft, np, n, reps)
            row += [f"{1e3 * t:.2f}", ratio(t, ours.get(n))]
        rows.append(row)
    table("layer forward+backward (ms; x = peer / ours)",
          ["N", "ours f64", "torch f32", "x", "torch f64", "x", "scipy f64", "x"], rows)


# ---------------------------------------------------------------- workload 2: train

TRAIN_N, TRAIN_K, TRAIN_CLASSES, TRAIN_BATCH = 784, 7, 10, 64
TRAIN_ROWS = 6400   # ours uses 12 800; the rate is per example


def train_torch(torch, np, dtype, threads, epochs=2):
    torch.set_num_threads(threads)
    dct, idct = torch_dct(torch)
    n, K = TRAIN_N, TRAIN_K
    i = np.arange(TRAIN_ROWS * n, dtype=np.uint64)
    x = torch.from_numpy(((i * np.uint64(2654435761)) % np.uint64(1 << 32)
                          % np.uint64(256)).astype(np.float64).reshape(-1, n) / 255.0)
    x = x.to(dtype)
    lab = torch.from_numpy(np.arange(TRAIN_ROWS) * 7 % 10)
    g = torch.Generator().manual_seed(1)
    params, perms = [], []
    for _ in range(K):
        a = (1 + 0.06 * torch.randn(n, generator=g, dtype=torch.float64)).to(dtype)
        d = (1 + 0.06 * torch.randn(n, generator=g, dtype=torch.float64)).to(dtype)
        params += [a, d, torch.zeros(n, dtype=dtype), torch.zeros(n, dtype=dtype)]
        perms.append(torch.randperm(n, generator=g))
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8)

    def forward(h):
        for l in range(K):
            a, d, ab, db = params[4 * l:4 * l + 4]
            h = idct(d * dct(a * h + ab) + db)
            if l < K - 1:
                h = torch.relu(h)
            h = h[:, perms[l]]
        return h[:, :TRAIN_CLASSES]

    def epoch():
        order = torch.randperm(TRAIN_ROWS, generator=g)
        for s in range(0, TRAIN_ROWS, TRAIN_BATCH):
            idx = order[s:s + TRAIN_BATCH]
            loss = torch.nn.functional.cross_entropy(forward(x[idx]), lab[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return TRAIN_ROWS / best_of(epoch, epochs)


def bench_train(args, torch, np):
    say("\n== train: K = 7, n = 784 cascade, batch 64, Adam ==")
    out = run_ours(args.build, "bench_train")
    ours = {int(m.group(1)): float(m.group(2)) for m in
            re.finditer(r"threads (\d+): train\s+([0-9.]+) examples/s", out or "")}
    if torch is None:
        say("skipped: the training peer needs torch")
        return
    rows = []
    for th in (1, 2):
        row = [th, f"{ours[th]:.0f}" if th in ours else "-"]
        for dt in (torch.float32, torch.float64):
            r = train_torch(torch, np, dt, th)
            row += [f"{r:.0f}", ratio(ours.get(th), r)]
        rows.append(row)
    table("training throughput (examples/s; x = ours / peer)",
          ["threads", "ours f64", "torch f32", "x", "torch f64", "x"], rows)


# ---------------------------------------------------------------- workload 3: optics

ASM_N, ASM_PITCH, ASM_LAMBDA, ASM_Z, ASM_THREADS = 4096, 8e-6, 633e-9, 0.05, 2


def transfer(np):
    """bench_optics' asm-bl transfer function on the 2x padded grid (Matsushima and
    Shimobaba's band limit), in FFT order, complex128."""
    p = 2 * ASM_N
    f = np.fft.fftfreq(p, d=ASM_PITCH)
    df = 1 / (p * ASM_PITCH)
    flim = 1 / (ASM_LAMBDA * math.sqrt((2 * df * ASM_Z) ** 2 + 1))
    band = (np.abs(f) < flim)
    w2 = 1 / ASM_LAMBDA ** 2 - f[:, None] ** 2 - f[None, :] ** 2
    np.maximum(w2, 0, out=w2)
    np.sqrt(w2, out=w2)
    h = np.exp(1j * (2 * math.pi * ASM_Z) * w2)
    del w2
    h *= band[:, None] & band[None, :]
    return h


def field(np):
    rng = np.random.default_rng(2385)
    return rng.random((ASM_N, ASM_N)) - 0.5 + 0.25j


def asm_scipy(sfft, np, h, u, reps):
    p, o = 2 * ASM_N, ASM_N // 2
    buf = np.zeros((p, p), dtype=np.complex128)

    def step():
        buf[...] = 0
        buf[o:o + ASM_N, o:o + ASM_N] = u
        a = sfft.fft2(buf, workers=ASM_THREADS)
        a *= h
        a = sfft.ifft2(a, workers=ASM_THREADS, overwrite_x=True)
        return a[o:o + ASM_N, o:o + ASM_N].copy()

    return best_of(step, reps)


def asm_torch(torch, np, h, u, cdt, reps):
    torch.set_num_threads(ASM_THREADS)
    p, o = 2 * ASM_N, ASM_N // 2
    ht = torch.from_numpy(h).to(cdt)
    ut = torch.from_numpy(u).to(cdt)
    buf = torch.zeros((p, p), dtype=cdt)

    def step():
        buf.zero_()
        buf[o:o + ASM_N, o:o + ASM_N] = ut
        a = torch.fft.fft2(buf)
        a *= ht
        a = torch.fft.ifft2(a)
        return a[o:o + ASM_N, o:o + ASM_N].clone()

    return best_of(step, reps)


def bench_optics(args, torch, scipy, np):
    say("\n== propagation: 4096² band-limited angular spectrum, padded 8192², 2 threads ==")
    out = run_ours(args.build, "bench_optics", threads=ASM_THREADS)
    m = re.search(r"asm-bl 4096\^2 \(padded 8192\^2\)\s+([0-9.]+)\s+([0-9.]+)", out or "")
    ours = float(m.group(1)) if m else None
    if torch is None and scipy is None:
        return
    h, u = transfer(np), field(np)
    rows = []
    if scipy is not None:
        t = asm_scipy(scipy.fft, np, h, u, args.asm_reps)
        rows.append(["scipy.fft complex128", f"{t:.2f}", ratio(t, ours)])
    if torch is not None:
        for cdt in (torch.complex128, torch.complex64):
            t = asm_torch(torch, np, h, u, cdt, args.asm_reps)
            rows.append([f"torch.fft {str(cdt).split('.')[1]}", f"{t:.2f}", ratio(t, ours)])
    ours_s = f"{ours:.2f} s" if ours else "not run"
    table(f"4096² asm-bl step (s; ours complex128: {ours_s}; x = peer / ours)",
          ["peer", "time", "x"], rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"),
                    help="build directory holding bench/ (default: build or $BUILD)")
    ap.add_argument("--asm-reps", type=int, default=3,
                    help="repetitions of the 4096² propagation per peer (default 3)")
    args = ap.parse_args()

    import numpy as np
    torch, why = try_import("torch")
    if torch is None:
        say(f"skipped: torch not importable ({why})")
    scipy, why = try_import("scipy")
    if scipy is not None:
        try:
            import scipy.fft  # noqa: F401
        except Exception as e:
            scipy, why = None, f"{type(e).__name__}: {e}"
    if scipy is None:
        say(f"skipped: scipy not importable ({why})")
    load = os.getloadavg()
    say(f"bench/peers.py: {os.cpu_count()} CPUs, load average {load[0]:.2f} "
        f"{load[1]:.2f} {load[2]:.2f} at the start")
    describe_peers(torch, scipy, np)
    if torch is not None and scipy is not None:
        check_dct(torch, scipy)
    bench_layer(args, torch, scipy, np)
    bench_train(args, torch, np)
    bench_optics(args, torch, scipy, np)
    load = os.getloadavg()
    say(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    if FAILED:
        say(f"peers.py: ours failed: {', '.join(FAILED)}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
