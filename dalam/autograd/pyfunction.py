"""``torch.autograd.Function`` written PyTorch's way.

::

    class Exp(dalam.autograd.Function):
        @staticmethod
        def forward(ctx, x):               # Tensors (and any other arguments) in
            y = x.exp()
            ctx.save_for_backward(y)
            return y                       # a Tensor, or a tuple of them, out

        @staticmethod
        def backward(ctx, gy):             # one gradient per output, as Tensors
            (y,) = ctx.saved_tensors
            return gy * y                  # one gradient (or None) per forward argument

    y = Exp.apply(x)

``forward`` runs with grad mode off; when an input requires grad, ``apply``
records one graph node, which is also the ``ctx``.  A backward written with
Tensor ops supports double backward (``create_graph=True``): it then runs with
grad mode on, and ``ctx.saved_tensors`` are the tensors saved in forward, still
connected to their graph.  ``forward(*args)`` plus a separate
``setup_context(ctx, inputs, output)`` (PyTorch 2's style) works too.

A subclass is PyTorch-style when its ``forward`` is a ``staticmethod``;
``Function`` subclasses with ``forward(self, *arrays)`` keep dalam's own array
style (dalam/autograd/function.py).
"""
import functools

from ..backend import xp
from . import grad_mode
from .function import Function

_state = grad_mode.state


class FunctionCtx:
    """What ``forward``/``backward`` of a PyTorch-style Function get as ``ctx``
    (the graph node itself is a subclass of this)."""
    _saved = ()
    _saved_versions = ()
    _non_diff = ()
    _dirty = ()
    materialize_grads = True
    _nig = ()

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save Tensors (or None), got {type(t).__name__}; "
                    "keep other values as attributes of ctx (ctx.alpha = alpha)")
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else t._vc[0] for t in tensors)

    @property
    def saved_tensors(self):
        if self.__dict__.get("_released"):
            raise RuntimeError(
                "saved_tensors: trying to backward through the graph a second time (or to read "
                "saved tensors after backward freed them); pass retain_graph=True to the first "
                "backward() if you need to call it twice.")
        for i, (t, v) in enumerate(zip(self._saved, self._saved_versions)):
            if t is not None and t._vc[0] != v:
                raise RuntimeError(
                    f"{type(self).__name__}: saved tensor {i} (shape {tuple(t.shape)}, dtype "
                    f"{t.dtype}) was modified in place after save_for_backward (version {v} -> "
                    f"{t._vc[0]}). Clone it before modifying it.")
        return tuple(self._saved)

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = tuple(tensors)

    def mark_dirty(self, *tensors):
        self._dirty = tuple(tensors)

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    @property
    def needs_input_grad(self):
        """Per forward argument: does it need a gradient (backward may skip the others)."""
        return self._nig


class _PyNode(FunctionCtx, Function):
    """The graph node of one call of a PyTorch-style Function."""
    _fn = None           # the user's Function subclass
    _materialize_grads = False  # the engine leaves missing gradients as None: we fill them

    def release(self):
        """Free what forward saved; attributes the user set on ctx stay (as in PyTorch)."""
        d = self.__dict__
        for k in ("_saved", "_saved_versions", "edges", "in_meta"):
            d.pop(k, None)
        d["in_meta"] = None
        d["_released"] = True

    def backward(self, *gouts):  # arrays in/out (plain backward, grad mode off)
        grads = [None if g is None else Tensor._make(g, False, None) for g in gouts]
        res = self._call_backward(grads)
        return tuple(None if g is None else g._data for g in res)

    def backward_graph(self, *gouts):  # Tensors in/out, grad mode on (create_graph=True)
        return self._call_backward(list(gouts))

    def _call_backward(self, grads):
        if self.materialize_grads:
            for i, g in enumerate(grads):
                if g is None and self._out_meta[i] is not None:
                    shape, dtype = self._out_meta[i]
                    grads[i] = Tensor._make(xp.zeros(shape, dtype), False, None)
        res = self._fn.backward(self, *grads)
        if not isinstance(res, (tuple, list)):
            res = (res,)
        n_in = len(self._nig)
        name = self._fn.__name__
        if len(res) > n_in and all(r is None for r in res[n_in:]):
            res = res[:n_in]
        if len(res) != n_in:
            raise RuntimeError(
                f"{name}.backward returned {len(res)} gradients, but forward took {n_in} "
                "arguments: return one gradient (or None) per forward argument")
        out = []
        for i, (g, need, meta) in enumerate(zip(res, self._nig, self.in_meta)):
            if g is None or not need:
                if g is not None and self._arg_kinds[i] is False:
                    raise RuntimeError(
                        f"{name}.backward returned a gradient different from None at position "
                        f"{i}, but forward argument {i} is not a Tensor; return None there")
                out.append(None)
                continue
            if not isinstance(g, Tensor):
                g = Tensor._make(xp.asarray(g, meta[1]), False, None)
            if g.shape != meta[0]:
                try:
                    xp.broadcast_shapes(g.shape, meta[0])
                    ok = len(g.shape) >= len(meta[0])
                except ValueError:
                    ok = False
                if not ok:
                    raise RuntimeError(
                        f"{name}.backward returned an invalid gradient at index {i}: got shape "
                        f"{tuple(g.shape)} but expected shape compatible with {tuple(meta[0])}")
            out.append(g)
        return tuple(out)


def _node_class(cls):
    node = cls.__dict__.get("_node_cls")
    if node is None:
        node = type(cls.__name__, (_PyNode,), {"_fn": cls, "__module__": cls.__module__})
        cls._node_cls = node
    return node


def apply_pytorch_style(cls, *args, **kwargs):
    """``Function.apply`` for PyTorch-style subclasses (see the module docstring)."""
    if kwargs:
        raise TypeError(f"{cls.__name__}.apply takes positional arguments only (as in PyTorch)")
    ctx = object.__new__(_node_class(cls))
    record = False
    kinds = []
    nig = []
    if _state.enabled:
        for a in args:
            need = isinstance(a, Tensor) and a.requires_grad
            nig.append(need)
            record = record or need
    else:
        nig = [False] * len(args)
    for a in args:
        kinds.append(isinstance(a, Tensor))
    ctx._nig = tuple(nig)
    ctx._arg_kinds = kinds
    setup = _setup_context(cls)
    prev = _state.enabled
    _state.enabled = False
    try:
        if setup is None:
            out = cls.forward(ctx, *args)
        else:
            out = cls.forward(*args)
            setup(ctx, args, out)
    finally:
        _state.enabled = prev
    if not record:
        return out
    single = not isinstance(out, tuple)
    outs = (out,) if single else out
    # edges for the inputs: leaves, (node, output_nr), or None (no gradient)
    edges, meta = [], []
    for a, need in zip(args, nig):
        if need:
            edges.append(a if a.grad_fn is None else (a.grad_fn, a._output_nr))
            meta.append((a._data.shape, a._data.dtype))
        else:
            edges.append(None)
            meta.append(None)
    ctx.edges = edges
    ctx.in_meta = meta
    ctx.n_outputs = len(outs)
    non_diff = {id(t) for t in ctx._non_diff}
    dirty = {id(t) for t in ctx._dirty}
    inputs = {id(a) for a in args if isinstance(a, Tensor)}
    out_meta, wrapped = [], []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            out_meta.append(None)
            wrapped.append(o)
            continue
        out_meta.append((o._data.shape, o._data.dtype))
        if id(o) in non_diff or o._data.dtype.kind not in "fc":
            if id(o) in inputs and id(o) not in dirty:
                o = Tensor._make(o._data, False, None, 0, o._vc)
            wrapped.append(o)
            continue
        if id(o) in dirty:
            if o.grad_fn is None and o.requires_grad:
                raise RuntimeError(
                    f"{cls.__name__}: a leaf Variable that requires grad is being used in an "
                    "in-place operation (mark_dirty); clone it first")
            w = o  # rebase the modified input's history onto this node
        elif id(o) in inputs:
            w = Tensor._make(o._data, False, None, 0, o._vc)  # an input returned as is: a view
        else:
            w = o  # a tensor made inside forward: it becomes the output itself
        w.grad_fn = ctx
        w.requires_grad = True
        w._output_nr = i
        wrapped.append(w)
    ctx._out_meta = out_meta
    return wrapped[0] if single else tuple(wrapped)


def _setup_context(cls):
    return getattr(cls, "setup_context", None)


def once_differentiable(fn):
    """Decorator for a PyTorch-style ``backward`` that is not itself
    differentiable: it runs under ``no_grad``, and differentiating its result
    (double backward) raises instead of silently giving zeros."""
    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with grad_mode.no_grad():
            res = fn(ctx, *grads)
        if not _state.enabled:
            return res
        single = not isinstance(res, (tuple, list))
        res = [res] if single else list(res)
        live = [g for g in grads if isinstance(g, Tensor) and g.requires_grad]
        live += [t for t in ctx.__dict__.get("_saved", ()) if t is not None and t.requires_grad]
        if live:
            res = [_OnceDifferentiableError.apply(r, *live) if isinstance(r, Tensor) else r
                   for r in res]
        return res[0] if single else tuple(res)
    return wrapper


class _OnceDifferentiableError(Function):
    saves = ()

    def forward(self, x, *others):
        return x

    def backward(self, g):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable")

    backward_graph = backward


from ..tensor import Tensor  # noqa: E402
