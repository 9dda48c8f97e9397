"""dalam: a deep-learning framework on NumPy you can read end to end.

PyTorch's names and semantics: ``dalam.tensor``, ``Tensor.backward()``,
``dalam.nn``, ``dalam.optim``; NCHW; float32 by default.
"""
import importlib as _importlib

from .backend import (float32, float64, float16, int64, int32, int8, uint8, bool_,
                      manual_seed, initial_seed, get_default_dtype, set_default_dtype,
                      get_rng_state, set_rng_state)
from .tensor import Tensor
from .autograd.grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode
from . import ops as _ops  # attaches the maths methods to Tensor
from .creation import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, zeros_like,
                       ones_like, empty_like, full_like, arange, linspace, logspace, eye, rand,
                       randn, rand_like, randn_like, randint, randint_like, randperm, normal,
                       bernoulli, multinomial, Generator)
from .ops.elementwise import (add, sub, mul, div, pow, neg, exp, log, log1p, sqrt, rsqrt, abs,
                              sign, sin, cos, floor, ceil, round, trunc, isnan, isinf, isfinite,
                              square, reciprocal, clone, remainder, logical_not)
from .ops.activation import (tanh, sigmoid, relu, clamp, maximum, minimum, softmax, log_softmax,
                             eq, ne, lt, le, gt, ge, equal, allclose, isclose)
from .ops.reduce import (sum, mean, var, std, prod, max, min, amax, amin, argmax, argmin,
                         logsumexp, all, any, norm, cumsum)
from .ops.shape import (reshape, permute, transpose, t, flatten, unflatten, squeeze, unsqueeze,
                        expand, broadcast_to, repeat, cat, concat, concatenate, stack, hstack,
                        vstack, split, chunk, unbind, flip, movedim)
from .ops.index import (gather, scatter, scatter_add, index_select, masked_fill, masked_select,
                        where, nonzero)
from .ops.linalg import matmul, mm, bmm, dot, outer, einsum
from .ops.math_extra import (erf, erfc, erfinv, asin, acos, atan, atan2, arcsin, arccos, arctan,
                             arctan2, sinh, cosh, asinh, acosh, atanh, arcsinh, arccosh, arctanh,
                             log2, log10, expm1, exp2, hypot, fmod, floor_divide, nan_to_num, lerp,
                             addcmul, addcdiv)
from .ops.linalg_extra import (addmm, addmv, baddbmm, tensordot, kron, cross, cdist, det, inverse,
                               slogdet, finfo, iinfo, result_type, promote_types, broadcast_shapes)
from .ops.sorting import (sort, argsort, topk, kthvalue, median, mode, cumprod, cummax, cummin,
                          logcumsumexp, unique, count_nonzero, bincount, searchsorted, bucketize)
from .ops.structure import (diag, diagonal, trace, tril, triu, roll, tile, repeat_interleave, narrow,
                            tensor_split, take, take_along_dim, index_add, index_fill, index_copy,
                            masked_scatter, broadcast_tensors, meshgrid)

bool = bool_
float = float32
double = float64
long = int64
half = float16

__version__ = "0.1.0"

_LAZY = {"linalg", "nn", "optim", "data", "datasets", "autograd", "train", "io", "models", "utils", "metrics",
         "distributions",
         "explain", "robust", "compress", "viz", "onnx",
         "distributed"}
_LAZY_ATTRS = {"save": "io", "load": "io", "fit": "train", "summary": "utils"}


def __getattr__(name):
    """Import subpackages on first use so ``import dalam`` stays fast."""
    if name in _LAZY:
        return _importlib.import_module(f".{name}", __name__)
    if name in _LAZY_ATTRS:
        mod = _importlib.import_module(f".{_LAZY_ATTRS[name]}", __name__)
        return getattr(mod, name)
    raise AttributeError(f"module 'dalam' has no attribute {name!r}")


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()
