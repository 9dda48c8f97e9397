"""``Adadelta`` (Zeiler), as PyTorch's:

    g = -g if maximize;  g = g + weight_decay * p
    s = rho * s + (1 - rho) * g * g
    delta = sqrt(acc + eps) / sqrt(s + eps) * g
    acc = rho * acc + (1 - rho) * delta * delta;   p = p - lr * delta
"""
import numpy as np

from .optimizer import Optimizer


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        self._compat("Adadelta", differentiable, None, capturable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group):
        if group["lr"] < 0.0:
            raise ValueError(f"Adadelta: invalid learning rate {group['lr']} (must be >= 0)")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Adadelta: invalid rho value {group['rho']} (must be in [0, 1])")
        for key in ("eps", "weight_decay"):
            if group[key] < 0.0:
                raise ValueError(f"Adadelta: invalid {key} value {group[key]} (must be >= 0)")

    def _state_spec(self, group):
        return [("square_avg", 0.0), ("acc_delta", 0.0)]

    def _math(self, group, d, g, bufs, step, fresh):
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        s, acc = bufs["square_avg"], bufs["acc_delta"]
        t = self._scratch(d, 1)
        u = self._scratch(d, 2)
        s *= rho
        np.multiply(g, g, out=t)
        t *= 1 - rho
        s += t
        np.add(s, eps, out=t)
        np.sqrt(t, out=t)           # std
        np.add(acc, eps, out=u)
        np.sqrt(u, out=u)           # delta
        u /= t
        u *= g
        acc *= rho
        np.multiply(u, u, out=t)
        t *= 1 - rho
        acc += t
        u *= lr
        d -= u
