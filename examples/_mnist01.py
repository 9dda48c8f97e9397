"""Shared by explain_mnist.py and adversarial_mnist.py: MNIST with pixels in
[0, 1] (what attacks and explanations work on), the W2 CNN of DESIGN.md with
the normalisation inside the model, a short clean training, and a
checkpoint cache so the second script reuses the first one's model."""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import dalam  # noqa: E402
import dalam.nn as nn  # noqa: E402
import dalam.nn.functional as F  # noqa: E402

MEAN, STD = 0.1307, 0.3081


def load01(root=None):
    """(x_train, y_train, x_test, y_test), x float32 (N, 1, 28, 28) in [0, 1]."""
    from dalam.datasets import MNIST
    out = []
    for train in (True, False):
        ds = MNIST(root=root, train=train)
        out += [(np.asarray(ds.data, np.float32) / np.float32(255))[:, None],
                np.asarray(ds.targets, np.int64)]
    return tuple(out)


class Normalize(nn.Module):
    """(x - mean) / std inside the model, so its input is the [0, 1] image."""

    def __init__(self, mean=MEAN, std=STD):
        super().__init__()
        self.mean, self.std = float(mean), float(std)

    def forward(self, x):
        return (x - self.mean) * (1.0 / self.std)


def build(width=32):
    """W2 of DESIGN.md: conv(1-w,3x3)+ReLU+pool, conv(w-2w)+ReLU+pool, fc 49*2w-128-10."""
    w = width
    return nn.Sequential(
        Normalize(),
        nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * w * 49, 128), nn.ReLU(), nn.Linear(128, 10))


def accuracy(model, x, y, batch=1000):
    was = model.training
    model.eval()
    correct = 0
    with dalam.no_grad():
        for i in range(0, len(x), batch):
            correct += int((model(dalam.tensor(x[i:i + batch])).detach().numpy().argmax(1) == y[i:i + batch]).sum())
    model.train(was)
    return correct / len(x)


def train_clean(model, xtr, ytr, epochs=2, batch=128, lr=2e-3, seed=0, log=print):
    """Adam with a cosine-decayed learning rate; a couple of epochs give ~99%."""
    rng = np.random.default_rng(seed)
    opt = dalam.optim.Adam(model.parameters(), lr=lr)
    total, step = epochs * ((len(xtr) + batch - 1) // batch), 0
    model.train()
    for epoch in range(1, epochs + 1):
        t0, perm, tl = time.time(), rng.permutation(len(xtr)), 0.0
        for i in range(0, len(xtr), batch):
            idx = perm[i:i + batch]
            for g in opt.param_groups:
                g["lr"] = lr * 0.5 * (1 + np.cos(np.pi * step / total))
            loss = F.cross_entropy(model(dalam.tensor(xtr[idx])), dalam.tensor(ytr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            tl += loss.item() * len(idx)
        log(f"  clean epoch {epoch}: loss {tl / len(xtr):.4f} ({time.time() - t0:.0f} s)")
    model.eval()
    return model


def clean_model(path, xtr, ytr, epochs=2, width=32, seed=0, log=print):
    """The trained clean CNN: loaded from ``path`` if it exists, else trained and saved there."""
    dalam.manual_seed(seed)
    model = build(width)
    if path and os.path.exists(path):
        model.load_state_dict(dalam.load(path))
        log(f"loaded the clean model from {path}")
    else:
        log(f"training the clean model ({epochs} epochs)")
        train_clean(model, xtr, ytr, epochs=epochs, seed=seed, log=log)
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            dalam.save(model.state_dict(), path)
    model.eval()
    return model
