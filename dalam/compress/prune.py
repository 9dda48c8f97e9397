"""Unstructured magnitude pruning with masks that survive training.

Mechanism (simpler than ``torch.nn.utils.prune``'s ``weight_orig`` +
``weight_mask`` re-parametrisation, and documented here): the Parameter
``weight`` stays where it is (so ``state_dict`` keys and optimiser references
do not change) and holds exact zeros at pruned entries; a persistent buffer
``weight_mask`` (1 = kept, 0 = pruned, the weight's dtype, as PyTorch's) sits
next to it.  Three guards keep pruned entries at zero:

- a gradient hook multiplies the parameter's gradient by the mask, so the
  optimiser sees zero gradient there (re-attached by the pre-hook below
  when a ``copy.deepcopy`` of the model dropped it);
- a forward pre-hook re-applies the mask in place before every forward, so
  whatever changed the weight (Adam moments from before pruning, weight decay,
  ``load_state_dict``) the layer computes with the masked weight;
- ``mask_optimizer(optimizer, model)`` adds a step post-hook that re-applies
  every mask right after ``optimizer.step()``, so the stored weights are zero
  at all times (what a checkpoint or a sparsity count sees).

``remove(module, name)`` makes pruning permanent: the zeros stay in the
weight, the mask buffer and the hooks go.

``amount`` is the *target sparsity of the tensor* (a fraction of all its
entries, or an int count), not PyTorch's "fraction of the remaining entries":
pruning again to 0.8 after 0.5 leaves exactly 80% zeros.  Entries pruned
before stay pruned; ties are broken by position, so the count is exact.
"""
import numpy as np

from ..tensor import Tensor

__all__ = ["l1_unstructured", "global_unstructured", "custom_from_mask", "remove", "is_pruned",
           "prunable_parameters", "magnitude_prune", "iterative_prune", "mask_optimizer",
           "sparsity", "make_permanent"]

_DEFAULT_TYPES = ("Linear", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d")


def _count(amount, n, who):
    """Number of entries to prune out of ``n`` for ``amount`` (fraction or int)."""
    if isinstance(amount, (bool, np.bool_)):
        raise TypeError(f"{who}: amount must be a float in [0, 1] or an int, got {amount!r}")
    if isinstance(amount, (int, np.integer)):
        if not 0 <= amount <= n:
            raise ValueError(f"{who}: amount={amount} entries is out of range for a tensor of "
                             f"{n} entries")
        return int(amount)
    amount = float(amount)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"{who}: amount must be a fraction in [0, 1] (the target sparsity), "
                         f"got {amount}")
    return int(round(amount * n))


def _get(module, name, who):
    p = module._parameters.get(name) if hasattr(module, "_parameters") else None
    if p is None:
        raise ValueError(f"{who}: {type(module).__name__} has no parameter {name!r} to prune "
                         f"(parameters: {list(getattr(module, '_parameters', {}))})")
    return p


def _smallest(scores, k):
    """Boolean array, True at exactly the ``k`` smallest ``scores`` (ties by position)."""
    drop = np.zeros(scores.shape, bool)
    if k > 0:
        idx = np.argsort(scores, kind="stable")[:k]
        drop[idx] = True
    return drop


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` with a given 0/1 ``mask`` (same shape), combined
    (AND) with any mask already there; installs the buffer and the hooks."""
    p = _get(module, name, "custom_from_mask")
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.shape != p._data.shape:
        raise ValueError(f"custom_from_mask: mask shape {m.shape} does not match "
                         f"{type(module).__name__}.{name} shape {p._data.shape}")
    m = (m != 0).astype(p._data.dtype)
    key = name + "_mask"
    if key in module._buffers:  # already pruned: tighten the existing mask in place
        module._buffers[key]._data *= m
        m = module._buffers[key]._data
    else:
        module.register_buffer(key, Tensor._make(m, False, None))
        m = module._buffers[key]._data
        _install_hooks(module, name)
    p._data *= m  # in place: optimisers with flat buffers keep their views
    return module


class _MaskGrad:
    """Tensor hook: the gradient times the mask.  A callable object rather
    than a closure, so ``copy.deepcopy`` of a pruned model points the copy's
    hook at the copy's mask."""

    def __init__(self, module, key):
        self.module, self.key = module, key

    def __call__(self, g):
        mk = self.module._buffers.get(self.key)
        return g if mk is None else g * mk


class _Remask:
    """Forward pre-hook: re-apply the mask to the weight in place, and give the
    parameter its gradient hook back if it lost it (``copy.deepcopy`` of a
    Parameter, as in PyTorch, does not copy tensor hooks)."""

    def __init__(self, name):
        self.name = name

    def __call__(self, mod, args):
        mk = mod._buffers.get(self.name + "_mask")
        q = mod._parameters.get(self.name)
        if mk is not None and q is not None:
            q._data *= mk._data
            if q.requires_grad and not any(isinstance(h, _MaskGrad) and h.module is mod
                                           for h in (q._hooks or ())):
                handles = mod.__dict__.setdefault("_prune_handles", {})
                old = handles.get(self.name, (None, None))
                handles[self.name] = (q.register_hook(_MaskGrad(mod, self.name + "_mask")), old[1])
        return None


def _install_hooks(module, name):
    p = module._parameters[name]
    handles = module.__dict__.setdefault("_prune_handles", {})
    handles[name] = (p.register_hook(_MaskGrad(module, name + "_mask")) if p.requires_grad else None,
                     module.register_forward_pre_hook(_Remask(name)))


def l1_unstructured(module, name="weight", amount=0.5):
    """Zero the ``amount`` smallest-magnitude entries of ``module.<name>``
    (``amount``: target sparsity, fraction of all entries, or an int count)."""
    p = _get(module, name, "l1_unstructured")
    k = _count(amount, p._data.size, "l1_unstructured")
    scores = np.abs(p._data).ravel().astype(np.float64)
    old = module._buffers.get(name + "_mask")
    if old is not None:
        scores[old._data.ravel() == 0] = -1.0  # already pruned: first in line
    drop = _smallest(scores, k)
    if old is not None:
        drop |= old._data.ravel() == 0
    return custom_from_mask(module, name, (~drop).reshape(p._data.shape))


def global_unstructured(parameters, amount=0.5):
    """Magnitude pruning over several tensors at once: the ``amount`` smallest
    |w| of all of them together (layers with small weights lose more).
    ``parameters``: iterable of ``(module, name)``."""
    parameters = list(parameters)
    if not parameters:
        raise ValueError("global_unstructured: no (module, name) pairs given")
    flats, olds = [], []
    for mod, name in parameters:
        p = _get(mod, name, "global_unstructured")
        s = np.abs(p._data).ravel().astype(np.float64)
        old = mod._buffers.get(name + "_mask")
        if old is not None:
            s[old._data.ravel() == 0] = -1.0
        flats.append(s)
        olds.append(None if old is None else old._data.ravel() == 0)
    scores = np.concatenate(flats)
    k = _count(amount, scores.size, "global_unstructured")
    drop = _smallest(scores, k)
    start = 0
    for (mod, name), s, old in zip(parameters, flats, olds):
        d = drop[start:start + s.size]
        start += s.size
        if old is not None:
            d = d | old
        custom_from_mask(mod, name, (~d).reshape(mod._parameters[name]._data.shape))
    return parameters


def is_pruned(module):
    """True when ``module`` or any submodule carries a pruning mask."""
    return any(k.endswith("_mask") and k[:-5] in m._parameters
               for m in module.modules() for k in m._buffers)


def remove(module, name="weight"):
    """Make pruning permanent: the weight keeps its zeros; mask and hooks go."""
    key = name + "_mask"
    if key not in module._buffers:
        raise ValueError(f"remove: parameter {name!r} of {type(module).__name__} is not pruned "
                         "(no mask found)")
    p = module._parameters[name]
    p._data *= module._buffers[key]._data
    del module._buffers[key]
    gh, fh = module.__dict__.get("_prune_handles", {}).pop(name, (None, None))
    if gh is not None:
        gh.remove()
    if fh is not None:
        fh.remove()
    return module


def make_permanent(model):
    """``remove`` on every pruned parameter of ``model``; returns the model."""
    for m in model.modules():
        for key in [k for k in m._buffers if k.endswith("_mask") and k[:-5] in m._parameters]:
            remove(m, key[:-5])
    return model


def prunable_parameters(model, types=_DEFAULT_TYPES, name="weight"):
    """``[(module, 'weight')]`` for each layer of the given types (class names
    or classes; default Linear and convolutions), in model order."""
    names = {t if isinstance(t, str) else t.__name__ for t in types}
    return [(m, name) for m in model.modules()
            if type(m).__name__ in names and m._parameters.get(name) is not None]


def magnitude_prune(model, sparsity, scope="global", types=_DEFAULT_TYPES):
    """Prune the weights of ``model``'s Linear/Conv layers to ``sparsity``:
    ``scope='global'`` ranks all their weights together, ``'layer'`` prunes
    each layer to the same sparsity.  Returns the (module, name) list."""
    params = prunable_parameters(model, types)
    if not params:
        raise ValueError(f"magnitude_prune: {type(model).__name__} has no layers of types {types}")
    if scope == "global":
        return global_unstructured(params, sparsity)
    if scope == "layer":
        for m, n in params:
            l1_unstructured(m, n, sparsity)
        return params
    raise ValueError(f"magnitude_prune: scope must be 'global' or 'layer', got {scope!r}")


def iterative_prune(model, schedule, finetune=None, scope="global", types=_DEFAULT_TYPES):
    """Prune in rounds, e.g. ``schedule=[0.5, 0.8, 0.9]``, calling
    ``finetune(model, round_index, sparsity)`` after each round (train a few
    steps there: masks keep pruned weights at zero).  Returns a list of
    whatever ``finetune`` returned per round."""
    out = []
    for i, s in enumerate(schedule):
        magnitude_prune(model, s, scope, types)
        out.append(finetune(model, i, s) if finetune is not None else None)
    return out


def mask_optimizer(optimizer, model):
    """Re-apply ``model``'s masks right after every ``optimizer.step()``;
    returns the hook handle (``handle.remove()`` to undo)."""

    def apply_masks(opt, args, kwargs):
        for m in model.modules():
            for k, b in m._buffers.items():
                if k.endswith("_mask") and b is not None:
                    p = m._parameters.get(k[:-5])
                    if p is not None:
                        p._data *= b._data

    return optimizer.register_step_post_hook(apply_masks)


def sparsity(obj, types=_DEFAULT_TYPES):
    """Fraction of exact zeros: of a Tensor/array, or over the weights of a
    model's Linear/Conv layers."""
    if isinstance(obj, (Tensor, np.ndarray)):
        a = obj._data if isinstance(obj, Tensor) else obj
        return float((a == 0).sum()) / max(a.size, 1)
    params = prunable_parameters(obj, types)
    zeros = sum(int((m._parameters[n]._data == 0).sum()) for m, n in params)
    total = sum(m._parameters[n]._data.size for m, n in params)
    return zeros / max(total, 1)

