"""``Adamax`` (Kingma & Ba, the infinity-norm Adam), as PyTorch's:

    g = -g if maximize;  g = g + weight_decay * p
    m = m + (1 - beta1) * (g - m);   u = max(beta2 * u, |g| + eps)
    p = p - lr / (1 - beta1^t) * m / u
"""
import numpy as np

from .optimizer import Optimizer


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        self._compat("Adamax", differentiable, None, capturable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, capturable=capturable,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group):
        b1, b2 = group["betas"]
        if group["lr"] < 0.0 or group["eps"] < 0.0 or group["weight_decay"] < 0.0:
            raise ValueError(f"Adamax: lr, eps and weight_decay must be >= 0, got {group['lr']}, "
                             f"{group['eps']}, {group['weight_decay']}")
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"Adamax: invalid betas {group['betas']} (each must be in [0, 1))")

    def _state_spec(self, group):
        return [("exp_avg", 0.0), ("exp_inf", 0.0)]

    def _math(self, group, d, g, bufs, step, fresh):
        beta1, beta2 = group["betas"]
        m, u = bufs["exp_avg"], bufs["exp_inf"]
        t = self._scratch(d, 1)
        np.subtract(g, m, out=t)
        t *= 1 - beta1
        m += t
        u *= beta2
        np.abs(g, out=t)
        t += group["eps"]
        np.maximum(u, t, out=u)
        np.divide(m, u, out=t)
        t *= group["lr"] / (1 - beta1 ** step)
        d -= t
