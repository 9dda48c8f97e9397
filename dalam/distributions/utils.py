"""Small helpers shared by the distributions (PyTorch's names)."""
import numbers

import numpy as np

from ..backend import get_default_dtype
from ..tensor import Tensor


def as_param(x, like=None):
    """A number or array as a Tensor of the default float dtype (or of ``like``)."""
    if isinstance(x, Tensor):
        return x
    dt = like.dtype if like is not None and like.dtype.kind == "f" else get_default_dtype()
    arr = np.asarray(x)
    if arr.dtype.kind != "f" or isinstance(x, numbers.Number):
        arr = arr.astype(dt)
    return Tensor._make(arr, False, None)


def broadcast_all(*values):
    """Tensors (numbers become Tensors of the others' dtype) broadcast to one shape."""
    from ..ops.structure import broadcast_tensors
    if not all(isinstance(v, (Tensor, numbers.Number, np.ndarray)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number or Tensor "
                         f"(got {', '.join(type(v).__name__ for v in values)})")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    ts = [as_param(v, like) for v in values]
    shape = np.broadcast_shapes(*(t.shape for t in ts))
    if all(t.shape == shape for t in ts):
        return tuple(ts)
    return tuple(broadcast_tensors(*ts))


def clamp_probs(probs):
    """Keep probabilities away from 0 and 1 by the dtype's eps (so logits stay finite)."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(*value.shape[:value.ndim - dim], -1).sum(-1)


_sum_rightmost = sum_rightmost


def standard_normal(shape, dtype):
    from .. import backend
    return Tensor._make(backend.rng().standard_normal(shape).astype(dtype, copy=False), False, None)


def standard_uniform(shape, dtype):
    from .. import backend
    return Tensor._make(backend.rng().random(shape).astype(dtype, copy=False), False, None)


class lazy_property:
    """Computed on first access and then stored on the instance (as PyTorch's
    ``lazy_property``): Categorical keeps whichever of probs/logits it was given."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def size_tuple(shape):
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)
