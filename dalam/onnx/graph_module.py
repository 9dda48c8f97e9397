"""``GraphModule``: any ONNX graph made of supported ops, run node by node with
dalam ops, so it gives gradients and can be fine-tuned.

Float initializers become Parameters (BatchNormalization's running statistics
become buffers); integer and 0-d initializers stay constants (shapes, split
sizes, scalars).  Each LSTM/GRU/RNN node becomes an ``nn.LSTM``/``GRU``/``RNN``
submodule with the gates put back in PyTorch's order.  ``load`` uses this for
graphs that are not a simple chain (LSTMs, Transformer encoders, ...).
"""
import math

import numpy as np

from .. import nn
from ..autograd.function import Function
from ..nn import functional as F
from ..ops.shape import cat
from ..ops.special import erf as _erf
from ..tensor import Tensor
from .exporter import _import_onnx


class _Erf(Function):
    def forward(self, x):
        self.x = x
        return _erf(x).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.x
        return gy * (np.exp(-x * x) * (2.0 / math.sqrt(math.pi))).astype(x.dtype, copy=False)


# ONNX gate order -> PyTorch's (inverse of the exporter's reordering)
_TO_TORCH = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}


def _unorder(w, op, H):
    blocks = [w[i * H:(i + 1) * H] for i in range(len(_TO_TORCH[op]))]
    return np.concatenate([blocks[i] for i in _TO_TORCH[op]], 0)


def _key(name):
    """A ParameterDict key from an ONNX name (prefixed: keys must not shadow Module attributes)."""
    return "p_" + "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def _const(a):
    return Tensor._make(np.asarray(a), False, None)


def _ints(v):
    return [int(i) for i in np.asarray(v._data if isinstance(v, Tensor) else v).reshape(-1)]


def _pads(attrs, n):
    p = list(attrs.get("pads", [0] * 2 * n))
    lo, hi = p[:n], p[n:]
    return lo, hi


class GraphModule(nn.Module):
    """Runs an ONNX ``GraphProto``; ``forward(*inputs)`` returns one Tensor or a tuple."""

    def __init__(self, proto):
        super().__init__()
        onnx, helper, numpy_helper = _import_onnx()
        g = proto.graph
        inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        nodes = []
        for n in g.node:
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            if n.op_type == "Constant":
                inits[n.output[0]] = numpy_helper.to_array(attrs["value"])
                continue
            nodes.append((n.op_type, list(n.input), list(n.output), attrs, n.name or n.op_type))
        stats, rnn_weights = set(), set()
        for op, ins, _, _, _ in nodes:
            if op == "BatchNormalization":
                stats.update(ins[3:5])
            if op in _TO_TORCH:
                rnn_weights.update(i for i in ins[1:] if i)
        self.params = nn.ParameterDict()
        self._consts, self._pkeys = {}, {}
        for name, a in inits.items():
            if name in rnn_weights:
                continue
            if a.dtype.kind == "f" and a.ndim >= 1 and name not in stats:
                key = _key(name)
                while key in self.params:
                    key += "_"
                self.params[key] = nn.Parameter(np.array(a))
                self._pkeys[name] = key
            else:
                self._consts[name] = _const(np.array(a))
        self.rnns = nn.ModuleDict()
        self._rnn_of = {}
        for i, (op, ins, outs, attrs, name) in enumerate(nodes):
            if op in _TO_TORCH:
                self._rnn_of[i] = self._build_rnn(op, ins, attrs, inits, f"rnn{len(self.rnns)}")
        self._nodes = nodes
        self._inputs = [i.name for i in g.input if i.name not in inits]
        self._outputs = [o.name for o in g.output]
        self.eval()

    def _build_rnn(self, op, ins, attrs, inits, key):
        W, R = inits[ins[1]], inits[ins[2]]
        B = inits[ins[3]] if len(ins) > 3 and ins[3] else None
        if len(ins) > 4 and any(ins[4:]):
            raise TypeError(f"dalam.onnx.load: {op} with sequence_lens or initial states is not supported")
        H = int(attrs["hidden_size"])
        direction = attrs.get("direction", b"forward")
        direction = direction.decode() if isinstance(direction, bytes) else direction
        if direction == "reverse":
            raise TypeError(f"dalam.onnx.load: {op} direction='reverse' is not supported")
        if attrs.get("layout", 0) != 0:
            raise TypeError(f"dalam.onnx.load: {op} layout=1 is not supported")
        D = W.shape[0]
        kw = dict(bidirectional=D == 2)
        if op == "GRU":
            if not attrs.get("linear_before_reset", 0):
                raise TypeError("dalam.onnx.load: GRU needs linear_before_reset=1 (PyTorch's GRU)")
            mod = nn.GRU(W.shape[2], H, **kw)
        elif op == "LSTM":
            mod = nn.LSTM(W.shape[2], H, **kw)
        else:
            acts = [a.decode() if isinstance(a, bytes) else a for a in attrs.get("activations", ["Tanh"])]
            mod = nn.RNN(W.shape[2], H, nonlinearity="relu" if acts[0] == "Relu" else "tanh", **kw)
        G = W.shape[1]
        for d in range(D):
            sfx = "_l0" + ("_reverse" if d else "")
            b = B[d] if B is not None else np.zeros(2 * G, W.dtype)
            for pname, arr in ((f"weight_ih{sfx}", W[d]), (f"weight_hh{sfx}", R[d]),
                               (f"bias_ih{sfx}", b[:G]), (f"bias_hh{sfx}", b[G:])):
                getattr(mod, pname)._data[...] = _unorder(arr, op, H)
        self.rnns[key] = mod
        return key

    def _value(self, env, name):
        if not name:
            return None
        if name in env:
            return env[name]
        if name in self._pkeys:
            return self.params[self._pkeys[name]]
        if name in self._consts:
            return self._consts[name]
        raise RuntimeError(f"dalam.onnx GraphModule: value {name!r} is not computed before it is used")

    def forward(self, *inputs):
        if len(inputs) != len(self._inputs):
            raise TypeError(f"GraphModule: expected {len(self._inputs)} inputs ({self._inputs}), got {len(inputs)}")
        env = {n: (x if isinstance(x, Tensor) else Tensor(np.asarray(x))) for n, x in zip(self._inputs, inputs)}
        for i, (op, ins, outs, attrs, name) in enumerate(self._nodes):
            if i in self._rnn_of:  # its weights live in the nn.LSTM/GRU/RNN submodule
                res = self._run_rnn(op, self.rnns[self._rnn_of[i]], self._value(env, ins[0]), len(outs))
            else:
                args = [self._value(env, n) for n in ins]
                fn = _OPS.get(op)
                if fn is None:
                    raise TypeError(f"dalam.onnx.load: ONNX op {op} (node {name}) is not supported")
                res = fn(args, attrs)
            res = res if isinstance(res, (tuple, list)) else (res,)
            for o, r in zip(outs, res):
                if o:
                    env[o] = r
        out = tuple(env[o] for o in self._outputs)
        return out[0] if len(out) == 1 else out

    @staticmethod
    def _run_rnn(op, mod, x, n_out):
        y, state = mod(x)                            # y (T, B, D*H)
        T, B = y.shape[0], y.shape[1]
        D = 2 if mod.bidirectional else 1
        y = y.reshape(T, B, D, mod.hidden_size).permute(0, 2, 1, 3)   # ONNX Y: (T, D, B, H)
        if op == "LSTM":
            return (y, state[0], state[1])[:n_out]
        return (y, state)[:n_out]


def _scalar(v):
    return float(np.asarray(v._data if isinstance(v, Tensor) else v).reshape(()))


def _gemm(a, at):
    A, B = a[0], a[1]
    if at.get("transA", 0):
        A = A.transpose(-1, -2)
    if at.get("transB", 0):
        B = B.transpose(-1, -2)
    y = A @ B
    alpha, beta = at.get("alpha", 1.0), at.get("beta", 1.0)
    if alpha != 1.0:
        y = y * alpha
    if len(a) > 2 and a[2] is not None:
        y = y + (a[2] * beta if beta != 1.0 else a[2])
    return y


def _reshape(a, at):
    x, shape = a[0], _ints(a[1])
    if not at.get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(*shape)


def _flatten(a, at):
    x = a[0]
    axis = at.get("axis", 1) % max(x.ndim, 1)
    lead = int(np.prod(x.shape[:axis])) if axis else 1
    return x.reshape(lead, -1)


def _split(a, at):
    x = a[0]
    axis = at.get("axis", 0)
    if len(a) > 1 and a[1] is not None:
        sizes = _ints(a[1])
    elif "split" in at:
        sizes = list(at["split"])
    else:
        n = at["num_outputs"]
        size = -(-x.shape[axis] // n)
        sizes = [size] * (n - 1) + [x.shape[axis] - size * (n - 1)]
    return tuple(x.split(sizes, dim=axis))


def _axes(a, at):
    return _ints(a[1]) if len(a) > 1 and a[1] is not None else list(at.get("axes", []))


def _squeeze(a, at):
    x = a[0]
    axes = _axes(a, at)
    if not axes:
        return x.squeeze()
    for ax in sorted((ax % x.ndim for ax in axes), reverse=True):
        x = x.squeeze(ax)
    return x


def _unsqueeze(a, at):
    x = a[0]
    for ax in sorted(ax % (x.ndim + len(_axes(a, at))) for ax in _axes(a, at)):
        x = x.unsqueeze(ax)
    return x


def _gather(a, at):
    data, idx = a[0], a[1]
    axis = at.get("axis", 0) % data.ndim
    ii = idx._data.astype(np.int64)
    flat = _const(ii.reshape(-1) % data.shape[axis])
    out = data.index_select(axis, flat)
    return out.reshape(*(data.shape[:axis] + ii.shape + data.shape[axis + 1:]))


def _conv(a, at):
    x, w = a[0], a[1]
    b = a[2] if len(a) > 2 else None
    n = w.ndim - 2
    lo, hi = _pads(at, n)
    if at.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise TypeError("dalam.onnx.load: Conv auto_pad is not supported; export with explicit pads")
    if lo != hi:
        x = F.pad(x, [v for pair in zip(reversed(lo), reversed(hi)) for v in pair])
        lo = [0] * n
    fn = F.conv2d if n == 2 else F.conv1d
    return fn(x, w, b, stride=tuple(at.get("strides", [1] * n)), padding=tuple(lo),
              dilation=tuple(at.get("dilations", [1] * n)), groups=int(at.get("group", 1)))


def _conv_t(a, at):
    x, w = a[0], a[1]
    b = a[2] if len(a) > 2 else None
    n = w.ndim - 2
    lo, hi = _pads(at, n)
    if lo != hi or "output_shape" in at:
        raise TypeError("dalam.onnx.load: ConvTranspose with asymmetric pads or output_shape is not supported")
    fn = F.conv_transpose2d if n == 2 else F.conv_transpose1d
    return fn(x, w, b, stride=tuple(at.get("strides", [1] * n)), padding=tuple(lo),
              output_padding=tuple(at.get("output_padding", [0] * n)), groups=int(at.get("group", 1)),
              dilation=tuple(at.get("dilations", [1] * n)))


def _pool(kind):
    def run(a, at):
        x = a[0]
        k = tuple(at["kernel_shape"])
        n = len(k)
        lo, hi = _pads(at, n)
        if lo != hi:
            raise TypeError(f"dalam.onnx.load: {kind} with asymmetric pads is not supported")
        stride = tuple(at.get("strides", [1] * n))
        ceil = bool(at.get("ceil_mode", 0))
        if kind == "MaxPool":
            fn = F.max_pool2d if n == 2 else F.max_pool1d
            return fn(x, k, stride, tuple(lo), tuple(at.get("dilations", [1] * n)), ceil)
        fn = F.avg_pool2d if n == 2 else F.avg_pool1d
        return fn(x, k, stride, tuple(lo), ceil, bool(at.get("count_include_pad", 0)))
    return run


def _global(kind):
    def run(a, at):
        x = a[0]
        dims = tuple(range(2, x.ndim))
        return x.mean(dim=dims, keepdim=True) if kind == "avg" else x.amax(dim=dims, keepdim=True)
    return run


def _batchnorm(a, at):
    x, scale, bias, mean, var = a[:5]
    return F.batch_norm(x, mean, var, scale, bias, False, 0.0, at.get("epsilon", 1e-5))


def _layernorm(a, at):
    x, scale = a[0], a[1]
    bias = a[2] if len(a) > 2 else None
    axis = at.get("axis", -1) % x.ndim
    return F.layer_norm(x, tuple(x.shape[axis:]), scale, bias, at.get("epsilon", 1e-5))


def _clip(a, at):
    lo = _scalar(a[1]) if len(a) > 1 and a[1] is not None else at.get("min")
    hi = _scalar(a[2]) if len(a) > 2 and a[2] is not None else at.get("max")
    return a[0].clamp(lo, hi)


def _prelu(a, at):
    x, s = a[0], a[1]
    return x.clamp(min=0) + s * x.clamp(max=0)


def _hardsigmoid(a, at):
    return (a[0] * at.get("alpha", 0.2) + at.get("beta", 0.5)).clamp(0.0, 1.0)


def _selu(a, at):
    alpha, gamma = at.get("alpha", 1.67326319217681884765625), at.get("gamma", 1.05070102214813232421875)
    return F.elu(a[0], alpha) * gamma


_OPS = {
    "Identity": lambda a, at: a[0],
    "Dropout": lambda a, at: a[0],
    "Add": lambda a, at: a[0] + a[1],
    "Sub": lambda a, at: a[0] - a[1],
    "Mul": lambda a, at: a[0] * a[1],
    "Div": lambda a, at: a[0] / a[1],
    "Neg": lambda a, at: -a[0],
    "Pow": lambda a, at: a[0] ** _scalar(a[1]),
    "Sqrt": lambda a, at: a[0].sqrt(),
    "Exp": lambda a, at: a[0].exp(),
    "Log": lambda a, at: a[0].log(),
    "Erf": lambda a, at: _Erf.apply(a[0]),
    "MatMul": lambda a, at: a[0] @ a[1],
    "Gemm": _gemm,
    "Relu": lambda a, at: F.relu(a[0]),
    "Sigmoid": lambda a, at: a[0].sigmoid(),
    "Tanh": lambda a, at: a[0].tanh(),
    "LeakyRelu": lambda a, at: F.leaky_relu(a[0], at.get("alpha", 0.01)),
    "Elu": lambda a, at: F.elu(a[0], at.get("alpha", 1.0)),
    "Celu": lambda a, at: F.celu(a[0], at.get("alpha", 1.0)),
    "Selu": _selu,
    "Softplus": lambda a, at: F.softplus(a[0]),
    "Softsign": lambda a, at: F.softsign(a[0]),
    "HardSigmoid": _hardsigmoid,
    "HardSwish": lambda a, at: F.hardswish(a[0]),
    "PRelu": _prelu,
    "Clip": _clip,
    "Softmax": lambda a, at: a[0].softmax(at.get("axis", -1)),
    "LogSoftmax": lambda a, at: a[0].log_softmax(at.get("axis", -1)),
    "Transpose": lambda a, at: a[0].permute(*at.get("perm", list(range(a[0].ndim))[::-1])),
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Split": _split,
    "Concat": lambda a, at: cat(list(a), at["axis"]),
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Gather": _gather,
    "Conv": _conv,
    "ConvTranspose": _conv_t,
    "MaxPool": _pool("MaxPool"),
    "AveragePool": _pool("AveragePool"),
    "GlobalAveragePool": _global("avg"),
    "GlobalMaxPool": _global("max"),
    "BatchNormalization": _batchnorm,
    "LayerNormalization": _layernorm,
}


def supported_ops():
    """ONNX op types ``GraphModule`` runs (plus LSTM, GRU and RNN)."""
    return sorted(set(_OPS) | set(_TO_TORCH))
