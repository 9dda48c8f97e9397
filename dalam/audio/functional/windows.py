"""Window functions as ``torch.hann_window`` & co. define them (periodic by
default, which is what an STFT wants: the window tiles with its hop)."""
import numpy as np

from ...creation import tensor as _tensor


def _window(name, n, periodic, a0, dtype, requires_grad=False):
    if n < 0:
        raise ValueError(f"{name}: window_length must be non-negative, got {n}")
    if n == 0:
        return _tensor(np.zeros(0, np.float32 if dtype is None else dtype))
    if n == 1:
        return _tensor(np.ones(1, np.float32 if dtype is None else dtype))
    m = n if periodic else n - 1
    k = np.arange(n, dtype=np.float64)
    w = a0 - (1 - a0) * np.cos(2 * np.pi * k / m)
    return _tensor(w.astype(np.float32 if dtype is None else dtype), requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, requires_grad=False, **_):
    """0.5 - 0.5 cos(2 pi k / N): the STFT's default window."""
    return _window("hann_window", window_length, periodic, 0.5, dtype, requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   requires_grad=False, **_):
    if abs(alpha + beta - 1) > 1e-12:
        raise ValueError("hamming_window: only alpha + beta = 1 is supported")
    return _window("hamming_window", window_length, periodic, alpha, dtype, requires_grad)
