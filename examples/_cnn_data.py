"""Image data for the CNN examples: MNIST / Fashion-MNIST as float32 arrays, and
vectorised augmentation (random crop with padding, horizontal flips).

Used by the example scripts that keep whole arrays in memory; the training
examples themselves use ``dalam.data.DataLoader`` with ``dalam.data.transforms``."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def load(name="mnist", root=None):
    """(x_train, y_train, x_test, y_test) as NumPy arrays: x float32 (N, 1, 28, 28)
    normalised with the training set's mean/std, y int64.  Files are found (or
    downloaded) by ``dalam.datasets``: ``root``, $DALAM_DATA, ~/.cache/dalam."""
    from dalam.datasets import MNIST, FashionMNIST
    cls = {"mnist": MNIST, "fashion-mnist": FashionMNIST}[name]
    out = []
    for train in (True, False):
        x, y = cls(root=root, train=train).as_tensors()
        out += [x.numpy(), y.numpy()]
    return tuple(out)


def augment(x, rng, pad=2, flip=False, fill=None):
    """Random crop after ``pad`` pixels of padding (a shift of up to +-pad), and
    an optional horizontal flip, for a whole batch with one gather."""
    n, c, h, w = x.shape
    fill = x.min() if fill is None else fill
    xp = np.full((n, c, h + 2 * pad, w + 2 * pad), fill, x.dtype)
    xp[:, :, pad:pad + h, pad:pad + w] = x
    oy = rng.integers(0, 2 * pad + 1, n)
    ox = rng.integers(0, 2 * pad + 1, n)
    rows = oy[:, None] + np.arange(h)
    cols = ox[:, None] + np.arange(w)
    if flip:
        f = rng.random(n) < 0.5
        cols[f] = cols[f, ::-1]
    return xp[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
              rows[:, None, :, None], cols[:, None, None, :]]
