"""Scaled dot-product attention as ONE differentiable op.

forward:  S = q k^T * scale (+ mask);  P = softmax(S);  O = dropout(P) v
backward: dV = P'^T dO;  dP = dO v^T (through the dropout mask);
          dS = P * (dP - rowsum(dP * P));  dQ = dS k * scale;  dK = dS^T q * scale

Memory-aware: backward keeps only q, k, v, the probabilities P and (with
dropout) a boolean keep-mask; the raw scores and intermediate products of
an op-by-op graph are never stored.
"""
import math

import numpy as np

from ..autograd.function import Function
from ..backend import xp, rng
from ..tensor import Tensor


def _swap(x):
    return xp.swapaxes(x, -1, -2)


class ScaledDotProductAttention(Function):
    def forward(self, q, k, v, mask, scale, dropout_p, is_causal, keep):
        self.q, self.k, self.v, self.scale = q, k, v, scale
        s = xp.matmul(q, _swap(k))
        s *= s.dtype.type(scale)
        if is_causal:
            L, S = s.shape[-2], s.shape[-1]
            causal = xp.tril(xp.ones((L, S), dtype=bool))
            s = xp.where(causal, s, s.dtype.type(-np.inf))
        if mask is not None:
            if mask.dtype == np.bool_:
                s = xp.where(mask, s, s.dtype.type(-np.inf))
            else:
                s = s + mask.astype(s.dtype, copy=False)
        m = xp.max(s, axis=-1, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # fully masked rows: avoid inf - inf
        p = xp.exp(s - m)
        z = xp.sum(p, axis=-1, keepdims=True)
        # a row with every position masked gets all-zero weights (PyTorch 2.x), not NaN
        p /= xp.where(z > 0, z, z.dtype.type(1))
        self.p = p
        self.keep = keep
        if keep is not None:
            pd = p * keep * p.dtype.type(1.0 / (1.0 - dropout_p))
        else:
            pd = p
        self.dropout_p = dropout_p
        return xp.matmul(pd, v)

    def backward(self, go):
        q, k, v, p, keep = self.q, self.k, self.v, self.p, self.keep
        need = self.needs_input_grad
        if keep is not None:
            f = p.dtype.type(1.0 / (1.0 - self.dropout_p))
            pd = p * keep * f
        else:
            pd = p
        gv = xp.matmul(_swap(pd), go) if need[2] else None
        gq = gk = gmask = None
        if need[0] or need[1] or need[3]:
            dp = xp.matmul(go, _swap(v))
            if keep is not None:
                dp = dp * keep * f
            ds = p * (dp - xp.sum(dp * p, axis=-1, keepdims=True))
            if need[3]:
                gmask = ds
            sc = ds.dtype.type(self.scale)
            if need[0]:
                gq = xp.matmul(ds, k) * sc
            if need[1]:
                gk = xp.matmul(_swap(ds), q) * sc
        return gq, gk, gv, gmask


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, training=True):
    """PyTorch's ``F.scaled_dot_product_attention``: q (..., L, E), k (..., S, E),
    v (..., S, Ev) -> (..., L, Ev).  A boolean mask marks positions that MAY be
    attended to (True = keep); a float mask is added to the scores."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must have at least 2 dims "
                               f"(..., seq, features); got shape {tuple(t.shape)}")
    L, E = query.shape[-2:]
    S = key.shape[-2]
    if key.shape[-1] != E:
        raise RuntimeError(f"scaled_dot_product_attention: query features ({E}) and key features "
                           f"({key.shape[-1]}) differ; shapes {tuple(query.shape)} and {tuple(key.shape)}")
    if value.shape[-2] != S:
        raise RuntimeError(f"scaled_dot_product_attention: key has {S} positions but value has "
                           f"{value.shape[-2]}; shapes {tuple(key.shape)} and {tuple(value.shape)}")
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            attn_mask = Tensor._make(np.asarray(attn_mask), False, None)
        try:
            np.broadcast_shapes(attn_mask.shape, query.shape[:-2] + (L, S))
        except ValueError:
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {tuple(attn_mask.shape)} cannot be "
                f"broadcast to the attention shape {tuple(query.shape[:-2]) + (L, S)} (batch..., L, S)") from None
        if attn_mask.dtype != np.bool_ and attn_mask.dtype.kind != "f":
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask must be bool or float, got {attn_mask.dtype}")
        if is_causal:
            raise RuntimeError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
    if scale is None:
        scale = 1.0 / math.sqrt(E)
    keep = None
    if dropout_p > 0.0 and training:
        shape = np.broadcast_shapes(query.shape[:-2], key.shape[:-2]) + (L, S)
        keep = rng().random(shape, dtype=np.float32) >= dropout_p
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, scale=scale,
                                           dropout_p=dropout_p, is_causal=is_causal, keep=keep)
