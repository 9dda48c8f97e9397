"""Affine layers and shape helpers: ``Identity``, ``Linear``, ``Bilinear``,
``Flatten``, ``Unflatten``.  Weights are (out_features, in_features) as in
PyTorch, initialised exactly as PyTorch's ``reset_parameters``."""
import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..backend import xp
from ..ops.linalg import Linear as _LinearFn
from ..ops._util import dtype_fix
from ..tensor import Tensor
from . import init
from .module import Module, LayerInputError, LayerInputTypeError
from .parameter import Parameter


def _dtype(dtype):
    return np.dtype(dtype) if dtype is not None else backend.get_default_dtype()


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. a removed head)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b over the last dimension; x: (*, in_features)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dt = _dtype(dtype)
        self.weight = Parameter(xp.empty((out_features, in_features), dt))
        if bias:
            self.bias = Parameter(xp.empty((out_features,), dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # PyTorch's default: kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        params = self._parameters
        w = params.get("weight")
        if w is None:  # a parametrized weight (weight_norm, spectral_norm...)
            w = self.weight
        try:
            ok = input._data.shape[-1] == w._data.shape[1] and input._data.dtype == w._data.dtype
        except (AttributeError, IndexError):
            ok = False
        if not ok:
            self._bad_input(input)
        b = params["bias"] if "bias" in params else self.bias
        if b is None:
            return _LinearFn.apply(input, w)
        return _LinearFn.apply(input, w, b)

    def _bad_input(self, input):
        if not isinstance(input, Tensor):
            raise LayerInputTypeError(self, f": expected a dalam Tensor, got {type(input).__name__}; "
                                  "wrap it with dalam.tensor(...)")
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise LayerInputError(
                self, f" (in_features={self.in_features}, out_features={self.out_features}): "
                f"expected input of shape (*, {self.in_features}), got {tuple(input.shape)}. "
                "The last dimension must equal in_features; flatten images first (nn.Flatten) "
                "or fix in_features.")
        raise LayerInputError(
            self, f": input dtype {input.dtype} does not match weight dtype "
            f"{self.weight.dtype}; {dtype_fix(input.dtype, self.weight.dtype)}.")

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class _BilinearFn(Function):
    """y[n, o] = x1[n] . W[o] . x2[n] + b[o], with matmuls only."""

    def forward(self, x1, x2, w, b=None):
        o, i1, i2 = w.shape
        lead = x1.shape[:-1]
        a = x1.reshape(-1, i1)
        c = x2.reshape(-1, i2)
        wt = w.transpose(1, 0, 2).reshape(i1, o * i2)  # (in1, out*in2)
        t = (a @ wt).reshape(-1, o, i2)
        y = xp.einsum("noj,nj->no", t, c)
        if b is not None:
            y += b
        self.a, self.c, self.wt, self.t, self.lead = a, c, wt, t, lead
        return y.reshape(lead + (o,))

    def backward(self, gy):
        a, c, wt, t = self.a, self.c, self.wt, self.t
        n, o, i2 = t.shape
        g = gy.reshape(n, o)
        need = self.needs_input_grad
        gx1 = gx2 = gw = gb = None
        gt = g[:, :, None] * c[:, None, :]  # (n, out, in2)
        if need[0]:
            gx1 = (gt.reshape(n, o * i2) @ wt.T).reshape(self.lead + (a.shape[1],))
        if need[1]:
            gx2 = xp.einsum("no,noj->nj", g, t).reshape(self.lead + (i2,))
        if need[2]:
            gw = (a.T @ gt.reshape(n, o * i2)).reshape(a.shape[1], o, i2).transpose(1, 0, 2)
        if len(need) > 3 and need[3]:
            gb = g.sum(axis=0)
        return (gx1, gx2, gw, gb) if len(need) > 3 else (gx1, gx2, gw)


def bilinear(input1, input2, weight, bias=None):
    """Functional bilinear form (``F.bilinear``)."""
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1 or input2.shape[-1] != i2 or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear: expected input1 (*, {i1}) and input2 (*, {i2}) with the same leading "
            f"dimensions, got {tuple(input1.shape)} and {tuple(input2.shape)}")
    if bias is None:
        return _BilinearFn.apply(input1, input2, weight)
    return _BilinearFn.apply(input1, input2, weight, bias)


class Bilinear(Module):
    """y = x1^T A x2 + b; weight (out_features, in1_features, in2_features)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        dt = _dtype(dtype)
        self.weight = Parameter(xp.empty((out_features, in1_features, in2_features), dt))
        if bias:
            self.bias = Parameter(xp.empty((out_features,), dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        if (input1.shape[-1] != self.in1_features or input2.shape[-1] != self.in2_features
                or input1.shape[:-1] != input2.shape[:-1]):
            raise LayerInputError(
                self, f" (in1_features={self.in1_features}, in2_features={self.in2_features}): "
                f"expected inputs of shapes (*, {self.in1_features}) and (*, {self.in2_features}) "
                f"with equal leading dimensions, got {tuple(input1.shape)} and "
                f"{tuple(input2.shape)}")
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Flattens dims start_dim..end_dim (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dim ``dim`` into ``unflattened_size`` (the inverse of Flatten)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"Unflatten: dim must be an int (named dims are not supported), "
                            f"got {type(dim).__name__}")
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
