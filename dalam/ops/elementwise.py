"""Elementwise arithmetic and maths: + - * / ** and unary functions.

Type promotion follows PyTorch, not NumPy: an int tensor with a Python float
gives the default float dtype (float32, where NumPy would give float64), int
tensors divided give float32, and NumPy scalars behave like Python numbers so
``x * np.sqrt(2)`` stays float32.
"""
import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from .. import _memory
from ._util import method, default_float


# ----------------------------------------------------------------- promotion
def _scalar(x):
    if isinstance(x, np.generic):
        return x.item()
    return x


def _promote(a, b):
    """Return (a, b) ready for a binary op: Tensors, or a Python scalar for b."""
    if isinstance(b, Tensor):
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            return a, b
        ka, kb = da.kind, db.kind
        if ka == "f" and kb == "f":
            # a 0-dim tensor does not decide the dtype of a bigger one (PyTorch rule)
            if a._data.ndim == 0 and b._data.ndim > 0:
                return cast(a, db), b
            if b._data.ndim == 0 and a._data.ndim > 0:
                return a, cast(b, da)
            return a, b  # numpy promotes float32+float64 -> float64; grads cast back
        if ka == "f":
            return a, Tensor._make(b._data.astype(da), False, None)
        if kb == "f":
            return Tensor._make(a._data.astype(db), False, None), b
        return a, b
    if isinstance(b, np.ndarray):
        return _promote(a, Tensor._make(b, False, None))
    b = _scalar(b)
    k = a._data.dtype.kind
    if type(b) is float:
        if k != "f":
            a = Tensor._make(a._data.astype(default_float()), False, None)
    elif type(b) is int:
        if k == "b":
            a = Tensor._make(a._data.astype(np.int64), False, None)
    elif type(b) is bool:
        pass
    elif isinstance(b, (list, tuple)):
        return _promote(a, Tensor._from_data(b))
    else:
        raise TypeError(f"unsupported operand type for a Tensor op: {type(b).__name__}")
    return a, b


def _bcast_check(op, a, b):
    sa = a.shape
    sb = b.shape if isinstance(b, (Tensor, np.ndarray)) else ()
    if sa == sb:
        return
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        raise RuntimeError(
            f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast together (PyTorch "
            "broadcasting: trailing dimensions must be equal or 1). Reshape or unsqueeze one of them.")


# ----------------------------------------------------------------- binary ops
class Add(Function):
    saves = ()

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy

    def backward_graph(self, gy):
        return gy, gy


class Sub(Function):
    saves = ()

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        return gy, -gy

    def backward_graph(self, gy):
        return gy, -gy


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        need = self.needs_input_grad
        return (gy * self.b if need[0] else None), (gy * self.a if need[1] else None)

    def backward_graph(self, gy):
        a = self.input_tensor(0, self.a)
        b = self.input_tensor(1, self.b)
        return gy * b, gy * a


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        need = self.needs_input_grad
        ga = gy / self.b if need[0] else None
        gb = -gy * self.a / (self.b * self.b) if need[1] else None
        return ga, gb

    def backward_graph(self, gy):
        a = self.input_tensor(0, self.a)
        b = self.input_tensor(1, self.b)
        return gy / b, -gy * a / (b * b)


class Pow(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = y = a ** b
        return y

    def backward(self, gy):
        a, b = self.a, self.b
        need = self.needs_input_grad
        ga = gb = None
        if need[0]:
            if isinstance(b, (int, float)) and b == 2:
                ga = gy * (2 * a)
            else:
                ga = gy * b * a ** (b - 1)
        if need[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                la = xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), xp.where(a == 0, -np.inf, np.nan))
            gb = gy * xp.where((a == 0) & (np.asarray(b) >= 0), 0, self.y * la)
        return ga, gb

    def backward_graph(self, gy):
        a = self.input_tensor(0, self.a)
        b = self.b if not isinstance(self.b, np.ndarray) else self.input_tensor(1, self.b)
        ga = gy * b * a ** (b - 1)
        gb = None
        if self.needs_input_grad[1]:
            gb = gy * (a ** b) * log(a)
        return ga, gb


def _apply_bin(cls, op, a, b):
    """Apply a broadcasting binary op; a shape mismatch becomes a clear error."""
    try:
        return cls.apply(a, b)
    except ValueError as e:
        err = e
    if isinstance(b, Tensor):
        _bcast_check(op, a, b)
    raise err


def add(input, other, alpha=1):
    if alpha == 1 and isinstance(other, Tensor):  # fast path: same dtype and shape
        da, db = input._data, other._data
        if (da.dtype is db.dtype or da.dtype == db.dtype) and da.shape == db.shape:
            return Add.apply(input, other)
    a, b = _promote(input, other)
    if alpha != 1:
        b = b * alpha
    return _apply_bin(Add, "add", a, b)


def sub(input, other, alpha=1):
    if alpha == 1 and isinstance(other, Tensor):  # fast path: same dtype and shape
        da, db = input._data, other._data
        if (da.dtype is db.dtype or da.dtype == db.dtype) and da.shape == db.shape:
            return Sub.apply(input, other)
    a, b = _promote(input, other)
    if alpha != 1:
        b = b * alpha
    return _apply_bin(Sub, "sub", a, b)


def mul(input, other):
    if isinstance(other, Tensor):  # fast path: same dtype and shape
        da, db = input._data, other._data
        if (da.dtype is db.dtype or da.dtype == db.dtype) and da.shape == db.shape:
            return Mul.apply(input, other)
    a, b = _promote(input, other)
    return _apply_bin(Mul, "mul", a, b)


def div(input, other, rounding_mode=None):
    if rounding_mode is not None:
        return _floor_trunc_div(input, other, rounding_mode)
    a, b = _promote(input, other)
    if a._data.dtype.kind != "f":
        a = Tensor._make(a._data.astype(default_float()), False, None)
    if isinstance(b, Tensor):
        if b._data.dtype.kind != "f":
            b = Tensor._make(b._data.astype(a._data.dtype), False, None)
    elif type(b) is not float:
        b = float(b)
    return _apply_bin(Div, "div", a, b)


def pow(input, exponent):
    if not isinstance(input, Tensor):  # scalar ** tensor
        base = Tensor._make(np.asarray(input, exponent.dtype if exponent.dtype.kind == "f"
                                       else default_float()), False, None)
        return Pow.apply(base, exponent)
    a, b = _promote(input, exponent)
    if isinstance(b, Tensor):
        _bcast_check("pow", a, b)
        if a._data.dtype.kind in "iu" and b._data.dtype.kind in "iu" and (b._data < 0).any():
            raise RuntimeError("pow: integers to negative integer powers are not allowed")
    return Pow.apply(a, b)


def _floor_trunc_div(a, b, mode):
    a_ = a._data
    b_ = b._data if isinstance(b, Tensor) else _scalar(b)
    if mode == "floor":
        r = xp.floor_divide(a_, b_)
    elif mode == "trunc":
        r = xp.trunc(a_ / b_)
        if a_.dtype.kind in "iu":
            r = r.astype(a_.dtype)
    else:
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {mode!r}")
    return Tensor._make(r.astype(a_.dtype) if a_.dtype.kind == "f" else r, False, None)


def _rsub(self, other):
    a, b = _promote(self, other)
    if isinstance(b, Tensor):
        return Sub.apply(b, a)
    return Sub.apply(_const_like(b, a), a)


def _rdiv(self, other):
    a, b = _promote(self, other)
    if a._data.dtype.kind != "f":
        a = Tensor._make(a._data.astype(default_float()), False, None)
    if isinstance(b, Tensor):
        return div(b, a)
    return Div.apply(_const_like(b, a), a)


def _const_like(x, like):
    return Tensor._make(np.asarray(x, like._data.dtype), False, None)


Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(self, other)
Tensor.__sub__ = sub
Tensor.__rsub__ = _rsub
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, other: mul(self, other)
Tensor.__truediv__ = div
Tensor.__rtruediv__ = _rdiv
Tensor.__pow__ = pow
Tensor.__rpow__ = lambda self, other: pow(other, self)
Tensor.__floordiv__ = lambda self, other: _floor_trunc_div(self, other, "floor")
Tensor.__mod__ = lambda self, other: remainder(self, other)
Tensor.add, Tensor.sub, Tensor.mul, Tensor.div, Tensor.pow = add, sub, mul, div, pow
Tensor.subtract, Tensor.multiply, Tensor.divide, Tensor.true_divide = sub, mul, div, div


def remainder(input, other):
    b = other._data if isinstance(other, Tensor) else _scalar(other)
    return Tensor._make(xp.mod(input._data, b), False, None)


Tensor.remainder = remainder


# in-place arithmetic: x += y, x.add_(y), ...
def _make_inplace(fn, name):
    def inplace(self, other, *args, **kwargs):
        return self._inplace_result(fn(self, other, *args, **kwargs), name)
    inplace.__name__ = name
    return inplace


for _n, _f in (("add_", add), ("sub_", sub), ("mul_", mul), ("div_", div), ("pow_", pow)):
    setattr(Tensor, _n, _make_inplace(_f, _n))
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_


# ----------------------------------------------------------------- unary ops
def _float_in(x):
    """Unary float ops on int/bool tensors compute in the default float dtype."""
    if x._data.dtype.kind not in "fc":
        return Tensor._make(x._data.astype(default_float()), False, None)
    return x


class Neg(Function):
    saves = ()

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy

    backward_graph = backward


class Exp(Function):
    saves = ()
    saves_output = True

    def forward(self, x):
        self.y = y = xp.exp(x)
        return y

    def backward(self, gy):
        return gy * self.y

    def backward_graph(self, gy):
        return gy * self.output_tensor(0, self.y)


class Log(Function):
    def forward(self, x):
        self.x = x
        return xp.log(x)

    def backward(self, gy):
        return gy / self.x

    def backward_graph(self, gy):
        return gy / self.input_tensor(0, self.x)


class Log1p(Function):
    def forward(self, x):
        self.x = x
        return xp.log1p(x)

    def backward(self, gy):
        return gy / (1 + self.x)

    def backward_graph(self, gy):
        return gy / (1 + self.input_tensor(0, self.x))


class Sqrt(Function):
    saves = ()
    saves_output = True

    def forward(self, x):
        self.y = y = xp.sqrt(x)
        return y

    def backward(self, gy):
        return gy / (2 * self.y)

    def backward_graph(self, gy):
        return gy / (2 * self.output_tensor(0, self.y))


class Rsqrt(Function):
    saves = ()
    saves_output = True

    def forward(self, x):
        self.y = y = 1 / xp.sqrt(x)
        return y

    def backward(self, gy):
        y = self.y
        return gy * (-0.5) * y * y * y

    def backward_graph(self, gy):
        y = self.output_tensor(0, self.y)
        return gy * (-0.5) * y * y * y


class Abs(Function):
    def forward(self, x):
        self.x = x
        return xp.abs(x)

    def backward(self, gy):
        return gy * xp.sign(self.x)

    def backward_graph(self, gy):
        return gy * Tensor._make(xp.sign(self.x).astype(gy.dtype), False, None)


class Sin(Function):
    def forward(self, x):
        self.x = x
        return xp.sin(x)

    def backward(self, gy):
        return gy * xp.cos(self.x)

    def backward_graph(self, gy):
        return gy * cos(self.input_tensor(0, self.x))


class Cos(Function):
    def forward(self, x):
        self.x = x
        return xp.cos(x)

    def backward(self, gy):
        return -gy * xp.sin(self.x)

    def backward_graph(self, gy):
        return -gy * sin(self.input_tensor(0, self.x))


class Cast(Function):
    saves = ()

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, gy):
        return gy  # the engine casts back to the input dtype

    backward_graph = backward


class Clone(Function):
    saves = ()

    def forward(self, x, fmt=None):
        if fmt is None:  # preserve_format: keep the order of the strides, as PyTorch
            return x.copy() if x.flags.c_contiguous else _memory.preserve_copy(x)
        return _memory.to_format(x, fmt, "clone")

    def backward(self, gy):
        return gy

    backward_graph = backward


def cast(x, dtype):
    dtype = np.dtype(dtype)
    if x._data.dtype == dtype:
        return x
    if x.requires_grad and dtype.kind not in "fc":
        return Tensor._make(x._data.astype(dtype), False, None)
    return Cast.apply(x, dtype=dtype)


@method("clone")
def clone(x, memory_format=None):
    if memory_format is None or memory_format is _memory.preserve_format:
        return Clone.apply(x)
    return Clone.apply(x, memory_format)


@method("neg", "negative", "__neg__")
def neg(x):
    return Neg.apply(x)


@method("exp")
def exp(x):
    return Exp.apply(_float_in(x))


@method("log")
def log(x):
    return Log.apply(_float_in(x))


@method("log1p")
def log1p(x):
    return Log1p.apply(_float_in(x))


@method("sqrt")
def sqrt(x):
    return Sqrt.apply(_float_in(x))


@method("rsqrt")
def rsqrt(x):
    return Rsqrt.apply(_float_in(x))


@method("abs", "__abs__")
def abs(x):
    if x._data.dtype.kind not in "fc":
        return Tensor._make(xp.abs(x._data), False, None)
    return Abs.apply(x)


@method("sin")
def sin(x):
    return Sin.apply(_float_in(x))


@method("cos")
def cos(x):
    return Cos.apply(_float_in(x))


class Piecewise(Function):
    """sign, floor, ceil, round, trunc: piecewise constant, so the gradient is
    zero; the output still requires grad (as in PyTorch) so that a loss built
    from it can call backward()."""
    saves = ()

    def forward(self, x, np_fn):
        return np_fn(x)

    def backward(self, gy):
        return xp.zeros_like(gy)

    def backward_graph(self, gy):
        return Tensor._make(xp.zeros(gy.shape, gy.dtype), False, None)


@method("sign")
def sign(x):
    return Piecewise.apply(x, np_fn=xp.sign)


def _nograd(np_fn, name):
    def f(x):
        if x.requires_grad and x._data.dtype.kind == "f" and name in _PIECEWISE:
            return Piecewise.apply(x, np_fn=np_fn)
        return Tensor._make(np_fn(x._data), False, None)
    f.__name__ = name
    setattr(Tensor, name, f)
    return f


_PIECEWISE = ("floor", "ceil", "round", "trunc")


floor = _nograd(xp.floor, "floor")
ceil = _nograd(xp.ceil, "ceil")
round = _nograd(xp.round, "round")
trunc = _nograd(xp.trunc, "trunc")
isnan = _nograd(xp.isnan, "isnan")
isinf = _nograd(xp.isinf, "isinf")
isfinite = _nograd(xp.isfinite, "isfinite")
logical_not = _nograd(xp.logical_not, "logical_not")


@method("square")
def square(x):
    return mul(x, x)


@method("reciprocal")
def reciprocal(x):
    return _rdiv(_float_in(x), 1.0)
