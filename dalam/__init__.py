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

bool = bool_
float = float32
double = float64
long = int64
half = float16

__version__ = "0.1.0"

_LAZY = {"nn", "optim", "data", "datasets", "autograd", "train", "io", "models", "utils", "metrics",
         "explain", "robust", "compress", "viz", "onnx"}
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
