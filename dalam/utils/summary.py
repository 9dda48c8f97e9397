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


def _macs(module, inputs, out):
    """Multiply-adds of the layers whose cost dominates (conv, linear)."""
    name = type(module).__name__
    if not isinstance(out, Tensor):
        return 0
    w = module._parameters.get("weight") if hasattr(module, "_parameters") else None
    if w is None:
        return 0
    if name.startswith("ConvTranspose"):
        x = inputs[0]
        return int(x.data.size * int(np.prod(w.shape[1:])))
    if name.startswith("Conv"):
        return int(out.data.size * int(np.prod(w.shape[1:])))
    if name in ("Linear", "Bilinear"):
        return int(out.data.size * int(np.prod(w.shape[1:])))
    return 0


class ModelSummary:
    """The rows and totals; ``str()`` gives the table."""

    def __init__(self, model_name, rows, total_params, trainable_params, total_macs, input_bytes,
                 act_bytes, param_bytes):
        self.model_name, self.rows = model_name, rows
        self.total_params, self.trainable_params = total_params, trainable_params
        self.total_mult_adds, self.input_bytes = total_macs, input_bytes
        self.act_bytes, self.param_bytes = act_bytes, param_bytes

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
        mb = 1024 ** 2
        out += [line,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}",
                f"Total mult-adds (M): {self.total_mult_adds / 1e6:.2f}",
                line,
                f"Input size (MB): {self.input_bytes / mb:.2f}",
                f"Forward/backward pass size (MB): {self.act_bytes / mb:.2f}",
                f"Params size (MB): {self.param_bytes / mb:.2f}",
                f"Estimated Total Size (MB): {(self.input_bytes + self.act_bytes + self.param_bytes) / mb:.2f}",
                line]
        return "\n".join(out)

    __repr__ = __str__


def summary(model, input_size=None, input_data=None, dtype=None, depth=3, verbose=1):
    """Print and return a ``ModelSummary`` of ``model`` on an input of
    ``input_size`` (batch dimension included, e.g. ``(1, 1, 28, 28)``) or on
    ``input_data`` (a Tensor or tuple of Tensors)."""
    if input_data is None:
        if input_size is None:
            raise ValueError("summary: give input_size (with the batch dim, e.g. (1, 1, 28, 28)) "
                             "or input_data")
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        sizes = input_size if isinstance(input_size[0], (tuple, list)) else [input_size]
        inputs = tuple(Tensor._make(backend.rng().standard_normal(tuple(s)).astype(dt), False, None)
                       for s in sizes)
    else:
        inputs = tuple(input_data) if isinstance(input_data, (tuple, list)) else (input_data,)

    rows, handles, depth_of = [], [], {}
    counters = {}
    for name, m in model.named_modules():
        depth_of[id(m)] = 0 if name == "" else name.count(".") + 1

    def pre(m, args):
        d = depth_of.get(id(m), 0)
        counters[d] = counters.get(d, 0) + 1
        rows.append({"module": m, "depth": d, "idx": counters[d], "type": type(m).__name__,
                     "shape": None, "params": 0, "macs": 0, "inputs": args})

    def post(m, args, out):
        for r in reversed(rows):
            if r["module"] is m and r["shape"] is None:
                r["shape"] = _shape_of(out)
                r["macs"] = _macs(m, args, out)
                r["out_bytes"] = out.data.nbytes if isinstance(out, Tensor) else 0
                break

    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
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
            r["params"] = sum(int(p.data.size) for p in own)
        if not is_leaf:
            r["params"] = r["params"] + sum(int(p.data.size) for p in m.parameters()
                                            if id(p) not in seen)
        del r["inputs"]
    params = list(model.parameters())
    total = sum(int(p.data.size) for p in params)
    trainable = sum(int(p.data.size) for p in params if p.requires_grad)
    macs = sum(r["macs"] for r in rows)
    leaf_out = sum(r.get("out_bytes", 0) for r in rows if not r["module"]._modules)
    shown = [r for r in rows if r["depth"] <= depth]
    for r in shown:
        r.pop("module", None)
    s = ModelSummary(type(model).__name__, shown, total, trainable, macs,
                     sum(int(t.data.nbytes) for t in inputs), 2 * leaf_out,
                     sum(int(p.data.nbytes) for p in params))
    if verbose:
        print(s)
    return s
