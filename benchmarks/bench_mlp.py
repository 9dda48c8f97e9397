"""MLP benchmarks, dalam vs PyTorch (CPU, float32, same thread count, one run):

- W1 training: MLP 784-512-512-10 ReLU, batch 128, cross-entropy, Adam:
  samples/s of a hand-written loop for both, and of ``dalam.fit`` over a
  shuffled DataLoader (what a user runs), with the ratios to PyTorch.
- W5 inference (``no_grad`` / ``inference_mode``, eval mode) of the W1 MLP
  and of the W2 CNN (conv(1-32,3x3,p1)+ReLU+maxpool2, conv(32-64,3x3,p1)+
  ReLU+maxpool2, fc 3136-128-10) at batch 1 (latency, us) and batch 256
  (samples/s).
- The machine's float32 GEMM rate (a 2048^3 matmul) and W1's GFLOP/s against it.

    python benchmarks/bench_mlp.py                 # 1 thread
    python benchmarks/bench_mlp.py --threads 2 --repeats 7

The thread count is set for OpenBLAS/MKL/OpenMP before NumPy is imported and
for PyTorch with ``torch.set_num_threads``.  dalam and PyTorch are timed in
alternation and each figure is the best of ``--repeats`` runs (shared
machines are noisy: the best run is the least disturbed one).
"""
import argparse
import os
import sys

_ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_ap.add_argument("--threads", type=int, default=1)
_ap.add_argument("--repeats", type=int, default=5)
_ap.add_argument("--steps", type=int, default=30, help="training steps per timed run")
_ap.add_argument("--only", choices=["w1", "fit", "w5"], action="append")
ARGS = _ap.parse_args() if __name__ == "__main__" else _ap.parse_args([])
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as tnn  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402
import dalam.nn as nn  # noqa: E402
import dalam.nn.functional as F  # noqa: E402

torch.set_num_threads(ARGS.threads)
B = 128
W1_FLOPS = 2 * (784 * 512 + 512 * 512 + 512 * 10)  # forward, per sample; training ~3x


def w1_dalam():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def w1_torch():
    return tnn.Sequential(tnn.Linear(784, 512), tnn.ReLU(), tnn.Linear(512, 512), tnn.ReLU(),
                          tnn.Linear(512, 10))


def w2_dalam():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def w2_torch():
    return tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Flatten(), tnn.Linear(3136, 128), tnn.ReLU(), tnn.Linear(128, 10))


def _same_weights(md, mt):
    mt.load_state_dict({k: torch.tensor(v._data) for k, v in md.state_dict().items()})


def best_pair(fa, fb, repeats):
    """Best wall time of ``fa`` and of ``fb``, timed in alternation."""
    ta = tb = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fa()
        ta = min(ta, time.perf_counter() - t)
        t = time.perf_counter()
        fb()
        tb = min(tb, time.perf_counter() - t)
    return ta, tb


def gemm_peak():
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    a @ a
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t)
    return 2 * 2048 ** 3 / best / 1e9


def bench_w1(peak):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, 784)).astype(np.float32)
    y = rng.integers(0, 10, B)
    md, mt = w1_dalam(), w1_torch()
    _same_weights(md, mt)
    od, ot = dalam.optim.Adam(md.parameters(), lr=1e-3), torch.optim.Adam(mt.parameters(), lr=1e-3)
    xd, yd, xt, yt = dalam.tensor(x), dalam.tensor(y), torch.tensor(x), torch.tensor(y)

    def run_d():
        for _ in range(ARGS.steps):
            od.zero_grad()
            F.cross_entropy(md(xd), yd).backward()
            od.step()

    def run_t():
        for _ in range(ARGS.steps):
            ot.zero_grad()
            TF.cross_entropy(mt(xt), yt).backward()
            ot.step()
    run_d(), run_t()
    td, tt = best_pair(run_d, run_t, ARGS.repeats)
    sd, st = ARGS.steps * B / td, ARGS.steps * B / tt
    gf = 3 * W1_FLOPS * sd / 1e9
    print(f"W1 MLP train loop (batch {B}, Adam): dalam {sd:7.0f} samples/s ({td / ARGS.steps * 1e3:.2f} ms/step)"
          f"   torch {st:7.0f} samples/s ({tt / ARGS.steps * 1e3:.2f} ms/step)   ratio {sd / st:.2f}x"
          f"   dalam {gf:.1f} GFLOP/s = {100 * gf / peak:.0f}% of GEMM peak")
    return sd / st


def bench_fit():
    """dalam.fit over a shuffled DataLoader vs PyTorch's usual loop over its DataLoader."""
    from dalam.data import DataLoader, TensorDataset
    n = ARGS.steps * B
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 784)).astype(np.float32)
    y = rng.integers(0, 10, n)
    md, mt = w1_dalam(), w1_torch()
    od, ot = dalam.optim.Adam(md.parameters(), lr=1e-3), torch.optim.Adam(mt.parameters(), lr=1e-3)
    dl = DataLoader(TensorDataset(dalam.tensor(x), dalam.tensor(y)), batch_size=B, shuffle=True)
    tl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                     batch_size=B, shuffle=True)
    ce = nn.CrossEntropyLoss()

    def run_d():
        dalam.fit(md, dl, ce, od, epochs=1, metrics=["accuracy"], verbose=0)

    def run_t():
        mt.train()
        for xb, yb in tl:
            ot.zero_grad()
            out = mt(xb)
            loss = TF.cross_entropy(out, yb)
            loss.backward()
            ot.step()
            loss.item()
            (out.argmax(1) == yb).sum().item()
    run_d(), run_t()
    td, tt = best_pair(run_d, run_t, ARGS.repeats)
    sd, st = n / td, n / tt
    print(f"W1 via dalam.fit + DataLoader (accuracy metric): dalam {sd:7.0f} samples/s   torch loop + "
          f"DataLoader {st:7.0f} samples/s   ratio {sd / st:.2f}x")
    return sd / st


def bench_w5():
    for name, mk_d, mk_t, shape in (("MLP", w1_dalam, w1_torch, (784,)),
                                    ("CNN", w2_dalam, w2_torch, (1, 28, 28))):
        md, mt = mk_d().eval(), mk_t().eval()
        _same_weights(md, mt)
        for bs, n in ((1, 500 if name == "MLP" else 100), (256, 20 if name == "MLP" else 2)):
            x = np.random.default_rng(1).standard_normal((bs,) + shape).astype(np.float32)
            xd, xt = dalam.tensor(x), torch.tensor(x)
            with dalam.no_grad(), torch.inference_mode():
                np.testing.assert_allclose(md(xd)._data, mt(xt).numpy(), rtol=1e-4, atol=1e-5)

            def fd():
                with dalam.no_grad():
                    for _ in range(n):
                        md(xd)

            def ft():
                with torch.inference_mode():
                    for _ in range(n):
                        mt(xt)
            fd(), ft()
            td, tt = best_pair(fd, ft, ARGS.repeats)
            td, tt = td / n, tt / n
            if bs == 1:
                print(f"W5 {name} inference batch 1:   dalam {td * 1e6:8.1f} us          torch {tt * 1e6:8.1f} us"
                      f"          dalam/torch latency {td / tt:.2f} ({'faster' if td < tt else 'slower'})")
            else:
                print(f"W5 {name} inference batch 256: dalam {bs / td:8.0f} samples/s   torch {bs / tt:8.0f} "
                      f"samples/s   ratio {tt / td:.2f}x")


if __name__ == "__main__":
    dalam.manual_seed(0)
    torch.manual_seed(0)
    only = set(ARGS.only or ["w1", "fit", "w5"])
    peak = gemm_peak()
    print(f"threads {ARGS.threads}; float32 GEMM 2048^3: {peak:.1f} GFLOP/s; best of {ARGS.repeats}, "
          f"dalam and torch timed in alternation")
    if "w1" in only:
        bench_w1(peak)
    if "fit" in only:
        bench_fit()
    if "w5" in only:
        bench_w5()
