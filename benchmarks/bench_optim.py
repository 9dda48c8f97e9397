"""Optimizer step time, dalam vs PyTorch (CPU, 1 thread, float32).

Two parameter sets: W1's MLP (784-512-512-10: 6 tensors, 0.67 M values) and a
GPT-like set of many small tensors (4 blocks of n_embd 128: 50 tensors, 0.8 M
values), where per-tensor Python overhead shows.  Prints the best of several
repeats (the machine is shared) in microseconds per step and the ratio.

    .venv/bin/python benchmarks/bench_optim.py
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import dalam  # noqa: E402
import dalam.optim as optim  # noqa: E402

torch.set_num_threads(1)


def shapes_mlp():
    return [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]


def shapes_gpt(n=128, layers=4, vocab=65, block=64):
    s = [(vocab, n), (block, n)]
    for _ in range(layers):
        s += [(n,), (n,), (3 * n, n), (3 * n,), (n, n), (n,), (n,), (n,), (4 * n, n), (4 * n,),
              (n, 4 * n), (n,)]
    return s + [(n,), (n,), (vocab, n)]


def bench(shapes, name, kw, steps=30, repeats=5, foreach=None):
    r = np.random.default_rng(0)
    arrs = [r.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [r.standard_normal(s).astype(np.float32) * 1e-2 for s in shapes]
    dp = [dalam.tensor(a, requires_grad=True) for a in arrs]
    tp = [torch.tensor(a, requires_grad=True) for a in arrs]
    for d, t, g in zip(dp, tp, grads):
        d.grad = dalam.tensor(g)
        t.grad = torch.tensor(g)
    dopt = getattr(optim, name)(dp, foreach=foreach, **kw)
    topt = getattr(torch.optim, name)(tp, **kw)
    out = []
    for opt in (dopt, topt):
        opt.step()
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(steps):
                opt.step()
            best = min(best, (time.perf_counter() - t0) / steps)
        out.append(best * 1e6)
    n = sum(int(np.prod(s)) for s in shapes)
    path = {None: "auto", True: "flat", False: "per-tensor"}[foreach]
    print(f"{name:8s} {path:10s} {str(kw):30s} {len(shapes):3d} tensors {n / 1e6:.2f}M  dalam {out[0]:8.0f} us"
          f"  torch {out[1]:8.0f} us  torch/dalam {out[1] / out[0]:.2f}x")


if __name__ == "__main__":
    small = [(64,), (64, 64)] * 50  # 100 small tensors (norm/bias-heavy models)
    for label, shapes in (("W1 MLP", shapes_mlp()), ("GPT-like", shapes_gpt()),
                          ("100 small tensors", small)):
        print(label)
        for name, kw in (("SGD", dict(lr=0.01, momentum=0.9)), ("Adam", dict(lr=1e-3)),
                         ("AdamW", dict(lr=1e-3)), ("RMSprop", dict(lr=1e-3)),
                         ("Adagrad", dict(lr=1e-2)), ("Adadelta", dict())):
            for foreach in (False, True, None):
                bench(shapes, name, kw, foreach=foreach)
