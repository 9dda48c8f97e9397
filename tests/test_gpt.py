"""dalam.models.GPT: the same numbers as a PyTorch nanoGPT with the same
weights (logits, loss, every gradient), causality, nanoGPT state_dict keys,
weight tying, KV-cache generation identical to uncached generation, sampling
options and clear errors."""
import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import dalam
from dalam.models import GPT
from dalam.models.gpt import GPTConfig, sample_next

from conftest import assert_close

CFG = dict(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16, dropout=0.0)


# ---------------------------------------------------------------- a PyTorch nanoGPT (reference)
class _TBlock(tnn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = tnn.LayerNorm(c.n_embd, bias=c.bias)
        self.attn = tnn.Module()
        self.attn.c_attn = tnn.Linear(c.n_embd, 3 * c.n_embd, bias=c.bias)
        self.attn.c_proj = tnn.Linear(c.n_embd, c.n_embd, bias=c.bias)
        self.ln_2 = tnn.LayerNorm(c.n_embd, bias=c.bias)
        self.mlp = tnn.Module()
        self.mlp.c_fc = tnn.Linear(c.n_embd, 4 * c.n_embd, bias=c.bias)
        self.mlp.c_proj = tnn.Linear(4 * c.n_embd, c.n_embd, bias=c.bias)
        self.h = c.n_head

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        y = TF.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn.c_proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp.c_proj(TF.gelu(self.mlp.c_fc(self.ln_2(x))))


class _TGPT(tnn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = tnn.ModuleDict(dict(
            wte=tnn.Embedding(c.vocab_size, c.n_embd), wpe=tnn.Embedding(c.block_size, c.n_embd),
            h=tnn.ModuleList([_TBlock(c) for _ in range(c.n_layer)]),
            ln_f=tnn.LayerNorm(c.n_embd, bias=c.bias)))
        self.lm_head = tnn.Linear(c.n_embd, c.vocab_size, bias=False)
        if c.weight_tying:
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
        for b in self.transformer.h:
            x = b(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return logits, TF.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def _tokens(B, T, V=CFG["vocab_size"], seed=0):
    return np.random.default_rng(seed).integers(0, V, (B, T)).astype(np.int64)


@pytest.mark.parametrize("tying,bias", [(True, True), (False, False)], ids=["tied_bias", "untied_nobias"])
def test_gpt_matches_torch_nanogpt(tying, bias):
    cfg = GPTConfig(**CFG, weight_tying=tying, bias=bias)
    m = GPT(cfg)
    tm = _TGPT(cfg)
    sd = m.state_dict()
    tm.load_state_dict({k: torch.from_numpy(np.array(v._data, copy=True)) for k, v in sd.items()})
    idx, tgt = _tokens(3, 12), _tokens(3, 12, seed=1)
    logits, loss = m(dalam.tensor(idx), dalam.tensor(tgt))
    tlogits, tloss = tm(torch.from_numpy(idx), torch.from_numpy(tgt))
    assert_close(logits, tlogits, rtol=1e-5, atol=1e-5)
    assert_close(loss, tloss, rtol=1e-5, atol=1e-6)
    loss.backward()
    tloss.backward()
    tp = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        assert_close(p.grad, tp[name].grad, rtol=1e-4, atol=1e-6, msg=name)


def test_state_dict_keys_are_nanogpt():
    m = GPT(**CFG)
    keys = set(m.state_dict())
    expect = {"transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight",
              "transformer.ln_f.bias", "lm_head.weight"}
    for i in range(CFG["n_layer"]):
        for part in ("ln_1", "ln_2", "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"):
            expect |= {f"transformer.h.{i}.{part}.weight", f"transformer.h.{i}.{part}.bias"}
    assert keys == expect
    # same keys and shapes as the PyTorch reference model above (nanoGPT's layout)
    t = _TGPT(GPTConfig(**CFG))
    assert {k: tuple(v.shape) for k, v in t.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in m.state_dict().items()}


def test_weight_tying_shares_one_parameter():
    m = GPT(**CFG)
    assert m.lm_head.weight is m.transformer.wte.weight
    names = [n for n, _ in m.named_parameters()]
    assert "lm_head.weight" not in names  # counted once, as in PyTorch
    idx = dalam.tensor(_tokens(2, 8))
    _, loss = m(idx, dalam.tensor(_tokens(2, 8, seed=1)))
    loss.backward()
    g = m.transformer.wte.weight.grad._data
    # both uses (embedding rows and output layer) contribute: every row gets gradient from lm_head
    assert np.abs(g).min(axis=1).max() > 0 and (np.abs(g).sum(1) > 0).all()
    untied = GPT(**CFG, weight_tying=False)
    assert untied.lm_head.weight is not untied.transformer.wte.weight
    assert untied.num_parameters() == m.num_parameters() + CFG["vocab_size"] * CFG["n_embd"]


def test_causality_later_tokens_do_not_change_earlier_outputs():
    m = GPT(**CFG)
    m.eval()
    a = _tokens(2, 12)
    b = a.copy()
    t = 6
    b[:, t + 1:] = (b[:, t + 1:] + 3) % CFG["vocab_size"]
    with dalam.no_grad():
        la, _ = m(dalam.tensor(a))
        lb, _ = m(dalam.tensor(b))
    np.testing.assert_array_equal(la._data[:, :t + 1], lb._data[:, :t + 1])
    assert not np.allclose(la._data[:, t + 1:], lb._data[:, t + 1:])
    # and gradients: the logits at position t do not depend on the later positions' inputs
    logits, _ = m(dalam.tensor(a))
    logits[:, t].sum().backward()
    gpos = m.transformer.wpe.weight.grad._data
    assert not gpos[t + 1:].any()
    assert np.abs(gpos[:t + 1]).sum(1).min() > 0


def test_causal_block_output_unchanged_by_later_positions():
    """One Block (attention + MLP) in isolation: output at t depends on inputs 0..t only."""
    from dalam.models.gpt import Block
    blk = Block(GPTConfig(**CFG))
    x = np.random.default_rng(0).standard_normal((2, 10, CFG["n_embd"])).astype(np.float32)
    y = x.copy()
    y[:, 5:] += 1.0
    with dalam.no_grad():
        ox, oy = blk(dalam.tensor(x))._data, blk(dalam.tensor(y))._data
    np.testing.assert_array_equal(ox[:, :5], oy[:, :5])
    assert not np.allclose(ox[:, 5:], oy[:, 5:])


@pytest.mark.parametrize("prompt_len,new", [(1, 12), (5, 11), (10, 14)])
def test_kv_cache_generation_equals_uncached(prompt_len, new):
    """Greedy: exactly the same tokens, including past the context (16) where
    the window slides."""
    m = GPT(**CFG)
    prompt = dalam.tensor(_tokens(3, prompt_len))
    a = m.generate(prompt, new, greedy=True, use_cache=True)
    b = m.generate(prompt, new, greedy=True, use_cache=False)
    assert a.shape == (3, prompt_len + new)
    np.testing.assert_array_equal(a._data, b._data)
    np.testing.assert_array_equal(a._data[:, :prompt_len], prompt._data)


def test_kv_cache_logits_match_full_forward():
    m = GPT(**CFG)
    m.eval()
    idx = _tokens(2, 9)
    caches = [dict() for _ in m.transformer.h]
    with dalam.no_grad():
        full, _ = m(dalam.tensor(idx))
        first, _ = m(dalam.tensor(idx[:, :4]), caches=caches)
        steps = [first._data]
        for t in range(4, 9):
            lg, _ = m(dalam.tensor(idx[:, t:t + 1]), caches=caches, pos_offset=t)
            steps.append(lg._data)
    np.testing.assert_allclose(np.concatenate(steps, 1), full.data, rtol=1e-5, atol=1e-5)


def test_sampling_options():
    r = np.random.default_rng(0)
    logits = r.standard_normal((4, 20))
    greedy = sample_next(logits, greedy=True)
    np.testing.assert_array_equal(greedy, logits.argmax(-1))
    np.testing.assert_array_equal(sample_next(logits, top_k=1), greedy)
    np.testing.assert_array_equal(sample_next(logits, top_p=1e-6), greedy)
    np.testing.assert_array_equal(sample_next(logits, temperature=0), greedy)
    top3 = np.argsort(-logits, -1)[:, :3]
    for _ in range(50):
        s = sample_next(logits, top_k=3)
        assert all(s[i] in top3[i] for i in range(4))
    # the empirical distribution follows softmax(logits / T)
    one = np.log(np.array([[0.5, 0.3, 0.2]]))
    dalam.manual_seed(1)
    draws = np.array([sample_next(one)[0] for _ in range(4000)])
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 4000, [0.5, 0.3, 0.2], atol=0.03)
    # top_p=0.7 keeps {0.5, 0.3}: renormalised to 0.625 / 0.375
    draws = np.array([sample_next(one, top_p=0.7)[0] for _ in range(4000)])
    assert (draws != 2).all()
    np.testing.assert_allclose((draws == 0).mean(), 0.625, atol=0.03)


def test_generate_is_reproducible_with_seed():
    m = GPT(**CFG)
    p = dalam.tensor(_tokens(2, 3))
    dalam.manual_seed(5)
    a = m.generate(p, 10, temperature=0.8, top_k=5)._data
    dalam.manual_seed(5)
    b = m.generate(p, 10, temperature=0.8, top_k=5)._data
    np.testing.assert_array_equal(a, b)
    assert a.max() < CFG["vocab_size"] and m.training  # mode restored


def test_errors():
    m = GPT(**CFG)
    with pytest.raises(RuntimeError, match=r"longer than the context \(block_size=16\)"):
        m(dalam.tensor(_tokens(1, 17)))
    with pytest.raises(IndexError, match=r"token id 11 is outside the vocabulary \[0, 10\]"):
        m(dalam.tensor(np.array([[1, 2, 11]])))
    with pytest.raises(IndexError, match="token id -1"):
        m(dalam.tensor(np.array([[1, -1]])))
    with pytest.raises(RuntimeError, match=r"\(batch, time\)"):
        m(dalam.tensor(np.array([1, 2, 3])))
    with pytest.raises(ValueError, match="divisible"):
        GPT(**{**CFG, "n_head": 3})


def test_training_reduces_loss():
    """A few AdamW steps memorise a short repeating sequence (the model learns)."""
    from dalam.optim import AdamW
    m = GPT(**CFG)
    seq = np.tile(np.arange(5), 4)[None, :17]
    x, y = dalam.tensor(seq[:, :-1]), dalam.tensor(seq[:, 1:])
    opt = AdamW(m.parameters(), lr=1e-2)
    first = None
    for _ in range(40):
        _, loss = m(x, y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first > math.log(CFG["vocab_size"]) * 0.8
    assert loss.item() < 0.3 * first
