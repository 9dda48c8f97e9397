"""Image data for the CNN examples: MNIST / Fashion-MNIST as float32 arrays, and
vectorised augmentation (random crop with padding, horizontal flips).

Uses ``dalam.datasets`` when it provides the dataset, otherwise reads the
standard idx.gz files from ``--data`` / $DALAM_DATA / ../shared/data."""
import gzip
import os
import pathlib

import numpy as np

MEAN_STD = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _find(name, root):
    here = pathlib.Path(__file__).resolve().parents[1]
    for base in (root, os.environ.get("DALAM_DATA"), here.parent / "shared" / "data",
                 pathlib.Path.home() / ".cache" / "dalam"):
        if base and (pathlib.Path(base) / name / "train-images-idx3-ubyte.gz").exists():
            return pathlib.Path(base) / name
    raise FileNotFoundError(f"{name} idx files not found; pass --data DIR (DIR/{name}/*.gz) or set "
                            "DALAM_DATA")


def load(name="mnist", root=None):
    """(x_train, y_train, x_test, y_test): x float32 (N, 1, 28, 28) normalised, y int64."""
    d = _find(name, root)
    out = []
    for split in ("train", "t10k"):
        x = _read_idx(d / f"{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
        y = _read_idx(d / f"{split}-labels-idx1-ubyte.gz").astype(np.int64)
        m, s = MEAN_STD[name]
        out += [((x - m) / s)[:, None], y]
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
