"""dalam: a deep-learning framework on NumPy you can read end to end.

PyTorch's names and semantics: ``dalam.tensor``, ``Tensor.backward()``,
``dalam.nn``, ``dalam.optim``; NCHW; float32 by default.
"""
import importlib as _importlib

from .backend import (float32, float64, float16, int64, int32, int8, uint8, bool_,
                      manual_seed, initial_seed, get_default_dtype, set_default_dtype,
                      get_rng_state, set_rng_state)
from .tensor import Tensor
from ._device import device
from ._size import Size
from ._memory import (contiguous_format, preserve_format, channels_last, channels_last_3d,
                      memory_format, layout, strided)
from ._legacy import (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor,
                      CharTensor, ByteTensor, BoolTensor)
from .autograd.grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode
from . import ops as _ops  # attaches the maths methods to Tensor
from .creation import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, zeros_like,
                       ones_like, empty_like, full_like, arange, linspace, logspace, eye, rand,
                       randn, rand_like, randn_like, randint, randint_like, randperm, normal,
                       bernoulli, multinomial, Generator, scalar_tensor, asarray,
                       frombuffer, empty_strided)
from ._runtime import (compile, set_num_threads, get_num_threads, set_num_interop_threads,
                       get_num_interop_threads, use_deterministic_algorithms,
                       are_deterministic_algorithms_enabled,
                       is_deterministic_algorithms_warn_only_enabled, seed, autocast)
from .creation import range_ as range  # noqa: A001  (torch.range; the builtin is not used here)
from ._repr import set_printoptions
from .ops.distance import cosine_similarity, pairwise_distance
from .ops.activation import clamp as clip
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
from .ops.views import (as_strided, select, ravel, atleast_1d, atleast_2d, atleast_3d, hsplit,
                        vsplit, dsplit)
from .ops.composite import (tan, frac, deg2rad, rad2deg, logit, xlogy, logaddexp, logaddexp2, sinc,
                            sgn, positive, absolute, fix, true_divide, float_power, fmax, fmin,
                            clamp_min, clamp_max, copysign, heaviside, logical_and, logical_or,
                            logical_xor, bitwise_and, bitwise_or, bitwise_xor, bitwise_not,
                            bitwise_left_shift, bitwise_right_shift, gcd, lcm, signbit, isneginf,
                            isposinf, isreal, is_complex, is_floating_point, is_nonzero, nansum,
                            nanmean, std_mean, var_mean, aminmax, msort, diff, trapezoid, trapz,
                            cumulative_trapezoid, fliplr, flipud, rot90, diag_embed, diagflat,
                            block_diag, cartesian_prod, combinations, tril_indices, triu_indices,
                            column_stack, dstack, row_stack, mv, inner, ger, vdot, addr, addbmm,
                            chain_matmul, dist, pdist, logdet, matrix_power, cov, corrcoef, isin,
                            unique_consecutive, histc, index_put)
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

swapaxes = swapdims = transpose
moveaxis = movedim


def argwhere(input):
    """Indices of the non-zero elements, one row each (``nonzero()``'s layout)."""
    return nonzero(input)


bool = bool_
float = float32
double = float64
long = int64
half = float16

__version__ = "0.1.0"

_LAZY = {"linalg", "nn", "optim", "data", "datasets", "autograd", "train", "io", "models", "utils", "metrics",
         "distributions",
         "explain", "robust", "compress", "viz", "onnx", "cuda", "backends", "accelerator", "func",
         "amp", "distributed"}
_LAZY |= {"fewshot"}
_LAZY_ATTRS = {"save": "io", "load": "io", "fit": "train", "summary": "utils", "vmap": "func"}


def __getattr__(name):
    """Import subpackages on first use so ``import dalam`` stays fast."""
    if name in _LAZY:
        return _importlib.import_module(f".{name}", __name__)
    if name in _LAZY_ATTRS:
        mod = _importlib.import_module(f".{_LAZY_ATTRS[name]}", __name__)
        return getattr(mod, name)
    raise AttributeError(f"module 'dalam' has no attribute {name!r}")


def get_default_device():
    """Always the CPU: dalam is a CPU-only backend."""
    return device("cpu")


def set_default_device(dev):
    from ._device import check
    check(dev, "set_default_device()")


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()
