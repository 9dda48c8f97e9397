"""The backward engine: reverse topological traversal, iterative.

Two passes over the graph of ``Function`` nodes reachable from the roots:
1. count, for each node, how many consumers will send it a gradient;
2. process nodes in Kahn order (a node runs once all its consumers have run),
   so each node's backward is called exactly once with its summed gradient.
No recursion: a chain of 100,000 ops is just a longer loop.
"""
import weakref

from ..backend import xp
from . import grad_mode
from .sparse_rows import SparseRows as _SparseRows

_gstate = grad_mode.state

# Post-accumulate-grad hooks live in the leaf's own hook list (so they die with
# it), wrapped so that the grad-hook loop passes over them; this table only
# notes which live tensors have one: id(leaf) -> weakref.  While it is not
# empty, backward finalises each leaf's .grad as soon as its last gradient
# contribution has arrived (not at the end) and then calls the hooks:
# DistributedDataParallel starts its all-reduces from there, during backward.
_post_hooked = {}
# callbacks queued during a backward (queue_callback), one list per running backward
_callbacks = []


class _PostAccumulateHook:
    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, grad):  # as a grad hook: leave the gradient alone
        return None


def _forget(key):
    try:
        _post_hooked.pop(key, None)
    except (AttributeError, TypeError):  # interpreter shutdown
        pass


def register_post_accumulate_grad_hook(t, hook):
    key = id(t)
    ref = _post_hooked.get(key)
    if ref is None or ref() is not t:
        _post_hooked[key] = weakref.ref(t, lambda _r, k=key: _forget(k))
    if t._hooks is None:
        t._hooks = []
    w = _PostAccumulateHook(hook)
    t._hooks.append(w)
    return _PostHookHandle(t, w)


class _PostHookHandle:
    def __init__(self, t, w):
        self._ref, self._w = weakref.ref(t), w

    def remove(self):
        t = self._ref()
        if t is None or not t._hooks:
            return
        try:
            t._hooks.remove(self._w)
        except ValueError:
            return
        if not any(type(h) is _PostAccumulateHook for h in t._hooks):
            _post_hooked.pop(id(t), None)


def queue_callback(fn):
    """Run ``fn()`` once the backward pass now running has finished (every
    leaf's .grad written); as PyTorch's ``Variable._execution_engine.queue_callback``."""
    if not _callbacks:
        raise RuntimeError("queue_callback: can only be called during a backward pass (from a hook)")
    _callbacks[-1].append(fn)


def _sum_to_shape(g, shape):
    """Reduce a broadcast gradient back to ``shape`` (numpy arrays)."""
    if g.shape == shape:
        return g
    nd = g.ndim - len(shape)
    if nd < 0:
        return xp.broadcast_to(g, shape)  # a scalar grad for a bigger input
    axes = list(range(nd))
    for i, s in enumerate(shape):
        if s == 1 and g.shape[nd + i] != 1:
            axes.append(nd + i)
    if axes:
        g = g.sum(axis=tuple(axes), keepdims=True)
    if nd:
        g = g.reshape(shape)
    elif g.shape != shape:
        g = g.reshape(shape)
    return g


def _sum_to_shape_t(g, shape):
    """Tensor version for create_graph=True."""
    if tuple(g.shape) == shape:
        return g
    nd = g.ndim - len(shape)
    axes = list(range(nd))
    for i, s in enumerate(shape):
        if s == 1 and g.shape[nd + i] != 1:
            axes.append(nd + i)
    if axes:
        g = g.sum(dim=tuple(axes), keepdim=True)
    return g.reshape(shape)


def _fix(g, meta, create_graph):
    shape, dtype = meta
    if create_graph:
        g = _sum_to_shape_t(g, shape)
        if g.dtype != dtype:
            g = g.to(dtype)
        return g
    if g.shape != shape:
        g = _sum_to_shape(g, shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def run_backward(roots, grads, retain_graph=False, create_graph=False, inputs=None,
                 allow_unused=False, accumulate=True):
    """Backpropagate ``grads`` from ``roots``.

    accumulate=True: add into the ``.grad`` of leaves (Tensor.backward).
    accumulate=False: return the gradients of ``inputs`` (autograd.grad).
    Callbacks queued during the pass (``queue_callback``) run at its end.
    """
    queued = []
    _callbacks.append(queued)
    try:
        out = _backward(roots, grads, retain_graph, create_graph, inputs, allow_unused, accumulate)
    finally:
        _callbacks.pop()
    for fn in queued:
        fn()
    return out


def _backward(roots, grads, retain_graph, create_graph, inputs, allow_unused, accumulate):
    from ..tensor import Tensor

    # gradient buffers: node -> list per output; leaves -> accumulated grad
    buffers = {}
    leaf_grads = {}
    capture = None
    if inputs is not None:
        capture = {}
        for t in inputs:
            if t.grad_fn is not None:
                capture[(id(t.grad_fn), t._output_nr)] = None

    starts = []
    for r, g in zip(roots, grads):
        if not r.requires_grad:
            raise RuntimeError(
                "backward: the tensor does not require grad and has no grad_fn; "
                "did you create it under no_grad(), or forget requires_grad=True on the inputs?")
        if r.grad_fn is None:
            _add_leaf(leaf_grads, r, g, create_graph)
            continue
        fn = r.grad_fn
        buf = buffers.get(fn)
        if buf is None:
            buf = buffers[fn] = [None] * fn.n_outputs
        i = r._output_nr
        buf[i] = g if buf[i] is None else buf[i] + g
        starts.append(fn)

    # pass 1: dependency counts (deps doubles as the "seen" set); with post-accumulate
    # hooks about, also how many edges lead into each leaf, to finalise it early
    early = accumulate and not create_graph and bool(_post_hooked)
    leaf_deps = {} if early else None
    handed = set()
    deps = {}
    stack = []
    for fn in starts:
        if fn not in deps:
            deps[fn] = 0
            stack.append(fn)
    while stack:
        fn = stack.pop()
        edges = fn.edges
        if edges is None or fn._released:
            raise RuntimeError(
                f"backward: trying to backward through the graph a second time (node "
                f"{type(fn).__name__}); its saved values were freed after the first backward. "
                "Pass retain_graph=True to the first backward() if you need to call it twice.")
        for e in edges:
            if type(e) is tuple:  # (node, output_nr); leaves are Tensors, constants None
                nxt = e[0]
                if nxt in deps:
                    deps[nxt] += 1
                else:
                    deps[nxt] = 1
                    stack.append(nxt)
            elif early and e is not None:
                leaf_deps[id(e)] = leaf_deps.get(id(e), 0) + 1

    # pass 2: Kahn order; grad mode set directly (a context manager per call costs more)
    ready = [fn for fn, d in deps.items() if d == 0]
    prev_mode = _gstate.enabled
    _gstate.enabled = bool(create_graph)
    try:
        while ready:
            fn = ready.pop()
            gouts = buffers.pop(fn, None)
            n_out = fn.n_outputs
            if gouts is None:
                gouts = [None] * n_out
            # hooks / retain_grad / captured inputs on this node's outputs
            if fn._hooks:
                for i, hooks in fn._hooks.items():
                    if gouts[i] is not None:
                        for h in hooks:
                            r = h(_as_tensor(gouts[i], create_graph))
                            if r is not None:
                                gouts[i] = r if create_graph else r._data
            if fn._retained:
                for i, ref in fn._retained.items():
                    t = ref()
                    if t is not None and gouts[i] is not None:
                        gi = _as_tensor(gouts[i], create_graph)
                        t.grad = gi if t.grad is None else t.grad + gi
            if capture is not None:
                for i in range(n_out):
                    k = (id(fn), i)
                    if k in capture and gouts[i] is not None:
                        capture[k] = gouts[i] if capture[k] is None else capture[k] + gouts[i]
            edges = fn.edges
            if n_out == 1:
                live = gouts[0] is not None
            else:
                live = False
                for g in gouts:
                    if g is not None:
                        live = True
                        break
            if not live:
                grads_in = None
            else:
                if fn._checks or fn.saves_output:
                    fn.check_versions()
                if n_out > 1 and fn._materialize_grads and any(g is None for g in gouts):  # not `None in`: arrays
                    gouts = [g if g is not None else _zeros_for(fn, i, create_graph)
                             for i, g in enumerate(gouts)]
                if create_graph:
                    bg = getattr(fn, "backward_graph", None)
                    if bg is None:
                        raise RuntimeError(
                            f"{type(fn).__name__} does not support double backward "
                            "(create_graph=True); no backward_graph is defined for it.")
                    res = bg(*gouts)
                elif n_out == 1:
                    res = fn.backward(gouts[0])
                else:
                    res = fn.backward(*gouts)
                if type(res) is not tuple and type(res) is not list:
                    res = (res,)
                # options passed positionally (axes, shape...) are constant inputs: a
                # backward may leave out their trailing None gradients
                if len(res) != len(edges) and not (
                        len(res) < len(edges) and all(e is None for e in edges[len(res):])):
                    raise RuntimeError(
                        f"{type(fn).__name__}.backward returned {len(res)} gradients for "
                        f"{len(edges)} inputs")
                grads_in = res
            metas = fn.in_meta
            if not retain_graph:
                fn.release()
            if grads_in is None:
                for e in edges:
                    if type(e) is tuple:
                        nxt = e[0]
                        d = deps[nxt] - 1
                        deps[nxt] = d
                        if d == 0:
                            ready.append(nxt)
                    elif early and e is not None:
                        _leaf_arrived(e, leaf_deps, leaf_grads, handed)
                continue
            for e, g, meta in zip(edges, grads_in, metas):
                if e is None:
                    continue
                if g is not None:
                    if create_graph:
                        if type(g) is _SparseRows:
                            g = g.to_dense()
                        g = _fix(g, meta, True)
                    else:
                        if g.shape != meta[0]:
                            g = _sum_to_shape(g, meta[0])
                        if g.dtype != meta[1]:
                            g = g.astype(meta[1])
                if type(e) is not tuple:  # a leaf tensor
                    if g is not None:
                        rec = leaf_grads.get(id(e))
                        leaf_grads[id(e)] = (e, g) if rec is None else (e, rec[1] + g)
                    if early:
                        _leaf_arrived(e, leaf_deps, leaf_grads, handed)
                    continue
                nxt, idx = e
                if g is not None:
                    if type(g) is _SparseRows:  # only leaves keep row-sparse gradients
                        g = g.to_dense()
                    buf = buffers.get(nxt)
                    if buf is None:
                        buf = buffers[nxt] = [None] * nxt.n_outputs
                    buf[idx] = g if buf[idx] is None else buf[idx] + g
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    ready.append(nxt)
    finally:
        _gstate.enabled = prev_mode

    if accumulate:
        for t, g in leaf_grads.values():
            _accumulate(t, g, create_graph, handed)
        return None

    out = []
    for t in inputs:
        if t.grad_fn is None:
            rec = leaf_grads.get(id(t))
            g = rec[1] if rec is not None else None
            if rec is not None and t._hooks:
                for h in t._hooks:
                    r = h(_as_tensor(g, create_graph))
                    if r is not None:
                        g = r if create_graph else r._data
        else:
            g = capture.get((id(t.grad_fn), t._output_nr))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "autograd.grad: one of the inputs was not used in the graph of the outputs; "
                    "pass allow_unused=True to get None for it.")
            out.append(None)
        else:
            out.append(_as_tensor(g, create_graph))
    return tuple(out)


def _accumulate(t, g, create_graph, handed):
    """Run the leaf's grad hooks, add ``g`` into ``t.grad``, then its post-accumulate hooks."""
    from ..tensor import Tensor
    if t._hooks:
        for h in t._hooks:
            r = h(_as_tensor(g, create_graph))
            if r is not None:
                g = r if create_graph else r._data
    if create_graph:
        t.grad = g if t.grad is None else t.grad + g
    elif type(g) is _SparseRows:  # Embedding(sparse=True): keep the rows, never densify
        from ..sparse_grad import SparseTensor as _SparseTensor
        if t.grad is None:
            t.grad = _SparseTensor.wrap(g)
        elif t.grad.is_sparse:
            t.grad = _SparseTensor.wrap(t.grad._sp + g)
        else:
            g.add_to_(t.grad._data)
    elif t.grad is not None and t.grad.is_sparse:
        t.grad = Tensor._make(t.grad._sp + g, False, None)
    elif t.grad is None:
        # own the array: a gradient may alias another leaf's or be a read-only view
        if g.base is not None or not g.flags.writeable or id(g) in handed:
            g = g.copy()
        handed.add(id(g))
        t.grad = Tensor._make(g, False, None)
    else:
        old = t.grad._data
        if old.shape == g.shape and old.flags.writeable:
            xp.add(old, g, out=old, casting="unsafe")
        else:
            t.grad._data = old + g
    if t._hooks:
        for h in tuple(t._hooks):
            if type(h) is _PostAccumulateHook:
                h.fn(t)


def _leaf_arrived(e, leaf_deps, leaf_grads, handed):
    """One edge into leaf ``e`` is done; after its last one, write its .grad now."""
    k = id(e)
    d = leaf_deps[k] - 1
    leaf_deps[k] = d
    if d == 0:
        rec = leaf_grads.pop(k, None)
        if rec is not None:
            _accumulate(e, rec[1], False, handed)


def _add_leaf(leaf_grads, t, g, create_graph):
    rec = leaf_grads.get(id(t))
    if rec is None:
        leaf_grads[id(t)] = (t, g)
    else:
        leaf_grads[id(t)] = (t, rec[1] + g)


def _as_tensor(g, create_graph):
    from ..tensor import Tensor
    if isinstance(g, Tensor):
        return g
    if type(g) is _SparseRows:
        from ..sparse_grad import SparseTensor
        return SparseTensor.wrap(g)
    return Tensor._make(g, False, None)


def _zeros_for(fn, i, create_graph):
    shape, dtype = fn._out_meta[i]
    z = xp.zeros(shape, dtype)
    return _as_tensor(z, True) if create_graph else z
