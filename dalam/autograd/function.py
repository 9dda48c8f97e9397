"""``Function``: one differentiable op, its forward and backward side by side.

Writing an op::

    class Exp(Function):
        def forward(self, x):            # numpy arrays in, array out
            self.y = y = xp.exp(x)        # keep what backward needs on self
            return y

        def backward(self, gy):           # gradient of the output (array)
            return gy * self.y            # one gradient per input (or None)

``Exp.apply(t)`` runs forward on ``t._data`` and, when grad mode is on and an
input requires grad, records the node in the graph.  Inputs may be Tensors or
plain constants (arrays, Python numbers); only Tensors get gradients.

Options (axes, shapes, flags) may be passed as keywords or, slightly faster,
positionally after the tensors: non-Tensor inputs are constants, and a
backward may leave out their trailing ``None`` gradients.

Gradients a backward returns may have a broadcast shape: the engine sums them
back to each input's shape and dtype once, centrally, so ops need not.

Version counters: an op that keeps an input's (or its output's) array for
backward lists it in ``saves`` (input positions) / ``saves_output``; if such a
tensor is then modified in place, backward raises instead of silently using
changed data.
"""

from ..backend import xp
from . import grad_mode

_state = grad_mode.state


class Function:
    # positions of inputs whose *data* backward reads; None means all of them
    saves = None
    # True when backward reads the output array (e.g. exp, tanh, sigmoid)
    saves_output = False
    # True for ops whose output is a view of input 0 (reshape, transpose, ...):
    # the output shares input 0's version counter, as views do in PyTorch
    is_view = False
    # defaults, so that apply() sets only what an op needs (instance values override)
    n_outputs = 1
    edges = None
    _checks = None
    _hooks = None
    _retained = None
    _released = False
    _materialize_grads = True  # the engine fills missing output gradients with zeros
    # set on instances by apply():
    #   edges: per input, None | leaf Tensor | (Function, output_nr)
    #   in_meta: per input, (shape, dtype), or None for inputs that get no gradient
    #   n_outputs, _checks, _out_refs, _hooks, _retained
    # needs_input_grad (per input, bool) is a property computed from edges

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for k in cls.__mro__:
            if "forward" in k.__dict__:
                if isinstance(k.__dict__["forward"], staticmethod):
                    # PyTorch's style: forward(ctx, ...) on Tensors (autograd/pyfunction.py)
                    from .pyfunction import apply_pytorch_style
                    cls.apply = classmethod(apply_pytorch_style)
                break

    def forward(self, *arrays):
        raise RuntimeError(
            f"{type(self).__name__} defines no forward(self, *arrays): a Function subclass must "
            "compute its output from numpy arrays there.")

    def backward(self, *grad_outputs):
        raise RuntimeError(
            f"{type(self).__name__} defines no backward(self, *grad_outputs): a Function subclass "
            "must return one gradient (or None) per input there.")

    # Optional: ``backward_graph(self, *grad_tensors)`` written with Tensor ops,
    # used by ``backward(create_graph=True)`` to build a graph of the gradient
    # (double backward). ``self.input_tensor(i)`` gives input i as a Tensor
    # connected to the graph.

    @classmethod
    def apply(cls, *inputs, **kwargs):
        # the hot path of every op: kept flat (no helper calls) on purpose
        # (star-args and an empty **kwargs each cost ~0.15 us in CPython)
        fn = _new(cls)
        n = len(inputs)
        if n == 2:
            a, b = inputs
            if isinstance(a, Tensor):
                grad = a.requires_grad
                a = a._data
            else:
                grad = False
            if isinstance(b, Tensor):
                grad = grad or b.requires_grad
                b = b._data
            out = fn.forward(a, b, **kwargs) if kwargs else fn.forward(a, b)
        elif n == 3:  # e.g. (x, axes, keepdim): ops pass their options positionally
            a, b, c = inputs
            grad = False
            if isinstance(a, Tensor):
                grad = a.requires_grad
                a = a._data
            if isinstance(b, Tensor):
                grad = grad or b.requires_grad
                b = b._data
            if isinstance(c, Tensor):
                grad = grad or c.requires_grad
                c = c._data
            out = fn.forward(a, b, c, **kwargs) if kwargs else fn.forward(a, b, c)
        elif n == 1:
            a = inputs[0]
            if isinstance(a, Tensor):
                grad = a.requires_grad
                a = a._data
            else:
                grad = False
            out = fn.forward(a, **kwargs) if kwargs else fn.forward(a)
        else:
            arrays = []
            grad = False
            for t in inputs:
                if isinstance(t, Tensor):
                    arrays.append(t._data)
                    if t.requires_grad:
                        grad = True
                else:
                    arrays.append(t)
            out = fn.forward(*arrays, **kwargs) if kwargs else fn.forward(*arrays)
        if type(out) is not _ndarray and type(out) is not tuple:
            out = xp.asarray(out)  # numpy gives scalars for full reductions/indexing: keep arrays
        if grad and _state.enabled:
            r = fn._record(inputs, out)
            if cls.is_view:
                r._vc = inputs[0]._vc
            return r
        if type(out) is tuple:
            return tuple(_plain(o) for o in out)
        t = _new(Tensor)
        t._data = out
        t.grad = t.grad_fn = t._hooks = None
        t.requires_grad = False
        t._output_nr = 0
        t._vc = inputs[0]._vc if cls.is_view else [0]
        return t

    @property
    def needs_input_grad(self):
        """Per input: does it need a gradient (backward may skip the others)."""
        return [e is not None for e in self.edges]

    def _record(self, inputs, out):
        # edges and in_meta (shape, dtype: what the engine reduces a gradient
        # back to) only for inputs that get a gradient; None for the others
        saves = self.saves
        if len(inputs) == 1:  # unrolled for one input: the hot path of unary ops
            t = inputs[0]
            d = t._data
            g = t.grad_fn
            self.edges = [t if g is None else (g, t._output_nr)]
            self.in_meta = [(d.shape, d.dtype)]
            if saves is None:
                self._checks = [(t, t._vc[0])]
        else:
            edges = []
            meta = []
            for t in inputs:
                if isinstance(t, Tensor) and t.requires_grad:
                    d = t._data
                    meta.append((d.shape, d.dtype))
                    g = t.grad_fn
                    edges.append(t if g is None else (g, t._output_nr))
                else:
                    meta.append(None)
                    edges.append(None)
            self.edges = edges
            self.in_meta = meta
        if saves is None and len(inputs) != 1:
            checks = []  # a plain loop: a comprehension is a function call in CPython 3.11
            for t in inputs:
                if isinstance(t, Tensor):
                    checks.append((t, t._vc[0]))
            self._checks = checks
        elif saves:
            self._checks = [(inputs[i], inputs[i]._vc[0]) for i in saves
                            if isinstance(inputs[i], Tensor)]
        if type(out) is tuple:
            outs = tuple(_tracked(o, self, i) for i, o in enumerate(out))
            self.n_outputs = len(outs)
            self._out_meta = [(o.shape, o.dtype) for o in out]
            if self.saves_output:
                self._out_refs = [(o._vc, o._vc[0]) for o in outs]
            return outs
        if out.dtype.kind in "fc":
            o = _new(Tensor)
            o._data = out
            o.grad = o._hooks = None
            o.requires_grad = True
            o.grad_fn = self
            o._output_nr = 0
            o._vc = [0]
        else:  # integer outputs (e.g. argmax indices) carry no gradient
            o = Tensor._make(out, False, None)
        if self.saves_output:
            self._out_refs = [(o._vc, 0)]  # the output's version counter, not the tensor
        return o

    # ---- helpers for backward_graph (double backward) ----
    def input_tensor(self, i, data):
        """Input ``i`` as a Tensor wired into the graph (for backward_graph).

        ``data`` is the array the op saved for that input."""
        e = self.edges[i]
        if e is None:
            return data
        if isinstance(e, Tensor):
            return e
        return Tensor._make(data, True, e[0], e[1])

    def output_tensor(self, i, data):
        """Output ``i`` as a Tensor wired to this node (for backward_graph of ops
        whose derivative is written with their output, like exp)."""
        return Tensor._make(data, True, self, i)

    def check_versions(self):
        if self._checks:
            for t, v in self._checks:
                if t._vc[0] != v:
                    raise RuntimeError(
                        f"{type(self).__name__}.backward: one of the tensors it saved (shape "
                        f"{tuple(t.shape)}, dtype {t.dtype}) was modified in place after it was "
                        f"used (version {v} -> {t._vc[0]}). Clone it before modifying it, or do "
                        "the in-place change outside the computation you differentiate.")
        if self.saves_output:
            for i, (vc, v) in enumerate(self._out_refs):
                if vc[0] != v:
                    raise RuntimeError(
                        f"{type(self).__name__}.backward: its output {i} was modified in place "
                        f"(version {v} -> {vc[0]}), but backward needs it. Use an out-of-place "
                        "op (e.g. y = y + 1 instead of y += 1).")

    def release(self):
        """Drop everything saved for backward (called after backward)."""
        d = self.__dict__
        n = d.get("n_outputs", 1)
        d.clear()
        d["n_outputs"] = n
        d["in_meta"] = None
        d["_released"] = True

    @property
    def name(self):
        return type(self).__name__

    def backward_name(self):
        """PyTorch's name for this node (``NllLossBackward0``), as printed in
        ``grad_fn=<...>`` and the node's repr: programs print losses."""
        n = type(self).__name__
        return f"{TORCH_NAMES.get(n, n)}Backward0"

    def __repr__(self):
        return f"<{self.backward_name()} object at {id(self):#x}>"

    @property
    def next_functions(self):
        out = []
        for e in self.edges or ():
            if e is None:
                out.append((None, 0))
            elif isinstance(e, Tensor):
                out.append(("AccumulateGrad", 0))
            else:
                out.append(e)
        return tuple(out)


_new = object.__new__
_ndarray = xp.ndarray


def _plain(a):
    return Tensor._make(a if type(a) is _ndarray else xp.asarray(a), False, None)


def _tracked(a, fn, idx):
    if type(a) is not _ndarray:
        a = xp.asarray(a)
    if a.dtype.kind not in "fc":  # integer outputs (e.g. argmax indices) carry no gradient
        return Tensor._make(a, False, None)
    return Tensor._make(a, True, fn, idx)


from ..tensor import Tensor  # noqa: E402  (cycle: tensor imports ops lazily)
from .pyfunction import FunctionCtx, once_differentiable  # noqa: E402,F401  (torch.autograd.function names)


# dalam op class -> PyTorch's autograd node name, where they differ one to one (the
# common case for context-dependent ones: Linear on a 2-D input is Addmm, MatMul of
# two matrices is Mm)
TORCH_NAMES = {
    "ClassNLL": "NllLoss", "MSE": "MseLoss", "ReLU": "Relu", "GELU": "Gelu", "BCE": "BinaryCrossEntropy",
    "BCEWithLogits": "BinaryCrossEntropyWithLogits", "Linear": "Addmm", "MatMul": "Mm",
}
