"""Multi-head attention and the Transformer encoder/decoder, with PyTorch's
arguments, masks and parameter names (``in_proj_weight``, ``out_proj``,
``linear1``, ``norm1`` ...), so ``state_dict``s move both ways.

Mask conventions follow PyTorch exactly (they differ by function):
- ``F.scaled_dot_product_attention``: boolean True = MAY attend.
- ``MultiheadAttention`` / Transformer layers: boolean True = may NOT attend
  (``attn_mask``, ``key_padding_mask``); float masks are added to the scores.
"""
import copy
import math

import numpy as np

from .. import ops
from ..backend import xp
from ..ops.attention import scaled_dot_product_attention
from ..ops.linalg import linear
from ..tensor import Tensor
from .module import Module
from .parameter import Parameter
from .linear import Linear
from .dropout import Dropout
from .normalization import LayerNorm
from .containers import ModuleList
from . import init
from . import functional as F


def _to_additive(mask, dtype):
    """A PyTorch-style mask (bool True = blocked, or float) as a float array to add."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == np.bool_:
        return np.where(m, dtype.type(-np.inf), dtype.type(0))
    return m.astype(dtype, copy=False)


class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's name for MultiheadAttention's ``out_proj`` (a plain Linear), so the
    module prints as PyTorch's does."""


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads: Q, K, V projections packed in
    ``in_proj_weight`` (3E x E) and an ``out_proj`` Linear."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, dtype=None):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads})")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(xp.empty((3 * embed_dim, embed_dim), np.float32))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.q_proj_weight = Parameter(xp.empty((embed_dim, embed_dim), np.float32))
            self.k_proj_weight = Parameter(xp.empty((embed_dim, self.kdim), np.float32))
            self.v_proj_weight = Parameter(xp.empty((embed_dim, self.vdim), np.float32))
            self.in_proj_weight = None
        self.in_proj_bias = Parameter(xp.zeros(3 * embed_dim, np.float32)) if bias else None
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        if add_bias_kv:  # one extra learned key/value position appended to every sequence
            self.bias_k = Parameter(xp.empty((1, 1, embed_dim), np.float32))
            self.bias_v = Parameter(xp.empty((1, 1, embed_dim), np.float32))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()
        if dtype is not None:
            self.to(dtype)

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def extra_repr(self):
        return ""

    def _project(self, query, key, value):
        E = self.embed_dim
        b = self.in_proj_bias
        bq = bk = bv = None
        if b is not None:
            bq, bk, bv = b[:E], b[E:2 * E], b[2 * E:]
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one GEMM for Q, K and V
                qkv = linear(query, w, b)
                return qkv.chunk(3, -1)
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)

    def _merge_masks(self, attn_mask, key_padding_mask, causal, N, L, S, dt, extra):
        """attn_mask (L, S) or (N*H, L, S) and key_padding_mask (N, S), bool
        (True = blocked) or float, as ONE additive array broadcastable to
        (N, H, L, S + extra); None when nothing is masked.  ``causal``: build
        the causal mask here (no attn_mask was given)."""
        name, H = "MultiheadAttention", self.num_heads
        mask = None
        if attn_mask is not None:
            am = _to_additive(attn_mask, dt)
            if am.ndim == 2:
                if am.shape != (L, S):
                    raise RuntimeError(f"{name}: 2-D attn_mask should have shape {(L, S)} (target, source "
                                       f"length), got {am.shape}")
                am = am[None, None]
            elif am.ndim == 3:
                if am.shape != (N * H, L, S):
                    raise RuntimeError(f"{name}: 3-D attn_mask should have shape {(N * H, L, S)} "
                                       f"(batch * num_heads, target, source length), got {am.shape}")
                am = am.reshape(N, H, L, S)
            else:
                raise RuntimeError(f"{name}: attn_mask must be 2-D or 3-D, got shape {am.shape}")
            mask = am
        elif causal:
            mask = np.triu(np.full((L, S), -np.inf, dt), 1)[None, None]
        if key_padding_mask is not None:
            kp = _to_additive(key_padding_mask, dt)
            if kp.shape != (N, S):
                raise RuntimeError(f"{name}: key_padding_mask should have shape {(N, S)} (batch, source "
                                   f"length), got {kp.shape}")
            kp = kp[:, None, None, :]
            mask = kp if mask is None else mask + kp
        if mask is not None and extra:  # the appended positions are never masked
            mask = np.concatenate([mask, np.zeros(mask.shape[:-1] + (extra,), dt)], -1)
        return mask

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        name = "MultiheadAttention"
        unbatched = query.ndim == 2
        if query.ndim not in (2, 3):
            raise RuntimeError(f"{name}: query must be 2-D (L, E) or 3-D (batch and sequence, E); "
                               f"got shape {tuple(query.shape)}")
        if query.shape[-1] != self.embed_dim:
            raise RuntimeError(f"{name}: expected query's last dimension to be embed_dim="
                               f"{self.embed_dim}, got shape {tuple(query.shape)}")
        if unbatched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0) if isinstance(key_padding_mask, Tensor) \
                    else np.asarray(key_padding_mask)[None]
        elif not self.batch_first:
            same_kv = key is value
            same_qk = query is key
            query = query.transpose(0, 1)
            key = query if same_qk else key.transpose(0, 1)
            value = key if same_kv else value.transpose(0, 1)
        N, L, E = query.shape
        S = key.shape[1]
        if key.shape[0] != N or value.shape[:2] != key.shape[:2]:
            raise RuntimeError(f"{name}: key {tuple(key.shape)} and value {tuple(value.shape)} must share "
                               f"batch and source length, and match query's batch size {N}")
        H, hd = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)
        extra = 0  # key/value positions appended after the S real ones (bias_kv, zero_attn)
        if self.bias_k is not None:
            k = ops.shape.cat([k, self.bias_k.expand(N, 1, E)], 1)
            v = ops.shape.cat([v, self.bias_v.expand(N, 1, E)], 1)
            extra += 1
        q = q.reshape(N, L, H, hd).transpose(1, 2)
        k = k.reshape(N, S + extra, H, hd).transpose(1, 2)
        v = v.reshape(N, S + extra, H, hd).transpose(1, 2)
        if self.add_zero_attn:
            z = Tensor._make(xp.zeros((N, H, 1, hd), q.dtype), False, None)
            k = ops.shape.cat([k, z], 2)
            v = ops.shape.cat([v, z], 2)
            extra += 1
        # causal with nothing else to mask: the fused op masks without building an array
        causal_fast = (is_causal and attn_mask is None and key_padding_mask is None and not need_weights
                       and extra == 0)
        mask = self._merge_masks(attn_mask, key_padding_mask, is_causal and attn_mask is None and not causal_fast,
                                 N, L, S, q.dtype, extra)
        mask_t = Tensor._make(mask, False, None) if mask is not None else None
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
            if mask_t is not None:
                scores = scores + mask_t
            w = scores.softmax(-1)
            if p > 0:  # PyTorch returns the weights after dropout
                w = F.dropout(w, p, training=True)
            out = w @ v
        else:
            out = scaled_dot_product_attention(q, k, v, attn_mask=mask_t, dropout_p=p,
                                               is_causal=causal_fast, training=True)
            w = None
        out = out.transpose(1, 2).reshape(N, L, E)
        out = self.out_proj(out)
        if unbatched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if w is not None:
            if average_attn_weights:
                w = w.mean(1)
            if unbatched:
                w = w.squeeze(0)
        return out, w


def _get_activation(activation):
    from . import functional as F
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu or a callable, not {activation!r}")


class TransformerEncoderLayer(Module):
    """Self-attention + feed-forward, each with a residual connection and
    LayerNorm (after by default, before with ``norm_first=True``)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _get_activation(activation)
        if dtype is not None:
            self.to(dtype)

    def _sa(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff(self.norm2(x))
        else:
            x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff(x))
        return x


class TransformerDecoderLayer(Module):
    """Masked self-attention, cross-attention over the encoder's memory, and
    feed-forward, each with residual + LayerNorm."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _get_activation(activation)
        if dtype is not None:
            self.to(dtype)

    def _sa(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _mha(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)

    def _ff(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff(self.norm3(x))
        else:
            x = self.norm1(x + self._sa(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff(x))
        return x


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (+ optional final norm)."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        if self.norm is not None:
            x = self.norm(x)
        return x


class TransformerDecoder(Module):
    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        if self.norm is not None:
            x = self.norm(x)
        return x


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need"."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, dtype=None):
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias)
            self.encoder = TransformerEncoder(layer, num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias)
            self.decoder = TransformerDecoder(layer, num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        if dtype is not None:
            self.to(dtype)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
                src_is_causal=None, tgt_is_causal=None, memory_is_causal=False):
        bdim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[bdim] != tgt.shape[bdim]:
            raise RuntimeError(f"Transformer: the batch size of src ({src.shape[bdim]}) and tgt "
                               f"({tgt.shape[bdim]}) must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature size of src and tgt must be d_model="
                               f"{self.d_model}; got {tuple(src.shape)} and {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, dtype=None):
        """Float mask with -inf above the diagonal: position i sees 0..i."""
        dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
        return Tensor._make(np.triu(np.full((sz, sz), -np.inf, dt), 1), False, None)


# ----------------------------------------------------------------- positions
class SinusoidalPositionalEncoding(Module):
    """Fixed sin/cos position codes of "Attention Is All You Need", added to
    the input (..., T, d_model) (batch_first layout)."""

    def __init__(self, d_model, max_len=5000, dropout=0.0):
        super().__init__()
        pos = np.arange(max_len, dtype=np.float64)[:, None]
        div = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
        pe = np.zeros((max_len, d_model))
        pe[:, 0::2] = np.sin(pos * div)
        pe[:, 1::2] = np.cos(pos * div)[:, : d_model // 2]
        self.register_buffer("pe", Tensor._make(pe.astype(np.float32), False, None), persistent=False)
        self.dropout = Dropout(dropout)
        self.max_len = max_len

    def forward(self, x):
        T = x.shape[-2]
        if T > self.max_len:
            raise RuntimeError(f"SinusoidalPositionalEncoding: sequence length {T} exceeds max_len {self.max_len}")
        return self.dropout(x + self.pe[:T].to(x.dtype))


class LearnedPositionalEmbedding(Module):
    """A trained vector per position (GPT-2/BERT style)."""

    def __init__(self, max_len, d_model):
        super().__init__()
        self.weight = Parameter(xp.empty((max_len, d_model), np.float32))
        init.normal_(self.weight, 0.0, 0.02)
        self.max_len = max_len

    def forward(self, x, offset=0):
        T = x.shape[-2]
        if offset + T > self.max_len:
            raise RuntimeError(f"LearnedPositionalEmbedding: positions up to {offset + T} exceed the "
                               f"{self.max_len} positions this embedding was built for")
        return x + self.weight[offset:offset + T]


def rotary_embedding(x, offset=0, base=10000.0):
    """Rotary position embedding (RoPE, Su et al. 2021) applied to the last
    dim of x (..., T, D), D even: pairs (x[2i], x[2i+1]) rotated by angle
    pos * base^(-2i/D).  A pure rotation, so it is differentiable through
    ordinary ops."""
    T, D = x.shape[-2], x.shape[-1]
    if D % 2:
        raise RuntimeError(f"rotary_embedding: the feature size must be even, got {D}")
    inv = base ** (-np.arange(0, D, 2, dtype=np.float64) / D)
    ang = np.arange(offset, offset + T, dtype=np.float64)[:, None] * inv[None, :]
    cos = Tensor._make(np.cos(ang).astype(x.dtype), False, None)
    sin = Tensor._make(np.sin(ang).astype(x.dtype), False, None)
    x1 = x[..., 0::2]
    x2 = x[..., 1::2]
    r1 = x1 * cos - x2 * sin
    r2 = x1 * sin + x2 * cos
    return ops.shape.stack([r1, r2], -1).flatten(-2)
