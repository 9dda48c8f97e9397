"""Attention rollout (Abnar & Zuidema 2020): how much each input token flows
into each position of the last layer, following attention through the
residual connections.  Per layer the head-averaged attention A becomes
0.5 * A + 0.5 * I (the residual), rows renormalised, and the layers are
multiplied from the bottom up: R = A_L ... A_2 A_1.

The attention probabilities are caught with hooks while the model runs in
eval mode: ``MultiheadAttention`` (so ``TransformerEncoder`` and friends) is
asked for per-head weights through a forward pre-hook; for ``BertModel``'s
self-attention the probabilities are recomputed from the layer's own
query/key projections in a forward hook.  Hooks are removed afterwards."""
import math

import numpy as np

from ..autograd import grad_mode
from ..nn.transformer import MultiheadAttention
from ._grad import model_state


def _bert_attention_class():
    from ..models.bert import BertSelfAttention
    return BertSelfAttention


def _softmax(s):
    s = s - s.max(-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(-1, keepdims=True)


def attention_maps(model, *args, **kwargs):
    """Run ``model(*args, **kwargs)`` and return the self-attention
    probabilities of every layer, in call order: a list of arrays
    (batch, heads, T, T).  Cross-attention (query is not key) is left out."""
    maps, handles, want = [], [], {}
    bert_cls = _bert_attention_class()

    def mha_pre(m, a, kw):
        kw = dict(kw)
        want[id(m)] = kw.get("need_weights", True)
        kw["need_weights"], kw["average_attn_weights"] = True, False
        return a, kw

    def mha_post(m, a, kw, out):
        q = a[0] if len(a) > 0 else kw.get("query")
        k = a[1] if len(a) > 1 else kw.get("key")
        if q is k:
            w = out[1]._data
            maps.append(w[None] if w.ndim == 3 else w)
        if not want.pop(id(m), True):
            return out[0], None

    def bert_post(m, a, out):
        x = a[0]
        mask = a[1] if len(a) > 1 else None
        B, T, _ = x.shape
        H, hd = m.num_heads, m.head_dim
        q = m.query(x)._data.reshape(B, T, H, hd).transpose(0, 2, 1, 3)
        k = m.key(x)._data.reshape(B, T, H, hd).transpose(0, 2, 1, 3)
        s = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1.0 / math.sqrt(hd))
        if mask is not None:
            s = s + (mask._data if hasattr(mask, "_data") else np.asarray(mask))
        maps.append(_softmax(s))

    for m in model.modules():
        if isinstance(m, MultiheadAttention):
            handles.append(m.register_forward_pre_hook(mha_pre, with_kwargs=True))
            handles.append(m.register_forward_hook(mha_post, with_kwargs=True))
        elif isinstance(m, bert_cls):
            handles.append(m.register_forward_hook(bert_post))
    if not handles:
        raise TypeError(f"attention_maps: {type(model).__name__} has no MultiheadAttention or BERT "
                        "self-attention layer to read attention weights from")
    try:
        with model_state(model, freeze=False), grad_mode.no_grad():
            model(*args, **kwargs)
    finally:
        for h in handles:
            h.remove()
    return maps


def rollout(maps, head_fusion="mean", residual=True):
    """Attention rollout of per-layer maps [(B, heads, T, T) or (B, T, T)], bottom layer first."""
    if not maps:
        raise ValueError("rollout: no attention maps given")
    fuse = {"mean": np.mean, "max": np.max, "min": np.min}.get(head_fusion)
    if fuse is None:
        raise ValueError(f"rollout: head_fusion must be 'mean', 'max' or 'min', got {head_fusion!r}")
    result = None
    for a in maps:
        a = np.asarray(a, np.float64)
        a = fuse(a, axis=1) if a.ndim == 4 else a
        if residual:
            a = 0.5 * a + 0.5 * np.eye(a.shape[-1])
        a = a / a.sum(-1, keepdims=True)
        result = a if result is None else a @ result
    return result.astype(np.float32)


def attention_rollout(model, *args, head_fusion="mean", residual=True, **kwargs):
    """Rollout (B, T, T) of ``model(*args, **kwargs)``: row i says how much
    each input token contributes to position i of the last layer (row 0 for
    BERT's [CLS]).  Works with TransformerEncoder / MultiheadAttention based
    models and BertModel."""
    return rollout(attention_maps(model, *args, **kwargs), head_fusion, residual)
