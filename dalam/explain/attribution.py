"""Gradient attributions for one class score per input: vanilla gradient
saliency (Simonyan et al. 2014), SmoothGrad (Smilkov et al. 2017) and
Integrated Gradients (Sundararajan et al. 2017).

Each takes ``model``, a batch ``x`` (N, ...) and ``target`` (one class index,
one per input, or None for the predicted class) and returns a map with x's
shape (a Tensor for a Tensor input, an array for an array).  The model runs in
eval mode; its modes and parameters are left as they were."""
import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..tensor import Tensor
from ._grad import (as_array, class_score, input_grad, like, logits_of, model_state,
                    resolve_target)


def _predicted(model, xa, target, caller):
    """Target class per input (the prediction when ``target`` is None), checked."""
    with grad_mode.no_grad():
        out = logits_of(model(Tensor._make(xa, False, None)), caller)
    return resolve_target(target, out, caller)


def _grad_of_class(model, xa, target, caller):
    def objective(out):
        out = logits_of(out, caller)
        return class_score(out, resolve_target(target, out, caller))
    g, out = input_grad(model, xa, objective)
    return g, out


def saliency(model, x, target=None, abs=True):
    """Gradient of the target score w.r.t. the input; ``abs`` takes its
    magnitude (Simonyan et al.'s map; for a colour image take the max over
    channels when plotting)."""
    caller = "saliency"
    xa = as_array(x, "x", caller)
    with model_state(model):
        g, _ = _grad_of_class(model, xa, target, caller)
    return like(np.abs(g) if abs else g, x)


def smoothgrad(model, x, target=None, n_samples=25, noise_level=0.15, abs=True, squared=False,
               batch_size=256, generator=None):
    """Mean of the gradients at ``n_samples`` noisy copies of each input
    (Gaussian noise of std ``noise_level * (max - min)`` of that input), which
    sharpens the noisy vanilla map.  ``squared`` averages squared gradients
    (SmoothGrad-SQ); ``abs`` takes the magnitude of the mean.  The target is
    fixed from the clean input, so every noisy copy explains the same class."""
    caller = "smoothgrad"
    xa = as_array(x, "x", caller)
    rng = generator if generator is not None else backend.rng()
    n = xa.shape[0]
    flat = xa.reshape(n, -1)
    sigma = (noise_level * (flat.max(1) - flat.min(1))).reshape((n,) + (1,) * (xa.ndim - 1))
    acc = np.zeros(xa.shape, np.float64)
    per = max(1, batch_size // max(n, 1))  # noisy copies per forward pass
    with model_state(model):
        t = _predicted(model, xa, target, caller)
        done = 0
        while done < n_samples:
            k = min(per, n_samples - done)
            noise = rng.standard_normal((k,) + xa.shape) * sigma
            xb = (xa[None] + noise.astype(xa.dtype)).reshape((k * n,) + xa.shape[1:])
            g, _ = _grad_of_class(model, xb, np.tile(t, k), caller)
            g = g.reshape((k,) + xa.shape).astype(np.float64)
            acc += (g * g).sum(0) if squared else g.sum(0)
            done += k
    m = (acc / n_samples).astype(xa.dtype)
    return like(np.abs(m) if abs and not squared else m, x)


def _path_points(steps, method):
    """Points alpha in [0, 1] and weights w with sum(w) = 1 for the path integral."""
    if method == "riemann_trapezoid":
        if steps < 2:
            raise ValueError("integrated_gradients: the trapezoid rule needs steps >= 2")
        a = np.linspace(0.0, 1.0, steps)
        w = np.full(steps, 1.0 / (steps - 1))
        w[0] = w[-1] = 0.5 / (steps - 1)
        return a, w
    if method == "riemann_middle":
        return (np.arange(steps) + 0.5) / steps, np.full(steps, 1.0 / steps)
    if method == "riemann_left":
        return np.arange(steps) / steps, np.full(steps, 1.0 / steps)
    if method == "riemann_right":
        return (np.arange(steps) + 1.0) / steps, np.full(steps, 1.0 / steps)
    if method == "gausslegendre":
        a, w = np.polynomial.legendre.leggauss(steps)
        return (a + 1) / 2, w / 2
    raise ValueError(f"integrated_gradients: unknown method {method!r}; use riemann_trapezoid, "
                     "riemann_middle, riemann_left, riemann_right or gausslegendre")


def integrated_gradients(model, x, target=None, baseline=None, steps=64, method="riemann_trapezoid",
                         batch_size=256, return_error=False):
    """(x - baseline) times the average gradient along the straight path from
    ``baseline`` (default: zeros, a black image) to x, by a ``steps``-point
    quadrature.  Completeness: the attributions of an input sum to
    f(x) - f(baseline) for its target score f; the quadrature error of that
    sum is what ``return_error=True`` reports, returning ``(attributions,
    info)`` with per-input arrays ``delta`` (sum of attributions minus
    (f(x) - f(baseline))), ``relative_error`` (|delta| / |f(x) - f(baseline)|),
    ``f_x`` and ``f_baseline``."""
    caller = "integrated_gradients"
    xa = as_array(x, "x", caller)
    if baseline is None:
        ba = np.zeros_like(xa)
    else:
        ba = np.broadcast_to(as_array(baseline, "baseline", caller), xa.shape).astype(xa.dtype)
    alphas, weights = _path_points(int(steps), method)
    n = xa.shape[0]
    diff = (xa - ba).astype(np.float64)
    acc = np.zeros(xa.shape, np.float64)
    per = max(1, batch_size // max(n, 1))  # path points per forward pass
    with model_state(model):
        t = _predicted(model, xa, target, caller)
        for i in range(0, len(alphas), per):
            a = alphas[i:i + per].reshape((-1, 1) + (1,) * (xa.ndim - 1))
            xb = (ba[None] + a * diff[None]).astype(xa.dtype).reshape((-1,) + xa.shape[1:])
            g, _ = _grad_of_class(model, xb, np.tile(t, len(a)), caller)
            w = weights[i:i + per].reshape(a.shape)
            acc += (g.reshape((len(a),) + xa.shape).astype(np.float64) * w).sum(0)
        attr = (diff * acc).astype(xa.dtype)
        if not return_error:
            return like(attr, x)
        with grad_mode.no_grad():
            both = logits_of(model(Tensor._make(np.concatenate([xa, ba]), False, None)), caller)._data
    both = both.reshape(2 * n, -1).astype(np.float64)
    fx, fb = both[np.arange(n), t], both[n + np.arange(n), t]
    delta = attr.reshape(n, -1).astype(np.float64).sum(1) - (fx - fb)
    info = {"delta": delta, "relative_error": np.abs(delta) / np.maximum(np.abs(fx - fb), 1e-12),
            "f_x": fx, "f_baseline": fb, "target": t}
    return like(attr, x), info
