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


def _masked(input, mshape, p, training, inplace, name):
    if not training or p == 0.0:
        return input
    dt = input._data.dtype
    if p == 1.0:
        mask = np.zeros(mshape, dt)
    else:
        keep = backend.rng().random(mshape, dtype=np.float32) >= np.float32(p)
        mask = keep.astype(dt) * dt.type(1.0 / (1.0 - p))
    out = _DropoutFn.apply(input, mask)
    return input._inplace_result(out, name + "_") if inplace else out


def _feature_mask(shape, name):
    """PyTorch's feature dropout: one draw per (dim 0, dim 1) entry."""
    if len(shape) < 2:
        raise RuntimeError(f"{name}: Feature dropout requires at least 2 dimensions in the input, "
                           f"got shape {tuple(shape)}")
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def _deprecated_dims(name, nd, ok, what):
    import warnings
    warnings.warn(
        f"{name}: Received a {nd}-D input to {name}, which is deprecated and will result in an "
        f"error in a future release. To retain the behavior and silence this warning, please use "
        f"dropout instead. Note that {name} exists to provide channel-wise dropout on inputs with "
        f"{what} spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
        f"{ok[0]}D or {ok[1]}D inputs).", UserWarning, stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or unbatched (C, L) inputs."""
    _check_p(p, "dropout1d")
    nd = input.ndim
    if nd not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d "
            "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
            "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    mshape = _feature_mask(input.shape, "dropout1d") if nd == 3 else (input.shape[0], 1)
    return _masked(input, mshape, p, training, inplace, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole feature maps: one draw per (N, C). As in PyTorch, a 3-D input
    is read as (N, C, L) and other ranks warn and drop per (dim 0, dim 1)."""
    _check_p(p, "dropout2d")
    nd = input.ndim
    if nd not in (3, 4):
        _deprecated_dims("dropout2d", nd, (3, 4), 2)
    elif nd == 3:
        import warnings
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
            "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
            "dim. This behavior will change in a future release to interpret the input as one "
            "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
            "dropout behavior, please switch to using dropout1d instead.", UserWarning, stacklevel=2)
    return _masked(input, _feature_mask(input.shape, "dropout2d"), p, training, inplace, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole 3-D feature maps of (N, C, D, H, W) or unbatched (C, D, H, W) inputs."""
    _check_p(p, "dropout3d")
    nd = input.ndim
    if nd not in (4, 5):
        _deprecated_dims("dropout3d", nd, (4, 5), 3)
    if nd == 5:
        mshape = _feature_mask(input.shape, "dropout3d")
    else:  # unbatched: as PyTorch, one draw per entry of dim 0
        mshape = (input.shape[0],) + (1,) * (nd - 1) if nd >= 1 else ()
    return _masked(input, mshape, p, training, inplace, "dropout3d")


class Dropout1d(Dropout):
    """Zeroes whole channels of (N, C, L) inputs with probability ``p``."""

    def forward(self, input):
        return dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """Zeroes whole feature maps of (N, C, H, W) inputs with probability ``p``
    (neighbouring pixels are correlated, so element dropout regularises little)."""

    def forward(self, input):
        return dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """Zeroes whole 3-D feature maps of (N, C, D, H, W) inputs with probability ``p``."""

    def forward(self, input):
        return dropout3d(input, self.p, self.training, self.inplace)
