"""PyTorch ops that are compositions of dalam's own ops (so their gradients,
and double backward, come from the parts), plus the in-place ``*_`` variants
PyTorch programs call (``x.sigmoid_()``, ``x.scatter_(...)``, ``x.t_()``...).

Each follows torch's signature, dtype rules and edge cases; the op-table tests
check forward and gradients against PyTorch and gradcheck in float64.
"""
import math

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..backend import xp
from ..tensor import Tensor
from ._util import method, norm_dim, as_tensor
from . import elementwise as E, activation as A, reduce as R, shape as S, index as I
from . import structure as ST, linalg as LA, math_extra as M, sorting as SO

_gstate = grad_mode.state


def _t(x, like=None):
    return as_tensor(x, like)


def _float(x):
    return E._float_in(x)


# ---------------------------------------------------------------- elementwise
@method("tan")
def tan(input):
    x = _float(input)
    return E.sin(x) / E.cos(x)


@method("frac")
def frac(input):
    return input - E.trunc(input)


@method("deg2rad")
def deg2rad(input):
    return _float(input) * (math.pi / 180.0)


@method("rad2deg")
def rad2deg(input):
    return _float(input) * (180.0 / math.pi)


@method("logit")
def logit(input, eps=None):
    x = _float(input)
    if eps is not None:
        x = A.clamp(x, eps, 1.0 - eps)
    return E.log(x / (1 - x))


@method("xlogy")
def xlogy(input, other):
    """``x * log(y)``, 0 where ``x == 0`` (NaN where ``y`` is NaN), as torch.xlogy."""
    x = _float(input) if isinstance(input, Tensor) else None
    y = _float(other) if isinstance(other, Tensor) else None
    x = x if x is not None else _t(float(input), y)
    y = y if y is not None else _t(float(other), x)
    out = A.where(x == 0, 0.0, x * E.log(A.where(x == 0, 1.0, y)))
    return A.where(E.isnan(y), float("nan"), out)


@method("logaddexp")
def logaddexp(input, other):
    a, b = _float(input), _float(_t(other, input))
    m = A.maximum(a, b)
    return m + E.log1p(E.exp(-E.abs(a - b)))


@method("logaddexp2")
def logaddexp2(input, other):
    a, b = _float(input), _float(_t(other, input))
    m = A.maximum(a, b)
    return m + E.log1p(M.exp2(-E.abs(a - b))) / math.log(2.0)


@method("sinc")
def sinc(input):
    x = _float(input) * math.pi
    safe = A.where(x == 0, 1.0, x)
    return A.where(x == 0, 1.0, E.sin(safe) / safe)


@method("sgn")
def sgn(input):
    return E.sign(input)


@method("positive")
def positive(input):
    if input.dtype == np.bool_:
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


@method("absolute")
def absolute(input):
    return E.abs(input)


@method("fix")
def fix(input):
    return E.trunc(input)


@method("true_divide")
def true_divide(input, other):
    return E.div(input, other)


@method("float_power")
def float_power(input, exponent):
    x = input.to(np.float64) if isinstance(input, Tensor) else Tensor._from_data(input, np.float64)
    e = exponent.to(np.float64) if isinstance(exponent, Tensor) else float(exponent)
    return x ** e


@method("fmax")
def fmax(input, other):
    b = _t(other, input)
    return A.where(E.isnan(b), input, A.where(E.isnan(input), b, A.maximum(input, b)))


@method("fmin")
def fmin(input, other):
    b = _t(other, input)
    return A.where(E.isnan(b), input, A.where(E.isnan(input), b, A.minimum(input, b)))


@method("clamp_min")
def clamp_min(input, min):
    return A.clamp(input, min=min)


@method("clamp_max")
def clamp_max(input, max):
    return A.clamp(input, max=max)


@method("copysign")
def copysign(input, other):
    x = _float(input)
    o = other._data if isinstance(other, Tensor) else np.asarray(other)
    neg = Tensor._make(np.signbit(np.broadcast_to(o, np.broadcast_shapes(o.shape, x.shape))), False, None)
    ax = E.abs(x)
    return A.where(neg, -ax, ax)


def _nograd_bin(np_fn, name):
    def f(input, other):
        a = input._data if isinstance(input, Tensor) else np.asarray(input)
        b = other._data if isinstance(other, Tensor) else np.asarray(other)
        return Tensor._make(np.asarray(np_fn(a, b)), False, None)
    f.__name__ = name
    setattr(Tensor, name, f)
    return f


heaviside = _nograd_bin(lambda a, b: np.heaviside(a, b).astype(np.result_type(a, b)), "heaviside")
logical_and = _nograd_bin(np.logical_and, "logical_and")
logical_or = _nograd_bin(np.logical_or, "logical_or")
logical_xor = _nograd_bin(np.logical_xor, "logical_xor")


def _int_bin(np_fn, name):
    def f(input, other):
        a = input._data if isinstance(input, Tensor) else np.asarray(input)
        b = other._data if isinstance(other, Tensor) else np.asarray(other)
        if a.dtype.kind == "f" or np.asarray(b).dtype.kind == "f":
            raise RuntimeError(f"\"{name}_cpu\" not implemented for 'Float': {name} needs integer "
                               "or bool tensors")
        if isinstance(other, (int, bool)) and not isinstance(other, Tensor):
            b = np.asarray(other, a.dtype)
        return Tensor._make(np.asarray(np_fn(a, b)), False, None)
    f.__name__ = name
    setattr(Tensor, name, f)
    return f


bitwise_and = _int_bin(np.bitwise_and, "bitwise_and")
bitwise_or = _int_bin(np.bitwise_or, "bitwise_or")
bitwise_xor = _int_bin(np.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _int_bin(np.left_shift, "bitwise_left_shift")
bitwise_right_shift = _int_bin(np.right_shift, "bitwise_right_shift")
gcd = _int_bin(np.gcd, "gcd")
lcm = _int_bin(np.lcm, "lcm")


@method("bitwise_not")
def bitwise_not(input):
    if input.dtype.kind == "f":
        raise RuntimeError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return Tensor._make(np.invert(input._data), False, None)


def _nograd_un(np_fn, name):
    def f(input):
        return Tensor._make(np.asarray(np_fn(input._data)), False, None)
    f.__name__ = name
    setattr(Tensor, name, f)
    return f


signbit = _nograd_un(np.signbit, "signbit")
isneginf = _nograd_un(np.isneginf, "isneginf")
isposinf = _nograd_un(np.isposinf, "isposinf")
isreal = _nograd_un(lambda a: np.isreal(a) if a.dtype.kind == "c" else np.ones(a.shape, bool), "isreal")


@method("is_complex")
def is_complex(input):
    return input._data.dtype.kind == "c"


def is_floating_point(input):
    return input.is_floating_point()


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()) != 0)


# ---------------------------------------------------------------- reductions
@method("nansum")
def nansum(input, dim=None, keepdim=False, dtype=None):
    x = A.where(E.isnan(input), 0.0, input) if input.dtype.kind == "f" else input
    return R.sum(x, dim, keepdim=keepdim, dtype=dtype) if dtype is not None else R.sum(x, dim, keepdim=keepdim)


@method("nanmean")
def nanmean(input, dim=None, keepdim=False, dtype=None):
    nan = E.isnan(input)
    x = A.where(nan, 0.0, input)
    cnt = R.sum((~nan).to(input.dtype), dim, keepdim=keepdim)
    return R.sum(x, dim, keepdim=keepdim) / cnt


def _dims_arg(dim):
    return dim


def std_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return (R.std(input, dim, correction=correction, keepdim=keepdim),
            R.mean(input, dim, keepdim=keepdim) if dim is not None else R.mean(input))


def var_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return (R.var(input, dim, correction=correction, keepdim=keepdim),
            R.mean(input, dim, keepdim=keepdim) if dim is not None else R.mean(input))


@method("aminmax")
def aminmax(input, *, dim=None, keepdim=False):
    from collections import namedtuple
    res = namedtuple("aminmax", ["min", "max"])
    if dim is None:
        return res(R.amin(input), R.amax(input))
    return res(R.amin(input, dim, keepdim), R.amax(input, dim, keepdim))


@method("msort")
def msort(input):
    return SO.sort(input, 0)[0]


@method("diff")
def diff(input, n=1, dim=-1, prepend=None, append=None):
    axis = norm_dim(dim, input.ndim, "diff")
    x = input
    if prepend is not None or append is not None:
        parts = ([_t(prepend, input)] if prepend is not None else []) + [x] + \
                ([_t(append, input)] if append is not None else [])
        x = S.cat(parts, axis)
    for _ in range(n):
        m = x.shape[axis]
        if m == 0:
            break
        x = ST.narrow(x, axis, 1, m - 1) - ST.narrow(x, axis, 0, m - 1) if x.dtype != np.bool_ else \
            Tensor._make(np.diff(x._data, axis=axis), False, None)
    return x


def trapezoid(y, x=None, *, dx=None, dim=-1):
    axis = norm_dim(dim, y.ndim, "trapezoid")
    n = y.shape[axis]
    if n == 0:
        return R.sum(y, axis) * 0
    a, b = ST.narrow(y, axis, 0, n - 1), ST.narrow(y, axis, 1, n - 1)
    if x is not None:
        d = diff(x, dim=-1 if x.ndim == 1 else dim)
        if x.ndim == 1:
            d = d.reshape((n - 1,) + (1,) * (y.ndim - axis - 1))
        return R.sum((a + b) * d, axis) / 2
    return R.sum(a + b, axis) * ((1.0 if dx is None else dx) / 2)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    axis = norm_dim(dim, y.ndim, "cumulative_trapezoid")
    n = y.shape[axis]
    a, b = ST.narrow(y, axis, 0, max(n - 1, 0)), ST.narrow(y, axis, 1, max(n - 1, 0))
    if x is not None:
        d = diff(x, dim=-1 if x.ndim == 1 else dim)
        if x.ndim == 1:
            d = d.reshape((n - 1,) + (1,) * (y.ndim - axis - 1))
        return R.cumsum((a + b) * d, axis) / 2
    return R.cumsum(a + b, axis) * ((1.0 if dx is None else dx) / 2)


# ---------------------------------------------------------------- structure
@method("fliplr")
def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return S.flip(input, 1)


@method("flipud")
def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return S.flip(input, 0)


@method("rot90")
def rot90(input, k=1, dims=(0, 1)):
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    d0, d1 = norm_dim(dims[0], input.ndim, "rot90"), norm_dim(dims[1], input.ndim, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return S.transpose(S.flip(input, d1), d0, d1)
    if k == 2:
        return S.flip(input, (d0, d1))
    if k == 3:
        return S.flip(S.transpose(input, d0, d1), d1)
    return input.clone()


@method("diag_embed")
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    k = abs(offset)
    n = input.shape[-1] + k
    nd = input.ndim + 1
    d1, d2 = norm_dim(dim1, nd, "diag_embed"), norm_dim(dim2, nd, "diag_embed")
    eye = Tensor._make(np.eye(n, k=offset, dtype=input.dtype), False, None)
    v = S.pad(input, (0, k)) if k else input
    # M[i, i+offset] = v[i]: a row vector times the shifted identity (column for offset < 0)
    out = (v.unsqueeze(-1) if offset >= 0 else v.unsqueeze(-2)) * eye
    return S.movedim(out, (nd - 2, nd - 1), (d1, d2))


@method("diagflat")
def diagflat(input, offset=0):
    return ST.diag(S.flatten(input), offset)


def block_diag(*tensors):
    ts = [t.reshape(1, 1) if t.ndim == 0 else (t.reshape(1, -1) if t.ndim == 1 else t) for t in tensors]
    if not ts:
        return Tensor._make(np.zeros((1, 0), backend.get_default_dtype()), False, None)
    dt = np.result_type(*[t.dtype for t in ts])
    cols = sum(t.shape[1] for t in ts)
    rows, c0 = [], 0
    for t in ts:
        left = c0
        right = cols - c0 - t.shape[1]
        rows.append(S.pad(t.to(dt), (left, right)))
        c0 += t.shape[1]
    return S.cat(rows, 0)


def cartesian_prod(*tensors):
    if len(tensors) == 1:
        return tensors[0]
    grids = ST.meshgrid(*tensors, indexing="ij")
    return S.stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    import itertools
    n = input.shape[0]
    it = itertools.combinations_with_replacement(range(n), r) if with_replacement else \
        itertools.combinations(range(n), r)
    idx = np.array(list(it), np.int64).reshape(-1, r)
    if idx.size == 0:
        return Tensor._make(np.zeros((0,) if r else (0,), input.dtype), False, None)
    return input[Tensor._make(idx, False, None)]


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    r, c = np.tril_indices(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype(dtype or np.int64), False, None)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    r, c = np.triu_indices(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype(dtype or np.int64), False, None)


def column_stack(tensors):
    ts = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors]
    return S.cat(ts, 1)


def dstack(tensors):
    from .views import atleast_3d
    return S.cat([atleast_3d(t) for t in tensors], 2)


def row_stack(tensors):
    return S.vstack(tensors)


# ---------------------------------------------------------------- products and distances
@method("mv")
def mv(input, vec):
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(input.shape)} and "
                           f"{tuple(vec.shape)}")
    return LA.matmul(input, vec)


@method("inner")
def inner(input, other):
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return LA_extra().tensordot(input, other, ([-1], [-1]))


@method("ger")
def ger(input, vec2):
    return LA.outer(input, vec2)


@method("vdot")
def vdot(input, other):
    return LA.dot(input, other)


@method("addr")
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    o = LA.outer(vec1, vec2)
    return (input if beta == 1 else input * beta) + (o if alpha == 1 else o * alpha)


@method("addbmm")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    p = R.sum(LA.bmm(batch1, batch2), 0)
    return (input if beta == 1 else input * beta) + (p if alpha == 1 else p * alpha)


def chain_matmul(*matrices):
    out = matrices[0]
    for m in matrices[1:]:
        out = LA.matmul(out, m)
    return out


@method("dist")
def dist(input, other, p=2):
    d = input - other
    if p == 0:
        return R.sum((d != 0).to(input.dtype))
    if p == float("inf"):
        return R.amax(E.abs(d))
    return R.norm(d, p)


def pdist(input, p=2):
    n = input.shape[0]
    r, c = np.triu_indices(n, 1)
    d = input[Tensor._make(r, False, None)] - input[Tensor._make(c, False, None)]
    return R.norm(d, p, dim=1)


@method("logdet")
def logdet(input):
    sign, la = LA_extra().slogdet(input)
    return A.where(sign < 0, float("nan"), la)


def LA_extra():
    from . import linalg_extra
    return linalg_extra


@method("matrix_power")
def matrix_power(input, n):
    if n == 0:
        from ..creation import eye
        e = eye(input.shape[-1], dtype=input.dtype)
        return S.expand(e, input.shape) if input.ndim > 2 else e
    if n < 0:
        return matrix_power(LA_extra().inverse(input), -n)
    out = None
    base = input
    while n:
        if n & 1:
            out = base if out is None else LA.matmul(out, base)
        n >>= 1
        if n:
            base = LA.matmul(base, base)
    return out


def cov(input, *, correction=1, fweights=None, aweights=None):
    x = input if input.ndim == 2 else input.reshape(1, -1)
    n = x.shape[1]
    if fweights is None and aweights is None:
        xm = x - R.mean(x, 1, keepdim=True)
        c = LA.matmul(xm, xm.T) / max(n - correction, 0)
    else:
        w = None
        if fweights is not None:
            w = fweights.to(x.dtype)
        if aweights is not None:
            w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
        ws = R.sum(w)
        avg = R.sum(x * w, 1, keepdim=True) / ws
        xm = x - avg
        if correction == 0:
            norm = ws
        elif aweights is None:
            norm = ws - correction
        else:
            norm = ws - correction * R.sum(w * aweights.to(x.dtype)) / ws
        c = LA.matmul(xm * w, xm.T) / norm
    return c.reshape(()) if input.ndim < 2 else c


def corrcoef(input):
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = E.sqrt(ST.diagonal(c))
    return c / d.unsqueeze(1) / d.unsqueeze(0)


@method("isin")
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    a = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    b = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return Tensor._make(np.isin(a, b, invert=invert), False, None)


@method("unique_consecutive")
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    a = input._data
    if dim is None:
        flat = a.reshape(-1)
        if flat.size == 0:
            keep = np.zeros(0, bool)
        else:
            keep = np.concatenate([[True], flat[1:] != flat[:-1]])
        vals = flat[keep]
        inv = np.cumsum(keep) - 1
        counts = np.diff(np.append(np.nonzero(keep)[0], flat.size))
        inv = inv.reshape(a.shape)
    else:
        axis = norm_dim(dim, a.ndim, "unique_consecutive")
        m = np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1)
        keep = np.concatenate([[True], np.any(m[1:] != m[:-1], axis=1)]) if len(m) else np.zeros(0, bool)
        vals = np.compress(keep, a, axis=axis)
        inv = np.cumsum(keep) - 1
        counts = np.diff(np.append(np.nonzero(keep)[0], len(m)))
    out = [Tensor._make(vals, False, None)]
    if return_inverse:
        out.append(Tensor._make(inv.astype(np.int64), False, None))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64), False, None))
    return out[0] if len(out) == 1 else tuple(out)


@method("histc")
def histc(input, bins=100, min=0, max=0):
    a = input._data
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    h, _ = np.histogram(a, bins=bins, range=(lo, hi))
    return Tensor._make(h.astype(a.dtype), False, None)


@method("sum_to_size")
def sum_to_size(input, *size):
    from .shape import _shape_arg
    from ..autograd.engine import _sum_to_shape_t
    shape = tuple(_shape_arg(size))
    try:
        np.broadcast_shapes(shape, input.shape)
    except ValueError:
        raise RuntimeError(f"size {list(shape)} is not expandable to size {list(input.shape)}") from None
    return _sum_to_shape_t(input, shape)


@method("index_put")
def index_put(input, indices, values, accumulate=False):
    idx = tuple(indices) if isinstance(indices, (tuple, list)) else (indices,)
    v = _t(values, input)
    if accumulate:
        index, _ = I._convert_index(idx)
        if v.dtype != input.dtype:
            v = v.to(input.dtype)
        shaped = v if tuple(v.shape) == tuple(np.empty(input.shape)[index].shape) else \
            S.expand(v, np.empty(input.shape)[index].shape)
        return input + I.IndexPutGrad.apply(shaped, shape=input.shape, index=index, basic=False)
    out = input.clone()
    out[idx] = v
    return out


# ---------------------------------------------------------------- random in place
def _fill_random(self, arr, name):
    self._check_inplace(name)
    self._data[...] = arr
    self._bump()
    return self


def _exponential_(self, lambd=1.0, *, generator=None):
    g = generator.rng if generator is not None else backend.rng()
    return _fill_random(self, g.exponential(1.0 / lambd, self.shape), "exponential_")


def _cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    g = generator.rng if generator is not None else backend.rng()
    return _fill_random(self, median + sigma * g.standard_cauchy(self.shape), "cauchy_")


def _log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    g = generator.rng if generator is not None else backend.rng()
    return _fill_random(self, g.lognormal(mean, std, self.shape), "log_normal_")


def _geometric_(self, p, *, generator=None):
    g = generator.rng if generator is not None else backend.rng()
    return _fill_random(self, g.geometric(p, self.shape), "geometric_")


def _random_(self, from_=0, to=None, *, generator=None):
    g = generator.rng if generator is not None else backend.rng()
    if to is None:
        if self.dtype.kind == "f":
            to = 2 ** np.finfo(self.dtype).nmant + 1
        elif self.dtype == np.bool_:
            to = 2
        else:
            to = int(np.iinfo(self.dtype).max) + 1
        if from_ and to is not None and from_ >= to:
            raise RuntimeError("random_ expects 'from' to be less than 'to'")
    return _fill_random(self, g.integers(from_, to, self.shape), "random_")


Tensor.exponential_ = _exponential_
Tensor.cauchy_ = _cauchy_
Tensor.log_normal_ = _log_normal_
Tensor.geometric_ = _geometric_
Tensor.random_ = _random_


def _bernoulli_method(self, p=None, *, generator=None):
    from ..creation import bernoulli
    if p is None:
        return bernoulli(self, generator=generator)
    from ..creation import full_like
    return bernoulli(full_like(self, p), generator=generator)


def _multinomial_method(self, num_samples, replacement=False, *, generator=None):
    from ..creation import multinomial
    return multinomial(self, num_samples, replacement, generator=generator)


Tensor.bernoulli = _bernoulli_method
Tensor.multinomial = _multinomial_method


def _byte(self, memory_format=None):
    return self.to(np.uint8)


def _char(self, memory_format=None):
    return self.to(np.int8)


def _short(self, memory_format=None):
    return self.to(np.int16)


def _bfloat16(self, memory_format=None):
    raise TypeError("bfloat16(): dalam has no bfloat16 dtype (NumPy lacks one); use .half() "
                    "(float16) or stay in float32")


Tensor.byte = _byte
Tensor.char = _char
Tensor.short = _short
Tensor.bfloat16 = _bfloat16


# ---------------------------------------------------------------- in-place variants
def _make_inplace(name, fn):
    def f(self, *args, **kwargs):
        return self._inplace_result(fn(self, *args, **kwargs), name)
    f.__name__ = name
    f.__doc__ = f"In-place ``{name[:-1]}`` (PyTorch's ``Tensor.{name}``)."
    setattr(Tensor, name, f)


for _name in ("exp", "log", "log2", "log10", "log1p", "expm1", "exp2", "sqrt", "rsqrt", "sigmoid",
              "tanh", "abs", "absolute", "neg", "negative", "floor", "ceil", "round", "trunc", "fix",
              "frac", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan",
              "sinh", "cosh", "reciprocal", "erf", "erfinv", "square", "sign", "sgn", "sinc",
              "clamp_min", "clamp_max", "fmod", "remainder", "true_divide", "floor_divide", "addmm",
              "baddbmm", "cumsum", "cumprod", "logit", "xlogy", "hypot", "atan2", "deg2rad",
              "rad2deg", "logical_not", "logical_and", "logical_or", "logical_xor", "tril", "triu",
              "scatter", "scatter_add", "index_put", "heaviside", "copysign", "float_power",
              "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"):
    if hasattr(Tensor, _name) and _name + "_" not in Tensor.__dict__:
        _make_inplace(_name + "_", getattr(Tensor, _name))


def _fill_diagonal_(self, fill_value, wrap=False):
    a = self._data
    if a.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(a.shape, bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return self._inplace_result(I.masked_fill(self, Tensor._make(mask, False, None), fill_value),
                                "fill_diagonal_")


Tensor.fill_diagonal_ = _fill_diagonal_


def _view_inplace(name, fn):
    def f(self, *args):
        r = fn(self, *args)
        self._check_inplace_grad(name)
        if r.grad_fn is not None and _gstate.enabled:
            self.grad_fn, self._output_nr, self.requires_grad = r.grad_fn, r._output_nr, True
        self._data = r._data
        return self
    f.__name__ = name
    f.__doc__ = f"In-place ``{name[:-1]}``: this tensor takes the new shape."
    setattr(Tensor, name, f)


for _name in ("t", "transpose", "squeeze", "unsqueeze", "swapaxes", "swapdims", "as_strided"):
    _view_inplace(_name + "_", getattr(Tensor, _name))
