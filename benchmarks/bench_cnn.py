"""CNN benchmarks, dalam vs PyTorch (CPU, float32, same thread count, one run):

- W2 training: conv(1-32,3x3,p1)+ReLU+maxpool2, conv(32-64,3x3,p1)+ReLU+maxpool2,
  fc 3136-128-10, batch 128, cross-entropy, Adam: samples/s and the ratio.
- W5 (CNN part): inference of the same model at batch 1 (latency, us) and batch
  256 (samples/s).
- One Conv2d 64->64 3x3 p1 on 32x32 at batch 64: forward and forward+backward
  GFLOP/s against the machine's GEMM rate (a 2048^3 float32 matmul).

    python benchmarks/bench_cnn.py                   # 1 thread
    python benchmarks/bench_cnn.py --threads 2 --repeats 5

Each figure is the best of ``--repeats`` timed runs (shared machines are noisy).
"""
import argparse
import os
import sys

_ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_ap.add_argument("--threads", type=int, default=1)
_ap.add_argument("--repeats", type=int, default=3)
_ap.add_argument("--steps", type=int, default=10, help="training steps per timed run")
_ap.add_argument("--only", choices=["w2", "infer", "conv"], action="append")
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


def w2_dalam():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def w2_torch():
    return tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Flatten(), tnn.Linear(3136, 128), tnn.ReLU(), tnn.Linear(128, 10))


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _gemm_peak():
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    a @ a
    return 2 * 2048 ** 3 / _best(lambda: a @ a, 5) / 1e9


def _w2_flops_per_sample():
    conv1 = 28 * 28 * 32 * 9 * 1
    conv2 = 14 * 14 * 64 * 9 * 32
    fc = 3136 * 128 + 128 * 10
    return 2 * (conv1 + conv2 + fc)


def bench_w2(peak):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, B)
    md, mt = w2_dalam(), w2_torch()
    od, ot = dalam.optim.Adam(md.parameters(), lr=1e-3), torch.optim.Adam(mt.parameters(), lr=1e-3)
    xd, yd, xt, yt = dalam.tensor(x), dalam.tensor(y), torch.tensor(x), torch.tensor(y)

    def step_d():
        od.zero_grad()
        F.cross_entropy(md(xd), yd).backward()
        od.step()

    def step_t():
        ot.zero_grad()
        TF.cross_entropy(mt(xt), yt).backward()
        ot.step()

    def run(step):
        for _ in range(ARGS.steps):
            step()
    step_d(), step_t()
    td, tt = _best(lambda: run(step_d), ARGS.repeats), _best(lambda: run(step_t), ARGS.repeats)
    sd, st = ARGS.steps * B / td, ARGS.steps * B / tt
    gf = 3 * _w2_flops_per_sample() * sd / 1e9
    print(f"W2 CNN train (batch {B}, Adam):  dalam {sd:8.0f} samples/s   torch {st:8.0f} samples/s"
          f"   ratio {sd / st:.2f}x   dalam {gf:.1f} GFLOP/s = {100 * gf / peak:.0f}% of GEMM peak")
    return sd / st


def bench_infer():
    md, mt = w2_dalam().eval(), w2_torch().eval()
    mt.load_state_dict({k: torch.tensor(v._data) for k, v in md.state_dict().items()})
    for bs, n in ((1, 200), (256, 3)):
        x = np.random.default_rng(1).standard_normal((bs, 1, 28, 28)).astype(np.float32)
        xd, xt = dalam.tensor(x), torch.tensor(x)

        def fd():
            with dalam.no_grad():
                for _ in range(n):
                    md(xd)

        def ft():
            with torch.inference_mode():
                for _ in range(n):
                    mt(xt)
        fd(), ft()
        td, tt = _best(fd, ARGS.repeats) / n, _best(ft, ARGS.repeats) / n
        if bs == 1:
            print(f"W5 CNN inference batch 1:       dalam {td * 1e6:8.0f} us          torch {tt * 1e6:8.0f} us"
                  f"          dalam/torch latency {td / tt:.2f}")
        else:
            print(f"W5 CNN inference batch 256:     dalam {bs / td:8.0f} samples/s   torch {bs / tt:8.0f} samples/s"
                  f"   ratio {tt / td:.2f}x")


def bench_conv(peak):
    N, C, H = 64, 64, 32
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N, C, H, H)).astype(np.float32)
    md, mt = nn.Conv2d(C, C, 3, padding=1), tnn.Conv2d(C, C, 3, padding=1)
    xd, xt = dalam.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    flops = 2 * N * C * C * 9 * H * H

    def fwd_d():
        with dalam.no_grad():
            md(xd)

    def fwd_t():
        with torch.no_grad():
            mt(xt)

    def fb_d():
        md(xd).sum().backward()

    def fb_t():
        mt(xt).sum().backward()
    for f in (fwd_d, fwd_t, fb_d, fb_t):
        f()
    a, b = _best(fwd_d, ARGS.repeats), _best(fwd_t, ARGS.repeats)
    c, d = _best(fb_d, ARGS.repeats), _best(fb_t, ARGS.repeats)
    print(f"Conv2d 64->64 3x3 32x32 b64 fwd: dalam {a * 1e3:7.1f} ms ({flops / a / 1e9:5.1f} GFLOP/s, "
          f"{100 * flops / a / 1e9 / peak:.0f}% of peak)   torch {b * 1e3:7.1f} ms ({flops / b / 1e9:5.1f} GFLOP/s)")
    print(f"Conv2d 64->64 3x3 32x32 b64 f+b: dalam {c * 1e3:7.1f} ms ({3 * flops / c / 1e9:5.1f} GFLOP/s, "
          f"{100 * 3 * flops / c / 1e9 / peak:.0f}% of peak)   torch {d * 1e3:7.1f} ms ({3 * flops / d / 1e9:5.1f} GFLOP/s)")


if __name__ == "__main__":
    dalam.manual_seed(0)
    torch.manual_seed(0)
    only = set(ARGS.only or ["w2", "infer", "conv"])
    peak = _gemm_peak()
    print(f"threads {ARGS.threads}; float32 GEMM 2048^3: {peak:.1f} GFLOP/s; best of {ARGS.repeats}")
    if "w2" in only:
        bench_w2(peak)
    if "infer" in only:
        bench_infer()
    if "conv" in only:
        bench_conv(peak)
