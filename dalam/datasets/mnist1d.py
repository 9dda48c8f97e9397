"""MNIST-1D (Greydanus 2020, "Scaling down deep learning"): a procedurally
generated 1-D stand-in for MNIST that is small enough for CPU experiments yet
separates model families (logistic ~32%, MLP ~68%, CNN ~94%, GRU ~91% test
accuracy in the paper).

Generation, as the paper describes it: ten hand-drawn digit templates of 12
points (whitened, starting at 0), each example padded with 36-60 zeros,
stretched to 72 points, scaled by a random factor, translated (circularly, up
to 48 steps), the empty (zero) region filled with correlated noise (Gaussian
filtered, sigma 2), iid noise added everywhere, a random linear shear, and
finally downsampled to 40 points.  5,000 examples (500 per class), shuffled,
normalised to zero mean / unit std, split 4,000 train / 1,000 test; seed 42.
"""
import numpy as np

DEFAULTS = dict(num_samples=5000, train_split=0.8, template_len=12, padding=(36, 60),
                scale_coeff=0.4, max_translation=48, corr_noise_scale=0.25,
                iid_noise_scale=2e-2, shear_scale=0.75, shuffle_seq=False,
                final_seq_length=40, seed=42)

# Digit shapes drawn as 12 heights each (0..9), from the paper's Figure 1.
_DIGITS = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5]], dtype=np.float64)


def templates():
    """(10, 12) float64: whitened digit templates that start at 0, scaled by 1/6."""
    x = _DIGITS - _DIGITS.mean(1, keepdims=True)
    x /= x.std(1, keepdims=True)
    x -= x[:, :1]
    return x / 6.0


def _resample(x, n):
    """Linear interpolation of x onto n evenly spaced points."""
    return np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(x)), x)


def _gaussian_smooth(x, sigma=2.0, truncate=4.0):
    """1-D Gaussian filter with mirrored edges (scipy.ndimage's 'reflect' mode)."""
    r = int(truncate * sigma + 0.5)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    return np.convolve(np.pad(x, r, mode="symmetric"), k, mode="valid")


def _transform(x, a, rs, eps=1e-8):
    lo, hi = a["padding"]
    p = lo + int(rs.rand() * (hi - lo + 1))
    z = np.concatenate([x + eps, np.zeros(p)])                       # pad
    z = _resample(z, a["template_len"] + hi)                          # dilate to 72 points
    z = z * (1 + a["scale_coeff"] * (rs.rand() - 0.5))                # scale
    k = rs.choice(a["max_translation"])
    z = np.concatenate([z[len(z) - k:], z[:len(z) - k]])              # translate (circular)
    mask = z != 0
    noise = _gaussian_smooth(a["corr_noise_scale"] * rs.randn(len(z)))
    z = np.where(mask, z, noise)                                      # correlated noise in the gaps
    z = z + a["iid_noise_scale"] * rs.randn(len(z))                   # iid noise
    coeff = a["shear_scale"] * (rs.rand() - 0.5)
    z = z - coeff * np.linspace(-0.5, 0.5, len(z))                    # shear
    return _resample(z, a["final_seq_length"])                        # downsample to 40


def make_dataset(**overrides):
    """Generate the whole dataset: dict with x, y (train) and x_test, y_test."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"MNIST1D: unknown arguments {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    a = dict(DEFAULTS, **overrides)
    rs = np.random.RandomState(a["seed"])
    tpl = templates()
    per_class = a["num_samples"] // len(tpl)
    xs, ys = [], []
    for label in range(len(tpl)):
        for _ in range(per_class):
            xs.append(_transform(tpl[label], a, rs))
            ys.append(label)
    order = rs.permutation(len(ys))
    xs = np.stack(xs)[order]
    ys = np.asarray(ys, np.int64)[order]
    if a["shuffle_seq"]:
        xs = xs[:, rs.permutation(a["final_seq_length"])]
    xs = (xs - xs.mean()) / xs.std()
    n = int(len(ys) * a["train_split"])
    return {"x": xs[:n].astype(np.float32), "y": ys[:n],
            "x_test": xs[n:].astype(np.float32), "y_test": ys[n:], "args": a}


_cache = {}


class MNIST1D:
    """``MNIST1D(train=True)``: item i is (x float32 Tensor (40,), label int).

    ``data`` (N, 40) float32 and ``targets`` (N,) int64 are numpy arrays; the
    generated dataset is cached per argument set within the process."""

    def __init__(self, root=None, train=True, transform=None, **overrides):
        key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in overrides.items()))
        if key not in _cache:
            _cache[key] = make_dataset(**overrides)
        d = _cache[key]
        self.data = d["x"] if train else d["x_test"]
        self.targets = d["y"] if train else d["y_test"]
        self.train = train
        self.transform = transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        from .. import tensor
        x = tensor(self.data[i])
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.targets[i])
