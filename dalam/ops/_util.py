"""Small helpers shared by the op modules."""
import numpy as np

from .. import backend
from ..tensor import Tensor


def method(*names):
    """Decorator: also expose a function as ``Tensor.<name>`` methods."""
    def deco(f):
        for n in names:
            setattr(Tensor, n, f)
        return f
    return deco


def as_tensor(x, like=None):
    """Wrap a non-Tensor (number, list, array) as a constant Tensor."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x, False, None)
    if like is not None and isinstance(x, (int, float, bool)) and like.dtype.kind == "f":
        return Tensor._make(np.asarray(x, like.dtype), False, None)
    return Tensor._from_data(x)


def norm_dim(dim, ndim, op):
    """Normalise a (possibly negative) dim, with a clear error when out of range."""
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if dim < -n or dim >= n:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def norm_dims(dim, ndim, op):
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        return tuple(norm_dim(d, ndim, op) for d in dim)
    return (norm_dim(dim, ndim, op),)


def default_float():
    return backend.get_default_dtype()


def empty_result(shape, dtype, *tensors):
    """The output of a layer for an empty batch (a zero in ``shape``), as PyTorch
    gives it: zero-size, yet connected to ``tensors`` (weights) so that a
    backward pass gives them zero gradients instead of None."""
    out = Tensor._make(np.zeros(shape, dtype), False, None)
    for t in tensors:
        if isinstance(t, Tensor) and t.requires_grad:
            out = out + t.sum() * 0
    return out


def dtype_fix(input_dtype, weight_dtype):
    """What to do when an input's dtype does not match a layer's weights: a
    suggestion that works (``Module.to`` takes floating dtypes only, so an
    integer input is converted, never the model)."""
    i, w = np.dtype(input_dtype), np.dtype(weight_dtype)
    cast = {"float32": ".float()", "float64": ".double()", "float16": ".half()"}.get(w.name, f".to(dalam.{w.name})")
    if i.kind != "f":
        return (f"convert the {i.name} input with x{cast} (or x.to(dalam.{w.name})); if the values are "
                "token or category ids, feed them through nn.Embedding first")
    return f"convert the input with x{cast} or the model with model.to(dalam.{i.name})"
