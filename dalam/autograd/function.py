"""``Function``: one differentiable op, its forward and backward side by side.

Writing an op::

    class Exp(Function):
        def forward(self, x):            # numpy arrays in, array out
            self.y = y = xp.exp(x)        # keep what backward needs on self
            return y

        def backward(self, gy):           # gradient of the output (array)
            return gy * self.y            # one gradient per input (or None)

``Exp.apply(t)`` runs forward on ``t.data`` and, when grad mode is on and an
input requires grad, records the node in the graph.  Inputs may be Tensors or
plain constants (arrays, Python numbers); only Tensors get gradients.

Gradients a backward returns may have a broadcast shape: the engine sums them
back to each input's shape and dtype once, centrally, so ops need not.

Version counters: an op that keeps an input's (or its output's) array for
backward lists it in ``saves`` (input positions) / ``saves_output``; if such a
tensor is then modified in place, backward raises instead of silently using
changed data.
"""
import weakref

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
    # set on instances by apply():
    #   edges: per input, None | leaf Tensor | (Function, output_nr)
    #   in_meta: per input, (shape, dtype) or None for constants
    #   needs_input_grad: per input, bool
    #   n_outputs, _checks, _out_refs, _hooks, _retained

    def forward(self, *arrays):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__}.backward")

    # Optional: ``backward_graph(self, *grad_tensors)`` written with Tensor ops,
    # used by ``backward(create_graph=True)`` to build a graph of the gradient
    # (double backward). ``self.input_tensor(i)`` gives input i as a Tensor
    # connected to the graph.

    @classmethod
    def apply(cls, *inputs, **kwargs):
        fn = cls.__new__(cls)
        arrays = [t.data if isinstance(t, Tensor) else t for t in inputs]
        out = fn.forward(*arrays, **kwargs)
        if _state.enabled:
            for t in inputs:
                if isinstance(t, Tensor) and t.requires_grad:
                    r = fn._record(inputs, out)
                    if cls.is_view:
                        r._vc = inputs[0]._vc
                    return r
        if type(out) is tuple:
            return tuple(_plain(o) for o in out)
        if cls.is_view:
            return Tensor._make(out, False, None, 0, inputs[0]._vc)
        return _plain(out)

    def _record(self, inputs, out):
        edges = []
        meta = []
        needs = []
        for t in inputs:
            if isinstance(t, Tensor):
                meta.append((t.data.shape, t.data.dtype))
                if t.requires_grad:
                    needs.append(True)
                    edges.append(t if t.grad_fn is None else (t.grad_fn, t._output_nr))
                    continue
            else:
                meta.append(None)
            needs.append(False)
            edges.append(None)
        self.edges = edges
        self.in_meta = meta
        self.needs_input_grad = needs
        saves = self.saves
        if saves is None:
            self._checks = [(t, t._vc[0]) for t in inputs if isinstance(t, Tensor)]
        elif saves:
            self._checks = [(inputs[i], inputs[i]._vc[0]) for i in saves
                            if isinstance(inputs[i], Tensor)]
        else:
            self._checks = None
        self._hooks = None
        self._retained = None
        if type(out) is tuple:
            outs = tuple(_tracked(o, self, i) for i, o in enumerate(out))
            self.n_outputs = len(outs)
            self._out_meta = [(o.shape, o.dtype) for o in out]
            if self.saves_output:
                self._out_refs = [(weakref.ref(o), o._vc[0]) for o in outs]
            return outs
        self.n_outputs = 1
        o = _tracked(out, self, 0)
        if self.saves_output:
            self._out_refs = [(weakref.ref(o), 0)]
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
            for r, v in self._out_refs:
                o = r()
                if o is not None and o._vc[0] != v:
                    raise RuntimeError(
                        f"{type(self).__name__}.backward: its output (shape {tuple(o.shape)}) "
                        "was modified in place, but backward needs it. Use an out-of-place "
                        "op (e.g. y = y + 1 instead of y += 1).")

    def release(self):
        """Drop everything saved for backward (called after backward)."""
        d = self.__dict__
        keep = {"edges": None, "in_meta": None, "needs_input_grad": None, "n_outputs": d.get("n_outputs", 1)}
        d.clear()
        d.update(keep)
        d["_released"] = True

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"

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


def _plain(a):
    return Tensor._make(a, False, None)


def _tracked(a, fn, idx):
    if a.dtype.kind not in "fc":  # integer outputs (e.g. argmax indices) carry no gradient
        return Tensor._make(a, False, None)
    return Tensor._make(a, True, fn, idx)


from ..tensor import Tensor  # noqa: E402  (cycle: tensor imports ops lazily)
