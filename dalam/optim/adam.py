"""``Adam`` and ``AdamW`` (Kingma & Ba; Loshchilov & Hutter), as PyTorch's:

    g = -g if maximize;  Adam: g = g + weight_decay * p
    AdamW (or Adam(decoupled_weight_decay=True)): p = p * (1 - lr * weight_decay)
    m = m + (1 - beta1) * (g - m);   v = beta2 * v + (1 - beta2) * g * g
    v_hat = max(v_hat, v) (amsgrad)
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
"""
import math

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        fused = self._compat(type(self).__name__, differentiable, fused, capturable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach if fused is None else fused,
                        decoupled_weight_decay=decoupled_weight_decay,
                        capturable=capturable, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group):
        name = type(self).__name__
        if group["lr"] < 0.0:
            raise ValueError(f"{name}: invalid learning rate {group['lr']} (must be >= 0)")
        if group["eps"] < 0.0:
            raise ValueError(f"{name}: invalid epsilon value {group['eps']} (must be >= 0)")
        b1, b2 = group["betas"]
        if not 0.0 <= b1 < 1.0:
            raise ValueError(f"{name}: invalid beta parameter at index 0: {b1} (must be in [0, 1))")
        if not 0.0 <= b2 < 1.0:
            raise ValueError(f"{name}: invalid beta parameter at index 1: {b2} (must be in [0, 1))")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"{name}: invalid weight_decay value {group['weight_decay']} "
                             "(must be >= 0)")

    def _state_spec(self, group):
        spec = [("exp_avg", 0.0), ("exp_avg_sq", 0.0)]
        return spec + [("max_exp_avg_sq", 0.0)] if group["amsgrad"] else spec

    def _math(self, group, d, g, bufs, step, fresh):
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if wd != 0 and group["decoupled_weight_decay"]:
            d *= 1 - lr * wd
        m, v = bufs["exp_avg"], bufs["exp_avg_sq"]
        t = self._scratch(d, 1)
        np.subtract(g, m, out=t)          # m.lerp_(g, 1 - beta1)
        t *= 1 - beta1
        m += t
        v *= beta2                        # v = beta2 * v + (1 - beta2) * g * g
        np.multiply(g, g, out=t)
        t *= 1 - beta2
        v += t
        if group["amsgrad"]:
            vmax = bufs["max_exp_avg_sq"]
            np.maximum(vmax, v, out=vmax)
            v = vmax
        step_size = lr / (1 - beta1 ** step)
        np.sqrt(v, out=t)
        t /= math.sqrt(1 - beta2 ** step)
        t += eps
        np.divide(m, t, out=t)
        t *= step_size
        d -= t


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2): the decay shrinks the
    weights directly instead of entering the gradient's moments."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
