"""Vector normalisation and similarity: ``normalize`` (fused for p=2, with a
gradient that stays finite for zero vectors), ``cosine_similarity``,
``pairwise_distance``."""
import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ._util import norm_dim


class L2Normalize(Function):
    """y = x / max(||x||_2, eps) along ``axis``."""

    def forward(self, x, axis, eps):
        n = xp.sqrt(xp.sum(x * x, axis=axis, keepdims=True))
        d = xp.maximum(n, x.dtype.type(eps))
        self.x, self.n, self.d, self.axis, self.eps = x, n, d, axis, eps
        return x / d

    def backward(self, g):
        x, n, d = self.x, self.n, self.d
        s = xp.sum(g * x, axis=self.axis, keepdims=True)
        live = n > self.eps  # where the clamp is active the norm is a constant
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = xp.where(live, s / (d * d * xp.where(live, n, 1)), 0).astype(x.dtype, copy=False)
        return g / d - x * corr


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """Divide by the p-norm along ``dim`` (at least ``eps``): unit vectors."""
    axis = norm_dim(dim, input.ndim, "normalize")
    if p == 2:
        return L2Normalize.apply(input, axis=axis, eps=float(eps))
    from .activation import clamp
    return input / clamp(input.norm(p, axis, True), min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along ``dim`` (broadcasting)."""
    nd = max(x1.ndim, x2.ndim)
    axis = norm_dim(dim, nd, "cosine_similarity")
    if x1.ndim < nd:
        x1 = x1.reshape((1,) * (nd - x1.ndim) + tuple(x1.shape))
    if x2.ndim < nd:
        x2 = x2.reshape((1,) * (nd - x2.ndim) + tuple(x2.shape))
    return (normalize(x1, 2, axis, eps) * normalize(x2, 2, axis, eps)).sum(axis)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension, as PyTorch."""
    return (x1 - x2 + eps).norm(p, -1, keepdim)
