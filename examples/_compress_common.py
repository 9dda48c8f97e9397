"""Shared by prune_quantize_mnist.py and distill_mnist.py: MNIST arrays, the
MNIST CNN of examples/mnist_cnn.py (conv 1-32 + BN + ReLU + pool, conv 32-64
+ BN + ReLU + pool, dropout, FC 3136-128-10), a plain training loop, accuracy,
batch-1 latency, and a trained checkpoint cached in runs/compress/ so that
every experiment starts from the same model.

    python examples/_compress_common.py      # train (2 epochs) and cache the base model
"""
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

import dalam  # noqa: E402
import dalam.nn.functional as F  # noqa: E402
from _cnn_data import load, augment  # noqa: E402
from mnist_cnn import build  # noqa: E402

RUNS = os.path.join(HERE, "..", "runs", "compress")
BASE = os.path.join(RUNS, "base_cnn.safetensors")


def evaluate(model, x, y, batch=1000):
    """Accuracy (fraction) and mean cross-entropy of ``model`` on arrays."""
    was = model.training
    model.eval()
    correct, loss = 0, 0.0
    with dalam.no_grad():
        for i in range(0, len(x), batch):
            out = model(dalam.tensor(x[i:i + batch]))
            correct += int((out.detach().numpy().argmax(1) == y[i:i + batch]).sum())
            loss += float(F.cross_entropy(out, dalam.tensor(y[i:i + batch])).item()) * len(out)
    model.train(was)
    return correct / len(x), loss / len(x)


def train(model, x, y, epochs=1, batch=128, lr=3e-3, aug=True, seed=0, weight_decay=0.0,
          optimizer=None, on_step=None, log_every=100, onecycle=True, loss_fn=None):
    """Adam with a one-cycle schedule (warm-up 15%, cosine decay) over
    ``epochs`` passes of (x, y); random +-2 px shifts when ``aug``.
    ``loss_fn(out, yb, xb)`` replaces cross-entropy (distillation)."""
    rng = np.random.default_rng(seed)
    opt = optimizer or dalam.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = None
    if onecycle:
        sched = dalam.optim.lr_scheduler.LambdaLR(
            opt, lambda s: s / steps / 0.15 if s < 0.15 * steps else
            0.5 * (1 + np.cos(np.pi * (s / steps - 0.15) / 0.85)))
    model.train()
    t0, step = time.time(), 0
    for ep in range(epochs):
        perm = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            xb = augment(x[idx], rng) if aug else x[idx]
            xt, yt = dalam.tensor(xb), dalam.tensor(y[idx])
            out = model(xt)
            loss = loss_fn(out, yt, xt) if loss_fn else F.cross_entropy(out, yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            step += 1
            if on_step is not None:
                on_step(step)
            if log_every and step % log_every == 0:
                print(f"  step {step}/{steps} loss {loss.item():.4f} ({time.time() - t0:.0f} s)",
                      flush=True)
    return opt


def latency_us(model, x1, repeats=7, inner=50):
    """Batch-1 latency in microseconds: best (and median) of ``repeats``
    timings of ``inner`` calls (a shared machine: the best is the least noisy)."""
    model.eval()
    t = dalam.tensor(x1)
    with dalam.no_grad():
        for _ in range(10):
            model(t)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(inner):
                model(t)
            times.append((time.perf_counter() - t0) / inner * 1e6)
    return min(times), float(np.median(times))


def file_size(path):
    return os.path.getsize(path)


def base_model(data=None, epochs=2, force=False):
    """The trained base CNN (trained and cached on first use)."""
    model = build("cnn")
    if os.path.exists(BASE) and not force:
        model.load_state_dict(dalam.load(BASE))
        return model.eval()
    xtr, ytr, xte, yte = data if data is not None else load()
    dalam.manual_seed(0)
    model = build("cnn")
    print(f"training the base CNN: {epochs} epochs on {len(xtr)} images", flush=True)
    t0 = time.time()
    train(model, xtr, ytr, epochs=epochs)
    acc, loss = evaluate(model, xte, yte)
    print(f"base CNN: test accuracy {100 * acc:.2f}% (loss {loss:.4f}) after {time.time() - t0:.0f} s",
          flush=True)
    os.makedirs(RUNS, exist_ok=True)
    dalam.save(model.state_dict(), BASE)
    return model.eval()


if __name__ == "__main__":
    base_model(force="--force" in sys.argv)
