"""Reductions: sum, mean, var, std, prod, max/min (values and indices),
argmax/argmin, amax/amin, logsumexp; all with ``dim`` and ``keepdim``."""
import builtins
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import method, norm_dims, norm_dim

values_indices = namedtuple("values_indices", ["values", "indices"])


def _expand_back(g, in_shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input shape."""
    if axes is None:  # a filled array: np.broadcast_to costs ~3 us of Python per call
        out = xp.empty(in_shape, g.dtype)
        out[...] = g
        return out
    if not keepdim:
        g = xp.expand_dims(g, axes)
    return xp.broadcast_to(g, in_shape)


def _expand_back_t(g, in_shape, axes, keepdim):
    if axes is None:
        return g.reshape((1,) * len(in_shape)).expand(in_shape) if len(in_shape) else g
    if not keepdim:
        for a in sorted(axes):
            g = g.unsqueeze(a)
    return g.expand(in_shape)


class Sum(Function):
    saves = ()

    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return x.sum(axes, None, None, keepdim)  # the method skips np.sum's Python wrapper

    def backward(self, gy):
        return _expand_back(gy, self.shape, self.axes, self.keepdim)

    def backward_graph(self, gy):
        return _expand_back_t(gy, self.shape, self.axes, self.keepdim)


class Mean(Function):
    saves = ()

    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        if x.size == 0 or x.dtype.kind != "f":
            y = xp.mean(x, axis=axes, keepdims=keepdim)
        else:  # sum / n, as np.mean does, without its Python wrapper
            y = x.sum(axes, None, None, keepdim)
            y = y / (x.size // builtins.max(y.size, 1))
        self.n = x.size // builtins.max(y.size, 1) if x.size else 0
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        return _expand_back(gy / builtins.max(self.n, 1), self.shape, self.axes, self.keepdim)

    def backward_graph(self, gy):
        return _expand_back_t(gy / builtins.max(self.n, 1), self.shape, self.axes, self.keepdim)


class Var(Function):
    def forward(self, x, axes, correction, keepdim):
        self.x, self.axes, self.keepdim = x, axes, keepdim
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        self.denom = builtins.max(n - correction, 0)
        self.mu = mu = xp.mean(x, axis=axes, keepdims=True)
        d = x - mu
        with np.errstate(divide="ignore", invalid="ignore"):
            y = xp.sum(d * d, axis=axes, keepdims=keepdim) / x.dtype.type(self.denom)
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        g = _expand_back(gy, self.x.shape, self.axes, self.keepdim)
        scale = 2.0 / self.denom if self.denom else float("inf")  # as PyTorch: 0 * inf = nan
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * scale * (self.x - self.mu).astype(self.x.dtype)

    def backward_graph(self, gy):
        x = self.input_tensor(0, self.x)
        g = _expand_back_t(gy, self.x.shape, self.axes, self.keepdim)
        scale = 2.0 / self.denom if self.denom else float("inf")
        return g * scale * (x - x.mean(self.axes, keepdim=True))


class Prod(Function):
    def forward(self, x, axis, keepdim):
        self.x, self.axis, self.keepdim = x, axis, keepdim
        return xp.prod(x, axis=axis, keepdims=keepdim)

    def backward(self, gy):
        x, axis = self.x, self.axis
        if axis is None:
            flat = x.reshape(-1)
            g = _prod_grad_last(flat[None, :])[0].reshape(x.shape)
            return g * gy
        xm = xp.moveaxis(x, axis, -1)
        g = xp.moveaxis(_prod_grad_last(xm), -1, axis)
        gy = gy if self.keepdim else xp.expand_dims(gy, axis)
        return g * gy


def _prod_grad_last(x):
    """d prod / d x_i = product of all other elements, exact with zeros:
    exclusive cumulative products from the left times from the right."""
    ones = xp.ones(x.shape[:-1] + (1,), x.dtype)
    left = xp.cumprod(xp.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(x, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return left * right


class MaxMinDim(Function):
    """max/min along a dim: values and indices; gradient to the chosen index."""

    def forward(self, x, axis, keepdim, is_max):
        self.shape, self.axis, self.keepdim = x.shape, axis, keepdim
        idx = (xp.argmax if is_max else xp.argmin)(x, axis=axis, keepdims=True)
        vals = xp.take_along_axis(x, idx, axis=axis)
        self.idx = idx
        if not keepdim:
            vals, idx = vals.squeeze(axis), idx.squeeze(axis)
        return vals, idx.astype(np.int64)

    def backward(self, gv, gi):
        g = xp.zeros(self.shape, gv.dtype)
        if not self.keepdim:
            gv = xp.expand_dims(gv, self.axis)
        xp.put_along_axis(g, self.idx, gv, axis=self.axis)
        return g

    def backward_graph(self, gv, gi):
        from .index import ScatterAdd
        if not self.keepdim:
            gv = gv.unsqueeze(self.axis)
        z = Tensor._make(xp.zeros(self.shape, gv.dtype), False, None)
        return ScatterAdd.apply(z, gv, index=self.idx, axis=self.axis)


class AMaxMin(Function):
    """amax/amin and full max()/min(): gradient shared evenly among ties."""

    def forward(self, x, axes, keepdim, is_max):
        self.x, self.axes, self.keepdim = x, axes, keepdim
        y = (xp.max if is_max else xp.min)(x, axis=axes, keepdims=True)
        self.yk = y
        return y if keepdim else (y.reshape(()) if axes is None else y.squeeze(axes))

    def backward(self, gy):
        mask = (self.x == self.yk)
        count = mask.sum(axis=self.axes, keepdims=True)
        g = _expand_back(gy, self.x.shape, self.axes, self.keepdim)
        return g * mask / count.astype(g.dtype)

    def backward_graph(self, gy):
        mask = (self.x == self.yk)
        w = mask / mask.sum(axis=self.axes, keepdims=True)
        g = _expand_back_t(gy, self.x.shape, self.axes, self.keepdim)
        return g * Tensor._make(w.astype(gy.dtype), False, None)


class LogSumExp(Function):
    def forward(self, x, axes, keepdim):
        self.x, self.axes, self.keepdim = x, axes, keepdim
        m = xp.max(x, axis=axes, keepdims=True, initial=-xp.inf)  # -inf over an empty dim
        m = xp.where(xp.isfinite(m), m, 0)
        s = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        self.sk = s
        return s if keepdim else s.squeeze(axes)

    def backward(self, gy):
        g = _expand_back(gy, self.x.shape, self.axes, self.keepdim)
        return g * xp.exp(self.x - self.sk)

    def backward_graph(self, gy):
        x = self.input_tensor(0, self.x)
        out = self.sk if self.keepdim else self.sk.squeeze(self.axes)
        s = _expand_back_t(self.output_tensor(0, out), self.x.shape, self.axes, self.keepdim)
        g = _expand_back_t(gy, self.x.shape, self.axes, self.keepdim)
        return g * (x - s).exp()


def _sum_dtype(x):
    return np.int64 if x._data.dtype.kind in "biu" else None


@method("sum")
def sum(input, dim=None, keepdim=False, dtype=None):
    if dim is None and dtype is None and input._data.dtype.kind == "f":
        return Sum.apply(input, None, keepdim)
    axes = norm_dims(dim, input.ndim, "sum")
    if axes == ():
        axes = None
    if dtype is not None or input._data.dtype.kind in "biu":
        dt = np.dtype(dtype) if dtype is not None else np.dtype(np.int64)
        input = input.to(dt)
        if dt.kind != "f":
            return Tensor._make(xp.sum(input._data, axis=axes, keepdims=keepdim), False, None)
    return Sum.apply(input, axes, keepdim)


@method("mean")
def mean(input, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, got "
            f"{input.dtype}; call .float() first.")
    axes = norm_dims(dim, input.ndim, "mean")
    if axes == ():
        axes = None
    return Mean.apply(input, axes, keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return int(correction)
    return 1 if unbiased in (None, True) else 0


@method("var")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var(unbiased) positional form
        unbiased, dim = dim, None
    axes = norm_dims(dim, input.ndim, "var")
    return Var.apply(input, axes=axes, correction=_correction(unbiased, correction), keepdim=keepdim)


@method("std")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


@method("prod")
def prod(input, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    axis = None if dim is None else norm_dim(dim, input.ndim, "prod")
    if input._data.dtype.kind in "biu":
        return Tensor._make(xp.prod(input._data.astype(np.int64), axis=axis, keepdims=keepdim), False, None)
    return Prod.apply(input, axis=axis, keepdim=keepdim)


def _maxmin(input, dim, keepdim, is_max, name):
    if isinstance(dim, Tensor):  # max(a, b) elementwise
        from .activation import maximum, minimum
        return (maximum if is_max else minimum)(input, dim)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): expected a non-empty tensor; this one has shape {tuple(input.shape)}")
        return AMaxMin.apply(input, axes=None, keepdim=False, is_max=is_max)
    axis = norm_dim(dim, input.ndim, name)
    if input.shape[axis] == 0:
        raise IndexError(f"{name}(): cannot reduce over dimension {dim} of size 0")
    v, i = MaxMinDim.apply(input, axis=axis, keepdim=keepdim, is_max=is_max)
    return values_indices(v, i)


@method("max")
def max(input, dim=None, keepdim=False):
    return _maxmin(input, dim, keepdim, True, "max")


@method("min")
def min(input, dim=None, keepdim=False):
    return _maxmin(input, dim, keepdim, False, "min")


@method("amax")
def amax(input, dim=(), keepdim=False):
    axes = norm_dims(dim, input.ndim, "amax") if dim != () else None
    return AMaxMin.apply(input, axes=axes, keepdim=keepdim, is_max=True)


@method("amin")
def amin(input, dim=(), keepdim=False):
    axes = norm_dims(dim, input.ndim, "amin") if dim != () else None
    return AMaxMin.apply(input, axes=axes, keepdim=keepdim, is_max=False)


@method("argmax")
def argmax(input, dim=None, keepdim=False):
    if dim is None:
        r = xp.argmax(input._data)
        return Tensor._make(np.asarray(r, np.int64).reshape((1,) * input.ndim if keepdim else ()), False, None)
    axis = norm_dim(dim, input.ndim, "argmax")
    return Tensor._make(xp.argmax(input._data, axis=axis, keepdims=keepdim).astype(np.int64), False, None)


@method("argmin")
def argmin(input, dim=None, keepdim=False):
    if dim is None:
        r = xp.argmin(input._data)
        return Tensor._make(np.asarray(r, np.int64).reshape((1,) * input.ndim if keepdim else ()), False, None)
    axis = norm_dim(dim, input.ndim, "argmin")
    return Tensor._make(xp.argmin(input._data, axis=axis, keepdims=keepdim).astype(np.int64), False, None)


@method("logsumexp")
def logsumexp(input, dim, keepdim=False):
    axes = norm_dims(dim, input.ndim, "logsumexp")
    return LogSumExp.apply(input, axes=axes, keepdim=keepdim)


@method("all")
def all(input, dim=None, keepdim=False):
    axes = norm_dims(dim, input.ndim, "all")
    return Tensor._make(np.asarray(xp.all(input._data, axis=axes, keepdims=keepdim)), False, None)


@method("any")
def any(input, dim=None, keepdim=False):
    axes = norm_dims(dim, input.ndim, "any")
    return Tensor._make(np.asarray(xp.any(input._data, axis=axes, keepdims=keepdim)), False, None)


@method("norm")
def norm(input, p=2, dim=None, keepdim=False):
    """Vector p-norm (p=2 default, 1, inf, or any positive number)."""
    if p == 2 or p == "fro":
        return sum(input * input, dim, keepdim).sqrt()
    if p == 1:
        return sum(input.abs(), dim, keepdim)
    if p == float("inf"):
        return amax(input.abs(), dim if dim is not None else (), keepdim)
    return sum(input.abs() ** p, dim, keepdim) ** (1.0 / p)


@method("cumsum")
def cumsum(input, dim):
    return CumSum.apply(input, axis=norm_dim(dim, input.ndim, "cumsum"))


class CumSum(Function):
    saves = ()

    def forward(self, x, axis):
        self.axis = axis
        return xp.cumsum(x, axis=axis, dtype=x.dtype if x.dtype.kind == "f" else np.int64)

    def backward(self, gy):
        a = self.axis
        return xp.flip(xp.cumsum(xp.flip(gy, a), axis=a), a)

    def backward_graph(self, gy):
        a = self.axis
        return gy.flip(a).cumsum(a).flip(a)
