"""Image transforms in NumPy, torchvision's names and semantics.

Every transform works on one sample (``t(x)``: an array or Tensor laid out
``[..., H, W]``, e.g. CHW; ``ToTensor`` takes HW/HWC) and on a whole batch
with a leading sample axis (``t.batch(x)``: ``[N, ..., H, W]``), where the
random ones draw independent parameters per sample in one vectorised call.
``MNIST`` + ``DataLoader`` use the batch form when every transform has one
(it gives what the per-sample calls give); ``Lambda`` and user callables have
none, so they see one sample at a time, as in torchvision.

Random transforms draw from ``dalam.data._worker.rng()``: inside a DataLoader
a per-batch generator (reproducible, prefetch-independent), otherwise dalam's
global RNG (``dalam.manual_seed``).
"""
import math
import numbers

import numpy as np

from ..tensor import Tensor
from . import _worker

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "CenterCrop", "Pad",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomAffine", "RandomRotation", "Lambda"]


def _unwrap(x):
    if isinstance(x, Tensor):
        return x._data, True
    return np.asarray(x), False


def _wrap(a, as_tensor):
    return Tensor._make(a, False, None) if as_tensor else a


class Transform:
    """Base: subclasses define ``_apply(array, batched)``; ``__call__`` is the
    single-sample form and ``batch`` the batched one (Tensors stay Tensors)."""

    def __call__(self, x):
        a, t = _unwrap(x)
        return _wrap(self._apply(a, False), t)

    def batch(self, x):
        a, t = _unwrap(x)
        return _wrap(self._apply(a, True), t)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def is_batchable(transform):
    """True when ``transform.batch`` exists (all parts of a Compose included)."""
    if isinstance(transform, Compose):
        return all(is_batchable(t) for t in transform.transforms)
    return callable(getattr(transform, "batch", None))


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def batch(self, x):
        for t in self.transforms:
            if not callable(getattr(t, "batch", None)):
                raise TypeError(f"Compose.batch: {t!r} has no batched form; apply the Compose per sample")
            x = t.batch(x)
        return x

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


class Lambda(Transform):
    """A user function as a transform, called on one sample at a time as in
    torchvision (``Lambda(lambda x: torch.flatten(x))`` sees one image): it has
    no batched form, so a DataLoader applies a Compose holding it per sample."""
    batch = None

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)


class ToTensor(Transform):
    """HW or HWC image (uint8 0..255, or float) -> CHW float Tensor; uint8 is
    scaled to [0, 1] in float32.  Batches: NHW / NHWC -> NCHW."""

    def _convert(self, a, batched):
        if a.dtype.kind not in "uif":
            raise TypeError(f"ToTensor: expected an image array of numbers, got dtype {a.dtype}")
        item_ndim = a.ndim - (1 if batched else 0)
        if item_ndim == 2:
            a = a[:, None] if batched else a[None]
        elif item_ndim == 3:
            a = np.moveaxis(a, -1, -3)
        else:
            raise ValueError(f"ToTensor: expected an HW or HWC image{' batch (N, ...)' if batched else ''}, "
                             f"got an array of shape {a.shape}")
        if a.dtype == np.uint8:
            return np.divide(a, np.float32(255), dtype=np.float32)
        return np.ascontiguousarray(a)

    def __call__(self, x):
        return Tensor._make(self._convert(_unwrap(x)[0], False), False, None)

    def batch(self, x):
        return Tensor._make(self._convert(_unwrap(x)[0], True), False, None)


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` per channel; channels on axis -3 (CHW, NCHW)."""

    def __init__(self, mean, std, inplace=False):
        self.mean = tuple(float(m) for m in np.atleast_1d(mean))
        self.std = tuple(float(s) for s in np.atleast_1d(std))
        self.inplace = inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to float, leading to "
                             f"division by zero (std={self.std})")

    def _apply(self, a, batched):
        if a.dtype.kind != "f":
            raise TypeError(f"Normalize: input should be a float tensor, got {a.dtype}; apply ToTensor first")
        if a.ndim < (4 if batched else 3):
            raise ValueError(f"Normalize: expected a {'(N, C, H, W) batch' if batched else '(C, H, W) image'}, "
                             f"got shape {a.shape}")
        c = a.shape[-3]
        if len(self.mean) not in (1, c) or len(self.std) not in (1, c):
            raise ValueError(f"Normalize: {len(self.mean)} means / {len(self.std)} stds for an image with "
                             f"{c} channels")
        m = np.asarray(self.mean, a.dtype).reshape(-1, 1, 1)
        s = np.asarray(self.std, a.dtype).reshape(-1, 1, 1)
        if self.inplace:
            a -= m
            a /= s
            return a
        return (a - m) / s


def _pair(v, name):
    if isinstance(v, numbers.Number):
        return int(v), int(v)
    v = tuple(int(x) for x in v)
    if len(v) == 1:
        return v[0], v[0]
    if len(v) != 2:
        raise ValueError(f"{name}: expected an int or a pair (h, w), got {v}")
    return v


def _pad_widths(padding, ndim):
    """torchvision padding (int, (lr, tb), (l, t, r, b)) -> np.pad widths on the last two axes."""
    if isinstance(padding, numbers.Number):
        l = t = r = b = int(padding)
    elif len(padding) == 1:
        l = t = r = b = int(padding[0])
    elif len(padding) == 2:
        l = r = int(padding[0])
        t = b = int(padding[1])
    elif len(padding) == 4:
        l, t, r, b = (int(p) for p in padding)
    else:
        raise ValueError(f"padding must be an int or a 1, 2 or 4 element sequence, got {padding}")
    return [(0, 0)] * (ndim - 2) + [(t, b), (l, r)]


def _pad(a, widths, fill, mode):
    if mode == "constant":
        return np.pad(a, widths, mode="constant", constant_values=fill)
    if mode not in ("edge", "reflect", "symmetric"):
        raise ValueError(f"padding_mode should be constant, edge, reflect or symmetric, got {mode!r}")
    return np.pad(a, widths, mode=mode)


class Pad(Transform):
    """Pad the last two axes (torchvision's padding forms and modes)."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def _apply(self, a, batched):
        return _pad(a, _pad_widths(self.padding, a.ndim), self.fill, self.padding_mode)


def _batch_crop(a, top, left, h, w):
    """Per-sample crops ``a[n, ..., top[n]:top[n]+h, left[n]:left[n]+w]`` in one gather."""
    n = a.shape[0]
    flat = a.reshape(n, -1, a.shape[-2], a.shape[-1])
    rows = top[:, None] + np.arange(h)
    cols = left[:, None] + np.arange(w)
    out = flat[np.arange(n)[:, None, None, None], np.arange(flat.shape[1])[None, :, None, None],
               rows[:, None, :, None], cols[:, None, None, :]]
    return out.reshape(a.shape[:-2] + (h, w))


class CenterCrop(Transform):
    def __init__(self, size):
        self.size = _pair(size, "CenterCrop")

    def _apply(self, a, batched):
        h, w = self.size
        H, W = a.shape[-2:]
        if h > H or w > W:
            raise ValueError(f"CenterCrop: crop size {(h, w)} is larger than the image {(H, W)}")
        top, left = int(round((H - h) / 2.0)), int(round((W - w) / 2.0))
        return a[..., top:top + h, left:left + w]


class RandomCrop(Transform):
    """Pad (optionally), then cut a random ``size`` window (per sample in a batch)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _pair(size, "RandomCrop")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def _apply(self, a, batched):
        if a.ndim < (3 if batched else 2):
            raise ValueError(f"RandomCrop: expected [..., H, W]{' with a batch axis' if batched else ''}, "
                             f"got shape {a.shape}")
        if self.padding is not None:
            a = _pad(a, _pad_widths(self.padding, a.ndim), self.fill, self.padding_mode)
        h, w = self.size
        H, W = a.shape[-2:]
        if self.pad_if_needed and (H < h or W < w):
            a = _pad(a, [(0, 0)] * (a.ndim - 2) + [(max(h - H, 0),) * 2, (max(w - W, 0),) * 2],
                     self.fill, self.padding_mode)
            H, W = a.shape[-2:]
        if H < h or W < w:
            raise ValueError(f"RandomCrop: required crop size {(h, w)} is larger than the input image "
                             f"size {(H, W)}")
        g = _worker.rng()
        if not batched:
            top = int(g.integers(0, H - h + 1))
            left = int(g.integers(0, W - w + 1))
            return np.ascontiguousarray(a[..., top:top + h, left:left + w])
        n = a.shape[0]
        top = g.integers(0, H - h + 1, n)
        left = g.integers(0, W - w + 1, n)
        return _batch_crop(a, top, left, h, w)


class _RandomFlip(Transform):
    axis = -1

    def __init__(self, p=0.5):
        self.p = p

    def _apply(self, a, batched):
        g = _worker.rng()
        if not batched:
            return np.ascontiguousarray(np.flip(a, self.axis)) if g.random() < self.p else a
        mask = g.random(a.shape[0]) < self.p
        out = a.copy()
        out[mask] = np.flip(a[mask], self.axis)
        return out


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right with probability ``p``."""
    axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom with probability ``p``."""
    axis = -2


def inverse_affine_matrix(angle, translate, scale, shear, center=(0.0, 0.0)):
    """torchvision's inverse affine map (2x3) in centred pixel coordinates:
    output pixel -> source pixel, for rotation ``angle`` (degrees), ``translate``
    (dx, dy pixels), ``scale`` and ``shear`` (sx, sy degrees)."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return np.array(m, dtype=np.float64).reshape(2, 3)


def warp_affine(a, mats, interpolation="nearest", fill=0.0):
    """Resample a batch ``a`` (N, ..., H, W) through per-sample inverse maps
    ``mats`` (N, 2, 3) in centred coordinates (pixel centres, as
    ``grid_sample(align_corners=False)``); outside pixels become ``fill``."""
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    n, H, W = a.shape[0], a.shape[-2], a.shape[-1]
    flat = a.reshape(n, -1, H, W)
    yc = np.arange(H, dtype=np.float64) - (H - 1) / 2.0
    xc = np.arange(W, dtype=np.float64) - (W - 1) / 2.0
    m = mats[:, :, :, None, None]
    sx = m[:, 0, 0] * xc[None, None, :] + m[:, 0, 1] * yc[None, :, None] + m[:, 0, 2] + (W - 1) / 2.0
    sy = m[:, 1, 0] * xc[None, None, :] + m[:, 1, 1] * yc[None, :, None] + m[:, 1, 2] + (H - 1) / 2.0
    ni = np.arange(n)[:, None, None, None]
    ci = np.arange(flat.shape[1])[None, :, None, None]
    work = np.float32 if a.dtype != np.float64 else np.float64

    def tap(iy, ix):
        ok = (iy >= 0) & (iy < H) & (ix >= 0) & (ix < W)
        v = flat[ni, ci, np.clip(iy, 0, H - 1)[:, None], np.clip(ix, 0, W - 1)[:, None]]
        return v, ok[:, None]

    if interpolation == "nearest":
        v, ok = tap(np.rint(sy).astype(np.int64), np.rint(sx).astype(np.int64))
        out = np.where(ok, v, np.asarray(fill, dtype=a.dtype))
        return out.reshape(a.shape)
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = (sx - x0).astype(work), (sy - y0).astype(work)
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    acc = np.zeros(flat.shape, work)
    wsum = np.zeros((n, 1, H, W), work)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            v, ok = tap(y0 + dy, x0 + dx)
            wgt = (wy * wx)[:, None] * ok
            acc += wgt * v
            wsum += wgt
    out = acc + (1 - wsum) * work(fill)
    if a.dtype.kind in "ui":
        out = np.clip(np.rint(out), np.iinfo(a.dtype).min, np.iinfo(a.dtype).max)
    return out.astype(a.dtype, copy=False).reshape(a.shape)


def _range(v, name, center=0.0):
    if isinstance(v, numbers.Number):
        if v < 0:
            raise ValueError(f"{name}: if a single number, it must be non-negative, got {v}")
        return (center - v, center + v)
    v = tuple(float(x) for x in v)
    if len(v) != 2:
        raise ValueError(f"{name}: expected a number or a (min, max) pair, got {v}")
    return v


class RandomAffine(Transform):
    """Random rotation (``degrees``), translation (fractions of width/height),
    scale and shear, by inverse mapping with nearest or bilinear sampling;
    parameters as torchvision's RandomAffine."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation="nearest",
                 fill=0, center=None):
        self.degrees = _range(degrees, "RandomAffine degrees")
        if translate is not None and not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError("RandomAffine: translation values should be between 0 and 1")
        self.translate = translate
        if scale is not None and (len(scale) != 2 or any(s <= 0 for s in scale)):
            raise ValueError("RandomAffine: scale should be a (min, max) pair of positive numbers")
        self.scale = scale
        if shear is None:
            self.shear = None
        elif isinstance(shear, numbers.Number):
            self.shear = _range(shear, "RandomAffine shear") + (0.0, 0.0)
        else:
            s = tuple(float(x) for x in shear)
            self.shear = s + (0.0, 0.0) if len(s) == 2 else s
            if len(self.shear) != 4:
                raise ValueError("RandomAffine: shear should be a number or a sequence of 2 or 4 numbers")
        self.interpolation = getattr(interpolation, "value", interpolation)
        self.fill = fill
        self.center = center

    def _params(self, g, n, H, W):
        """Per-sample (angle, (tx, ty), scale, (shx, shy)), as torchvision draws them."""
        angle = g.uniform(self.degrees[0], self.degrees[1], n)
        if self.translate is not None:
            mx, my = self.translate[0] * W, self.translate[1] * H
            tx = np.rint(g.uniform(-mx, mx, n))
            ty = np.rint(g.uniform(-my, my, n))
        else:
            tx = ty = np.zeros(n)
        sc = g.uniform(self.scale[0], self.scale[1], n) if self.scale is not None else np.ones(n)
        if self.shear is not None:
            shx = g.uniform(self.shear[0], self.shear[1], n)
            shy = g.uniform(self.shear[2], self.shear[3], n) if self.shear[2:] != (0.0, 0.0) else np.zeros(n)
        else:
            shx = shy = np.zeros(n)
        return angle, tx, ty, sc, shx, shy

    def _center(self, H, W):
        if self.center is None:
            return (0.0, 0.0)
        return (self.center[0] - W * 0.5, self.center[1] - H * 0.5)

    def _apply(self, a, batched):
        if a.ndim < (3 if batched else 2):
            raise ValueError(f"{type(self).__name__}: expected [..., H, W], got shape {a.shape}")
        b = a if batched else a[None]
        n, H, W = b.shape[0], b.shape[-2], b.shape[-1]
        angle, tx, ty, sc, shx, shy = self._params(_worker.rng(), n, H, W)
        c = self._center(H, W)
        mats = np.stack([inverse_affine_matrix(angle[i], (tx[i], ty[i]), sc[i], (shx[i], shy[i]), c)
                         for i in range(n)])
        out = warp_affine(b, mats, self.interpolation, self.fill)
        return out if batched else out[0]


class RandomRotation(RandomAffine):
    """Rotate by a random angle in ``degrees`` (counter-clockwise for positive
    angles, as torchvision's rotate); the output keeps the input size."""

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0):
        if expand:
            raise ValueError("RandomRotation: expand=True is not supported (the output keeps the input "
                             "size); pad the image first if corners must survive")
        super().__init__(degrees, interpolation=interpolation, fill=fill, center=center)

    def _params(self, g, n, H, W):
        angle = g.uniform(self.degrees[0], self.degrees[1], n)
        z = np.zeros(n)
        # torchvision's rotate passes -angle to the affine matrix
        return -angle, z, z, np.ones(n), z, z
