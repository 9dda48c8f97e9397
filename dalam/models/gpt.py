"""A GPT: decoder-only Transformer language model (GPT-2 layout, as in
nanoGPT), with ``generate()`` using a key/value cache.

Parameter names follow nanoGPT/GPT-2 (``transformer.wte``, ``transformer.h.0.attn.c_attn``,
``lm_head`` ...); with ``weight_tying`` the output layer shares the token
embedding matrix.
"""
import math
from dataclasses import dataclass, asdict

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..nn import functional as F
from ..ops.attention import scaled_dot_product_attention
from ..tensor import Tensor


@dataclass
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True
    weight_tying: bool = True


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.n_embd % cfg.n_head:
            raise ValueError(f"GPT: n_embd ({cfg.n_embd}) must be divisible by n_head ({cfg.n_head})")
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.attn_dropout = cfg.dropout
        self.resid_dropout = nn.Dropout(cfg.dropout)
        self.n_head = cfg.n_head
        self.n_embd = cfg.n_embd

    def forward(self, x, cache=None):
        """x: (B, T, C).  ``cache``: None, or a dict holding this layer's past
        keys/values ("k", "v": (B, H, T_past, hd)), updated in place."""
        B, T, C = x.shape
        H = self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.reshape(B, T, H, C // H).transpose(1, 2)
        k = k.reshape(B, T, H, C // H).transpose(1, 2)
        v = v.reshape(B, T, H, C // H).transpose(1, 2)
        p = self.attn_dropout if self.training else 0.0
        if cache is None:
            y = scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        else:
            past = cache.get("k")
            if past is not None:
                k = Tensor._make(xp.concatenate([past._data, k._data], axis=2), False, None)
                v = Tensor._make(xp.concatenate([cache["v"]._data, v._data], axis=2), False, None)
            cache["k"], cache["v"] = k, v
            Tp = k.shape[2] - T
            mask = None
            if T > 1:  # new token i (at position Tp+i) sees keys 0..Tp+i
                mask = Tensor._make(np.tril(np.ones((T, Tp + T), bool), Tp), False, None)
            y = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, greedy=False, generator=None):
    """Pick the next token id per row of ``logits`` (B, V): greedy (argmax),
    or sampled from softmax(logits / temperature) restricted to the top-k
    tokens and/or the smallest set whose probability reaches top_p."""
    from ..backend import rng
    logits = np.asarray(logits, np.float64)
    if greedy or temperature == 0:
        return logits.argmax(-1).astype(np.int64)
    z = logits / temperature
    if top_k is not None:
        k = min(int(top_k), z.shape[-1])
        kth = np.sort(z, axis=-1)[:, -k][:, None]
        z = np.where(z < kth, -np.inf, z)
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    if top_p is not None:
        order = np.argsort(-p, axis=-1)
        sp = np.take_along_axis(p, order, -1)
        keep_sorted = np.cumsum(sp, -1) - sp < top_p  # keep tokens until the mass reaches top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, -1)
        p = np.where(keep, p, 0.0)
        p /= p.sum(-1, keepdims=True)
    g = generator.rng if hasattr(generator, "rng") else (generator or rng())
    u = g.random((p.shape[0], 1))
    return np.minimum((np.cumsum(p, -1) < u).sum(-1), p.shape[-1] - 1).astype(np.int64)


class GPT(nn.Module):
    """Decoder-only language model.  ``GPT(GPTConfig(...))`` or keyword
    arguments: ``GPT(vocab_size=65, n_layer=4, n_head=4, n_embd=128, block_size=64)``."""

    def __init__(self, config=None, **kwargs):
        super().__init__()
        cfg = config if config is not None else GPTConfig(**kwargs)
        self.config = cfg
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg.vocab_size, cfg.n_embd),
            wpe=nn.Embedding(cfg.block_size, cfg.n_embd),
            drop=nn.Dropout(cfg.dropout),
            h=nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)]),
            ln_f=nn.LayerNorm(cfg.n_embd, bias=cfg.bias),
        ))
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        if cfg.weight_tying:
            self.lm_head.weight = self.transformer.wte.weight
        self.apply(self._init_weights)
        # GPT-2: scale the residual projections by 1/sqrt(2 * n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def num_parameters(self, non_embedding=True):
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.transformer.wpe.weight.numel()
        return n

    def forward(self, idx, targets=None, caches=None, pos_offset=0):
        """idx: (B, T) int64 token ids.  Returns (logits (B, T, V), loss or None)."""
        if not isinstance(idx, Tensor):
            idx = Tensor._from_data(np.asarray(idx, np.int64))
        if idx.ndim != 2:
            raise RuntimeError(f"GPT: expected token ids of shape (batch, time), got {tuple(idx.shape)}")
        B, T = idx.shape
        cfg = self.config
        if pos_offset + T > cfg.block_size:
            raise RuntimeError(
                f"GPT: sequence of length {pos_offset + T} is longer than the context "
                f"(block_size={cfg.block_size}); crop the input to the last {cfg.block_size} tokens")
        if idx.numel() and (int(idx._data.min()) < 0 or int(idx._data.max()) >= cfg.vocab_size):
            raise IndexError(
                f"GPT: token id {int(idx._data.max()) if int(idx._data.max()) >= cfg.vocab_size else int(idx._data.min())} "
                f"is outside the vocabulary [0, {cfg.vocab_size - 1}]")
        pos = Tensor._make(np.arange(pos_offset, pos_offset + T, dtype=np.int64), False, None)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for i, block in enumerate(self.transformer.h):
            x = block(x, None if caches is None else caches[i])
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(-1))
        return logits, loss

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, greedy=False,
                 use_cache=True, generator=None):
        """Append ``max_new_tokens`` sampled tokens to idx (B, T).  With the
        key/value cache each step feeds only the newest token."""
        was_training = self.training
        self.eval()
        idx = idx if isinstance(idx, Tensor) else Tensor._from_data(np.asarray(idx, np.int64))
        out = idx._data.copy()
        bs = self.config.block_size
        caches, start = None, 0
        with no_grad():
            for _ in range(max_new_tokens):
                L = out.shape[1]
                if use_cache and L <= bs:
                    if caches is None:  # first step: run the whole prompt, filling the cache
                        caches = [dict() for _ in self.transformer.h]
                        logits, _ = self(Tensor._make(out, False, None), caches=caches)
                    else:  # later steps: only the newest token, at position start
                        logits, _ = self(Tensor._make(out[:, -1:], False, None), caches=caches,
                                         pos_offset=start)
                    start = L
                else:
                    # past the context, absolute positions shift every step: no cache to reuse
                    logits, _ = self(Tensor._make(out[:, -bs:], False, None))
                nxt = sample_next(logits._data[:, -1, :], temperature=temperature, top_k=top_k,
                                  top_p=top_p, greedy=greedy, generator=generator)
                out = np.concatenate([out, nxt[:, None]], axis=1)
        self.train(was_training)
        return Tensor._make(out, False, None)

    def config_dict(self):
        return asdict(self.config)
