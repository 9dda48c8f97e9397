"""Post-training int8 quantisation of Linear and Conv2d layers.

Scheme (PyTorch's fbgemm default, written out):
- weights: per output channel, symmetric int8, ``scale_o = max|W_o| / 127``,
  ``q = round(W / scale_o)`` in [-127, 127];
- activations (each quantised layer's input): one affine uint8 range per
  tensor, ``x ~ scale * (q - zero_point)`` with q in [0, 255], calibrated
  from the min/max (or a percentile) seen on a few batches;
- BatchNorm is folded into the conv before it first (``fold_batchnorm``).

Arithmetic: ``acc = sum (q_x - zp) * q_w`` is an integer; NumPy has no BLAS
for integer matmul, so the int8 values are multiplied as float32 by BLAS.
A float32 GEMM of integers is exact while every partial sum stays below
2**24; with |q_x - zp| <= 255 and |q_w| <= 127 that holds for reductions of
up to 518 terms; a longer reduction is one GEMM when its actual bound
``127 * sum|q_x - zp|`` is below 2**24 (checked per call) and otherwise is
split into chunks of at most 518 whose exact results are added in float64.  The accumulator equals an
integer reference exactly (tests check it).  Then ``y = acc * (s_x * s_w) + b``
in float32.  Storage is int8 (4x smaller files); the float32 copy of the
integer weights that BLAS needs is a runtime cache, not saved.

Saved as safetensors (int8 tensors) + JSON metadata naming each quantised
layer and its geometry: ``save_quantized`` / ``load_quantized``; no pickle.
"""
import copy
import json

import numpy as np

from ..nn.module import Module
from ..ops import conv as _C
from ..tensor import Tensor
from .fuse import fold_batchnorm

__all__ = ["quantize_per_channel", "dequantize_per_channel", "affine_qparams", "calibrate",
           "QuantizedLinear", "QuantizedConv2d", "quantize", "save_quantized", "load_quantized",
           "EXACT_CHUNK"]

QMAX_W = 127
QMAX_X = 255
# longest reduction whose float32 sum of (|x| <= 255) * (|w| <= 127) terms is exact
EXACT_CHUNK = (1 << 24) // (QMAX_X * QMAX_W)


def quantize_per_channel(w, axis=0):
    """Symmetric per-channel int8: ``(q int8, scale float32 per channel)``,
    ``w ~ q * scale`` along ``axis``.  An all-zero channel gets scale 1."""
    w = np.asarray(w._data if isinstance(w, Tensor) else w)
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.abs(w).max(axis=red) if red else np.abs(w)
    scale = np.where(amax > 0, amax / QMAX_W, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.rint(w / scale.reshape(shape)), -QMAX_W, QMAX_W).astype(np.int8)
    return q, scale


def dequantize_per_channel(q, scale, axis=0):
    shape = [1] * q.ndim
    shape[axis] = -1
    return q.astype(np.float32) * scale.reshape(shape)


def affine_qparams(lo, hi):
    """uint8 ``(scale, zero_point)`` covering [lo, hi] (widened to include 0,
    so that zero, e.g. padding, is exactly representable)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo <= 0:
        return np.float32(1.0), 0
    scale = np.float32((hi - lo) / QMAX_X)
    zp = int(np.clip(round(-lo / float(scale)), 0, QMAX_X))
    return scale, zp


def _exact_matmul(a, b):
    """``a @ b`` for integer-valued float32 arrays (|a| <= 255, |b| <= 127),
    exact: float32 when the reduction is short enough, else float64."""
    k = a.shape[-1]
    if k <= EXACT_CHUNK:
        return a @ b
    # every partial sum is at most sum_k |a_k| * 127: when that is below 2**24
    # (typical after a ReLU, where most codes are small) one GEMM is exact
    if float(np.abs(a).sum(axis=-1).max()) * QMAX_W < (1 << 24):
        return a @ b
    acc = None
    for k0 in range(0, k, EXACT_CHUNK):
        part = (a[..., k0:k0 + EXACT_CHUNK] @ b[k0:k0 + EXACT_CHUNK]).astype(np.float64)
        acc = part if acc is None else acc + part
    return acc


class _QuantizedBase(Module):
    """Buffers: ``weight_int8``, ``weight_scale`` (per output channel), ``bias``
    (float32), ``input_scale`` and ``input_zero_point`` (the calibrated input
    range).  Inference only: the output has no gradient."""

    def _init_buffers(self, wshape, out, bias):
        self.register_buffer("weight_int8", Tensor._make(np.zeros(wshape, np.int8), False, None))
        self.register_buffer("weight_scale", Tensor._make(np.ones(out, np.float32), False, None))
        self.register_buffer("bias", Tensor._make(np.zeros(out, np.float32), False, None)
                             if bias else None)
        self.register_buffer("input_scale", Tensor._make(np.array(1.0, np.float32), False, None))
        self.register_buffer("input_zero_point", Tensor._make(np.array(0, np.int32), False, None))
        self.__dict__["_cache"] = (None, None)

    def _set_from_float(self, layer, lo, hi):
        q, s = quantize_per_channel(layer.weight._data, 0)
        self.weight_int8._data[...] = q
        self.weight_scale._data[...] = s
        if layer.bias is not None:
            self.bias._data[...] = layer.bias._data
        sx, zp = affine_qparams(lo, hi)
        self.input_scale._data[...] = sx
        self.input_zero_point._data[...] = zp
        return self

    def _params(self):
        """(float32 integer weight matrix (K, O), 1/s_x, zp, output scale), rebuilt
        when a buffer changed (e.g. load_state_dict)."""
        key = tuple(b._vc[0] for b in self._buffers.values() if b is not None)
        key += tuple(id(b._data) for b in self._buffers.values() if b is not None)
        cached_key, val = self.__dict__["_cache"]
        if cached_key != key:
            val = (self._weight_matrix(), np.float32(1.0) / self.input_scale._data,
                   float(self.input_zero_point._data),
                   (self.input_scale._data * self.weight_scale._data).astype(np.float32))
            self.__dict__["_cache"] = (key, val)
        return val

    @staticmethod
    def _quantize_input(a, inv_s, zp):
        """``q - zp`` as integer-valued float32, clipped to the uint8 range."""
        q = a * inv_s
        np.rint(q, out=q)
        np.clip(q, -zp, QMAX_X - zp, out=q)
        return q

    def quantize_input(self, x):
        """The uint8 codes of ``x`` for this layer's calibrated range."""
        _, inv_s, zp, _ = self._params()
        a = x._data if isinstance(x, Tensor) else np.asarray(x, np.float32)
        return (self._quantize_input(a.astype(np.float32), inv_s, zp) + zp).astype(np.uint8)

    def _check(self, x, want_ndim, want_c, axis):
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a dalam Tensor, got "
                            f"{type(x).__name__}")
        if x._data.ndim < want_ndim or x._data.shape[axis] != want_c:
            raise RuntimeError(f"{type(self).__name__}: expected input with {want_c} features on "
                               f"dim {axis}, got shape {tuple(x._data.shape)}")


class QuantizedLinear(_QuantizedBase):
    """int8 ``Linear``: build with ``QuantizedLinear.from_float(linear, lo, hi)``."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self._init_buffers((self.out_features, self.in_features), self.out_features, bias)

    @classmethod
    def from_float(cls, layer, lo, hi):
        return cls(layer.in_features, layer.out_features, layer.bias is not None)._set_from_float(
            layer, lo, hi)

    def config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None}

    def _weight_matrix(self):
        return np.ascontiguousarray(self.weight_int8._data.T.astype(np.float32))

    def forward(self, x):
        self._check(x, 1, self.in_features, -1)
        wm, inv_s, zp, oscale = self._params()
        a = x._data
        lead = a.shape[:-1]
        q = self._quantize_input(a.reshape(-1, self.in_features), inv_s, zp)
        y = _exact_matmul(q, wm)
        y *= oscale
        if self.bias is not None:
            y += self.bias._data
        return Tensor._make(y.astype(np.float32, copy=False).reshape(lead + (self.out_features,)),
                            False, None)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"input_scale={float(self.input_scale._data):.4g}, "
                f"zero_point={int(self.input_zero_point._data)}")


class QuantizedConv2d(_QuantizedBase):
    """int8 ``Conv2d`` (groups=1, zero padding): im2col on the integer input
    codes and the exact GEMM above."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True):
        super().__init__()
        name = "QuantizedConv2d"
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _C._tuple(kernel_size, 2, "kernel_size", name)
        self.stride = _C._tuple(stride, 2, "stride", name)
        self.dilation = _C._tuple(dilation, 2, "dilation", name)
        self.padding = padding if isinstance(padding, str) else _C._tuple(padding, 2, "padding", name)
        self._init_buffers((self.out_channels, self.in_channels) + self.kernel_size,
                           self.out_channels, bias)

    @classmethod
    def from_float(cls, conv, lo, hi):
        if conv.groups != 1 or conv.padding_mode != "zeros":
            raise ValueError(f"QuantizedConv2d: only groups=1 and zero padding are supported, got "
                             f"groups={conv.groups}, padding_mode={conv.padding_mode!r}")
        return cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                   conv.padding, conv.dilation, conv.bias is not None)._set_from_float(conv, lo, hi)

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
                "dilation": list(self.dilation), "bias": self.bias is not None}

    def _weight_matrix(self):
        # (O, C, KH, KW) -> (KH*KW*C, O): the NHWC column order of dalam's im2col
        w = self.weight_int8._data.astype(np.float32)
        return np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(-1, self.out_channels))

    def forward(self, x):
        if isinstance(x, Tensor) and x._data.ndim == 3:  # unbatched (C, H, W), as Conv2d allows
            return Tensor._make(self.forward(Tensor._make(x._data[None], False, None))._data[0],
                                False, None)
        self._check(x, 4, self.in_channels, 1)
        if x._data.ndim != 4:
            raise RuntimeError(f"QuantizedConv2d: expected a 4-D (N, C, H, W) or 3-D input, got "
                               f"shape {tuple(x._data.shape)}")
        wm, inv_s, zp, oscale = self._params()
        a = x._data
        N, C, H, W = a.shape
        KH, KW = self.kernel_size
        s, d = self.stride, self.dilation
        pads = _C._conv_pads(self.padding, self.kernel_size, d, s, 2, "QuantizedConv2d")
        pads4 = pads[0] + pads[1]
        OH = (H + pads4[0] + pads4[1] - d[0] * (KH - 1) - 1) // s[0] + 1
        OW = (W + pads4[2] + pads4[3] - d[1] * (KW - 1) - 1) // s[1] + 1
        q = self._quantize_input(a, inv_s, zp)  # q - zp: zero padding stays exactly 0
        cols = _C._im2col(_C._nhwc_padded(q, pads4), 1, KH, KW, OH, OW, s, d)[0]
        y = _exact_matmul(cols, wm)  # (N*OH*OW, O), NHWC
        y *= oscale
        if self.bias is not None:
            y += self.bias._data
        y = y.astype(np.float32, copy=False)
        return Tensor._make(y.reshape(N, OH, OW, self.out_channels).transpose(0, 3, 1, 2),
                            False, None)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, "
                f"input_scale={float(self.input_scale._data):.4g}, "
                f"zero_point={int(self.input_zero_point._data)}")


_QTYPES = {"Linear": QuantizedLinear, "Conv2d": QuantizedConv2d}


def _supported(m):
    kind = type(m).__name__
    if kind == "Conv2d":
        return m.groups == 1 and m.padding_mode == "zeros"
    return kind == "Linear"


def _batches(data):
    for b in data:
        if isinstance(b, (tuple, list)):
            b = b[0]
        yield b if isinstance(b, Tensor) else Tensor._make(np.asarray(b, np.float32), False, None)


def calibrate(model, data, layers, percentile=None):
    """``{name: (lo, hi)}``: the range of each named layer's input over the
    batches of ``data`` (arrays, Tensors or (x, y) pairs), model in eval mode.
    ``percentile`` (e.g. 99.99): clip outliers at that percentile per batch."""
    from ..autograd import grad_mode
    ranges, handles = {}, []
    for name in layers:
        def hook(mod, args, name=name):
            a = args[0]._data
            if percentile is None:
                lo, hi = float(a.min()), float(a.max())
            else:
                lo, hi = (float(v) for v in np.percentile(a, [100 - percentile, percentile]))
            old = ranges.get(name)
            ranges[name] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))
        handles.append(model.get_submodule(name).register_forward_pre_hook(hook))
    was = model.training
    model.eval()
    try:
        with grad_mode.no_grad():
            n = 0
            for x in _batches(data):
                model(x)
                n += 1
    finally:
        for h in handles:
            h.remove()
        model.train(was)
    if n == 0:
        raise ValueError("calibrate: no calibration batches were given")
    return ranges


def _replace(model, name, new):
    parent, _, leaf = name.rpartition(".")
    setattr(model.get_submodule(parent), leaf, new)


def quantize(model, calibration_data, fold_bn=True, percentile=None, skip=()):
    """An int8 copy of ``model``: BatchNorms folded (``fold_bn``), every Linear
    and Conv2d (groups=1, zero padding) not named in ``skip`` replaced by its
    quantised version, input ranges calibrated on ``calibration_data``.  The
    rest of the model (activations, pooling) stays float32."""
    out = fold_batchnorm(model) if fold_bn else copy.deepcopy(model).eval()
    targets = [n for n, m in out.named_modules() if _supported(m) and n not in skip]
    if not targets:
        raise ValueError(f"quantize: {type(model).__name__} has no Linear/Conv2d layer to quantise")
    ranges = calibrate(out, calibration_data, targets, percentile)
    for n in targets:
        m = out.get_submodule(n)
        if n not in ranges:
            raise RuntimeError(f"quantize: layer '{n}' never ran during calibration; it cannot "
                               "be given an input range (pass it in skip=...)")
        _replace(out, n, _QTYPES[type(m).__name__].from_float(m, *ranges[n]))
    out.__dict__["_dalam_quant"] = {"fold_bn": bool(fold_bn)}
    return out.eval()


def _quant_meta(qmodel):
    layers = {n: {"type": type(m).__name__, "config": m.config()}
              for n, m in qmodel.named_modules() if isinstance(m, _QuantizedBase)}
    if not layers:
        raise ValueError("save_quantized: the model has no quantised layers (run quantize first)")
    info = dict(qmodel.__dict__.get("_dalam_quant", {"fold_bn": False}))
    info["layers"] = layers
    return info


def save_quantized(qmodel, path):
    """Write ``qmodel``'s state (int8 weights, scales, float rest) as one
    safetensors file with a JSON description of the quantised layers."""
    from ..io import save
    return save(qmodel.state_dict(), path,
                metadata={"dalam.quantized": json.dumps(_quant_meta(qmodel))})


def load_quantized(path, model):
    """Rebuild a quantised model from ``path``; ``model`` is a float model
    of the same architecture (its weights are not used)."""
    from ..io.serialization import read_safetensors
    tensors, meta = read_safetensors(path)
    if not meta or "dalam.quantized" not in meta:
        raise ValueError(f"load_quantized: {path} has no 'dalam.quantized' metadata; it was not "
                         "written by save_quantized")
    info = json.loads(meta["dalam.quantized"])
    out = fold_batchnorm(model) if info.get("fold_bn") else copy.deepcopy(model).eval()
    for name, spec in info["layers"].items():
        cls = {"QuantizedLinear": QuantizedLinear, "QuantizedConv2d": QuantizedConv2d}[spec["type"]]
        try:
            old = out.get_submodule(name)
        except AttributeError:
            raise ValueError(f"load_quantized: the model has no layer '{name}' (the file was saved "
                             f"from a different architecture)") from None
        new = cls(**spec["config"])
        for k in ("in_features", "out_features", "in_channels", "out_channels"):
            if hasattr(new, k) and getattr(old, k, getattr(new, k)) != getattr(new, k):
                raise ValueError(f"load_quantized: layer '{name}' has {k}={getattr(old, k)} in the "
                                 f"model but {getattr(new, k)} in {path}")
        _replace(out, name, new)
    out.load_state_dict(tensors)
    out.__dict__["_dalam_quant"] = {"fold_bn": bool(info.get("fold_bn"))}
    return out.eval()
