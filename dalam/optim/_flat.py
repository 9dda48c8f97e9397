"""One update over flat buffers for a group of many small tensors.

Per tensor, an update costs about a dozen NumPy calls (~15 us of Python for
Adam) whatever the tensor's size; a model with hundreds of small tensors
(biases, norms) pays that hundreds of times.  Here the optimiser's buffers for
a group live in one flat array per name (the per-parameter state tensors are
views into it, so ``state[p]`` and ``state_dict`` look as usual); each step
gathers parameters and gradients with one ``concatenate`` each, runs the
optimiser's ``_math`` once on the flat arrays and copies the parameters back:
two calls per tensor instead of a dozen.  The element-wise operations are the
same, so the result is bit-identical to the per-tensor path.

The layout is rebuilt (buffers copied in) whenever it no longer matches: other
tensors have gradients this step, ``load_state_dict`` replaced the state, a
parameter changed dtype or shape.  Groups it cannot serve (mixed dtypes, mixed
step counts) fall back to the per-tensor path.
"""
import numpy as np

from ..tensor import Tensor

_MIN_TENSORS = 4
_SMALL = 1 << 13  # elements; measured break-even ~10k (benchmarks/bench_optim.py)


def split_small(params):
    """Auto mode: (small tensors to fuse, the rest).  For a big tensor the extra
    gather and copy-back passes cost more than the calls they save, so only
    tensors of at most ``_SMALL`` elements go flat, and only when there are
    at least ``_MIN_TENSORS`` of them."""
    small = [p for p in params if p._data.size <= _SMALL]
    if len(small) < _MIN_TENSORS:
        return [], params
    if len(small) == len(params):
        return params, []
    return small, [p for p in params if p._data.size > _SMALL]


class _Layout:
    __slots__ = ("ids", "names", "state", "states", "shapes", "dtype", "flats", "tensors", "P", "G",
                 "pviews", "step", "fresh")


def _build(opt, params, spec):
    dtype = params[0]._data.dtype
    if any(p._data.dtype != dtype for p in params) or len({id(p) for p in params}) != len(params):
        return None  # mixed dtypes, or a tensor listed twice: per-tensor path
    need_state = bool(spec) or opt._counts_steps  # plain SGD keeps no state
    states = [opt.state[p] if need_state else None for p in params]
    steps = {st.get("step", 0) for st in states} if opt._counts_steps else {0}
    if len(steps) != 1:
        return None
    sizes = [p._data.size for p in params]
    total = sum(sizes)
    bounds = np.cumsum([0] + sizes)
    lay = _Layout()
    lay.fresh = False
    lay.flats, lay.tensors = {}, {}
    if opt._counts_steps:
        for st in states:
            st.setdefault("step", 0)
    for name, fill in spec:
        have = [st.get(name) is not None for st in states]
        if any(have) and not all(have):
            return None  # some buffers exist, some would be made: per-tensor path
        flat = np.empty(total, dtype)
        views = []
        for i, (p, st) in enumerate(zip(params, states)):
            v = flat[bounds[i]:bounds[i + 1]].reshape(p._data.shape)
            if have[i]:
                v[...] = st[name]._data
            else:
                v[...] = 0.0 if fill is None else fill
                lay.fresh = True
            t = Tensor._make(v, False, None)
            st[name] = t
            views.append(t)
        lay.flats[name] = flat
        lay.tensors[name] = views
    lay.ids = tuple(map(id, params))
    lay.names = tuple(n for n, _ in spec)
    lay.state = opt.state
    lay.states = states
    lay.shapes = [p._data.shape for p in params]
    lay.dtype = dtype
    lay.P = np.empty(total, dtype)
    lay.G = np.empty(total, dtype)
    lay.pviews = [lay.P[bounds[i]:bounds[i + 1]].reshape(p._data.shape)
                  for i, p in enumerate(params)]
    lay.step = steps.pop()
    return lay


def _valid(lay, opt, params, names):
    if lay.state is not opt.state or lay.names != names or lay.ids != tuple(map(id, params)):
        return False
    dtype = lay.dtype
    for i, p in enumerate(params):
        d = p._data
        if d.dtype != dtype or d.shape != lay.shapes[i]:
            return False
        st = lay.states[i]
        if st is None:
            continue
        if opt.state.get(p) is not st:
            return False
        if opt._counts_steps and st.get("step", 0) != lay.step:
            return False
        for name in names:
            if st.get(name) is not lay.tensors[name][i]:
                return False
    return True


def update(opt, group, params):
    """Run ``opt._math`` once over the group; False when the group cannot be
    fused (the caller then updates tensor by tensor)."""
    for p in params:
        if p.grad._data.shape != p._data.shape:
            return False  # the per-tensor path raises the clear error
    spec = opt._state_spec(group)
    names = tuple(n for n, _ in spec)
    key = id(group)
    lay = opt._flat_cache.get(key)
    if lay is None or not _valid(lay, opt, params, names):
        lay = _build(opt, params, spec)
        if lay is None:
            opt._flat_cache.pop(key, None)
            return False
        opt._flat_cache[key] = lay
    np.concatenate([p.grad._data.reshape(-1) for p in params], out=lay.G, casting="same_kind")
    np.concatenate([p._data.reshape(-1) for p in params], out=lay.P)
    step = lay.step + 1 if opt._counts_steps else 0
    if opt._counts_steps:
        for st in lay.states:
            st["step"] = step
        lay.step = step
    wd = opt._l2_decay(group)
    g = opt._adjust(lay.P, lay.G, group.get("maximize", False), wd)
    bufs = {name: lay.flats[name] for name in names}
    opt._math(group, lay.P, g, bufs, step, lay.fresh)
    lay.fresh = False
    for p, v in zip(params, lay.pviews):
        np.copyto(p._data, v)
    return True
