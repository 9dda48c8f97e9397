"""Activation modules: thin Modules over the fused ops in ``dalam.ops``
(ReLU, GELU, Softmax ...) with PyTorch's arguments and reprs."""
import numpy as np

from ..backend import xp
from ..ops import activation as A
from ..ops import elementwise as E
from .. import backend
from . import init as _init
from .module import Module
from .parameter import Parameter


class _Inplace(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    def forward(self, input):
        return A.relu(input, self.inplace)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return A.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return A.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """max(0,x) + min(0, alpha*(exp(x/alpha)-1))."""

    def forward(self, input):
        return celu(input, self.alpha, self.inplace)


class SELU(_Inplace):
    def forward(self, input):
        return selu(input, self.inplace)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return A.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_Inplace):
    def forward(self, input):
        return _inplace(input, A.silu(input), self.inplace, "silu_")


class Mish(_Inplace):
    def forward(self, input):
        return mish(input, self.inplace)


class Sigmoid(Module):
    def forward(self, input):
        return A.sigmoid(input)


class Tanh(Module):
    def forward(self, input):
        return A.tanh(input)


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return A.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + \
            (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_Inplace):
    def forward(self, input):
        return hardsigmoid(input, self.inplace)


class Hardswish(_Inplace):
    def forward(self, input):
        return hardswish(input, self.inplace)


class LogSigmoid(Module):
    def forward(self, input):
        return logsigmoid(input)


class Softsign(Module):
    def forward(self, input):
        return softsign(input)


class Tanhshrink(Module):
    def forward(self, input):
        return input - A.tanh(input)


class Threshold(Module):
    """y = x if x > threshold else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + \
            (", inplace=True" if self.inplace else "")


class Hardshrink(Module):
    """x where |x| > lambd, else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""

    def forward(self, input):
        return softshrink(input, self.lambd)


class _DimModule(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_DimModule):
    def forward(self, input):
        return A.softmax(input, self.dim)


class LogSoftmax(_DimModule):
    def forward(self, input):
        return A.log_softmax(input, self.dim)


class Softmin(_DimModule):
    def forward(self, input):
        return A.softmax(-input, self.dim)


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) inputs."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise RuntimeError(f"Softmax2d: expected a 3-D or 4-D input, got shape "
                               f"{tuple(input.shape)}")
        return A.softmax(input, -3)


class GLU(Module):
    """a * sigmoid(b) where (a, b) are the two halves of ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """Leaky ReLU with a learned slope (one, or one per channel: dim 1)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        self.weight = Parameter(xp.full((num_parameters,), init, dt))

    def reset_parameters(self):
        _init.constant_(self.weight, self.init)

    def forward(self, input):
        return prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"



# ----------------------------------------------------------------- functional forms
def _inplace(x, r, inplace, name):
    return x._inplace_result(r, name) if inplace else r


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _inplace(input, A.clamp(input, min_val, max_val), inplace, "hardtanh_")


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    return _inplace(input, A.clamp(input / 6 + 0.5, 0.0, 1.0), inplace, "hardsigmoid_")


def hardswish(input, inplace=False):
    return _inplace(input, input * A.clamp(input / 6 + 0.5, 0.0, 1.0), inplace, "hardswish_")


def logsigmoid(input):
    return -A.softplus(-input)


def softsign(input):
    return input / (E.abs(input) + 1)


def tanhshrink(input):
    return input - A.tanh(input)


def mish(input, inplace=False):
    return _inplace(input, input * A.tanh(A.softplus(input)), inplace, "mish_")


def selu(input, inplace=False):
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    return _inplace(input, A.elu(input, alpha) * scale, inplace, "selu_")


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")
    return _inplace(input, A.elu(input / alpha, 1.0) * alpha, inplace, "celu_")


def threshold(input, threshold, value, inplace=False):
    from ..ops.index import where
    r = where(input > threshold, input, float(value))
    return _inplace(input, r, inplace, "threshold_")


def glu(input, dim=-1):
    if input.shape[dim] % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {dim} is size "
                           f"{input.shape[dim]}")
    a, b = input.chunk(2, dim)
    return a * A.sigmoid(b)


def prelu(input, weight):
    """max(0,x) + weight * min(0,x); weight broadcast along dim 1 (channels)."""
    w = weight
    if w.numel() != 1:
        if input.ndim < 2 or input.shape[1] != w.numel():
            raise RuntimeError(f"prelu: weight has {w.numel()} elements but input's channel "
                               f"dimension (dim 1) is {input.shape[1] if input.ndim > 1 else None}")
        w = w.reshape((w.numel(),) + (1,) * (input.ndim - 2))
    return A.relu(input) - w * A.relu(-input)


def softmin(input, dim=None, dtype=None):
    return A.softmax(-input, dim, dtype)


def hardshrink(input, lambd=0.5):
    from ..ops.index import where
    return where(E.abs(input) > lambd, input, 0.0)


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    from ..ops.index import where
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))
