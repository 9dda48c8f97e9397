"""``dalam.onnx.load``: an ONNX file back as a dalam module.

Chain-shaped graphs (each node feeds the next: MLPs and plain CNNs made of
Gemm/MatMul+Add, Conv, MaxPool/AveragePool/Global*Pool, BatchNormalization,
Flatten, the common activations, Softmax/LogSoftmax, Dropout/Identity) come
back as an ordinary ``nn.Sequential`` of dalam layers.  Other graphs (LSTMs,
Transformer encoders...) come back as a ``GraphModule`` that runs the ONNX
nodes with dalam ops (see graph_module.py for the ops it knows).
"""
import numpy as np

from .exporter import _import_onnx


class _NotAChain(TypeError):
    """The graph has no nn.Sequential form (GraphModule may still run it)."""


def _attrs(node, helper):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _f(v):
    """A float attribute (stored as float32 in ONNX) as the short decimal it was: 1e-5, not 9.99e-06."""
    return float("%.7g" % float(v))


def _pairs(pads, n):
    lo, hi = list(pads[:n]), list(pads[n:])
    if lo != hi:
        raise _NotAChain(f"dalam.onnx.load: asymmetric pads {list(pads)} are not supported")
    return tuple(lo)


def import_model(proto, sequential=None):
    """An ``onnx.ModelProto`` as a dalam module in eval mode (weights copied).

    ``sequential``: True requires a chain and returns an ``nn.Sequential``;
    False always returns a ``GraphModule``; None (default) tries the first, then
    the second."""
    if sequential is False:
        from .graph_module import GraphModule
        return GraphModule(proto)
    try:
        return _import_chain(proto)
    except _NotAChain:
        if sequential:
            raise
        from .graph_module import GraphModule
        return GraphModule(proto)


def _import_chain(proto):
    from .. import nn
    from ..tensor import Tensor
    onnx, helper, numpy_helper = _import_onnx()
    graph = proto.graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    consts = dict(inits)
    real_inputs = [i.name for i in graph.input if i.name not in inits]
    if len(real_inputs) != 1 or len(graph.output) != 1:
        raise _NotAChain("dalam.onnx.load: only graphs with one input and one output become an "
                         "nn.Sequential")
    rank = len(graph.input[[i.name for i in graph.input].index(real_inputs[0])].type.tensor_type.shape.dim)
    cur = real_inputs[0]
    layers = []
    pending_matmul = None  # (module, output name) waiting for a bias Add

    def param(arr):
        return nn.Parameter(Tensor._from_data(np.array(arr))._data)

    for node in graph.node:
        a = _attrs(node, helper)
        op = node.op_type
        if op == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(a["value"])
            continue
        data_ins = [i for i in node.input if i and i not in consts]
        if data_ins != [cur]:
            raise _NotAChain(f"dalam.onnx.load: node {node.name or op} ({op}) does not continue a "
                             "chain, so the graph is not an nn.Sequential")
        w = [consts[i] for i in node.input[1:] if i in consts]
        m = None
        if op == "Gemm":
            if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                raise _NotAChain("dalam.onnx.load: Gemm with transA/alpha/beta is not supported")
            W = w[0] if a.get("transB", 0) else w[0].T
            m = nn.Linear(W.shape[1], W.shape[0], bias=len(w) > 1)
            m.weight = param(W)
            if len(w) > 1:
                m.bias = param(np.broadcast_to(w[1], (W.shape[0],)))
        elif op == "MatMul":
            W = w[0].T
            m = nn.Linear(W.shape[1], W.shape[0], bias=False)
            m.weight = param(W)
            pending_matmul = m
        elif op == "Add" and pending_matmul is not None and layers and layers[-1] is pending_matmul:
            lin = pending_matmul
            lin.bias = param(np.broadcast_to(w[0], (lin.out_features,)))
            pending_matmul = None
            cur = node.output[0]
            continue
        elif op == "Conv":
            W = w[0]
            n = W.ndim - 2
            cls = {1: nn.Conv1d, 2: nn.Conv2d}[n]
            g = int(a.get("group", 1))
            m = cls(W.shape[1] * g, W.shape[0], tuple(W.shape[2:]), stride=tuple(a.get("strides", [1] * n)),
                    padding=_pairs(a.get("pads", [0] * 2 * n), n), dilation=tuple(a.get("dilations", [1] * n)),
                    groups=g, bias=len(w) > 1)
            m.weight = param(W)
            if len(w) > 1:
                m.bias = param(w[1])
        elif op in ("MaxPool", "AveragePool"):
            k = tuple(a["kernel_shape"])
            n = len(k)
            pad = _pairs(a.get("pads", [0] * 2 * n), n)
            stride = tuple(a.get("strides", [1] * n))
            if op == "MaxPool":
                cls = {1: nn.MaxPool1d, 2: nn.MaxPool2d}[n]
                m = cls(k, stride, pad, tuple(a.get("dilations", [1] * n)), ceil_mode=bool(a.get("ceil_mode", 0)))
            else:
                cls = {1: nn.AvgPool1d, 2: nn.AvgPool2d}[n]
                m = cls(k, stride, pad, ceil_mode=bool(a.get("ceil_mode", 0)),
                        count_include_pad=bool(a.get("count_include_pad", 0)))
        elif op == "GlobalAveragePool":
            m = nn.AdaptiveAvgPool2d(1) if rank == 4 else nn.AdaptiveAvgPool1d(1)
        elif op == "GlobalMaxPool":
            m = nn.AdaptiveMaxPool2d(1) if rank == 4 else nn.AdaptiveMaxPool1d(1)
        elif op == "BatchNormalization":
            scale, bias, mean, var = w
            m = (nn.BatchNorm2d if rank == 4 else nn.BatchNorm1d)(len(scale), eps=_f(a.get("epsilon", 1e-5)))
            m.weight, m.bias = param(scale), param(bias)
            m.running_mean._data[...] = mean
            m.running_var._data[...] = var
        elif op == "Flatten":
            if a.get("axis", 1) != 1:
                raise _NotAChain("dalam.onnx.load: only Flatten(axis=1) is supported")
            m = nn.Flatten()
        elif op == "Relu":
            m = nn.ReLU()
        elif op == "Sigmoid":
            m = nn.Sigmoid()
        elif op == "Tanh":
            m = nn.Tanh()
        elif op == "LeakyRelu":
            m = nn.LeakyReLU(_f(a.get("alpha", 0.01)))
        elif op == "Elu":
            m = nn.ELU(_f(a.get("alpha", 1.0)))
        elif op in ("Softmax", "LogSoftmax"):
            m = (nn.Softmax if op == "Softmax" else nn.LogSoftmax)(dim=int(a.get("axis", -1)))
        elif op == "Clip" and len(w) == 2:
            m = nn.Hardtanh(_f(w[0]), _f(w[1]))
        elif op in ("Identity", "Dropout"):  # no-ops at inference
            cur = node.output[0]
            continue
        else:
            raise _NotAChain(f"dalam.onnx.load: ONNX op {op} has no nn layer equivalent here")
        if op in ("Gemm", "Flatten"):
            rank = 2
        layers.append(m)
        cur = node.output[0]
    if graph.output[0].name != cur:
        raise _NotAChain("dalam.onnx.load: the graph output is not the end of the chain")
    model = nn.Sequential(*layers)
    model.eval()
    return model


def load(path, sequential=None):
    """Read an ONNX file into a dalam module in eval mode: an ``nn.Sequential`` for MLP/CNN
    chains, else a ``GraphModule`` (see ``import_model``).

    The file is checked before anything is built: an empty or undecodable file,
    a model that fails ``onnx.checker``, or whose initializers do not fit the
    nodes (strict shape inference) raises ``ValueError`` naming the file."""
    import os
    onnx, _, _ = _import_onnx()
    path = os.fspath(path)
    size = os.path.getsize(path)  # FileNotFoundError names the file
    if size == 0:
        raise ValueError(f"dalam.onnx.load: {path} is empty (0 bytes), not an ONNX model")
    try:
        proto = onnx.load(path)
    except Exception as e:  # protobuf's DecodeError and friends do not say which file
        raise ValueError(f"dalam.onnx.load: {path} ({size} bytes) is not a readable ONNX model: "
                         f"{type(e).__name__}: {str(e)[:300]}") from None
    if not proto.graph.node or not proto.graph.output:
        raise ValueError(f"dalam.onnx.load: {path} holds no graph (no nodes or no outputs): truncated, "
                         "corrupt or not an ONNX model")
    try:
        onnx.checker.check_model(proto)
        onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    except Exception as e:
        raise ValueError(f"dalam.onnx.load: {path} is not a valid ONNX model: {type(e).__name__}: "
                         f"{str(e)[:500]}") from None
    try:
        return import_model(proto, sequential)
    except _NotAChain:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError) as e:
        raise ValueError(f"dalam.onnx.load: {path}: cannot build a dalam module from this model: "
                         f"{type(e).__name__}: {str(e)[:500]}") from None
