"""Activation functions, clamp/maximum/minimum, softmax and log_softmax,
comparisons.  Each op keeps what its derivative needs: tanh and sigmoid keep
their output (y), relu keeps a mask."""
import math

import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import method, norm_dim
from .elementwise import _float_in, _promote
from .special import erf


def _const(a, dtype):
    return Tensor._make(xp.asarray(a, dtype), False, None)


class DerivMul(Function):
    """``gy * d(x)`` for an elementwise op with derivative ``d``: the backward
    of ELU, GELU, SiLU and softplus as an op of its own, so that double
    backward (create_graph=True) works; ``d2`` is the second derivative."""

    def forward(self, gy, x, d, d2):
        self.gy, self.x, self.d, self.d2 = gy, x, d, d2
        return gy * d(x)

    def backward(self, g):
        need = self.needs_input_grad
        return (g * self.d(self.x) if need[0] else None,
                g * self.gy * self.d2(self.x) if need[1] else None)


class Tanh(Function):
    saves = ()
    saves_output = True

    def forward(self, x):
        self.y = y = xp.tanh(x)
        return y

    def backward(self, gy):
        y = self.y
        return gy * (1 - y * y)

    def backward_graph(self, gy):
        y = self.output_tensor(0, self.y)
        return gy * (1 - y * y)


class Sigmoid(Function):
    saves = ()
    saves_output = True

    def forward(self, x):
        # tanh form: no overflow warning for large |x| and exact symmetry
        self.y = y = xp.tanh(x * 0.5) * 0.5 + 0.5
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        y = self.y
        return gy * y * (1 - y)

    def backward_graph(self, gy):
        y = self.output_tensor(0, self.y)
        return gy * y * (1 - y)


_ZEROS = {}


def _zero(dtype):
    """A cached 0-d zero of ``dtype`` (np.maximum(x, 0) with a Python 0 is slower)."""
    z = _ZEROS.get(dtype)
    if z is None:
        z = _ZEROS[dtype] = xp.zeros((), dtype)
    return z


_ZERO_BUFS = {}
_ZERO_VIEWS = {}


def _zeros_as(x):
    """Zeros with ``x``'s shape and memory layout, viewed from a cached
    read-only buffer (a 0-d zero for tiny, non-dense or large ``x``).
    ``maximum(x, 0-d zero)`` runs NumPy's broadcasting loop; an operand laid
    out like ``x`` gets the contiguous SIMD loop, 3-9x faster on cache-sized
    arrays (docs/RESULTS.md, Training section).  Above 2**18 elements the
    extra stream of zeros costs memory bandwidth instead, so the 0-d zero is
    kept there.  Views are cached per layout."""
    key = (x.dtype, x.shape, x.strides)
    z = _ZERO_VIEWS.get(key)
    if z is None:
        z = _make_zeros_as(x)
        if len(_ZERO_VIEWS) >= 64:
            _ZERO_VIEWS.clear()
        _ZERO_VIEWS[key] = z
    return z


def _make_zeros_as(x):
    n = x.size
    if n < 2048 or n > (1 << 18) or x.dtype.kind != "f":
        return _zero(x.dtype)
    strides = None
    if not x.flags.c_contiguous:  # dense in another axis order, e.g. a conv's NHWC output?
        expect = x.itemsize
        for st, sh in sorted((st, sh) for st, sh in zip(x.strides, x.shape) if sh > 1):
            if st != expect:
                return _zero(x.dtype)
            expect *= sh
        strides = x.strides
    buf = _ZERO_BUFS.get(x.dtype)
    if buf is None or buf.size < n:
        buf = xp.zeros(n, x.dtype)
        buf.flags.writeable = False
        _ZERO_BUFS[x.dtype] = buf
        _ZERO_VIEWS.clear()  # drop views of the smaller buffer so it can be freed
    if strides is None:
        return buf[:n].reshape(x.shape)
    return np.lib.stride_tricks.as_strided(buf, shape=x.shape, strides=strides, writeable=False)


class ReLU(Function):
    # keeps its output, not a mask: one array op in forward (y > 0 iff x > 0)
    saves = ()
    saves_output = True

    def forward(self, x):
        self.y = y = xp.maximum(x, _zeros_as(x))
        return y

    def backward(self, gy):
        return gy * (self.y > 0)

    def backward_graph(self, gy):
        return gy * Tensor._make((self.y > 0).astype(gy.dtype), False, None)


class LeakyReLU(Function):
    # maximum/minimum and a 0/1 mask scaled in place: ~10-25x faster than xp.where on float32;
    # one output buffer each way (every fresh large array costs page faults)
    def forward(self, x, slope):
        self.x, self.slope = x, slope
        if 0 <= slope <= 1:
            y = xp.multiply(x, slope, out=xp.empty_like(x))  # an array even for 0-d x
            return xp.maximum(x, y, out=y)
        return xp.where(x > 0, x, x * slope)

    def backward(self, gy):
        f = xp.array(xp.greater(self.x, 0), dtype=gy.dtype)  # xp.array: an array even for 0-d
        f *= 1 - self.slope
        f += self.slope
        return xp.multiply(f, gy, out=f)

    def backward_graph(self, gy):
        m = Tensor._make(xp.where(self.x > 0, 1.0, self.slope).astype(gy.dtype), False, None)
        return gy * m


class LeakyReLUOut(LeakyReLU):
    # 0 <= slope: y > 0 exactly where x > 0, so backward needs only the output (as PyTorch's),
    # which is what lets ``LeakyReLU(0.2, inplace=True)`` overwrite its input (DCGAN's idiom)
    saves = ()
    saves_output = True

    def forward(self, x, slope):
        y = LeakyReLU.forward(self, x, slope)
        self.x = self.y = y
        return y


class ELU(Function):
    def forward(self, x, alpha):
        self.x, self.alpha = x, alpha
        self.neg = neg = alpha * xp.expm1(xp.minimum(x, 0))
        return xp.where(x > 0, x, neg).astype(x.dtype, copy=False)

    def backward(self, gy):
        return xp.where(self.x > 0, gy, gy * (self.neg + self.alpha))

    def backward_graph(self, gy):
        a = self.alpha  # captured: this node may be freed before DerivMul runs

        def d(x):
            return xp.where(x > 0, 1, a * xp.exp(xp.minimum(x, 0))).astype(x.dtype, copy=False)

        def d2(x):
            return xp.where(x > 0, 0, a * xp.exp(xp.minimum(x, 0))).astype(x.dtype, copy=False)
        return DerivMul.apply(gy, self.input_tensor(0, self.x), d=d, d2=d2)


class GELU(Function):
    """GELU: exact x*Phi(x) (erf) or the tanh approximation."""

    def forward(self, x, approximate):
        self.x, self.approx = x, approximate
        if approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            inner = k * (x + 0.044715 * x * x * x)
            self.t = t = xp.tanh(inner)
            return (0.5 * x * (1 + t)).astype(x.dtype, copy=False)
        self.cdf = cdf = 0.5 * (1.0 + erf(x * (1 / math.sqrt(2.0))))
        return (x * cdf).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.x
        if self.approx == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = self.t
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
            return gy * d
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return gy * (self.cdf + x * pdf)

    @staticmethod
    def _d(x, approx):
        if approx == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = xp.tanh(k * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return 0.5 * (1.0 + erf(x * (1 / math.sqrt(2.0)))) + x * pdf

    @staticmethod
    def _d2(x, approx):
        if approx == "tanh":
            k, c = math.sqrt(2.0 / math.pi), 0.044715
            t = xp.tanh(k * (x + c * x * x * x))
            s, u1, u2 = 1 - t * t, k * (1 + 3 * c * x * x), 6 * k * c * x
            return s * (u1 - x * t * u1 * u1 + 0.5 * x * u2)
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return pdf * (2 - x * x)

    def backward_graph(self, gy):
        ap = self.approx
        return DerivMul.apply(gy, self.input_tensor(0, self.x), d=lambda x: GELU._d(x, ap),
                              d2=lambda x: GELU._d2(x, ap))


class SiLU(Function):
    def forward(self, x):
        self.x = x
        self.s = s = (xp.tanh(x * 0.5) * 0.5 + 0.5).astype(x.dtype, copy=False)
        return x * s

    def backward(self, gy):
        s = self.s
        return gy * s * (1 + self.x * (1 - s))

    @staticmethod
    def _d(x):
        s = xp.tanh(x * 0.5) * 0.5 + 0.5
        return s * (1 + x * (1 - s))

    @staticmethod
    def _d2(x):
        s = xp.tanh(x * 0.5) * 0.5 + 0.5
        return s * (1 - s) * (2 + x * (1 - 2 * s))

    def backward_graph(self, gy):
        return DerivMul.apply(gy, self.input_tensor(0, self.x), d=self._d, d2=self._d2)


class Softplus(Function):
    def forward(self, x, beta, threshold):
        self.x, self.beta, self.threshold = x, beta, threshold
        bx = x * beta
        y = xp.where(bx > threshold, x, xp.logaddexp(0, bx) / beta)
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        bx = self.x * self.beta
        s = (xp.tanh(bx * 0.5) * 0.5 + 0.5).astype(gy.dtype, copy=False)
        return gy * xp.where(bx > self.threshold, 1, s)

    def backward_graph(self, gy):
        beta, thr = self.beta, self.threshold

        def d(x):
            bx = x * beta
            return xp.where(bx > thr, 1, xp.tanh(bx * 0.5) * 0.5 + 0.5).astype(x.dtype)

        def d2(x):
            bx = x * beta
            s = xp.tanh(bx * 0.5) * 0.5 + 0.5
            return xp.where(bx > thr, 0, beta * s * (1 - s)).astype(x.dtype)
        return DerivMul.apply(gy, self.input_tensor(0, self.x), d=d, d2=d2)


class Clamp(Function):
    def forward(self, x, lo, hi):
        self.x, self.lo, self.hi = x, lo, hi
        return xp.clip(x, lo, hi)

    def backward(self, gy):
        m = xp.ones(self.x.shape, bool)
        if self.lo is not None:
            m &= self.x >= self.lo
        if self.hi is not None:
            m &= self.x <= self.hi
        return gy * m

    def backward_graph(self, gy):
        m = xp.ones(self.x.shape, bool)
        if self.lo is not None:
            m &= self.x >= self.lo
        if self.hi is not None:
            m &= self.x <= self.hi
        return gy * _const(m, gy.dtype)


class Maximum(Function):
    """maximum/minimum: at ties the gradient is split in half (as PyTorch)."""

    def forward(self, a, b, is_max):
        self.a, self.b, self.is_max = a, b, is_max
        return (xp.maximum if is_max else xp.minimum)(a, b)

    def backward(self, gy):
        a, b = self.a, self.b
        wa = ((a > b) if self.is_max else (a < b)) + 0.5 * (a == b)
        wa = wa.astype(gy.dtype)
        return gy * wa, gy * (1 - wa)

    def backward_graph(self, gy):
        a, b = self.a, self.b
        wa = ((a > b) if self.is_max else (a < b)) + 0.5 * (a == b)
        return gy * _const(wa, gy.dtype), gy * _const(1 - wa, gy.dtype)


class Softmax(Function):
    saves = ()
    saves_output = True

    def forward(self, x, axis):
        self.axis = axis
        e = xp.exp(x - xp.max(x, axis=axis, keepdims=True, initial=-xp.inf))
        e /= xp.sum(e, axis=axis, keepdims=True)
        self.y = e
        return e

    def backward(self, gy):
        y = self.y
        gyy = gy * y
        return gyy - y * xp.sum(gyy, axis=self.axis, keepdims=True)

    def backward_graph(self, gy):
        y = self.output_tensor(0, self.y)
        gyy = gy * y
        return gyy - y * gyy.sum(self.axis, keepdim=True)


class LogSoftmax(Function):
    saves = ()
    saves_output = True

    def forward(self, x, axis):
        self.axis = axis
        s = x - xp.max(x, axis=axis, keepdims=True, initial=-xp.inf)
        s -= xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))
        self.y = s
        return s

    def backward(self, gy):
        return gy - xp.exp(self.y) * xp.sum(gy, axis=self.axis, keepdims=True)

    def backward_graph(self, gy):
        y = self.output_tensor(0, self.y)
        return gy - y.exp() * gy.sum(self.axis, keepdim=True)


@method("tanh")
def tanh(x):
    return Tanh.apply(_float_in(x))


@method("sigmoid")
def sigmoid(x):
    return Sigmoid.apply(_float_in(x))


@method("relu")
def relu(x, inplace=False):
    r = ReLU.apply(x)
    return x._inplace_result(r, "relu_") if inplace else r


Tensor.relu_ = lambda self: relu(self, inplace=True)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    r = (LeakyReLUOut if 0 <= negative_slope <= 1 else LeakyReLU).apply(x, slope=negative_slope)
    return x._inplace_result(r, "leaky_relu_") if inplace else r


def elu(x, alpha=1.0, inplace=False):
    r = ELU.apply(x, alpha=alpha)
    return x._inplace_result(r, "elu_") if inplace else r


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, approximate=approximate)


def silu(x, inplace=False):
    return SiLU.apply(x)


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus.apply(x, beta=beta, threshold=threshold)


@method("clamp", "clip")
def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min if isinstance(min, Tensor) else Tensor(min).to(input.dtype))
        if max is not None:
            out = minimum(out, max if isinstance(max, Tensor) else Tensor(max).to(input.dtype))
        return out
    return Clamp.apply(input, lo=min, hi=max)


def _clamp_(self, min=None, max=None):
    return self._inplace_result(clamp(self, min, max), "clamp_")


Tensor.clamp_ = Tensor.clip_ = _clamp_


@method("maximum")
def maximum(input, other):
    a, b = _promote(input, other)
    return Maximum.apply(a, b, is_max=True)


@method("minimum")
def minimum(input, other):
    a, b = _promote(input, other)
    return Maximum.apply(a, b, is_max=False)


@method("softmax")
def softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return Softmax.apply(_float_in(input), axis=norm_dim(dim, input.ndim, "softmax"))


@method("log_softmax")
def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return LogSoftmax.apply(_float_in(input), axis=norm_dim(dim, input.ndim, "log_softmax"))


# ----------------------------------------------------------------- comparisons
def _cmp(np_fn, name):
    def f(self, other):
        if isinstance(other, (Tensor, np.ndarray)):
            o = other._data if isinstance(other, Tensor) else other
        elif isinstance(other, (int, float, bool, np.generic)):
            o = other
        else:
            return NotImplemented
        try:
            return Tensor._make(np.asarray(np_fn(self._data, o)), False, None)
        except ValueError:
            raise RuntimeError(
                f"{name}: shapes {tuple(self.shape)} and {tuple(np.shape(o))} cannot be broadcast together")
    f.__name__ = name
    return f


Tensor.__eq__ = _cmp(xp.equal, "eq")
Tensor.__ne__ = _cmp(xp.not_equal, "ne")
Tensor.__lt__ = _cmp(xp.less, "lt")
Tensor.__le__ = _cmp(xp.less_equal, "le")
Tensor.__gt__ = _cmp(xp.greater, "gt")
Tensor.__ge__ = _cmp(xp.greater_equal, "ge")
Tensor.eq, Tensor.ne, Tensor.lt = Tensor.__eq__, Tensor.__ne__, Tensor.__lt__
Tensor.le, Tensor.gt, Tensor.ge = Tensor.__le__, Tensor.__gt__, Tensor.__ge__
Tensor.__and__ = _cmp(xp.bitwise_and, "and")
Tensor.__or__ = _cmp(xp.bitwise_or, "or")
Tensor.__xor__ = _cmp(xp.bitwise_xor, "xor")
Tensor.__invert__ = lambda self: Tensor._make(xp.invert(self._data), False, None)
Tensor.logical_and = _cmp(xp.logical_and, "logical_and")
Tensor.logical_or = _cmp(xp.logical_or, "logical_or")
eq, ne, lt, le, gt, ge = Tensor.eq, Tensor.ne, Tensor.lt, Tensor.le, Tensor.gt, Tensor.ge


def equal(a, b):
    return a.shape == b.shape and bool(np.array_equal(a._data, b._data))


def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return bool(np.allclose(a._data, b._data if isinstance(b, Tensor) else b, rtol, atol, equal_nan))


def isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return Tensor._make(np.isclose(a._data, b._data if isinstance(b, Tensor) else b, rtol, atol, equal_nan), False, None)


Tensor.allclose = allclose
Tensor.isclose = isclose
Tensor.equal = equal
