"""``Adagrad`` (Duchi et al.), as PyTorch's:

    g = -g if maximize;  g = g + weight_decay * p
    clr = lr / (1 + (t - 1) * lr_decay);  sum = sum + g * g
    p = p - clr * g / (sqrt(sum) + eps)

Its state (step 0, ``sum`` = initial_accumulator_value) exists from the start,
as in PyTorch.
"""
import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        fused = self._compat("Adagrad", differentiable, fused)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize,
                        foreach=foreach if fused is None else fused,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["sum"] = Tensor._make(np.full(p._data.shape, group["initial_accumulator_value"],
                                                 p._data.dtype), False, None)

    def _check_group(self, group):
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            if group[key] < 0.0:
                raise ValueError(f"Adagrad: invalid {key} value {group[key]} (must be >= 0)")

    def _state_spec(self, group):
        return [("sum", group["initial_accumulator_value"])]

    def _math(self, group, d, g, bufs, step, fresh):
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        s = bufs["sum"]
        t = self._scratch(d, 1)
        np.multiply(g, g, out=t)
        s += t
        np.sqrt(s, out=t)
        t += group["eps"]
        np.divide(g, t, out=t)
        t *= clr
        d -= t

    def _update_sparse(self, group, params):
        """Row-sparse gradients as PyTorch's Adagrad: ``sum[rows] += g*g``,
        ``p[rows] -= clr * g / (sqrt(sum[rows]) + eps)``; other rows untouched."""
        if group["weight_decay"] != 0:
            raise RuntimeError("Adagrad: weight_decay option is not compatible with sparse gradients "
                               "(Embedding(sparse=True)); use weight_decay=0 for that table")
        for p in params:
            st = self.state[p]
            st["step"] = st.get("step", 0) + 1
            clr = group["lr"] / (1 + (st["step"] - 1) * group["lr_decay"])
            g = p.grad._sp.coalesce()
            if g.indices.size == 0:
                continue
            rows, vals = g.indices, g.values.astype(p._data.dtype, copy=False)
            if group["maximize"]:
                vals = -vals
            s = st["sum"]._data
            s[rows] += vals * vals
            std = np.sqrt(s[rows])
            std += group["eps"]
            p._data[rows] -= clr * (vals / std)
