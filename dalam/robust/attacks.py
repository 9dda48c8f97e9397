"""Adversarial attacks on classifiers: FGSM (Goodfellow et al. 2015) and PGD
(Madry et al. 2018) in the L-inf and L2 norms.

Every attack works on a copy of the input (the tensors it is given are never
modified), keeps the result inside the eps ball around the input and inside
the valid pixel range ``clip`` ([0, 1] by default), runs the model in eval mode
by default (BatchNorm statistics are not updated by the attack) and restores
the model's modes, its parameters' ``requires_grad`` and ``.grad`` afterwards.
Inputs and outputs are Tensors (a numpy array in gives an array out).
"""
import numpy as np

from .. import backend
from ..explain._grad import as_array, input_grad, like, logits_of, model_state
from ..ops.loss import cross_entropy
from ..tensor import Tensor


def _labels(y, n, caller):
    a = y._data if isinstance(y, Tensor) else np.asarray(y)
    a = a.astype(np.int64).reshape(-1)
    if a.shape[0] != n:
        raise ValueError(f"{caller}: got {a.shape[0]} labels for a batch of {n} inputs")
    return a


def _check(eps, clip, caller):
    if not eps >= 0:
        raise ValueError(f"{caller}: eps must be >= 0, got {eps}")
    if clip is not None and not clip[0] < clip[1]:
        raise ValueError(f"{caller}: clip must be (low, high) with low < high, got {clip}")


def _loss_grad(model, x, y, loss_fn, targeted):
    """Gradient of the attack objective (to ascend) w.r.t. the input."""
    yt = Tensor._make(y, False, None)

    def objective(out):
        out = logits_of(out, "attack")
        loss = loss_fn(out, yt) if loss_fn is not None else cross_entropy(out, yt, reduction="sum")
        return -loss if targeted else loss

    g, _ = input_grad(model, x, objective)
    return g


def _project(x_adv, x, eps, norm, clip):
    """Back into the eps ball around x (norm 'inf' or 2) and the pixel range."""
    if norm == "inf":
        x_adv = np.clip(x_adv, x - eps, x + eps)
    else:
        d = x_adv - x
        n = np.sqrt((d.reshape(len(d), -1).astype(np.float64) ** 2).sum(1))
        # shrink a little more than eps/n so that float32 rounding stays inside the ball
        scale = np.minimum(1.0, eps / np.maximum(n, 1e-12) * (1 - 1e-6)).astype(x.dtype)
        x_adv = x + d * scale.reshape((-1,) + (1,) * (d.ndim - 1))
    if clip is not None:
        x_adv = np.clip(x_adv, clip[0], clip[1])
    return x_adv.astype(x.dtype, copy=False)


def _l2_normalise(g):
    n = np.sqrt((g.reshape(len(g), -1).astype(np.float64) ** 2).sum(1))
    return (g / np.maximum(n, 1e-12).astype(g.dtype).reshape((-1,) + (1,) * (g.ndim - 1))).astype(g.dtype)


def fgsm(model, x, y, eps, *, clip=(0.0, 1.0), loss_fn=None, targeted=False, eval_mode=True):
    """Fast gradient sign method: ``x + eps * sign(grad_x loss)``, clipped to
    ``clip``.  ``targeted=True`` treats ``y`` as the classes to reach (steps
    down the loss instead).  ``loss_fn(logits, y)`` defaults to summed
    cross-entropy."""
    caller = "fgsm"
    _check(eps, clip, caller)
    xa = as_array(x, "x", caller)
    ya = _labels(y, xa.shape[0], caller)
    with model_state(model, train=False if eval_mode else None):
        g = _loss_grad(model, xa, ya, loss_fn, targeted)
    x_adv = xa + np.asarray(eps, xa.dtype) * np.sign(g)
    return like(_project(x_adv, xa, eps, "inf", clip), x)


def pgd(model, x, y, eps, *, norm="inf", steps=10, step_size=None, random_start=True,
        clip=(0.0, 1.0), loss_fn=None, targeted=False, eval_mode=True, generator=None):
    """Projected gradient descent (ascent on the loss) within an L-inf or L2
    ball of radius ``eps``: ``steps`` steps of size ``step_size`` (default
    2.5 * eps / steps, Madry et al.), each followed by projection onto the ball
    and the pixel range.  ``random_start`` begins at a uniform point of the
    L-inf ball (for L2: a random direction at a uniform radius).  ``generator``
    (a numpy Generator) makes the start reproducible; default dalam's RNG."""
    caller = "pgd"
    _check(eps, clip, caller)
    norm = {"inf": "inf", "linf": "inf", float("inf"): "inf", 2: 2, "2": 2, "l2": 2}.get(
        norm.lower() if isinstance(norm, str) else norm)
    if norm is None:
        raise ValueError(f"{caller}: norm must be 'inf' or 2")
    if steps < 1:
        raise ValueError(f"{caller}: steps must be >= 1, got {steps}")
    xa = as_array(x, "x", caller)
    ya = _labels(y, xa.shape[0], caller)
    alpha = 2.5 * eps / steps if step_size is None else step_size
    rng = generator if generator is not None else backend.rng()
    x_adv = np.array(xa, copy=True)
    if random_start and eps > 0:
        if norm == "inf":
            delta = rng.uniform(-eps, eps, xa.shape)
        else:
            d = rng.standard_normal(xa.shape)
            d /= np.maximum(np.sqrt((d.reshape(len(d), -1) ** 2).sum(1)), 1e-12).reshape(
                (-1,) + (1,) * (d.ndim - 1))
            delta = d * (eps * rng.uniform(0, 1, len(d))).reshape((-1,) + (1,) * (d.ndim - 1))
        x_adv = _project(xa + delta.astype(xa.dtype), xa, eps, norm, clip)
    alpha = np.asarray(alpha, xa.dtype)
    with model_state(model, train=False if eval_mode else None):
        for _ in range(steps):
            g = _loss_grad(model, x_adv, ya, loss_fn, targeted)
            step = np.sign(g) if norm == "inf" else _l2_normalise(g)
            x_adv = _project(x_adv + alpha * step, xa, eps, norm, clip)
    return like(x_adv, x)
