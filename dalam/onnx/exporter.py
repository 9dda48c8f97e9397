"""``dalam.onnx.export`` (this module: ``dalam.onnx.exporter``): write a dalam model as an ONNX file.

The exporter walks the module tree, not a trace: each module type has a
converter that emits the ONNX nodes computing it (weights become named
initializers, e.g. ``features.0.weight``).  While converting, each module is
also run in dalam on the example input, so every converter knows its input and
output shapes exactly, and the composed result is checked against
``model(example_input)`` before the file is written.

A module whose type has no converter is an error naming its path in the model;
``register_converter`` adds one (see its docstring for the signature).
"""
import math

import numpy as np

from ..autograd import grad_mode
from ..tensor import Tensor

_CONVERTERS = {}
_BUILTINS = []  # set once the built-in converters are registered


def register_converter(cls, fn=None):
    """Register ``fn(g, module, x, xv, path) -> (out, yv)`` as the ONNX converter of ``cls``.

    ``g`` is the graph builder (``g.node(op, inputs, **attrs)``,
    ``g.const(array, name)``, ``g.convert(child, x, xv, path)``), ``x`` the ONNX
    name of the input, ``xv`` the input as a dalam Tensor, ``path`` the module's
    name in the model (for initializer names and errors); return the output
    name(s) and the dalam output ``module(xv)``.  Usable as a decorator."""
    if fn is None:
        return lambda f: register_converter(cls, f)
    _ensure_builtins()
    _CONVERTERS[cls] = fn
    return fn


def _ensure_builtins():
    if not _BUILTINS:
        _BUILTINS.append(True)
        _register_builtins()


def supported_modules():
    """Names of the module types export() can convert."""
    _ensure_builtins()
    return sorted(c.__name__ for c in _CONVERTERS)


def _import_onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("dalam.onnx needs the 'onnx' package: pip install 'dalam[onnx]' "
                          "(or pip install onnx onnxruntime)") from e
    return onnx, helper, numpy_helper


class GraphBuilder:
    """Collects nodes and initializers; hands out unique tensor names."""

    def __init__(self, opset):
        self.onnx, self.helper, self.numpy_helper = _import_onnx()
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self._names = set()
        self._count = 0

    def fresh(self, hint):
        base = hint or "t"
        name = base
        while name in self._names:
            self._count += 1
            name = f"{base}_{self._count}"
        self._names.add(name)
        return name

    def const(self, array, name="const"):
        """An initializer holding ``array`` (copied); returns its name."""
        arr = np.array(array, order="C")  # a copy; keeps 0-d scalars 0-d (ascontiguousarray would not)
        n = self.fresh(name)
        self.initializers.append(self.numpy_helper.from_array(arr, n))
        return n

    def ints(self, values, name="shape"):
        return self.const(np.asarray(values, np.int64), name)

    def node(self, op, inputs, n_out=1, name=None, **attrs):
        """Append an ONNX node; returns its output name (or a list when n_out > 1)."""
        base = name or op.lower()
        outs = [self.fresh(base if n_out == 1 else f"{base}_out{i}") for i in range(n_out)]
        self.nodes.append(self.helper.make_node(op, list(inputs), outs, name=self.fresh(f"{base}_node"),
                                                **attrs))
        return outs[0] if n_out == 1 else outs

    def convert(self, module, x, xv, path):
        """Emit the nodes of ``module`` applied to ``x`` (ONNX name) / ``xv`` (Tensor)."""
        fn = None
        for cls in type(module).__mro__:
            if cls in _CONVERTERS:
                # a subclass that rewrites forward() computes something else: refuse
                if cls is not type(module) and type(module).forward is not cls.forward:
                    break
                fn = _CONVERTERS[cls]
                break
        if fn is None:
            where = path or "the model"
            raise TypeError(
                f"dalam.onnx.export: no ONNX converter for {type(module).__name__} (at {where}). "
                f"Supported: {', '.join(supported_modules())}. Write its forward with supported "
                "modules, or add one with dalam.onnx.register_converter(cls, fn).")
        self._path = path
        return fn(self, module, x, xv, path)


def _pname(path, leaf):
    return f"{path}.{leaf}" if path else leaf


def _np(t):
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def _scalar(value, dtype):
    return np.asarray(value, dtype=dtype)


# ----------------------------------------------------------------------- containers
def _sequential(g, m, x, xv, path):
    for name, child in m._modules.items():
        if child is None:
            continue
        x, xv = g.convert(child, x, xv, _pname(path, name))
    return x, xv


def _children_in_order(*names):
    """A converter for models whose forward applies the named children in order."""
    def conv(g, m, x, xv, path):
        for n in names:
            x, xv = g.convert(getattr(m, n), x, xv, _pname(path, n))
        return x, xv
    return conv


# ----------------------------------------------------------------------- linear family
def _linear_nodes(g, m, x, ndim, path):
    W = _np(m.weight)
    b = _np(m.bias) if m.bias is not None else None
    if ndim == 2:
        ins = [x, g.const(W, _pname(path, "weight"))]
        if b is not None:
            ins.append(g.const(b, _pname(path, "bias")))
        return g.node("Gemm", ins, transB=1, name=_pname(path, "gemm"))
    y = g.node("MatMul", [x, g.const(W.T, _pname(path, "weight_t"))], name=_pname(path, "matmul"))
    if b is not None:
        y = g.node("Add", [y, g.const(b, _pname(path, "bias"))], name=_pname(path, "add"))
    return y


def _linear(g, m, x, xv, path):
    yv = m(xv)
    return _linear_nodes(g, m, x, xv.ndim, path), yv


def _flatten(g, m, x, xv, path):
    yv = m(xv)
    nd = xv.ndim
    s, e = m.start_dim % nd, m.end_dim % nd
    if s == 1 and e == nd - 1:
        return g.node("Flatten", [x], axis=1, name=_pname(path, "flatten")), yv
    shape = [0 if (i == 0 and s > 0) else d for i, d in enumerate(yv.shape)]
    return g.node("Reshape", [x, g.ints(shape)], name=_pname(path, "reshape")), yv


def _unflatten(g, m, x, xv, path):
    yv = m(xv)
    d = m.dim % xv.ndim
    shape = [0 if (i == 0 and d > 0) else v for i, v in enumerate(yv.shape)]
    return g.node("Reshape", [x, g.ints(shape)], name=_pname(path, "reshape")), yv


def _identity(g, m, x, xv, path):
    return g.node("Identity", [x], name=_pname(path, "identity")), m(xv)


def _embedding(g, m, x, xv, path):
    if m.max_norm is not None:
        raise TypeError(f"dalam.onnx.export: Embedding at {path or 'the model'} uses max_norm, which "
                        "changes the weights during forward; export it with max_norm=None")
    yv = m(xv)
    return g.node("Gather", [g.const(_np(m.weight), _pname(path, "weight")), x], axis=0,
                  name=_pname(path, "gather")), yv


# ----------------------------------------------------------------------- activations
def _simple(op, **attrs_of):
    def conv(g, m, x, xv, path):
        attrs = {k: float(f(m)) for k, f in attrs_of.items()}
        return g.node(op, [x], name=_pname(path, op.lower()), **attrs), m(xv)
    return conv


def _gelu_nodes(g, x, dtype, approximate, path):
    half = g.const(_scalar(0.5, dtype), "half")
    one = g.const(_scalar(1.0, dtype), "one")
    if approximate == "tanh":
        # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3 = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [x3, g.const(_scalar(0.044715, dtype), "c")])])
        t = g.node("Tanh", [g.node("Mul", [inner, g.const(_scalar(math.sqrt(2 / math.pi), dtype), "c")])])
        return g.node("Mul", [g.node("Mul", [x, half]), g.node("Add", [t, one])], name=_pname(path, "gelu"))
    e = g.node("Erf", [g.node("Div", [x, g.const(_scalar(math.sqrt(2.0), dtype), "sqrt2")])])
    return g.node("Mul", [g.node("Mul", [x, half]), g.node("Add", [e, one])], name=_pname(path, "gelu"))


def _gelu(g, m, x, xv, path):
    return _gelu_nodes(g, x, xv.dtype, m.approximate, path), m(xv)


def _silu(g, m, x, xv, path):
    return g.node("Mul", [x, g.node("Sigmoid", [x])], name=_pname(path, "silu")), m(xv)


def _mish(g, m, x, xv, path):
    sp = g.node("Softplus", [x])
    return g.node("Mul", [x, g.node("Tanh", [sp])], name=_pname(path, "mish")), m(xv)


def _softplus(g, m, x, xv, path):
    # PyTorch returns x above threshold/beta; Softplus differs there by < exp(-threshold)
    if m.beta == 1:
        return g.node("Softplus", [x], name=_pname(path, "softplus")), m(xv)
    beta = g.const(_scalar(m.beta, xv.dtype), "beta")
    y = g.node("Softplus", [g.node("Mul", [x, beta])])
    return g.node("Div", [y, beta], name=_pname(path, "softplus")), m(xv)


def _clip(g, m, x, xv, path):
    lo = g.const(_scalar(m.min_val, xv.dtype), "min")
    hi = g.const(_scalar(m.max_val, xv.dtype), "max")
    return g.node("Clip", [x, lo, hi], name=_pname(path, "clip")), m(xv)


def _softmax_like(op):
    def conv(g, m, x, xv, path):
        if m.dim is None:
            raise TypeError(f"dalam.onnx.export: {type(m).__name__} at {path or 'the model'} has "
                            "dim=None; give it an explicit dim")
        return g.node(op, [x], axis=int(m.dim), name=_pname(path, op.lower())), m(xv)
    return conv


def _logsigmoid(g, m, x, xv, path):
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", [x])])], name=_pname(path, "logsigmoid")), m(xv)


def _prelu(g, m, x, xv, path):
    w = _np(m.weight)
    if w.size > 1 and xv.ndim > 2:
        w = w.reshape((-1,) + (1,) * (xv.ndim - 2))
    return g.node("PRelu", [x, g.const(w, _pname(path, "weight"))], name=_pname(path, "prelu")), m(xv)


# ----------------------------------------------------------------------- convolution family
def _conv(g, m, x, xv, path):
    from ..ops.conv import _conv_pads
    name = type(m).__name__
    if m.padding_mode != "zeros":
        raise TypeError(f"dalam.onnx.export: {name} at {path or 'the model'} uses padding_mode="
                        f"{m.padding_mode!r}; only 'zeros' is exported")
    if xv.ndim != len(m.kernel_size) + 2:
        raise TypeError(f"dalam.onnx.export: {name} at {path or 'the model'} got an unbatched input "
                        f"of shape {tuple(xv.shape)}; export with a batch dimension")
    yv = m(xv)
    n = len(m.kernel_size)
    ins = [x, g.const(_np(m.weight), _pname(path, "weight"))]
    if m.bias is not None:
        ins.append(g.const(_np(m.bias), _pname(path, "bias")))
    attrs = dict(kernel_shape=list(m.kernel_size), strides=list(m.stride), dilations=list(m.dilation),
                 group=int(m.groups))
    if m.transposed:
        p = list(m.padding)
        attrs.update(pads=p + p, output_padding=list(m.output_padding))
        return g.node("ConvTranspose", ins, name=_pname(path, "convtranspose"), **attrs), yv
    pads = _conv_pads(m.padding, m.kernel_size, m.dilation, m.stride, n, name)
    attrs["pads"] = [lo for lo, _ in pads] + [hi for _, hi in pads]
    return g.node("Conv", ins, name=_pname(path, "conv"), **attrs), yv


def _tup(v, n):
    return list(v) if isinstance(v, (tuple, list)) else [int(v)] * n


def _maxpool(n):
    def conv(g, m, x, xv, path):
        if m.return_indices:
            raise TypeError(f"dalam.onnx.export: MaxPool at {path or 'the model'} has "
                            "return_indices=True; only the pooled values are exported")
        p = _tup(m.padding, n)
        return g.node("MaxPool", [x], kernel_shape=_tup(m.kernel_size, n), strides=_tup(m.stride, n),
                      pads=p + p, dilations=_tup(m.dilation, n), ceil_mode=int(m.ceil_mode),
                      name=_pname(path, "maxpool")), m(xv)
    return conv


def _avgpool(n):
    def conv(g, m, x, xv, path):
        if getattr(m, "divisor_override", None):
            raise TypeError(f"dalam.onnx.export: AvgPool at {path or 'the model'} has a "
                            "divisor_override, which ONNX AveragePool cannot express")
        p = _tup(m.padding, n)
        return g.node("AveragePool", [x], kernel_shape=_tup(m.kernel_size, n), strides=_tup(m.stride, n),
                      pads=p + p, ceil_mode=int(m.ceil_mode), count_include_pad=int(m.count_include_pad),
                      name=_pname(path, "avgpool")), m(xv)
    return conv


def _adaptive(kind, n):
    def conv(g, m, x, xv, path):
        yv = m(xv)
        ins, outs = list(xv.shape[2:]), list(yv.shape[2:])
        if all(o == 1 for o in outs):
            return g.node(f"Global{kind}Pool", [x], name=_pname(path, "globalpool")), yv
        if any(i % o for i, o in zip(ins, outs)):
            raise TypeError(f"dalam.onnx.export: {type(m).__name__} at {path or 'the model'} maps "
                            f"{ins} to {outs}, which is not a whole-number window; ONNX has no "
                            "adaptive pooling, so only sizes that divide exactly are exported")
        k = [i // o for i, o in zip(ins, outs)]
        op = "MaxPool" if kind == "Max" else "AveragePool"
        return g.node(op, [x], kernel_shape=k, strides=k, name=_pname(path, "pool")), yv
    return conv


def _batchnorm(g, m, x, xv, path):
    if m.running_mean is None:
        raise TypeError(f"dalam.onnx.export: {type(m).__name__} at {path or 'the model'} has "
                        "track_running_stats=False (it normalises with batch statistics at inference), "
                        "which ONNX BatchNormalization does not do")
    yv = m(xv)
    C = m.num_features
    dt = _np(m.running_mean).dtype
    w = _np(m.weight) if m.weight is not None else np.ones(C, dt)
    b = _np(m.bias) if m.bias is not None else np.zeros(C, dt)
    ins = [x, g.const(w, _pname(path, "weight")), g.const(b, _pname(path, "bias")),
           g.const(_np(m.running_mean), _pname(path, "running_mean")),
           g.const(_np(m.running_var), _pname(path, "running_var"))]
    return g.node("BatchNormalization", ins, epsilon=float(m.eps), name=_pname(path, "batchnorm")), yv


def _layernorm_nodes(g, m, x, dtype, path):
    ns = tuple(m.normalized_shape)
    w = _np(m.weight) if m.weight is not None else np.ones(ns, dtype)
    b = _np(m.bias) if m.bias is not None else np.zeros(ns, dtype)
    return g.node("LayerNormalization", [x, g.const(w, _pname(path, "weight")), g.const(b, _pname(path, "bias"))],
                  axis=-len(ns), epsilon=float(m.eps), name=_pname(path, "layernorm"))


def _layernorm(g, m, x, xv, path):
    if g.opset < 17:
        raise TypeError("dalam.onnx.export: LayerNorm needs opset_version >= 17 (LayerNormalization)")
    return _layernorm_nodes(g, m, x, xv.dtype, path), m(xv)


# ----------------------------------------------------------------------- recurrent
# PyTorch packs gates as LSTM [i, f, g, o], GRU [r, z, n]; ONNX as LSTM [i, o, f, c], GRU [z, r, h]
_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}


def _reorder(w, mode, H):
    blocks = [w[i * H:(i + 1) * H] for i in range(len(_GATE_ORDER[mode]))]
    return np.concatenate([blocks[i] for i in _GATE_ORDER[mode]], 0)


def _rnn(g, m, x, xv, path):
    where = path or "the model"
    if xv.ndim != 3:
        raise TypeError(f"dalam.onnx.export: {type(m).__name__} at {where} got input of shape "
                        f"{tuple(xv.shape)}; export with a batched 3-D input")
    yv = m(xv)
    mode, H, L = m.mode, m.hidden_size, m.num_layers
    D = 2 if m.bidirectional else 1
    dt = _np(m.weight_ih_l0).dtype
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    seq = g.node("Transpose", [x], perm=[1, 0, 2], name=_pname(path, "to_time_major")) if m.batch_first else x
    hs, cs = [], []
    for layer in range(L):
        Ws, Rs, Bs = [], [], []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            Ws.append(_reorder(_np(getattr(m, f"weight_ih{sfx}")), mode, H))
            Rs.append(_reorder(_np(getattr(m, f"weight_hh{sfx}")), mode, H))
            if m.bias:
                Bs.append(np.concatenate([_reorder(_np(getattr(m, f"bias_ih{sfx}")), mode, H),
                                          _reorder(_np(getattr(m, f"bias_hh{sfx}")), mode, H)]))
            else:
                Bs.append(np.zeros(2 * Ws[-1].shape[0], dt))
        lp = _pname(path, f"l{layer}")
        attrs = dict(hidden_size=H, direction="bidirectional" if D == 2 else "forward")
        if op == "GRU":
            attrs["linear_before_reset"] = 1
        if op == "RNN":
            attrs["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * D
        ins = [seq, g.const(np.stack(Ws), lp + ".W"), g.const(np.stack(Rs), lp + ".R"),
               g.const(np.stack(Bs), lp + ".B")]
        outs = g.node(op, ins, n_out=3 if op == "LSTM" else 2, name=_pname(path, f"{op.lower()}_l{layer}"),
                      **attrs)
        Y = outs[0]  # (T, D, B, H) -> (T, B, D*H)
        Y = g.node("Transpose", [Y], perm=[0, 2, 1, 3])
        seq = g.node("Reshape", [Y, g.ints([0, 0, -1])])
        hs.append(outs[1])
        if op == "LSTM":
            cs.append(outs[2])
    out = g.node("Transpose", [seq], perm=[1, 0, 2], name=_pname(path, "to_batch_major")) if m.batch_first else seq
    h_n = g.node("Concat", hs, axis=0, name=_pname(path, "h_n")) if L > 1 else hs[0]
    if op == "LSTM":
        c_n = g.node("Concat", cs, axis=0, name=_pname(path, "c_n")) if L > 1 else cs[0]
        return (out, (h_n, c_n)), yv
    return (out, h_n), yv


# ----------------------------------------------------------------------- transformer
def _self_attention(g, mha, h, dtype, path):
    """Self-attention on a batch-first (N, L, E) input named ``h``."""
    where = path or "the model"
    if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn:
        raise TypeError(f"dalam.onnx.export: MultiheadAttention at {where}: only the plain "
                        "self-attention form (kdim=vdim=embed_dim, no bias_kv, no zero_attn) is exported")
    E, H, hd = mha.embed_dim, mha.num_heads, mha.head_dim
    W = _np(mha.in_proj_weight)
    qkv = g.node("MatMul", [h, g.const(W.T, _pname(path, "in_proj_weight_t"))], name=_pname(path, "qkv"))
    if mha.in_proj_bias is not None:
        qkv = g.node("Add", [qkv, g.const(_np(mha.in_proj_bias), _pname(path, "in_proj_bias"))])
    q, k, v = g.node("Split", [qkv, g.ints([E, E, E], "split")], n_out=3, axis=-1, name=_pname(path, "split"))
    heads = g.ints([0, 0, H, hd], "heads_shape")
    q = g.node("Transpose", [g.node("Reshape", [q, heads])], perm=[0, 2, 1, 3])
    k = g.node("Transpose", [g.node("Reshape", [k, heads])], perm=[0, 2, 3, 1])
    v = g.node("Transpose", [g.node("Reshape", [v, heads])], perm=[0, 2, 1, 3])
    scores = g.node("Mul", [g.node("MatMul", [q, k]), g.const(_scalar(1.0 / math.sqrt(hd), dtype), "scale")])
    att = g.node("Softmax", [scores], axis=-1, name=_pname(path, "softmax"))
    o = g.node("Transpose", [g.node("MatMul", [att, v])], perm=[0, 2, 1, 3])
    o = g.node("Reshape", [o, g.ints([0, 0, E], "merge_shape")])
    return _linear_nodes(g, mha.out_proj, o, 3, _pname(path, "out_proj"))


def _activation_nodes(g, fn, x, dtype, path):
    from ..nn import functional as F
    if fn is F.relu:
        return g.node("Relu", [x], name=_pname(path, "relu"))
    if fn is F.gelu:
        return _gelu_nodes(g, x, dtype, "none", path)
    raise TypeError(f"dalam.onnx.export: the feed-forward activation at {path or 'the model'} is a custom "
                    "callable; only 'relu' and 'gelu' are exported")


def _encoder_layer_nodes(g, m, h, dtype, path):
    """One TransformerEncoderLayer on a batch-first input (eval: dropout off)."""
    def sa(t):
        return _self_attention(g, m.self_attn, t, dtype, _pname(path, "self_attn"))

    def ff(t):
        t = _linear_nodes(g, m.linear1, t, 3, _pname(path, "linear1"))
        t = _activation_nodes(g, m.activation, t, dtype, path)
        return _linear_nodes(g, m.linear2, t, 3, _pname(path, "linear2"))

    def ln(mod, t, name):
        return _layernorm_nodes(g, mod, t, dtype, _pname(path, name))

    if m.norm_first:
        h = g.node("Add", [h, sa(ln(m.norm1, h, "norm1"))])
        return g.node("Add", [h, ff(ln(m.norm2, h, "norm2"))])
    h = ln(m.norm1, g.node("Add", [h, sa(h)]), "norm1")
    return ln(m.norm2, g.node("Add", [h, ff(h)]), "norm2")


def _check_seq_input(m, xv, path):
    if xv.ndim != 3:
        raise TypeError(f"dalam.onnx.export: {type(m).__name__} at {path or 'the model'} got input of shape "
                        f"{tuple(xv.shape)}; export with a batched 3-D input (no masks are exported)")


def _encoder_layer(g, m, x, xv, path):
    _check_seq_input(m, xv, path)
    yv = m(xv)
    bf = m.self_attn.batch_first
    h = x if bf else g.node("Transpose", [x], perm=[1, 0, 2])
    h = _encoder_layer_nodes(g, m, h, xv.dtype, path)
    return (h if bf else g.node("Transpose", [h], perm=[1, 0, 2])), yv


def _encoder(g, m, x, xv, path):
    _check_seq_input(m, xv, path)
    yv = m(xv)
    bf = m.layers[0].self_attn.batch_first if len(m.layers) else True
    h = x if bf else g.node("Transpose", [x], perm=[1, 0, 2])
    for i, layer in enumerate(m.layers):
        h = _encoder_layer_nodes(g, layer, h, xv.dtype, _pname(path, f"layers.{i}"))
    if m.norm is not None:
        h = _layernorm_nodes(g, m.norm, h, xv.dtype, _pname(path, "norm"))
    return (h if bf else g.node("Transpose", [h], perm=[1, 0, 2])), yv


def _char_rnn(g, m, x, xv, path):
    """CharRNN: embed -> rnn -> (dropout) -> head; outputs (logits, state) as its forward."""
    e, ev = g.convert(m.embed, x, xv, _pname(path, "embed"))
    (out, state), (ov, sv) = g.convert(m.rnn, e, ev, _pname(path, "rnn"))
    logits, lv = g.convert(m.head, out, ov, _pname(path, "head"))
    return (logits, state), (lv, sv)


def _register_builtins():
    from .. import nn
    from ..models.lenet import LeNet5
    reg = register_converter
    reg(nn.Sequential, _sequential)
    reg(LeNet5, _children_in_order("features", "classifier"))
    from ..models.char_rnn import CharRNN
    reg(CharRNN, _char_rnn)
    reg(nn.Linear, _linear)
    reg(nn.Flatten, _flatten)
    reg(nn.Unflatten, _unflatten)
    for c in (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d):
        reg(c, _identity)
    reg(nn.Embedding, _embedding)
    reg(nn.ReLU, _simple("Relu"))
    reg(nn.Sigmoid, _simple("Sigmoid"))
    reg(nn.Tanh, _simple("Tanh"))
    reg(nn.Softsign, _simple("Softsign"))
    reg(nn.LeakyReLU, _simple("LeakyRelu", alpha=lambda m: m.negative_slope))
    reg(nn.ELU, _simple("Elu", alpha=lambda m: m.alpha))
    reg(nn.CELU, _simple("Celu", alpha=lambda m: m.alpha))
    reg(nn.SELU, _simple("Selu", alpha=lambda m: 1.6732632423543772, gamma=lambda m: 1.0507009873554805))
    reg(nn.Hardsigmoid, _simple("HardSigmoid", alpha=lambda m: 1 / 6, beta=lambda m: 0.5))
    reg(nn.Hardswish, _simple("HardSwish"))
    reg(nn.GELU, _gelu)
    reg(nn.SiLU, _silu)
    reg(nn.Mish, _mish)
    reg(nn.Softplus, _softplus)
    reg(nn.Hardtanh, _clip)  # ReLU6 is a Hardtanh(0, 6)
    reg(nn.Softmax, _softmax_like("Softmax"))
    reg(nn.LogSoftmax, _softmax_like("LogSoftmax"))
    reg(nn.LogSigmoid, _logsigmoid)
    reg(nn.PReLU, _prelu)
    for c in (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d):
        reg(c, _conv)
    reg(nn.MaxPool1d, _maxpool(1))
    reg(nn.MaxPool2d, _maxpool(2))
    reg(nn.AvgPool1d, _avgpool(1))
    reg(nn.AvgPool2d, _avgpool(2))
    reg(nn.AdaptiveAvgPool1d, _adaptive("Average", 1))
    reg(nn.AdaptiveAvgPool2d, _adaptive("Average", 2))
    reg(nn.AdaptiveMaxPool1d, _adaptive("Max", 1))
    reg(nn.AdaptiveMaxPool2d, _adaptive("Max", 2))
    reg(nn.BatchNorm1d, _batchnorm)
    reg(nn.BatchNorm2d, _batchnorm)
    reg(nn.LayerNorm, _layernorm)
    for c in (nn.RNN, nn.LSTM, nn.GRU):
        reg(c, _rnn)
    reg(nn.TransformerEncoderLayer, _encoder_layer)
    reg(nn.TransformerEncoder, _encoder)


def _flatten_outputs(names, values):
    if isinstance(values, Tensor):
        return [(names, values)]
    out = []
    for n, v in zip(names, values):
        out.extend(_flatten_outputs(n, v))
    return out


def _dims(shape, axes):
    return [axes.get(i, d) for i, d in enumerate(shape)]


def export(model, example_input, path=None, input_names=None, output_names=None, opset_version=17,
           dynamic_axes=None):
    """Write ``model`` as an ONNX file at ``path`` (or only return the ModelProto when path is None).

    ``example_input``: one Tensor (or array) with the shapes to export; the model is run on it in
    eval mode (dropout off, BatchNorm on running statistics) and its mode is restored afterwards.
    ``input_names`` / ``output_names``: graph names (default ``input`` and ``output`` or
    ``output_0``, ``output_1``... for several outputs, e.g. an LSTM's ``output, h_n, c_n``).
    ``dynamic_axes``: as in ``torch.onnx.export``, e.g. ``{"input": {0: "batch"}, "output":
    {0: "batch"}}``; other dims are fixed to the example's.  Masks, ``hx`` and other extra forward
    arguments are not exported.  Returns the ``onnx.ModelProto`` (checked with onnx.checker).
    """
    onnx, helper, _ = _import_onnx()
    _ensure_builtins()
    if isinstance(example_input, (tuple, list)):
        if len(example_input) != 1:
            raise TypeError("dalam.onnx.export: only models with one input are exported; got "
                            f"{len(example_input)} example inputs")
        example_input = example_input[0]
    xv = example_input if isinstance(example_input, Tensor) else Tensor(np.asarray(example_input))
    in_name = (input_names or ["input"])[0]
    g = GraphBuilder(opset_version)
    g._names.add(in_name)
    was_training = model.training
    model.eval()
    try:
        with grad_mode.no_grad():
            names, values = g.convert(model, in_name, xv, "")
            ref = model(xv)
    finally:
        model.train(was_training)
    flat = _flatten_outputs(names, values)
    ref_flat = _flatten_outputs(names, ref)
    for (_, v), (_, r) in zip(flat, ref_flat):
        if tuple(v.shape) != tuple(r.shape) or not np.allclose(v._data, r._data, rtol=1e-4, atol=1e-5):
            raise RuntimeError(f"dalam.onnx.export: {type(model).__name__}.forward does not compute what its "
                               "submodules do in order; register a converter for it "
                               "(dalam.onnx.register_converter)")
    if output_names is None:
        output_names = ["output"] if len(flat) == 1 else [f"output_{i}" for i in range(len(flat))]
    if len(output_names) != len(flat):
        raise ValueError(f"dalam.onnx.export: {len(output_names)} output_names for {len(flat)} outputs")
    dyn = dynamic_axes or {}
    unknown = set(dyn) - set(output_names) - {in_name}
    if unknown:
        raise ValueError(f"dalam.onnx.export: dynamic_axes names {sorted(unknown)} are neither the input "
                         f"({in_name!r}) nor an output ({output_names})")
    outputs = []
    for oname, (n, v) in zip(output_names, flat):
        g.nodes.append(helper.make_node("Identity", [n], [oname], name=g.fresh(f"{oname}_node")))
        elem = helper.np_dtype_to_tensor_dtype(v.dtype)
        outputs.append(helper.make_tensor_value_info(oname, elem, _dims(v.shape, dyn.get(oname, {}))))
    inp = helper.make_tensor_value_info(in_name, helper.np_dtype_to_tensor_dtype(xv.dtype),
                                        _dims(xv.shape, dyn.get(in_name, {})))
    graph = helper.make_graph(g.nodes, type(model).__name__, [inp], outputs, initializer=g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset_version)],
                              producer_name="dalam")
    proto.ir_version = min(proto.ir_version, 10)  # readable by onnxruntime releases of the last years
    onnx.checker.check_model(proto)
    if path is not None:
        from ..io.atomic import atomic_write
        atomic_write(path, proto.SerializeToString())
    return proto
