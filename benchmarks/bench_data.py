"""DataLoader overhead against a W1 epoch (MLP 784-512-512-10, batch 128,
cross-entropy, Adam) on MNIST-sized data.

Measures, best of --repeats:
- loader: one shuffled epoch of a TensorDataset(60000x784 float32, labels)
  through DataLoader(batch_size=128, shuffle=True), doing nothing with batches;
- step: one W1 training step on a fixed batch (forward, backward, Adam);
- the same training run fed by the loader (with and without prefetch) and by
  pre-sliced batches, over --steps batches.
Prints overhead = loader time per batch / training step time.

    .venv/bin/python benchmarks/bench_data.py [--steps 100] [--repeats 3]
"""
import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import dalam  # noqa: E402
import dalam.nn as nn  # noqa: E402
from dalam.data import DataLoader, TensorDataset  # noqa: E402


def best(f, repeats):
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return min(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    dalam.manual_seed(0)
    n = 60000
    rng = np.random.default_rng(0)
    x = dalam.tensor(rng.random((n, 784), dtype=np.float32))
    y = dalam.tensor(rng.integers(0, 10, n))
    ds = TensorDataset(x, y)

    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    opt = dalam.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(xb, yb):
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()

    def loader(prefetch=False):
        return DataLoader(ds, batch_size=128, shuffle=True, generator=dalam.Generator().manual_seed(0),
                          prefetch=prefetch)

    nb = len(loader())
    t_loader = best(lambda: [None for _ in loader()], args.repeats) / nb
    xb, yb = x[:128], y[:128]
    for _ in range(3):
        step(xb, yb)
    t_step = best(lambda: [step(xb, yb) for _ in range(args.steps)], args.repeats) / args.steps

    pre = [(b[0], b[1]) for _, b in zip(range(args.steps), loader())]

    def run(batches):
        for _, (a, b) in zip(range(args.steps), batches):
            step(a, b)
    t_pre = best(lambda: run(pre), args.repeats) / args.steps
    t_dl = best(lambda: run(loader()), args.repeats) / args.steps
    t_dlp = best(lambda: run(loader(True)), args.repeats) / args.steps

    print(f"batches per epoch: {nb}")
    print(f"loader alone: {t_loader * 1e6:.0f} us/batch ({t_loader * nb:.3f} s/epoch)")
    print(f"W1 step on a fixed batch: {t_step * 1e3:.2f} ms")
    print(f"overhead (loader per batch / step): {100 * t_loader / t_step:.2f} %")
    print(f"training fed by pre-sliced batches: {t_pre * 1e3:.2f} ms/step")
    print(f"training fed by DataLoader:          {t_dl * 1e3:.2f} ms/step ({100 * (t_dl / t_pre - 1):+.2f} %)")
    print(f"training fed by DataLoader+prefetch: {t_dlp * 1e3:.2f} ms/step ({100 * (t_dlp / t_pre - 1):+.2f} %)")
    print(f"(best of {args.repeats} repeats, {args.steps} steps each; 2 shared CPU cores: noisy)")


if __name__ == "__main__":
    main()
