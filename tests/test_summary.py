"""``dalam.summary``: output shapes, parameter counts, multiply-adds of
Linear, Conv, RNN/LSTM/GRU and attention (checked against the formulas),
totals and the memory estimate."""
import json

import numpy as np
import pytest

import dalam
import dalam.nn as nn
from dalam.models import GPT, CharRNN


def rows_of(s, type_):
    return [r for r in s.rows if r["type"] == type_]


@pytest.mark.parametrize("cell,gates", [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
@pytest.mark.parametrize("layers,bidir", [(1, False), (2, True)])
def test_recurrent_macs(cell, gates, layers, bidir):
    E, H, B, T = 8, 16, 3, 5
    m = getattr(nn, cell)(E, H, num_layers=layers, bidirectional=bidir, batch_first=True)
    s = dalam.summary(m, (B, T, E), verbose=0)
    D = 2 if bidir else 1
    expected = sum(D * B * T * gates * H * ((E if l == 0 else D * H) + H) for l in range(layers))
    assert s.rows[0]["macs"] == s.total_mult_adds == expected
    assert s.rows[0]["shape"] == [B, T, D * H]
    assert s.total_params == sum(p.numel() for p in m.parameters())


def test_multihead_attention_macs():
    E, H, B, L, S = 16, 4, 2, 5, 7
    m = nn.MultiheadAttention(E, H, batch_first=True)
    q, kv = dalam.randn(B, L, E), dalam.randn(B, S, E)
    s = dalam.summary(m, input_data=(q, kv, kv), verbose=0)
    own = B * L * E * E + 2 * B * S * E * E + 2 * B * L * S * E  # projections + scores + weighted sum
    out_proj = B * L * E * E
    assert s.rows[0]["macs"] == own
    assert rows_of(s, "NonDynamicallyQuantizableLinear")[0]["macs"] == out_proj  # PyTorch's class name
    assert s.total_mult_adds == own + out_proj


def test_gpt_counts_the_fused_attention_once_per_block():
    cfg = dict(vocab_size=20, block_size=8, n_layer=2, n_head=2, n_embd=16)
    m = GPT(**cfg)
    T, C = 8, 16
    s = dalam.summary(m, (1, T), dtype=dalam.int64, verbose=0)
    attn = rows_of(s, "CausalSelfAttention")
    assert len(attn) == 2 and all(r["macs"] == 2 * T * T * C for r in attn)  # q k^T and p v
    linear = T * (C * 3 * C + C * C + C * 4 * C + 4 * C * C) * 2 + T * C * 20
    assert s.total_mult_adds == linear + 2 * 2 * T * T * C
    # the tied output layer counts no parameters of its own
    assert s.total_params == sum(p.numel() for p in m.parameters())
    assert rows_of(s, "Linear")[-1]["params"] == 0
    # rows follow the call tree: blocks at depth 1, their layers below
    assert [r["depth"] for r in s.rows if r["type"] == "Block"] == [1, 1]
    assert all(r["depth"] == 2 for r in attn)


def test_memory_estimate_and_dict():
    m = CharRNN(30, 8, 16)
    s = dalam.summary(m, (4, 10), dtype=dalam.int64, verbose=0)
    assert s.param_bytes == 4 * s.total_params
    assert s.input_bytes == 4 * 10 * 8  # int64 ids
    # leaf outputs: embedding, LSTM (out, h, c), dropout, head; twice (values and gradients)
    leaf = 4 * (4 * 10 * 8 + 4 * 10 * 16 + 2 * 4 * 16 + 4 * 10 * 16 + 4 * 10 * 30)
    assert s.act_bytes == 2 * leaf
    assert s.total_bytes == s.param_bytes + s.input_bytes + s.act_bytes
    d = json.loads(json.dumps(s.to_dict()))
    assert d["total_params"] == s.total_params and d["layers"][1]["type"] == "Embedding"
    text = str(s)
    assert "Estimated Total Size (MiB)" in text and f"{s.total_params:,}" in text


def test_conv_linear_unchanged_and_mode_restored(capsys):
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 5))
    m.train()
    s = dalam.summary(m, (2, 3, 6, 6))
    out = capsys.readouterr().out
    assert "Conv2d" in out and "[2, 8, 6, 6]" in out
    assert rows_of(s, "Conv2d")[0]["macs"] == 2 * 8 * 6 * 6 * 27
    assert rows_of(s, "Linear")[0]["macs"] == 2 * 5 * 288
    assert m.training


def test_summary_leaves_the_attention_op_unpatched():
    from dalam.ops.attention import ScaledDotProductAttention
    before = ScaledDotProductAttention.forward
    with pytest.raises(RuntimeError):
        dalam.summary(GPT(vocab_size=5, block_size=4, n_layer=1, n_head=1, n_embd=8), (1, 9),
                      dtype=dalam.int64, verbose=0)  # longer than the context: the model raises
    assert ScaledDotProductAttention.forward is before
    s = dalam.summary(GPT(vocab_size=5, block_size=4, n_layer=1, n_head=1, n_embd=8), (1, 4),
                      dtype=dalam.int64, verbose=0)
    assert np.isfinite(s.total_mult_adds)
