"""What every explanation and attack needs: gradients of a model's output with
respect to its *input*, taken without side effects on the model.

``model_state`` runs a block with the model in a chosen mode and its
parameters left out of autograd (so backward skips the weight gradients it
does not need), then restores each submodule's ``training`` flag and each
parameter's ``requires_grad`` exactly; parameters' ``.grad`` is never touched
because ``dalam.autograd.grad`` returns gradients instead of accumulating them.
"""
import contextlib

import numpy as np

from ..autograd import grad as _autograd_grad
from ..autograd import grad_mode
from ..tensor import Tensor


@contextlib.contextmanager
def model_state(model, train=False, freeze=True):
    """Run the block with ``model.train(train)`` (None: leave the mode alone)
    and, if ``freeze``, no parameter requiring grad; restore both afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    params = [(p, p.requires_grad) for p in model.parameters()]
    try:
        if train is not None:
            model.train(bool(train))
        if freeze:
            for p, _ in params:
                p.requires_grad = False
        with grad_mode.enable_grad():
            yield model
    finally:
        for m, t in modes:
            m.training = t
        for p, r in params:
            p.requires_grad = r


def as_array(x, name, caller):
    """A floating-point numpy array from a Tensor or array-like (not copied)."""
    a = x._data if isinstance(x, Tensor) else np.asarray(x)
    if a.dtype.kind != "f":
        raise TypeError(f"{caller}: {name} must be a floating-point tensor (images scaled to a range "
                        f"such as [0, 1]); got dtype {a.dtype}. Convert it with .float().")
    return a


def like(arr, ref):
    """``arr`` as the same kind of object as ``ref`` (Tensor in, Tensor out)."""
    return Tensor(arr) if isinstance(ref, Tensor) else arr


def logits_of(out, caller):
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, Tensor):
        raise TypeError(f"{caller}: the model must return a Tensor of scores (N, classes); "
                        f"got {type(out).__name__}")
    return out


def resolve_target(target, logits, caller):
    """Class index per sample: None -> the predicted class."""
    n = logits.shape[0]
    if target is None:
        return logits._data.reshape(n, -1).argmax(1)
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    t = np.broadcast_to(t.astype(np.int64), (n,)) if t.ndim == 0 else t.astype(np.int64).reshape(-1)
    if t.shape[0] != n:
        raise ValueError(f"{caller}: target has {t.shape[0]} entries for a batch of {n} inputs; "
                         "pass one class index, or one per input")
    k = logits.shape[1]
    if t.size and (t.min() < 0 or t.max() >= k):
        raise IndexError(f"{caller}: target class {int(t.max() if t.max() >= k else t.min())} is "
                         f"outside [0, {k - 1}] (the model has {k} outputs)")
    return t


def class_score(logits, target):
    """Sum over the batch of each sample's target logit (samples are
    independent in eval mode, so its gradient gives every sample's own)."""
    n = logits.shape[0]
    flat = logits.reshape(n, -1)
    return flat[np.arange(n), target].sum()


def input_grad(model, x_arr, objective):
    """(d objective / d x, model output) for a numpy input; ``objective``
    maps the output Tensor to a scalar Tensor."""
    xt = Tensor._make(np.array(x_arr, copy=True), True, None)
    out = model(xt)
    s = objective(out)
    if not s.requires_grad:  # the output does not depend on the input at all
        return np.zeros_like(x_arr), out
    (g,) = _autograd_grad(s, xt, allow_unused=True)
    g = np.zeros_like(x_arr) if g is None else g._data
    return g, out
