"""Sanity checks for explanations (Adebayo et al. 2018): a map that explains
the model must change when the model's weights are destroyed.  Cascading
randomisation re-initialises the layers one at a time from the output down
and, after each, compares the new maps with the trained model's by Spearman
rank correlation.  Maps that stay highly correlated explain the input (edge
detection), not the model."""
import copy

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..tensor import Tensor
from ._grad import as_array, logits_of, model_state, resolve_target


def rankdata(a):
    """Ranks 1..n of a 1-D array; tied values get the mean of their ranks."""
    a = np.asarray(a).reshape(-1)
    order = np.argsort(a, kind="mergesort")
    s = a[order]
    first = np.concatenate([[True], s[1:] != s[:-1]])
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(a)))
    ranks = np.empty(len(a), np.float64)
    ranks[order] = (starts + (counts + 1) / 2.0)[group]
    return ranks


def spearman(a, b):
    """Spearman rank correlation of two equally sized arrays (flattened): the
    Pearson correlation of their ranks; nan when one of them is constant."""
    ra, rb = rankdata(a), rankdata(b)
    if ra.shape != rb.shape:
        raise ValueError(f"spearman: arrays have {ra.size} and {rb.size} elements")
    ra -= ra.mean()
    rb -= rb.mean()
    den = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / den) if den > 0 else float("nan")


def _layers_top_down(model):
    """(name, module) of the modules holding their own parameters, output side first."""
    named = [(n, m) for n, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))]
    return named[::-1]


def _randomise(module, seed):
    """Re-initialise ``module``'s own parameters: its ``reset_parameters`` when
    it has one (the initial distribution), else a Gaussian with the weights'
    std.  dalam's global RNG is saved and restored around it."""
    state = backend.get_rng_state()
    try:
        backend.set_rng_state(np.random.default_rng(seed).bit_generator.state)
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
        else:
            rng = np.random.default_rng(seed)
            for p in module.parameters(recurse=False):
                std = float(p._data.std()) or 0.02
                p._data[...] = rng.normal(0.0, std, p._data.shape).astype(p._data.dtype)
    finally:
        backend.set_rng_state(state)


def cascading_randomization(model, x, explain, target=None, abs=True, seed=0, layers=None, mask=None):
    """Run the cascading model-parameter randomisation test on a copy of
    ``model`` (the model itself is not changed).

    ``explain(model, x, target)`` returns maps (N, ...) (e.g. ``saliency`` or
    ``lambda m, x, t: grad_cam(m, x, m[4], t)`` - resolve layers on the model
    it is given).  The target is fixed to the trained model's prediction
    (unless given).  ``abs`` compares magnitudes.  ``layers``: names of
    modules to randomise, in order (default: every module with parameters,
    from the output down).  ``mask``: a boolean array broadcastable to the
    maps' shape; only those entries are ranked (e.g. ``x > 0`` leaves out the
    black background, where Gradient x Input style maps are 0 for every
    model).  Returns a list of dicts, first the trained model:
    ``{"layer": name ('' = none randomised), "spearman": mean over inputs,
    "per_input": array}``."""
    caller = "cascading_randomization"
    xa = as_array(x, "x", caller)
    work = copy.deepcopy(model)
    with model_state(work, freeze=False), grad_mode.no_grad():
        out = logits_of(work(Tensor._make(xa, False, None)), caller)
        t = resolve_target(target, out, caller)

    def maps(m):
        e = explain(m, xa, t)
        e = np.asarray(e._data if isinstance(e, Tensor) else e, np.float64)
        e = np.abs(e) if abs else e
        if mask is None:
            return list(e.reshape(len(xa), -1))
        keep = np.broadcast_to(np.asarray(mask, bool), e.shape)
        return [e[k][keep[k]] for k in range(len(xa))]

    base = maps(work)
    named = dict(work.named_modules())
    order = _layers_top_down(work) if layers is None else [(n, named[n]) for n in layers]
    results = [{"layer": "", "spearman": 1.0, "per_input": np.ones(len(xa))}]
    for i, (name, module) in enumerate(order):
        _randomise(module, seed + i)
        cur = maps(work)
        rho = np.array([spearman(base[k], cur[k]) for k in range(len(xa))])
        results.append({"layer": name, "spearman": float(np.nanmean(rho)), "per_input": rho})
    return results
