"""Per-call overhead of dalam.nn against PyTorch (CPU, float32, one thread):
Module.__call__ on a tiny Linear, the W1/W5 MLP (784-512-512-10) forward at
batch 1, and fused cross-entropy forward+backward at batch 128.

Best of several repeats (the machine is shared); prints microseconds and the
ratio torch/dalam (> 1 means dalam is faster).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_nn_overhead.py
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dalam  # noqa: E402
import dalam.nn as nn  # noqa: E402


def best_us(fn, n, repeats=7):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def mlp(lib):
    return lib.Sequential(lib.Linear(784, 512), lib.ReLU(), lib.Linear(512, 512), lib.ReLU(),
                          lib.Linear(512, 10))


def main():
    torch.set_num_threads(1)
    rows = []
    ours, theirs = nn.Linear(4, 4), torch.nn.Linear(4, 4)
    x, xt = dalam.randn(1, 4), torch.randn(1, 4)
    with dalam.no_grad(), torch.no_grad():
        rows.append(("Linear(4,4) call, batch 1, no_grad", best_us(lambda: ours(x), 20000),
                     best_us(lambda: theirs(xt), 20000)))
    m, t = mlp(nn).eval(), mlp(torch.nn).eval()
    m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x, xt = dalam.randn(1, 784), torch.randn(1, 784)
    with dalam.no_grad(), torch.no_grad():
        rows.append(("MLP 784-512-512-10 forward, batch 1", best_us(lambda: m(x), 2000),
                     best_us(lambda: t(xt), 2000)))
    z = dalam.randn(128, 10, requires_grad=True)
    y = dalam.randint(0, 10, (128,))
    zt, yt = torch.tensor(z._data, requires_grad=True), torch.tensor(y._data)
    ce, cet = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    rows.append(("CrossEntropy fwd+bwd, 128x10", best_us(lambda: ce(z, y).backward(), 2000),
                 best_us(lambda: cet(zt, yt).backward(), 2000)))
    print(f"{'workload':40s} {'dalam us':>10s} {'torch us':>10s} {'torch/dalam':>12s}")
    for name, a, b in rows:
        print(f"{name:40s} {a:10.1f} {b:10.1f} {b / a:12.2f}")


if __name__ == "__main__":
    main()
