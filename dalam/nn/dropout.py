"""Dropout: inverted dropout (kept units scaled by 1/(1-p) in training, the
identity in eval), so no rescaling is needed at inference."""
import numpy as np

from .. import backend
from ..autograd.function import Function
from .module import Module


class _DropoutFn(Function):
    """y = x * mask / (1 - p); the mask is drawn once and reused by backward."""
    saves = ()

    def forward(self, x, mask):
        self.mask = mask
        return x * mask

    def backward(self, gy):
        return gy * self.mask, None


def _check_p(p, name):
    if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p)."""
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    dt = input._data.dtype
    if p == 1.0:
        mask = np.zeros(input.shape, dt)
    else:
        keep = backend.rng().random(input.shape, dtype=np.float32) >= np.float32(p)
        mask = keep.astype(dt) * dt.type(1.0 / (1.0 - p))
    out = _DropoutFn.apply(input, mask)
    return input._inplace_result(out, "dropout_") if inplace else out


class Dropout(Module):
    """Randomly zeroes inputs with probability ``p`` during training
    (regularisation); identity in ``eval()`` mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_p(p, type(self).__name__)
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


def _channel_dropout(input, p, training, inplace, nsp, name):
    """Zero whole channels: one Bernoulli draw per (sample, channel)."""
    _check_p(p, name)
    if input.ndim not in (nsp + 1, nsp + 2):
        raise RuntimeError(f"{name}: expected a {nsp + 1}-D (unbatched) or {nsp + 2}-D input, got "
                           f"shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    dt = input._data.dtype
    mshape = input.shape[:input.ndim - nsp] + (1,) * nsp
    if p == 1.0:
        mask = np.zeros(mshape, dt)
    else:
        keep = backend.rng().random(mshape, dtype=np.float32) >= np.float32(p)
        mask = keep.astype(dt) * dt.type(1.0 / (1.0 - p))
    out = _DropoutFn.apply(input, mask)
    return input._inplace_result(out, name + "_") if inplace else out


def dropout1d(input, p=0.5, training=True, inplace=False):
    return _channel_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    return _channel_dropout(input, p, training, inplace, 2, "dropout2d")


class Dropout1d(Dropout):
    """Zeroes whole channels of (N, C, L) inputs with probability ``p``."""

    def forward(self, input):
        return dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """Zeroes whole feature maps of (N, C, H, W) inputs with probability ``p``
    (neighbouring pixels are correlated, so element dropout regularises little)."""

    def forward(self, input):
        return dropout2d(input, self.p, self.training, self.inplace)
