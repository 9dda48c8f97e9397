"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``.

Weights are (out, in/groups, *kernel) for conv and (in, out/groups, *kernel)
for transposed conv, initialised as PyTorch's ``reset_parameters``
(kaiming_uniform(a=sqrt(5)), bias U(+-1/sqrt(fan_in))), so ``state_dict``s move
both ways.  Non-zero ``padding_mode``s pad explicitly (``F.pad``) first.
"""
import math

import numpy as np

from .. import backend
from ..backend import xp
from ..ops import conv as _C
from ..ops.shape import pad as _pad
from . import init
from .module import Module
from .parameter import Parameter

_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    _nsp = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", output_padding=0, device=None,
                 dtype=None):
        super().__init__()
        n, name = self._nsp, type(self).__name__
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (1 if what == "groups" else 0):
                raise ValueError(f"{name}: {what} must be a {'positive' if what == 'groups' else 'non-negative'} "
                                 f"integer, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_MODES}, got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _C._tuple(kernel_size, n, "kernel_size", name)
        self.stride = _C._tuple(stride, n, "stride", name)
        self.dilation = _C._tuple(dilation, n, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', "
                                 f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _C._tuple(padding, n, "padding", name)
        self.output_padding = _C._tuple(output_padding, n, "output_padding", name)
        self.groups, self.padding_mode = groups, padding_mode
        self.transposed = self._transposed
        # (left, right) per spatial dim, last dim first: the F.pad argument
        lr = _C._conv_pads(self.padding, self.kernel_size, self.dilation, (1,) * n, n, name)
        self._reversed_padding_repeated_twice = [v for pair in reversed(lr) for v in pair]
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(xp.empty(shape, dt))
        if bias:
            self.bias = Parameter(xp.empty((out_channels,), dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.kernel_size):
            s += f", padding={self.padding}"  # padding=same, unquoted as PyTorch prints it
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _opname(self):
        hint = self.__dict__.get("_name_hint")
        base = f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size})"
        return f"{base} '{hint}'" if hint else base


def _weight_bias_of(m):
    params = m._parameters
    w = params.get("weight")
    if w is None:  # a parametrized weight (weight_norm, spectral_norm...)
        w = m.weight
    return w, (params["bias"] if "bias" in params else m.bias)


_ConvNd._weight_bias = _weight_bias_of


class _Conv(_ConvNd):
    def forward(self, input):
        w, b = self._weight_bias()
        op = self._opname()
        fn = _C.conv2d if self._nsp == 2 else _C.conv1d
        if self.padding_mode != "zeros":
            _C._check_conv_input(input, w, b, self._nsp, self.groups, op)
            mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
            x = _pad(input, self._reversed_padding_repeated_twice, mode=mode)
            return fn(x, w, b, self.stride, 0, self.dilation, self.groups, _op=op)
        return fn(input, w, b, self.stride, self.padding, self.dilation, self.groups, _op=op)


class Conv1d(_Conv):
    """1-D convolution over (N, C, L) inputs."""
    _nsp = 1


class Conv2d(_Conv):
    """2-D convolution over (N, C, H, W) inputs (im2col + one GEMM)."""
    _nsp = 2


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        n = self._nsp
        output_size = tuple(int(v) for v in output_size)[-n:]
        out = []
        for i in range(n):
            size = input.shape[input.ndim - n + i]
            lo = ((size - 1) * self.stride[i] - 2 * self.padding[i]
                  + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            hi = lo + self.stride[i] - 1
            if not lo <= output_size[i] <= hi:
                raise ValueError(f"{self._opname()}: requested output size {output_size} is not "
                                 f"reachable; dim {i} must be in [{lo}, {hi}]")
            out.append(output_size[i] - lo)
        return tuple(out)

    def forward(self, input, output_size=None):
        w, b = self._weight_bias()
        opad = self._output_padding(input, output_size)
        fn = _C.conv_transpose2d if self._nsp == 2 else _C.conv_transpose1d
        return fn(input, w, b, self.stride, self.padding, opad, self.groups, self.dilation,
                  _op=self._opname())


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution (the gradient of Conv1d), for upsampling."""
    _nsp = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution (the gradient of Conv2d), for upsampling."""
    _nsp = 2
