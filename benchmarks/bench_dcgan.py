"""DCGAN training step on MNIST-sized batches, dalam vs PyTorch (CPU, float32,
same thread count): the models of dalam.models.gan (generator ngf=32,
discriminator ndf=32 with BatchNorm), the non-saturating loss, Adam, one D step
and one G step per batch (the fake batch generated once, fed to D detached),
batch 64 of 1x28x28 images.  Also a WGAN-GP critic step (LayerNorm critic,
gradient penalty through create_graph=True).  Prints steps/s, images/s,
the time of a 60,000-image epoch, and the dalam/PyTorch speed ratio.

    python benchmarks/bench_dcgan.py                  # 1 thread
    python benchmarks/bench_dcgan.py --threads 2 --repeats 5

Each figure is the best of ``--repeats`` timed runs of ``--steps`` steps.
"""
import argparse
import os
import sys

_ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_ap.add_argument("--threads", type=int, default=1)
_ap.add_argument("--repeats", type=int, default=3)
_ap.add_argument("--steps", type=int, default=5)
_ap.add_argument("--batch-size", type=int, default=64)
_ap.add_argument("--width", type=int, default=32)
_ap.add_argument("--only", choices=["bce", "wgan-gp"], action="append")
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
from dalam.models import gan  # noqa: E402

torch.set_num_threads(ARGS.threads)
NZ = 64


def torch_models(w, norm):
    G = tnn.Sequential(
        tnn.Unflatten(1, (NZ, 1, 1)),
        tnn.ConvTranspose2d(NZ, w * 4, 7, 1, 0, bias=False), tnn.BatchNorm2d(w * 4), tnn.ReLU(),
        tnn.ConvTranspose2d(w * 4, w * 2, 4, 2, 1, bias=False), tnn.BatchNorm2d(w * 2), tnn.ReLU(),
        tnn.ConvTranspose2d(w * 2, 1, 4, 2, 1), tnn.Tanh())
    nl = tnn.BatchNorm2d(w * 2) if norm == "batch" else tnn.LayerNorm([w * 2, 7, 7])
    D = tnn.Sequential(tnn.Conv2d(1, w, 4, 2, 1), tnn.LeakyReLU(0.2),
                       tnn.Conv2d(w, w * 2, 4, 2, 1, bias=norm != "batch"), nl, tnn.LeakyReLU(0.2),
                       tnn.Conv2d(w * 2, 1, 7, 1, 0), tnn.Flatten(0))
    return G, D


def torch_step_fn(w, loss, bs):
    torch.manual_seed(0)
    G, D = torch_models(w, "batch" if loss == "bce" else "layer")
    og = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(0)
    real = torch.tensor(rng.uniform(-1, 1, (bs, 1, 28, 28)).astype(np.float32))

    def bce_step():
        z = torch.tensor(rng.standard_normal((bs, NZ)).astype(np.float32))
        fake = G(z)
        od.zero_grad()
        dl = (TF.binary_cross_entropy_with_logits(D(real), torch.full((bs,), 0.9))
              + TF.binary_cross_entropy_with_logits(D(fake.detach()), torch.zeros(bs)))
        dl.backward()
        od.step()
        D.requires_grad_(False)
        og.zero_grad()
        gl = TF.binary_cross_entropy_with_logits(D(fake), torch.ones(bs))
        gl.backward()
        og.step()
        D.requires_grad_(True)

    def critic_step():
        z = torch.tensor(rng.standard_normal((bs, NZ)).astype(np.float32))
        with torch.no_grad():
            fake = G(z)
        od.zero_grad()
        e = torch.tensor(rng.random((bs, 1, 1, 1)).astype(np.float32))
        xh = (real * e + fake * (1 - e)).requires_grad_(True)
        (g,) = torch.autograd.grad(D(xh).sum(), xh, create_graph=True)
        gp = ((g.flatten(1).pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
        dl = D(fake).mean() - D(real).mean() + 10 * gp
        dl.backward()
        od.step()
    return bce_step if loss == "bce" else critic_step


def dalam_step_fn(w, loss, bs):
    dalam.manual_seed(0)
    G = gan.DCGANGenerator(NZ, w)
    D = gan.DCGANDiscriminator(w, norm="batch" if loss == "bce" else "layer")
    tr = gan.GANTrainer(G, D, NZ, loss=loss, label_smoothing=0.1)
    real = dalam.tensor(np.random.default_rng(0).uniform(-1, 1, (bs, 1, 28, 28)).astype(np.float32))
    if loss == "bce":
        return lambda: tr.train_step(real)
    return lambda: tr.d_step(real)


def best(fn, steps, repeats):
    fn()  # warm-up
    t_best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(steps):
            fn()
        t_best = min(t_best, (time.perf_counter() - t) / steps)
    return t_best


def main():
    bs, w = ARGS.batch_size, ARGS.width
    print(f"DCGAN (ngf=ndf={w}) on 1x28x28, batch {bs}, {ARGS.threads} thread(s), best of "
          f"{ARGS.repeats} x {ARGS.steps} steps")
    print(f"{'workload':<34}{'dalam ms':>10}{'torch ms':>10}{'dalam img/s':>13}"
          f"{'epoch 60k (dalam)':>19}{'ratio':>8}")
    for loss in ARGS.only or ["bce", "wgan-gp"]:
        td = best(dalam_step_fn(w, loss, bs), ARGS.steps, ARGS.repeats)
        tt = best(torch_step_fn(w, loss, bs), ARGS.steps, ARGS.repeats)
        name = "train step (D + G, BCE)" if loss == "bce" else "critic step (WGAN-GP, LayerNorm)"
        print(f"{name:<34}{td * 1e3:>10.1f}{tt * 1e3:>10.1f}{bs / td:>13.0f}"
              f"{60000 / bs * td / 60:>16.1f} min{tt / td:>8.2f}x")
    print("ratio = PyTorch time / dalam time (1.0 = same speed; > 1: dalam faster)")


if __name__ == "__main__":
    main()
