"""``RMSprop`` (Hinton), as PyTorch's:

    g = -g if maximize;  g = g + weight_decay * p
    s = alpha * s + (1 - alpha) * g * g
    centered: a = a + (1 - alpha) * (g - a);  avg = sqrt(s - a * a) + eps   else avg = sqrt(s) + eps
    momentum > 0: buf = momentum * buf + g / avg;  p = p - lr * buf   else p = p - lr * g / avg
"""
import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        self._compat("RMSprop", differentiable, None, capturable)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group):
        for key in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            if group[key] < 0.0:
                raise ValueError(f"RMSprop: invalid {key} value {group[key]} (must be >= 0)")

    def _state_spec(self, group):
        spec = [("square_avg", 0.0)]
        if group["momentum"] > 0:
            spec.append(("momentum_buffer", 0.0))
        if group["centered"]:
            spec.append(("grad_avg", 0.0))
        return spec

    def _math(self, group, d, g, bufs, step, fresh):
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        sq = bufs["square_avg"]
        t = self._scratch(d, 1)
        sq *= alpha
        np.multiply(g, g, out=t)
        t *= 1 - alpha
        sq += t
        if group["centered"]:
            ga = bufs["grad_avg"]
            np.subtract(g, ga, out=t)
            t *= 1 - alpha
            ga += t
            np.multiply(ga, ga, out=t)
            np.subtract(sq, t, out=t)
            np.sqrt(t, out=t)
        else:
            np.sqrt(sq, out=t)
        t += eps
        np.divide(g, t, out=t)
        if momentum > 0:
            buf = bufs["momentum_buffer"]
            buf *= momentum
            buf += t
            np.multiply(buf, lr, out=t)
        else:
            t *= lr
        d -= t
