"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov
momentum, L2 weight decay and ``maximize``, step for step as PyTorch's:

    g = -g if maximize;  g = g + weight_decay * p
    buf = g (first step)  or  buf = momentum * buf + (1 - dampening) * g
    g = g + momentum * buf (nesterov)  or  g = buf
    p = p - lr * g
"""
import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    _counts_steps = False

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        fused = self._compat("SGD", differentiable, fused)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize,
                        foreach=foreach if fused is None else fused,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group):
        if group["lr"] < 0.0:
            raise ValueError(f"SGD: invalid learning rate {group['lr']} (must be >= 0)")
        if group["momentum"] < 0.0:
            raise ValueError(f"SGD: invalid momentum value {group['momentum']} (must be >= 0)")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"SGD: invalid weight_decay value {group['weight_decay']} (must be >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")

    def _state_spec(self, group):
        return [("momentum_buffer", None)] if group["momentum"] != 0 else []

    def _math(self, group, d, g, bufs, step, fresh):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        if momentum != 0:
            buf = bufs["momentum_buffer"]
            if fresh:
                buf[...] = g
            else:
                buf *= momentum
                if dampening == 0:
                    buf += g
                else:
                    t = self._scratch(d, 1)
                    np.multiply(g, 1 - dampening, out=t)
                    buf += t
            if group["nesterov"]:
                t = self._scratch(d, 1)
                np.multiply(buf, momentum, out=t)
                t += g
                g = t
            else:
                g = buf
        t = self._scratch(d, 2)
        np.multiply(g, lr, out=t)
        d -= t

    def _update_sparse(self, group, params):
        """Row-sparse gradients: ``p[rows] -= lr * g[rows]``, touching only those rows
        (PyTorch's sparse SGD; momentum and weight decay would densify the update)."""
        if group["momentum"] != 0 or group["weight_decay"] != 0:
            raise RuntimeError(
                "SGD: sparse gradients (Embedding(sparse=True)) are applied without momentum or "
                f"weight_decay (got momentum={group['momentum']}, weight_decay="
                f"{group['weight_decay']}); use momentum=0 and weight_decay=0 for that table, "
                "or a dense Embedding")
        lr = -group["lr"] if group["maximize"] else group["lr"]
        for p in params:
            p.grad._sp.add_to_(p._data, -lr)
