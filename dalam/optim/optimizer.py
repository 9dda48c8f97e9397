"""``Optimizer``: the base of every optimiser, with PyTorch's structure.

Parameters live in ``param_groups`` (a list of dicts: ``params`` plus that
group's hyper-parameters, missing ones taken from ``defaults``); per-parameter
buffers live in ``state[p]``.  ``state_dict()`` uses PyTorch's layout (state
keyed by the parameter's integer index over all groups, groups holding index
lists), so a checkpoint says nothing about object identity and can be saved
with ``dalam.save`` (tensors) plus JSON (the rest).

Subclasses write their maths once on numpy arrays (``_math``), in place with
``out=`` so a step builds no graph and allocates as little as it can; the base
runs it per tensor or, for groups of many small tensors, once over flat
buffers (``_flat.py``; the group option ``foreach`` forces either way).
"""
from collections import defaultdict
import copy
import warnings

import numpy as np

from ..autograd import grad_mode
from ..tensor import Tensor
from . import _flat


class _Required:
    """Marks a hyper-parameter that every group must give (no default)."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _as_tensor(v):
    """A state value (dalam Tensor, numpy array, torch tensor) as a dalam Tensor."""
    if isinstance(v, Tensor):
        return v
    if isinstance(v, np.ndarray):
        return Tensor._make(v, False, None)
    if hasattr(v, "detach") and hasattr(v, "numpy"):  # torch tensor, without importing torch
        return Tensor._make(np.array(v.detach().cpu().numpy()), False, None)
    return v


def _as_number(v):
    """'step' may arrive as a tensor (PyTorch keeps it as one); dalam keeps a number."""
    v = _as_tensor(v)
    if isinstance(v, Tensor):
        v = v._data.reshape(()).item()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return v


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``; ``params`` is an iterable
    of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter groups)."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch_bufs = {}
        self._flat_cache = {}
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, but got a "
                "single Tensor; pass model.parameters() or [tensor].")
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets changes between runs (which breaks "
                            "state_dict indices); pass a list instead.")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(dict(group))

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group (a dict with 'params'); hyper-parameters it does not give
        come from ``defaults``.  A parameter may belong to one group only."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: param_group must be a dict, got "
                            f"{type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets will change between runs. Please use a "
                            "list instead.")
        else:
            params = list(params)
        names = None
        if params and isinstance(params[0], tuple):
            names = [n for n, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (it was computed by an op); "
                                 "optimise the leaf it came from, or .detach().requires_grad_()")
            if p._data.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: can only optimize floating point tensors, "
                                f"got one of dtype {p._data.dtype}")
        param_group["params"] = params
        if names is not None:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization "
                                 f"parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error", stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self._check_group(param_group)
        self.param_groups.append(param_group)

    def _check_group(self, group):
        """Validate a group's hyper-parameters (subclasses raise ValueError)."""

    # ------------------------------------------------------------------ steps
    def zero_grad(self, set_to_none=True):
        """Drop the gradients (``set_to_none``) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none or g.is_sparse:
                    p.grad = None
                else:
                    g.grad_fn = None
                    g.requires_grad = False
                    g._data[...] = 0

    def step(self, closure=None):
        """One update of every parameter that has a gradient.  ``closure``
        (re-evaluates the model and returns the loss) runs with grad enabled."""
        hooks = self.__dict__.get("_step_hooks")
        if hooks:
            for hook in list(hooks["pre"].values()):
                hook(self, (), {})
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        prev = grad_mode.state.enabled
        grad_mode.state.enabled = False
        try:
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._update(group, params)
                    for p in params:
                        p._vc[0] += 1
        finally:
            grad_mode.state.enabled = prev
        if hooks:
            for hook in list(hooks["post"].values()):
                hook(self, (), {})
        return loss

    def register_step_pre_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; returns a
        handle with ``remove()``."""
        return self._add_hook("pre", hook)

    def register_step_post_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return self._add_hook("post", hook)

    def _add_hook(self, kind, hook):
        from ..nn.module import RemovableHandle
        hooks = self.__dict__.setdefault("_step_hooks", {"pre": {}, "post": {}})
        handle = RemovableHandle(hooks[kind])
        hooks[kind][handle.id] = hook
        return handle

    # ------------------------------------------------------------------ update drivers
    # A subclass gives the maths once, on plain arrays (``_math``), and names the
    # buffers it keeps (``_state_spec``).  Two drivers run it: tensor by tensor,
    # or once over flat copies of all the group's tensors (``_flat``), whose
    # buffers the per-parameter state tensors are views of.  Both apply the
    # same element-wise operations, so they give bit-identical results.
    _counts_steps = True  # keeps state['step']

    @staticmethod
    def _l2_decay(group):
        """The weight decay that enters the gradient (0 when decoupled, as AdamW's)."""
        if group.get("decoupled_weight_decay", False):
            return 0.0
        return group.get("weight_decay", 0.0)

    @staticmethod
    def _compat(name, differentiable=False, fused=None, capturable=False):
        """PyTorch-only switches: ``fused`` maps to dalam's flat path;
        ``capturable`` (CUDA graphs) changes nothing on the CPU; a
        differentiable step is not supported."""
        if differentiable:
            raise RuntimeError(f"{name}(differentiable=True): dalam's optimisers update in place "
                               "outside autograd; write the update with tensor ops to differentiate "
                               "through it")
        return fused

    def _state_spec(self, group):
        """``[(name, fill)]``: the per-parameter buffers this group's update uses
        (``fill`` None: made from the first gradient, as SGD's momentum)."""
        return []

    def _math(self, group, d, g, bufs, step, fresh):
        """Update parameter array ``d`` and the ``bufs`` arrays in place from the
        gradient ``g``; ``step`` counts this update (1 first), ``fresh`` says the
        buffers were just made."""
        raise TypeError(f"{type(self).__name__} does not define _math(); an Optimizer subclass "
                        "must implement it (or override _update)")

    def _update(self, group, params):
        if any(p.grad.is_sparse for p in params):  # Embedding(sparse=True) rows
            sparse = [p for p in params if p.grad.is_sparse]
            self._update_sparse(group, sparse)
            params = [p for p in params if not p.grad.is_sparse]
            if not params:
                return
        fused = group.get("foreach")
        if fused is None:
            small, rest = _flat.split_small(params)
        else:
            small, rest = (params, []) if fused else ([], params)
        if small and not _flat.update(self, group, small):
            rest = params
        if rest:
            self._update_each(group, rest)

    def _update_sparse(self, group, params):
        """Apply row-sparse gradients (SGD, Adagrad and SparseAdam override this)."""
        raise RuntimeError(
            f"{type(self).__name__} does not support sparse gradients (from Embedding(sparse=True), "
            f"parameter of shape {tuple(params[0].shape)}); use optim.SparseAdam, optim.SGD or "
            "optim.Adagrad for that table, or Embedding(sparse=False)")

    def _update_each(self, group, params):
        spec = self._state_spec(group)
        maximize = group.get("maximize", False)
        wd = self._l2_decay(group)
        need_state = bool(spec) or self._counts_steps  # plain SGD keeps no state
        for p in params:
            st = self.state[p] if need_state else None
            step = 0
            if self._counts_steps:
                step = st["step"] = st.get("step", 0) + 1
            fresh = False
            bufs = {}
            for name, fill in spec:
                t = st.get(name)
                if t is None:
                    t = st[name] = Tensor._make(
                        np.full(p._data.shape, 0.0 if fill is None else fill, p._data.dtype),
                        False, None)
                    fresh = True
                bufs[name] = t._data
            g = self._grad(p, maximize, wd)
            self._math(group, p._data, g, bufs, step, fresh)

    def _scratch(self, like, slot):
        """A reusable work array shaped like ``like`` (one growing flat buffer per
        dtype and slot), so a step allocates nothing after the first."""
        key = (like.dtype.str, slot)
        buf = self._scratch_bufs.get(key)
        if buf is None or buf.size < like.size:
            buf = self._scratch_bufs[key] = np.empty(like.size, like.dtype)
        return buf[:like.size].reshape(like.shape)

    def _grad(self, p, maximize=False, weight_decay=0.0):
        """The gradient array of ``p`` with PyTorch's order of adjustments."""
        g = p.grad._data
        d = p._data
        if g.shape != d.shape:
            raise RuntimeError(f"{type(self).__name__}: gradient of shape {g.shape} does not match "
                               f"its parameter's shape {d.shape}")
        if g.dtype != d.dtype:
            g = g.astype(d.dtype)
        return self._adjust(d, g, maximize, weight_decay)

    def _adjust(self, d, g, maximize, weight_decay):
        """``g`` negated when maximising, then ``+ weight_decay * d`` (L2 penalty).
        The result may be scratch memory: use it before the next call."""
        if maximize or weight_decay != 0:
            t = self._scratch(d, "g")
            if weight_decay != 0:
                np.multiply(d, weight_decay, out=t)
                if maximize:
                    np.subtract(t, g, out=t)
                else:
                    np.add(g, t, out=t)
            else:
                np.negative(g, out=t)
            g = t
        return g

    # ------------------------------------------------------------------ checkpoint
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``,
        PyTorch's layout.  Values are references (as in PyTorch): copy or save
        them before stepping again if you need a snapshot."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                if id(p) not in index:
                    index[id(p)] = len(index)
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: v for p, v in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore from ``state_dict()`` (ours, PyTorch's, or one that went through
        JSON with string keys).  Floating buffers are cast to their parameter's
        dtype; the hyper-parameters of each group are replaced by the saved ones."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError("load_state_dict: expected a dict with 'state' and 'param_groups' (what "
                             "Optimizer.state_dict() returns)")
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than this optimizer ({len(groups)})")
        for i, (g, sg) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group: group {i} has {len(sg['params'])} saved parameters, the "
                    f"optimizer has {len(g['params'])}")
        id_map = {}
        for g, sg in zip(groups, saved_groups):
            for saved_id, p in zip(sg["params"], g["params"]):
                id_map[int(saved_id)] = p
        state = defaultdict(dict)
        for k, v in state_dict.get("state", {}).items():
            k = int(k)
            if k not in id_map:
                state[k] = copy.deepcopy(v)
                continue
            p = id_map[k]
            state[p] = {name: self._load_value(p, name, val) for name, val in v.items()}
            for name, val in state[p].items():
                if isinstance(val, Tensor) and val._data.shape != p._data.shape:
                    raise ValueError(
                        f"load_state_dict: state '{name}' of parameter {k} has shape "
                        f"{tuple(val._data.shape)} but the parameter has shape {tuple(p._data.shape)}; "
                        "the checkpoint belongs to a different model or parameter order")
        new_groups = []
        for g, sg in zip(groups, saved_groups):
            ng = {k: copy.deepcopy(v) for k, v in sg.items() if k != "params"}
            if isinstance(ng.get("betas"), list):  # JSON turns tuples into lists
                ng["betas"] = tuple(ng["betas"])
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            new_groups.append(ng)
        self.state = state
        self.param_groups = new_groups
        self._flat_cache = {}

    @staticmethod
    def _load_value(p, name, value):
        if name == "step":
            return _as_number(value)
        value = _as_tensor(value)
        if isinstance(value, Tensor):
            arr = value._data
            if arr.dtype.kind == "f":
                arr = arr.astype(p._data.dtype, copy=True)
            else:
                arr = arr.copy()
            return Tensor._make(arr, False, None)
        return copy.deepcopy(value)

    # ------------------------------------------------------------------ repr
    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._scratch_bufs = {}
        self._flat_cache = {}
