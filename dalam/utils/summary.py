"""``summary(model, input_size)``: each layer's output shape, parameters and
multiply-adds, and the totals, as torchinfo prints them.

It runs one forward pass (no graph, eval mode) with hooks on every module:
a pre-hook reserves the row in call order, a forward hook fills in the output
shape, so nested containers print above their children."""
import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


def _shape_of(out):
    if isinstance(out, Tensor):
        return list(out.shape)
    if isinstance(out, (tuple, list)) and out:
        return _shape_of(out[0])
    return None


def _numel(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _rnn_macs(module, inputs):
    """Per step and layer: G gate blocks of (input + hidden) x hidden
    multiply-adds (G = 1 RNN, 3 GRU, 4 LSTM), times steps x batch x directions."""
    x = inputs[0] if inputs else None
    if not isinstance(x, Tensor):  # a PackedSequence: its data rows are the steps that run
        x = getattr(x, "data", None)
        if not isinstance(x, Tensor):
            return 0
    H, D = module.hidden_size, 2 if module.bidirectional else 1
    G = {"LSTM": 4, "GRU": 3}.get(module.mode, 1)
    steps = _numel(x.shape) // int(x.shape[-1])  # T * B (or the packed rows)
    total, in_size = 0, module.input_size
    for _ in range(module.num_layers):
        total += D * steps * G * H * (in_size + H)
        in_size = H * D
    return total


def _mha_macs(module, inputs):
    """The q/k/v projections and the two attention products (scores and the
    weighted sum); ``out_proj`` is a Linear child and counts on its own row."""
    if len(inputs) < 3 or not all(isinstance(t, Tensor) for t in inputs[:3]):
        return 0
    q, k = inputs[0], inputs[1]
    E = module.embed_dim
    tq = _numel(q.shape) // int(q.shape[-1])          # batch x target length
    tk = _numel(k.shape) // int(k.shape[-1])          # batch x source length
    if k.ndim == 3:
        S = int(k.shape[1] if module.batch_first else k.shape[0])
    else:
        S = int(k.shape[0])
    proj = tq * E * E + tk * E * module.kdim + tk * E * module.vdim
    return proj + 2 * tq * S * E


def _macs(module, inputs, out):
    """Multiply-adds of the layers whose cost dominates: convolutions, linear
    layers, recurrent layers and multi-head attention (the attention products
    inside other modules are added by the summary from the attention op)."""
    name = type(module).__name__
    if name in ("RNN", "LSTM", "GRU") and hasattr(module, "mode"):
        return _rnn_macs(module, inputs)
    if name == "MultiheadAttention":
        return _mha_macs(module, inputs)
    if not isinstance(out, Tensor):
        return 0
    w = module._parameters.get("weight") if hasattr(module, "_parameters") else None
    if w is None:
        return 0
    if name.startswith("ConvTranspose"):
        x = inputs[0]
        return int(x._data.size * int(np.prod(w.shape[1:])))
    if name.startswith("Conv"):
        return int(out._data.size * int(np.prod(w.shape[1:])))
    if name in ("Linear", "Bilinear", "LazyLinear", "NonDynamicallyQuantizableLinear"):
        return int(out._data.size * int(np.prod(w.shape[1:])))
    return 0


def _out_bytes(out):
    if isinstance(out, Tensor):
        return int(out._data.nbytes)
    if isinstance(out, (tuple, list)):
        return sum(_out_bytes(o) for o in out)
    return 0


class ModelSummary:
    """The rows and totals; ``str()`` gives the table, ``to_dict()`` the same
    as plain data (for JSON).  Sizes are in bytes; the table prints MiB."""

    def __init__(self, model_name, rows, total_params, trainable_params, total_macs, input_bytes,
                 act_bytes, param_bytes):
        self.model_name, self.rows = model_name, rows
        self.total_params, self.trainable_params = total_params, trainable_params
        self.total_mult_adds, self.input_bytes = total_macs, input_bytes
        self.act_bytes, self.param_bytes = act_bytes, param_bytes

    @property
    def total_bytes(self):
        """Memory estimate of one training step: input + activations kept for
        backward (forward outputs, and as much again for their gradients) + parameters."""
        return self.input_bytes + self.act_bytes + self.param_bytes

    def to_dict(self):
        return {"model": self.model_name,
                "layers": [{k: r[k] for k in ("type", "depth", "idx", "shape", "params", "macs")}
                           for r in self.rows],
                "total_params": self.total_params, "trainable_params": self.trainable_params,
                "total_mult_adds": self.total_mult_adds, "input_bytes": self.input_bytes,
                "activation_bytes": self.act_bytes, "param_bytes": self.param_bytes,
                "total_bytes": self.total_bytes}

    def __str__(self):
        w = (46, 26, 16, 16)
        line = "=" * sum(w)
        head = (f"{'Layer (type:depth-idx)':<{w[0]}}{'Output Shape':<{w[1]}}"
                f"{'Param #':>{w[2]}}{'Mult-Adds':>{w[3]}}")
        out = [line, head, line]
        for r in self.rows:
            d = r["depth"]
            label = r["type"] if d == 0 else ("│    " * (d - 1)) + f"├─{r['type']}: {d}-{r['idx']}"
            p = f"{r['params']:,}" if r["params"] else "--"
            m = f"{r['macs']:,}" if r["macs"] else "--"
            shape = str(r["shape"]) if r["shape"] is not None else "--"
            out.append(f"{label:<{w[0]}}{shape:<{w[1]}}{p:>{w[2]}}{m:>{w[3]}}")
        mib = 1024 ** 2
        out += [line,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}",
                f"Total mult-adds (M): {self.total_mult_adds / 1e6:.2f}",
                line,
                f"Input size (MiB): {self.input_bytes / mib:.2f}",
                f"Forward/backward pass size (MiB): {self.act_bytes / mib:.2f}",
                f"Params size (MiB): {self.param_bytes / mib:.2f}",
                f"Estimated Total Size (MiB): {self.total_bytes / mib:.2f}",
                line]
        return "\n".join(out)

    __repr__ = __str__


def _example_inputs(input_size, dtype):
    """Random float inputs (or zeros for integer dtypes: token ids must be valid)."""
    dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    sizes = input_size if isinstance(input_size[0], (tuple, list)) else [input_size]
    out = []
    for s in sizes:
        if dt.kind in "iub":
            a = np.zeros(tuple(s), dt)
        else:
            a = backend.rng().standard_normal(tuple(s)).astype(dt)
        out.append(Tensor._make(a, False, None))
    return tuple(out)


class _AttentionCounter:
    """Adds the multiply-adds of the fused attention op (q k^T and p v) to the
    module that calls it, by wrapping the op's forward while the summary runs."""

    def __init__(self, stack, rows):
        from ..ops.attention import ScaledDotProductAttention
        self.cls, self.stack, self.rows = ScaledDotProductAttention, stack, rows

    def __enter__(self):
        self.orig = orig = self.cls.forward
        stack, rows = self.stack, self.rows

        def forward(fn, q, k, v, *args, **kw):
            if stack:
                lead = _numel(q.shape[:-2])
                L, E, S, Ev = q.shape[-2], q.shape[-1], k.shape[-2], v.shape[-1]
                rows[stack[-1]]["macs"] += int(lead * L * S * (E + Ev))
            return orig(fn, q, k, v, *args, **kw)
        self.cls.forward = forward
        return self

    def __exit__(self, *exc):
        self.cls.forward = self.orig


def summary(model, input_size=None, input_data=None, dtype=None, depth=3, verbose=1):
    """Print and return a ``ModelSummary`` of ``model`` on an input of
    ``input_size`` (batch dimension included, e.g. ``(1, 1, 28, 28)``; a list
    of sizes for several inputs; ``dtype=dalam.int64`` for token ids) or on
    ``input_data`` (a Tensor or tuple of Tensors).

    Columns: output shape, parameters (each counted once, on the module that
    owns it), multiply-adds (Linear, Conv*, ConvTranspose*, RNN/LSTM/GRU,
    MultiheadAttention and the fused attention op).  The memory estimate is
    input + activations (every leaf output, twice: kept for backward and its
    gradient) + parameters."""
    if input_data is None:
        if input_size is None:
            raise ValueError("summary: give input_size (with the batch dim, e.g. (1, 1, 28, 28)) "
                             "or input_data")
        inputs = _example_inputs(input_size, dtype)
    else:
        inputs = tuple(input_data) if isinstance(input_data, (tuple, list)) else (input_data,)

    rows, handles, stack = [], [], []
    counters = {}

    def pre(m, args):
        # depth in the call tree (containers that are never called, such as
        # ModuleList/ModuleDict, add no level)
        d = len(stack)
        counters[d] = counters.get(d, 0) + 1
        stack.append(len(rows))
        rows.append({"module": m, "depth": d, "idx": counters[d], "type": type(m).__name__,
                     "shape": None, "params": 0, "macs": 0})

    def post(m, args, out):
        r = rows[stack.pop()]
        r["shape"] = _shape_of(out)
        r["macs"] += _macs(m, args, out)
        r["out_bytes"] = _out_bytes(out)

    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    was_training = model.training
    model.eval()
    try:
        with no_grad(), _AttentionCounter(stack, rows):
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    seen = set()
    for r in rows:
        m = r["module"]
        # parameters counted once, on the first call of the module that owns them
        own = [p for p in m._parameters.values() if p is not None and id(p) not in seen]
        is_leaf = not m._modules
        if is_leaf or own:
            for p in own:
                seen.add(id(p))
            r["params"] = sum(int(p._data.size) for p in own)
        if not is_leaf:
            r["params"] = r["params"] + sum(int(p._data.size) for p in m.parameters()
                                            if id(p) not in seen)
    params = list(model.parameters())
    total = sum(int(p._data.size) for p in params)
    trainable = sum(int(p._data.size) for p in params if p.requires_grad)
    macs = sum(r["macs"] for r in rows)
    leaf_out = sum(r.get("out_bytes", 0) for r in rows if not r["module"]._modules)
    shown = [r for r in rows if r["depth"] <= depth]
    for r in shown:
        r.pop("module", None)
    s = ModelSummary(type(model).__name__, shown, total, trainable, macs,
                     sum(int(t._data.nbytes) for t in inputs if isinstance(t, Tensor)), 2 * leaf_out,
                     sum(int(p._data.nbytes) for p in params))
    if verbose:
        print(s)
    return s
