"""Gradient clipping and flat parameter vectors, as ``torch.nn.utils``.

``clip_grad_norm_`` scales all gradients together so that their joint norm
(the norm of the per-tensor norms) is at most ``max_norm``; it returns the
norm before clipping as a 0-d tensor.  Everything works in place on the
gradient arrays and builds no graph.
"""
import math
import types
import warnings

import numpy as np

from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_", "parameters_to_vector", "vector_to_parameters"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(a, p):
    """The p-norm of an array as a scalar of its dtype (p may be inf, -inf, 0)."""
    if a.size == 0:
        return a.dtype.type(0)
    if p == math.inf:
        return np.abs(a).max()
    if p == -math.inf:
        return np.abs(a).min()
    if p == 0:
        return a.dtype.type(np.count_nonzero(a))
    if p == 1:
        return np.abs(a).sum(dtype=a.dtype)
    if p == 2:
        f = a.reshape(-1)
        return a.dtype.type(math.sqrt(float(np.dot(f, f))))
    return (np.abs(a) ** p).sum(dtype=a.dtype) ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the per-tensor norms of ``tensors`` (a 0-d tensor)."""
    arrs = [t._data if isinstance(t, Tensor) else np.asarray(t) for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if not arrs:
        return Tensor._make(np.array(0.0, np.float32), False, None)
    dtype = np.result_type(*[a.dtype for a in arrs])
    norms = np.array([_vector_norm(a, norm_type) for a in arrs], dtype=dtype)
    total = np.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor._make(total, False, None)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by ``min(1, max_norm / (total_norm + 1e-6))``."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = float(total_norm._data if isinstance(total_norm, Tensor) else total_norm)
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    if coef == 1.0:
        return
    for g in grads:
        if g.is_sparse:  # row-sparse gradient (Embedding(sparse=True)): scale its rows only
            g._sp = g._sp * coef
        else:
            g._data *= g._data.dtype.type(coef) if g._data.dtype.kind == "f" else coef
        g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clip the gradients' joint ``norm_type``-norm to ``max_norm`` in place;
    returns the total norm before clipping (0-d tensor)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        gen = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if gen and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of ``clip_grad_norm_`` (kept for old PyTorch code)."""
    warnings.warn("`clip_grad_norm` is deprecated in favor of `clip_grad_norm_`.", FutureWarning,
                  stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place."""
    c = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None and p.grad.is_sparse:  # clip the coalesced rows
            sp = p.grad._sp.coalesce()
            p.grad._sp = type(sp)(sp.indices, np.clip(sp.values, -c, c), sp.shape, True)
            p.grad._vc[0] += 1
        elif p.grad is not None:
            np.clip(p.grad._data, -c, c, out=p.grad._data)
            p.grad._vc[0] += 1


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor
    (differentiable, as in PyTorch)."""
    from ...ops.shape import cat, reshape
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D tensor ``vec`` into the parameters
    (values are copied, so ``vec`` and the parameters do not share memory)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got {type(vec).__name__}")
    params = _as_list(parameters)
    total = sum(p._data.size for p in params)
    if vec._data.ndim != 1 or vec._data.size != total:
        raise ValueError(f"vector_to_parameters: vec has shape {tuple(vec.shape)} but the "
                         f"parameters hold {total} values; expected shape ({total},)")
    i = 0
    for p in params:
        n = p._data.size
        p._data[...] = vec._data[i:i + n].reshape(p._data.shape)
        p._vc[0] += 1
        i += n
