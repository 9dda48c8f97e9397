"""``RAdam`` (Liu et al.: Adam with the variance of its adaptive lr rectified),
as PyTorch's:

    g = -g if maximize;  g = g + weight_decay * p  (or p = p * (1 - lr * wd), decoupled)
    m = m + (1 - beta1) * (g - m);   v = beta2 * v + (1 - beta2) * g * g
    rho_inf = 2 / (1 - beta2) - 1;   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    rho_t > 5: p = p - lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t
    otherwise: p = p - lr * m / (1 - beta1^t)      (plain momentum while v is unreliable)
"""
import math

import numpy as np

from .optimizer import Optimizer


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        self._compat("RAdam", differentiable, None, capturable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, foreach=foreach,
                        maximize=maximize, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group):
        b1, b2 = group["betas"]
        if group["lr"] < 0.0 or group["eps"] < 0.0 or group["weight_decay"] < 0.0:
            raise ValueError(f"RAdam: lr, eps and weight_decay must be >= 0, got {group['lr']}, "
                             f"{group['eps']}, {group['weight_decay']}")
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"RAdam: invalid betas {group['betas']} (each must be in [0, 1))")

    def _state_spec(self, group):
        return [("exp_avg", 0.0), ("exp_avg_sq", 0.0)]

    def _math(self, group, d, g, bufs, step, fresh):
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if wd != 0 and group["decoupled_weight_decay"]:
            d *= 1 - lr * wd
        m, v = bufs["exp_avg"], bufs["exp_avg_sq"]
        t = self._scratch(d, 1)
        u = self._scratch(d, 2)
        np.subtract(g, m, out=t)
        t *= 1 - beta1
        m += t
        v *= beta2
        np.multiply(g, g, out=t)
        t *= 1 - beta2
        v += t
        bc1 = 1 - beta1 ** step
        bc2 = 1 - beta2 ** step
        np.divide(m, bc1, out=u)        # bias-corrected m
        u *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            np.sqrt(v, out=t)
            t += group["eps"]
            np.divide(math.sqrt(bc2), t, out=t)   # adaptive lr
            u *= t
            u *= rect
        d -= u
