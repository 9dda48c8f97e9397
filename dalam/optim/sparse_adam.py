"""``SparseAdam``: Adam for row-sparse gradients (``Embedding(sparse=True)``),
PyTorch's algorithm.  Only the rows in the gradient are touched: their
moments decay and their parameters move; other rows keep their moments as they
were (a "lazy" Adam).  Per step, for the coalesced rows r with gradient g:

    m[r] += (1 - beta1) * (g - m[r]);   v[r] += (1 - beta2) * (g*g - v[r])
    p[r] -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m[r] / (sqrt(v[r]) + eps)

The work and the temporary memory are O(rows in the batch x dim), whatever the
table's size; the moment buffers themselves are dense, as in PyTorch.
"""
import math

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class SparseAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if not 0.0 < lr:
            raise ValueError(f"SparseAdam: invalid learning rate {lr} (must be > 0)")
        if not 0.0 < eps:
            raise ValueError(f"SparseAdam: invalid epsilon value {eps} (must be > 0)")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"SparseAdam: invalid beta parameter at index {i}: {b} "
                                 "(must be in [0, 1))")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize))

    def _update(self, group, params):
        dense = [p for p in params if not p.grad.is_sparse]
        if dense:
            raise RuntimeError(
                f"SparseAdam does not support dense gradients (got one for a parameter of shape "
                f"{tuple(dense[0].shape)}), please consider Adam instead; use SparseAdam for the "
                "Embedding(sparse=True) tables and Adam for the rest")
        self._update_sparse(group, params)

    def _update_sparse(self, group, params):
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        for p in params:
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["exp_avg"] = Tensor._make(np.zeros_like(p._data), False, None)
                st["exp_avg_sq"] = Tensor._make(np.zeros_like(p._data), False, None)
            st["step"] += 1
            g = p.grad._sp.coalesce()
            if g.indices.size == 0:
                continue
            rows, vals = g.indices, g.values.astype(p._data.dtype, copy=False)
            if group["maximize"]:
                vals = -vals
            m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
            old_m, old_v = m[rows], v[rows]
            upd_m = (vals - old_m) * (1 - beta1)
            upd_v = (vals * vals - old_v) * (1 - beta2)
            new_m = upd_m + old_m
            new_v = upd_v + old_v
            m[rows] = new_m
            v[rows] = new_v
            step = st["step"]
            step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            np.sqrt(new_v, out=new_v)
            new_v += eps
            np.divide(new_m, new_v, out=new_m)
            new_m *= -step_size
            p._data[rows] += new_m
