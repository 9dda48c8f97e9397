"""The data sets a learner plays with: five 2-D point sets (the TensorFlow
Playground's families, plus moons) and a "digits" set from the MNIST subset
that ships inside dalam.  Everything is seeded, so the page, the tests and an
exported script see the very same points."""
import numpy as np

TWO_D = ("circles", "xor", "gauss", "spiral", "moons")
DATASETS = TWO_D + ("digits",)
EXTENT = 6.0          # 2-D points live in [-6, 6]^2, as in the TF Playground
DIGITS_SIDE = 14      # digits are shown and learned at 14 x 14 (2 x 2 mean of MNIST's 28 x 28)
DIGITS_TRAIN, DIGITS_TEST = 2000, 500


def _circles(n, noise, rng):
    # an inner disc (class 1) inside a ring (class 0)
    half = n // 2
    r_in = rng.uniform(0, 2.0, half)
    r_out = rng.uniform(3.5, 5.0, n - half)
    r = np.concatenate([r_in, r_out])
    t = rng.uniform(0, 2 * np.pi, n)
    X = np.stack([r * np.cos(t), r * np.sin(t)], 1)
    y = np.concatenate([np.ones(half), np.zeros(n - half)])
    return X + rng.normal(0, 1, X.shape) * noise * 5.0, y


def _xor(n, noise, rng):
    X = rng.uniform(-5, 5, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)  # a small gap around the axes
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float64)
    return X + rng.normal(0, 1, X.shape) * noise * 5.0, y


def _gauss(n, noise, rng):
    half = n // 2
    sd = 0.5 + noise * 4.0
    a = rng.normal(2.0, sd, (half, 2))
    b = rng.normal(-2.0, sd, (n - half, 2))
    return np.concatenate([a, b]), np.concatenate([np.ones(half), np.zeros(n - half)])


def _spiral(n, noise, rng):
    # two interleaved arms, each turning 1.75 times around the centre
    half = n // 2
    out, labels = [], []
    for cls, phase in ((1, 0.0), (0, np.pi)):
        m = half if cls == 1 else n - half
        i = np.arange(m)
        r = i / m * 5.0
        t = 1.75 * i / m * 2 * np.pi + phase
        out.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        labels.append(np.full(m, cls))
    X = np.concatenate(out)
    return X + rng.normal(0, 1, X.shape) * noise * 2.5, np.concatenate(labels).astype(np.float64)


def _moons(n, noise, rng):
    half = n // 2
    t1 = rng.uniform(0, np.pi, half)
    t2 = rng.uniform(0, np.pi, n - half)
    a = np.stack([np.cos(t1), np.sin(t1)], 1)
    b = np.stack([1 - np.cos(t2), 0.5 - np.sin(t2)], 1)
    X = (np.concatenate([a, b]) - [0.5, 0.25]) * 3.2
    y = np.concatenate([np.ones(half), np.zeros(n - half)])
    return X + rng.normal(0, 1, X.shape) * noise * 5.0, y


_MAKERS = {"circles": _circles, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "moons": _moons}


def make_dataset(name, n_points=400, noise=0.0, train_ratio=0.5, seed=0):
    """(X_train, y_train, X_test, y_test).  2-D sets: X float32 (n, 2) in about
    [-6, 6]^2, y float32 in {0, 1}.  ``noise`` is a fraction in [0, 0.5]
    (the page shows it as 0-50 %).  "digits": X float32 (n, 196) in [0, 1],
    y int64 0-9, from the embedded MNIST subset (train_ratio and n_points are
    not used: the subset has its own split)."""
    if name == "digits":
        return _digits(noise, seed)
    if name not in _MAKERS:
        raise ValueError(f"playground data: unknown data set {name!r}; expected one of {DATASETS}")
    rng = np.random.default_rng(seed)
    X, y = _MAKERS[name](int(n_points), float(noise), rng)
    X = np.clip(X, -EXTENT, EXTENT)
    order = rng.permutation(len(X))
    X, y = X[order].astype(np.float32), y[order].astype(np.float32)
    n_train = int(round(len(X) * float(train_ratio)))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


_digits_cache = {}


def _digits_arrays(train):
    if train not in _digits_cache:
        from ..datasets import mnist_subset
        ds = mnist_subset(train=train)
        img = np.asarray(ds.data, dtype=np.float32) / 255.0                 # (n, 28, 28)
        small = img.reshape(len(img), 14, 2, 14, 2).mean(axis=(2, 4))       # (n, 14, 14)
        _digits_cache[train] = (small.reshape(len(img), -1), np.asarray(ds.targets, dtype=np.int64))
    return _digits_cache[train]


def _digits(noise, seed):
    rng = np.random.default_rng(seed)
    out = []
    for train, n in ((True, DIGITS_TRAIN), (False, DIGITS_TEST)):
        X, y = _digits_arrays(train)
        pick = np.sort(rng.permutation(len(X))[:n])
        Xs = X[pick]
        if noise > 0:
            Xs = np.clip(Xs + rng.normal(0, noise, Xs.shape), 0, 1)
        out += [Xs.astype(np.float32), y[pick]]
    return tuple(out)
