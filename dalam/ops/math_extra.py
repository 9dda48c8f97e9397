"""More elementwise maths PyTorch has: erf/erfc/erfinv, inverse trig and
hyperbolic functions, log2/log10/expm1/exp2, atan2/hypot/fmod/floor_divide,
nan_to_num and the pointwise ternaries lerp/addcmul/addcdiv.

Each differentiable op is one Function (forward and backward side by side).
Constants in backward are Python floats (``math.log(2)``), never NumPy
float64 scalars, so float32 stays float32.
"""
import math

import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import method
from .elementwise import _promote, _float_in, _scalar, _bcast_check
from . import special as _sp

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0


# ----------------------------------------------------------------- special functions (arrays)
def _erfc64(x):
    """erfc in float64 without the cancellation of 1 - erf(x) for large x
    (fdlibm's tail formula for |x| >= 1.25)."""
    x = np.asarray(x, np.float64)
    a = np.abs(x)
    out = np.array(1.0 - _sp.erf(a), np.float64)
    m = (a >= 1.25) & (a < 28.0)
    if m.any():
        v = a[m]
        s = 1.0 / (v * v)
        small = v < 1 / 0.35
        rs = np.where(small, _sp._poly(_sp._RA, s) / _sp._poly(_sp._SA, s),
                      _sp._poly(_sp._RB, s) / _sp._poly(_sp._SB, s))
        out[m] = np.exp(-v * v - 0.5625 + rs) / v
    out[a >= 28.0] = 0.0
    return np.where(x < 0, 2.0 - out, out)


def _erfinv64(y):
    """erfinv in float64: Giles' single-precision approximation, then two
    Newton steps (on erfc near +-1, where erf loses digits)."""
    y = np.asarray(y, np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = -np.log((1.0 - y) * (1.0 + y))
        lo = w < 5.0
        w1 = w - 2.5
        p1 = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            p1 = c + p1 * w1
        w2 = np.sqrt(w) - 3.0
        p2 = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):
            p2 = c + p2 * w2
        x = np.where(lo, p1, p2) * y
        fin = np.isfinite(x)
        x = np.where(fin, x, 0.0)
        ay = np.abs(y)
        big = ay > 0.5
        for _ in range(2):
            ax = np.abs(x)
            # residual: erf(x) - y, or (1 - |y|) - erfc(|x|) with the sign of y (exact 1 - |y|)
            r = np.where(big, np.sign(y) * ((1.0 - ay) - _erfc64(ax)), _sp.erf(x) - y)
            x = x - r / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = np.where(ay == 1.0, np.copysign(np.inf, y), x)
        x = np.where((ay > 1.0) | np.isnan(y), np.nan, x)
    return x


def _erf_arr(x):
    return _sp.erf(x).astype(x.dtype, copy=False)


def _erfc_arr(x):
    return _erfc64(x).astype(x.dtype, copy=False)


def _erfinv_arr(x):
    return _erfinv64(x).astype(x.dtype, copy=False)


# ----------------------------------------------------------------- unary Functions
class Erf(Function):
    def forward(self, x):
        self.x = x
        return _erf_arr(x)

    def backward(self, gy):
        x = self.x
        return gy * (_TWO_OVER_SQRT_PI * xp.exp(-x * x))


class Erfc(Function):
    def forward(self, x):
        self.x = x
        return _erfc_arr(x)

    def backward(self, gy):
        x = self.x
        return gy * (-_TWO_OVER_SQRT_PI * xp.exp(-x * x))


class Erfinv(Function):
    saves = ()
    saves_output = True

    def forward(self, x):
        self.y = y = _erfinv_arr(x)
        return y

    def backward(self, gy):
        y = self.y
        return gy * (_SQRT_PI_OVER_2 * xp.exp(y * y))


class Asin(Function):
    def forward(self, x):
        self.x = x
        return xp.arcsin(x)

    def backward(self, gy):
        x = self.x
        return gy / xp.sqrt(1 - x * x)


class Acos(Function):
    def forward(self, x):
        self.x = x
        return xp.arccos(x)

    def backward(self, gy):
        x = self.x
        return -gy / xp.sqrt(1 - x * x)


class Atan(Function):
    def forward(self, x):
        self.x = x
        return xp.arctan(x)

    def backward(self, gy):
        x = self.x
        return gy / (1 + x * x)


class Sinh(Function):
    def forward(self, x):
        self.x = x
        return xp.sinh(x)

    def backward(self, gy):
        return gy * xp.cosh(self.x)


class Cosh(Function):
    def forward(self, x):
        self.x = x
        return xp.cosh(x)

    def backward(self, gy):
        return gy * xp.sinh(self.x)


class Asinh(Function):
    def forward(self, x):
        self.x = x
        return xp.arcsinh(x)

    def backward(self, gy):
        x = self.x
        return gy / xp.sqrt(x * x + 1)


class Acosh(Function):
    def forward(self, x):
        self.x = x
        return xp.arccosh(x)

    def backward(self, gy):
        x = self.x
        return gy / xp.sqrt(x * x - 1)


class Atanh(Function):
    def forward(self, x):
        self.x = x
        return xp.arctanh(x)

    def backward(self, gy):
        x = self.x
        return gy / (1 - x * x)


class Log2(Function):
    def forward(self, x):
        self.x = x
        return xp.log2(x)

    def backward(self, gy):
        return gy / (self.x * _LN2)


class Log10(Function):
    def forward(self, x):
        self.x = x
        return xp.log10(x)

    def backward(self, gy):
        return gy / (self.x * _LN10)


class Expm1(Function):
    saves = ()
    saves_output = True

    def forward(self, x):
        self.y = y = xp.expm1(x)
        return y

    def backward(self, gy):
        return gy * (self.y + 1)


class Exp2(Function):
    saves = ()
    saves_output = True

    def forward(self, x):
        self.y = y = xp.exp2(x)
        return y

    def backward(self, gy):
        return gy * (self.y * _LN2)


def _unary(cls, name, *aliases):
    def f(input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
        return cls.apply(_float_in(input))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Elementwise {name} (float result; int inputs use the default float dtype)."
    for n in (name,) + aliases:
        setattr(Tensor, n, f)
    return f


erf = _unary(Erf, "erf")
erfc = _unary(Erfc, "erfc")
erfinv = _unary(Erfinv, "erfinv")
asin = _unary(Asin, "asin", "arcsin")
acos = _unary(Acos, "acos", "arccos")
atan = _unary(Atan, "atan", "arctan")
sinh = _unary(Sinh, "sinh")
cosh = _unary(Cosh, "cosh")
asinh = _unary(Asinh, "asinh", "arcsinh")
acosh = _unary(Acosh, "acosh", "arccosh")
atanh = _unary(Atanh, "atanh", "arctanh")
log2 = _unary(Log2, "log2")
log10 = _unary(Log10, "log10")
expm1 = _unary(Expm1, "expm1")
exp2 = _unary(Exp2, "exp2")
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
special_erf, special_erfc, special_erfinv = erf, erfc, erfinv


# ----------------------------------------------------------------- binary Functions
class Atan2(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.arctan2(a, b)

    def backward(self, gy):
        a, b = self.a, self.b
        d = a * a + b * b
        return gy * b / d, -gy * a / d


class Hypot(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        self.h = h = xp.hypot(a, b)
        return h

    def backward(self, gy):
        g = gy / self.h
        return g * self.a, g * self.b


class Fmod(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.fmod(a, b)

    def backward(self, gy):
        need = self.needs_input_grad
        gb = -gy * xp.trunc(self.a / self.b) if len(need) > 1 and need[1] else None
        return gy, gb


def _binary_operands(op, input, other, floating):
    """PyTorch promotion for a binary op; ``floating`` ops compute ints in float."""
    if not isinstance(input, Tensor):
        if isinstance(other, Tensor):
            input = Tensor._make(np.asarray(_scalar(input), other.dtype if other.dtype.kind == "f"
                                            else None), False, None)
        else:
            raise TypeError(f"{op}: expected at least one Tensor, got {type(input).__name__} and "
                            f"{type(other).__name__}")
    a, b = _promote(input, other)
    if isinstance(b, Tensor):
        _bcast_check(op, a, b)
    if floating:
        a = _float_in(a)
        if isinstance(b, Tensor):
            if b.dtype.kind not in "fc":
                b = Tensor._make(b._data.astype(a.dtype), False, None)
        else:
            b = float(b)
    return a, b


def _as_scalar_const(b, like):
    # a Python number as a 0-dim array of the tensor's dtype (keeps float32)
    return np.asarray(b, like.dtype) if not isinstance(b, Tensor) else b


@method("atan2", "arctan2")
def atan2(input, other):
    a, b = _binary_operands("atan2", input, other, True)
    return Atan2.apply(a, _as_scalar_const(b, a))


arctan2 = atan2


@method("hypot")
def hypot(input, other):
    a, b = _binary_operands("hypot", input, other, True)
    return Hypot.apply(a, _as_scalar_const(b, a))


@method("fmod")
def fmod(input, other):
    """C-style remainder: the result has the sign of ``input`` (``remainder`` follows ``other``)."""
    a, b = _binary_operands("fmod", input, other, False)
    if a.dtype.kind in "iub" and (not isinstance(b, Tensor) or b.dtype.kind in "iub"):
        bd = b._data if isinstance(b, Tensor) else b
        if np.any(np.asarray(bd) == 0):
            raise RuntimeError("fmod: ZeroDivisionError (integer division by zero)")
        return Tensor._make(np.asarray(xp.fmod(a._data, bd)), False, None)
    return Fmod.apply(a, _as_scalar_const(b, a))


@method("floor_divide")
def floor_divide(input, other):
    """input // other rounded towards minus infinity (no gradient, as in PyTorch)."""
    a, b = _binary_operands("floor_divide", input, other, False)
    bd = b._data if isinstance(b, Tensor) else b
    if a.dtype.kind in "iub" and np.asarray(bd).dtype.kind in "iub" and np.any(np.asarray(bd) == 0):
        raise RuntimeError("floor_divide: ZeroDivisionError (integer division by zero)")
    r = xp.floor_divide(a._data, _as_scalar_const(bd, a) if not isinstance(bd, np.ndarray) else bd)
    return Tensor._make(np.asarray(r), False, None)


class NanToNum(Function):
    def forward(self, x, nan, posinf, neginf):
        self.mask = xp.isfinite(x)
        return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, gy):
        return xp.where(self.mask, gy, 0).astype(gy.dtype, copy=False)


@method("nan_to_num")
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN/+inf/-inf (defaults: 0, the dtype's max, its lowest)."""
    if input.dtype.kind not in "fc":
        return input.clone()
    fi = np.finfo(input.dtype)
    posinf = float(fi.max) if posinf is None else posinf
    neginf = float(fi.min) if neginf is None else neginf
    return NanToNum.apply(input, nan, posinf, neginf)


# ----------------------------------------------------------------- pointwise ternaries
class Lerp(Function):
    def forward(self, a, b, w):
        self.a, self.b, self.w = a, b, w
        return a + w * (b - a)

    def backward(self, gy):
        need = self.needs_input_grad
        w = self.w
        ga = gy * (1 - w) if need[0] else None
        gb = gy * w if need[1] else None
        gw = gy * (self.b - self.a) if len(need) > 2 and need[2] else None
        return ga, gb, gw


class AddCMul(Function):
    def forward(self, x, t1, t2, value):
        self.t1, self.t2, self.value = t1, t2, value
        return x + value * (t1 * t2)

    def backward(self, gy):
        need = self.needs_input_grad
        v = self.value
        g1 = gy * (v * self.t2) if need[1] else None
        g2 = gy * (v * self.t1) if need[2] else None
        return gy, g1, g2


class AddCDiv(Function):
    def forward(self, x, t1, t2, value):
        self.t1, self.t2, self.value = t1, t2, value
        return x + value * (t1 / t2)

    def backward(self, gy):
        need = self.needs_input_grad
        v, t1, t2 = self.value, self.t1, self.t2
        g1 = gy * v / t2 if need[1] else None
        g2 = -gy * v * t1 / (t2 * t2) if need[2] else None
        return gy, g1, g2


def _check_float_same(op, *ts):
    dts = {t.dtype for t in ts}
    if len(dts) > 1:
        raise RuntimeError(
            f"{op}: expected all tensors to have the same dtype, got "
            f"{', '.join(str(t.dtype) for t in ts)}; convert them with .to(dtype)")


def _check_bcast3(op, *ts):
    try:
        np.broadcast_shapes(*[t.shape for t in ts])
    except ValueError:
        raise RuntimeError(
            f"{op}: shapes {', '.join(str(tuple(t.shape)) for t in ts)} cannot be broadcast together "
            "(trailing dimensions must be equal or 1)") from None


@method("lerp")
def lerp(input, end, weight):
    """input + weight * (end - input); weight is a Python number or a Tensor."""
    if isinstance(weight, Tensor):
        _check_float_same("lerp", input, end, weight)
        _check_bcast3("lerp", input, end, weight)
        return Lerp.apply(input, end, weight)
    _check_float_same("lerp", input, end)
    _check_bcast3("lerp", input, end)
    return Lerp.apply(input, end, np.asarray(_scalar(weight), input.dtype))


@method("addcmul")
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2 in one node."""
    _check_bcast3("addcmul", input, tensor1, tensor2)
    _check_float_same("addcmul", input, tensor1, tensor2)
    return AddCMul.apply(input, tensor1, tensor2, np.asarray(_scalar(value), input.dtype))


@method("addcdiv")
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 in one node (Adam's update has this form)."""
    _check_bcast3("addcdiv", input, tensor1, tensor2)
    if input.dtype.kind != "f" or tensor1.dtype.kind != "f" or tensor2.dtype.kind != "f":
        raise RuntimeError(
            "addcdiv: integer division with addcdiv is not supported; use floating-point tensors "
            f"(got {input.dtype}, {tensor1.dtype}, {tensor2.dtype})")
    _check_float_same("addcdiv", input, tensor1, tensor2)
    return AddCDiv.apply(input, tensor1, tensor2, np.asarray(_scalar(value), input.dtype))


def _inplace(name, fn):
    def f(self, *args, **kwargs):
        return self._inplace_result(fn(self, *args, **kwargs), name)
    f.__name__ = name
    setattr(Tensor, name, f)


for _n, _f in (("lerp_", lerp), ("addcmul_", addcmul), ("addcdiv_", addcdiv),
               ("nan_to_num_", nan_to_num)):
    _inplace(_n, _f)
