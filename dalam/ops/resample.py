"""Resampling: interpolate (nearest, linear, bilinear), pixel_shuffle/unshuffle.

Interpolation is separable, so it is written as one small matrix per spatial
axis: ``y = Ah @ x @ Aw^T``, and the backward is ``Ah^T @ gy @ Aw``: exact,
loop-free, and the same code for nearest and (bi)linear.  Index rules follow
PyTorch's (``area_pixel_compute_scale``, half-pixel centres unless
``align_corners``).
"""
import numpy as np

from ..backend import xp
from ..autograd.function import Function


def _scale(in_size, out_size, align_corners, scale_factor):
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return in_size / out_size


def _matrix(in_size, out_size, mode, align_corners, scale_factor, dtype):
    """(out, in) interpolation matrix along one axis."""
    m = np.zeros((out_size, in_size), np.float64)
    dst = np.arange(out_size)
    if mode == "nearest":
        sc = np.float32(_scale(in_size, out_size, False, scale_factor))
        src = np.minimum(np.floor(dst.astype(np.float32) * sc).astype(np.int64), in_size - 1)
        m[dst, src] = 1.0
        return m.astype(dtype)
    sc = _scale(in_size, out_size, align_corners, scale_factor)
    if align_corners:
        src = dst * sc
    else:
        src = np.maximum((dst + 0.5) * sc - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    l1 = src - i0
    np.add.at(m, (dst, i0), 1.0 - l1)
    np.add.at(m, (dst, i1), l1)
    return m.astype(dtype)


class Interp(Function):
    """Separable resampling of the last one or two axes."""
    saves = ()

    def forward(self, x, ah=None, aw=None):
        self.ah, self.aw = ah, aw
        y = xp.matmul(x, aw.T)
        if ah is not None:
            y = xp.matmul(ah, y)
        return y

    def backward(self, gy):
        g = gy if self.ah is None else xp.matmul(self.ah.T, gy)
        return xp.matmul(g, self.aw)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """``F.interpolate`` for 3-D (linear/nearest) and 4-D (bilinear/nearest) input."""
    nsp = input.ndim - 2
    if nsp not in (1, 2):
        raise RuntimeError(f"interpolate: expected a 3-D or 4-D input, got shape {tuple(input.shape)}")
    if mode not in ("nearest", "linear", "bilinear"):
        raise ValueError(f"interpolate: mode must be 'nearest', 'linear' or 'bilinear', got {mode!r}")
    if (mode == "linear" and nsp != 1) or (mode == "bilinear" and nsp != 2):
        raise ValueError(f"interpolate: mode {mode!r} needs a {3 if mode == 'linear' else 4}-D input, "
                         f"got shape {tuple(input.shape)}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to linear/bilinear modes")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor")
    insz = input.shape[2:]
    if size is not None:
        out = (size,) * nsp if isinstance(size, int) else tuple(int(v) for v in size)
        sfs = (None,) * nsp
    else:
        sfs = (scale_factor,) * nsp if not isinstance(scale_factor, (tuple, list)) else tuple(scale_factor)
        out = tuple(int(np.floor(n * f)) for n, f in zip(insz, sfs))
        if recompute_scale_factor:
            sfs = (None,) * nsp
    if len(out) != nsp or any(o <= 0 for o in out):
        raise ValueError(f"interpolate: bad output size {out} for input {tuple(input.shape)}")
    ac = bool(align_corners)
    mats = [_matrix(n, o, mode, ac, f, input.dtype) for n, o, f in zip(insz, out, sfs)]
    if nsp == 1:
        return Interp.apply(input, ah=None, aw=mats[0])
    return Interp.apply(input, ah=mats[0], aw=mats[1])


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input, upscale_factor):
    """(N, C*r*r, H, W) -> (N, C, H*r, W*r), as a reshape/permute (autograd for free)."""
    r = int(upscale_factor)
    *lead, C, H, W = input.shape
    if C % (r * r):
        raise RuntimeError(f"pixel_shuffle: channels ({C}) must be divisible by upscale_factor^2 "
                           f"({r * r}); input shape {tuple(input.shape)}")
    n = len(lead)
    x = input.reshape(*lead, C // (r * r), r, r, H, W)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, C // (r * r), H * r, W * r)


def pixel_unshuffle(input, downscale_factor):
    """(N, C, H*r, W*r) -> (N, C*r*r, H, W), the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    *lead, C, H, W = input.shape
    if H % r or W % r:
        raise RuntimeError(f"pixel_unshuffle: height and width ({H}, {W}) must be divisible by "
                           f"downscale_factor ({r})")
    n = len(lead)
    x = input.reshape(*lead, C, H // r, r, W // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, C * r * r, H // r, W // r)
