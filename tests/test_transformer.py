"""MultiheadAttention and the Transformer layers vs PyTorch 2.13: the same
weights (loaded from torch's state_dict) give the same outputs, attention
weights, input gradients and parameter gradients; gradcheck in float64;
positional encodings; clear errors."""
import math

import numpy as np
import pytest
import torch

import dalam
from dalam import nn
from dalam.autograd import gradcheck

from conftest import assert_close, to_torch

E, H, L, S, N, FF = 8, 2, 5, 6, 3, 16


def _copy_weights(ours, theirs):
    sd = {k: dalam.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(sd)
    assert set(ours.state_dict()) == set(theirs.state_dict())


def _randn(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _pair(a, requires_grad=True):
    d = dalam.tensor(a.copy(), requires_grad=requires_grad)
    return d, to_torch(d)


def _check_grads(ours, theirs, pairs, rtol=1e-4, atol=1e-5, what=""):
    for i, (d, t) in enumerate(pairs):
        assert d.grad is not None, f"{what}: input {i} got no gradient"
        assert_close(d.grad, t.grad, rtol=rtol, atol=atol, msg=f"{what}: grad of input {i}")
    tp = dict(theirs.named_parameters())
    op = dict(ours.named_parameters())
    assert set(op) == set(tp), f"{what}: parameter names differ: {set(op) ^ set(tp)}"
    for name, p in op.items():
        assert p.grad is not None, f"{what}: parameter {name} got no gradient"
        assert_close(p.grad, tp[name].grad, rtol=rtol, atol=atol, msg=f"{what}: grad of {name}")


def _seq(n, length, batch_first, seed, dim=E):
    return _randn(*((n, length, dim) if batch_first else (length, n, dim)), seed=seed)


def _masks(kind, dtype=np.float32):
    """(attn_mask, key_padding_mask) numpy pairs in PyTorch's MHA convention (True = blocked)."""
    r = np.random.default_rng(5)
    am = kp = None
    if kind in ("bool_attn", "both"):
        am = r.random((L, S)) > 0.7
        am[:, 0] = False
    if kind == "float_attn_3d":
        am = r.standard_normal((N * H, L, S)).astype(dtype)
    if kind in ("padding", "both"):
        kp = np.zeros((N, S), bool)
        kp[0, -2:] = True
        kp[2, -1] = True
    if kind == "float_padding":
        kp = np.zeros((N, S), dtype)
        kp[1, -3:] = -np.inf
    return am, kp


MHA_MASKS = ["none", "bool_attn", "float_attn_3d", "padding", "float_padding", "both"]


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("masks", MHA_MASKS)
@pytest.mark.parametrize("weights", ["none", "avg", "per_head"])
def test_mha_matches_torch(batch_first, masks, weights):
    tm = torch.nn.MultiheadAttention(E, H, batch_first=batch_first)
    m = nn.MultiheadAttention(E, H, batch_first=batch_first)
    _copy_weights(m, tm)
    q, tq = _pair(_seq(N, L, batch_first, 1))
    k, tk = _pair(_seq(N, S, batch_first, 2))
    v, tv = _pair(_seq(N, S, batch_first, 3))
    am, kp = _masks(masks)
    kw = dict(need_weights=weights != "none", average_attn_weights=weights == "avg")
    out, w = m(q, k, v, attn_mask=None if am is None else dalam.tensor(am),
               key_padding_mask=None if kp is None else dalam.tensor(kp), **kw)
    tout, tw = tm(tq, tk, tv, attn_mask=None if am is None else torch.from_numpy(am),
                  key_padding_mask=None if kp is None else torch.from_numpy(kp), **kw)
    assert_close(out, tout, rtol=1e-5, atol=1e-6, msg="output")
    if weights == "none":
        assert w is None and tw is None
    else:
        assert_close(w, tw, rtol=1e-5, atol=1e-6, msg="attention weights")
    g = _randn(*out.shape, seed=9)
    loss = (out * dalam.tensor(g)).sum()
    tloss = (tout * torch.from_numpy(g)).sum()
    if w is not None:  # the weights are differentiable outputs too
        gw = _randn(*w.shape, seed=10)
        loss = loss + (w * dalam.tensor(gw)).sum()
        tloss = tloss + (tw * torch.from_numpy(gw)).sum()
    loss.backward()
    tloss.backward()
    _check_grads(m, tm, [(q, tq), (k, tk), (v, tv)], what=f"MHA {masks}")


def test_mha_self_attention_same_tensor_and_causal():
    """query is key is value (the one-GEMM path) with a causal mask and is_causal hint."""
    tm = torch.nn.MultiheadAttention(E, H, batch_first=True)
    m = nn.MultiheadAttention(E, H, batch_first=True)
    _copy_weights(m, tm)
    x, tx = _pair(_randn(N, L, E, seed=1))
    cm = nn.Transformer.generate_square_subsequent_mask(L)
    tcm = torch.nn.Transformer.generate_square_subsequent_mask(L)
    assert_close(cm, tcm)
    out, _ = m(x, x, x, attn_mask=cm, is_causal=True, need_weights=False)
    tout, _ = tm(tx, tx, tx, attn_mask=tcm, is_causal=True, need_weights=False)
    assert_close(out, tout, atol=1e-6)
    out.sum().backward()
    tout.sum().backward()
    _check_grads(m, tm, [(x, tx)], what="self-attention causal")


def test_mha_kdim_vdim_and_unbatched():
    tm = torch.nn.MultiheadAttention(E, H, kdim=5, vdim=3)
    m = nn.MultiheadAttention(E, H, kdim=5, vdim=3)
    _copy_weights(m, tm)
    assert m.in_proj_weight is None and tuple(m.k_proj_weight.shape) == (E, 5)
    q, tq = _pair(_randn(L, E, seed=1))  # unbatched: (L, E)
    k, tk = _pair(_randn(S, 5, seed=2))
    v, tv = _pair(_randn(S, 3, seed=3))
    kp = np.zeros(S, bool)
    kp[-2:] = True
    out, w = m(q, k, v, key_padding_mask=dalam.tensor(kp))
    tout, tw = tm(tq, tk, tv, key_padding_mask=torch.from_numpy(kp))
    assert out.shape == (L, E) and w.shape == (L, S)
    assert_close(out, tout, atol=1e-6)
    assert_close(w, tw, atol=1e-6)
    out.sum().backward()
    tout.sum().backward()
    _check_grads(m, tm, [(q, tq), (k, tk), (v, tv)], what="kdim/vdim")


def test_mha_bias_false():
    tm = torch.nn.MultiheadAttention(E, H, bias=False, batch_first=True)
    m = nn.MultiheadAttention(E, H, bias=False, batch_first=True)
    _copy_weights(m, tm)
    x, tx = _pair(_randn(N, L, E, seed=1))
    out, _ = m(x, x, x)
    tout, _ = tm(tx, tx, tx)
    assert_close(out, tout, atol=1e-6)


def test_mha_add_bias_kv_and_zero_attn():
    tm = torch.nn.MultiheadAttention(E, H, add_bias_kv=True, add_zero_attn=True, batch_first=True)
    torch.nn.init.normal_(tm.bias_k)
    torch.nn.init.normal_(tm.bias_v)
    m = nn.MultiheadAttention(E, H, add_bias_kv=True, add_zero_attn=True, batch_first=True)
    _copy_weights(m, tm)
    q, tq = _pair(_randn(N, L, E, seed=1))
    k, tk = _pair(_randn(N, S, E, seed=2))
    am, kp = _masks("both")
    out, w = m(q, k, k, attn_mask=dalam.tensor(am), key_padding_mask=dalam.tensor(kp))
    tout, tw = tm(tq, tk, tk, attn_mask=torch.from_numpy(am), key_padding_mask=torch.from_numpy(kp))
    assert w.shape == (N, L, S + 2)
    assert_close(out, tout, atol=1e-6)
    assert_close(w, tw, atol=1e-6)
    out.sum().backward()
    tout.sum().backward()
    _check_grads(m, tm, [(q, tq), (k, tk)], what="bias_kv/zero_attn")


def test_mha_gradcheck_float64():
    m = nn.MultiheadAttention(4, 2, batch_first=True).double()
    am, _ = _masks("none")
    kp = np.zeros((2, 3), bool)
    kp[1, -1] = True
    q = dalam.tensor(_randn(2, 2, 4, seed=1, dtype=np.float64), requires_grad=True)
    k = dalam.tensor(_randn(2, 3, 4, seed=2, dtype=np.float64), requires_grad=True)
    params = [p for p in m.parameters()]

    def f(q, k, *ps):
        out, w = m(q, k, k, key_padding_mask=dalam.tensor(kp))
        return out, w

    assert gradcheck(f, [q, k, *params])
    assert gradcheck(lambda q, k: m(q, k, k, key_padding_mask=dalam.tensor(kp), need_weights=False)[0], [q, k])


def test_mha_errors():
    m = nn.MultiheadAttention(E, H, batch_first=True)
    x = dalam.randn(N, L, E)
    with pytest.raises(RuntimeError, match=r"attn_mask should have shape \(5, 5\)"):
        m(x, x, x, attn_mask=dalam.tensor(np.zeros((L, L + 1), bool)))
    with pytest.raises(RuntimeError, match="key_padding_mask should have shape"):
        m(x, x, x, key_padding_mask=dalam.tensor(np.zeros((N, L + 2), bool)))
    with pytest.raises(RuntimeError, match="embed_dim=8"):
        m(dalam.randn(N, L, E + 1), x, x)
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)


# ------------------------------------------------------------- layers
LAYER_CASES = [
    dict(norm_first=False, activation="relu", batch_first=False),
    dict(norm_first=True, activation="gelu", batch_first=True),
    dict(norm_first=False, activation="gelu", batch_first=True),
    dict(norm_first=True, activation="relu", batch_first=False),
]
LAYER_IDS = ["post_relu_seq", "pre_gelu_batch", "post_gelu_batch", "pre_relu_seq"]


@pytest.mark.parametrize("cfg", LAYER_CASES, ids=LAYER_IDS)
@pytest.mark.parametrize("masks", ["none", "both"])
def test_encoder_layer_matches_torch(cfg, masks):
    tl = torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, **cfg)
    ours = nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, **cfg)
    _copy_weights(ours, tl)
    x, tx = _pair(_seq(N, L, cfg["batch_first"], 1))
    sm = kp = None
    if masks == "both":
        sm = np.triu(np.ones((L, L), bool), 1)  # causal, bool True = blocked
        kp = np.zeros((N, L), bool)
        kp[1, -2:] = True
    out = ours(x, src_mask=None if sm is None else dalam.tensor(sm),
               src_key_padding_mask=None if kp is None else dalam.tensor(kp))
    tout = tl(tx, src_mask=None if sm is None else torch.from_numpy(sm),
              src_key_padding_mask=None if kp is None else torch.from_numpy(kp))
    assert_close(out, tout, rtol=1e-5, atol=2e-6)
    g = _randn(*out.shape, seed=4)
    out.backward(dalam.tensor(g))
    tout.backward(torch.from_numpy(g))
    _check_grads(ours, tl, [(x, tx)], what=f"encoder layer {cfg}")


@pytest.mark.parametrize("cfg", LAYER_CASES, ids=LAYER_IDS)
def test_decoder_layer_matches_torch(cfg):
    tl = torch.nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, **cfg)
    ours = nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, **cfg)
    _copy_weights(ours, tl)
    t, tt = _pair(_seq(N, L, cfg["batch_first"], 1))
    mem, tmem = _pair(_seq(N, S, cfg["batch_first"], 2))
    tgt_mask = np.triu(np.full((L, L), -np.inf, np.float32), 1)
    mkp = np.zeros((N, S), bool)
    mkp[0, -3:] = True
    out = ours(t, mem, tgt_mask=dalam.tensor(tgt_mask), memory_key_padding_mask=dalam.tensor(mkp))
    tout = tl(tt, tmem, tgt_mask=torch.from_numpy(tgt_mask), memory_key_padding_mask=torch.from_numpy(mkp))
    assert_close(out, tout, rtol=1e-5, atol=2e-6)
    g = _randn(*out.shape, seed=4)
    out.backward(dalam.tensor(g))
    tout.backward(torch.from_numpy(g))
    _check_grads(ours, tl, [(t, tt), (mem, tmem)], what=f"decoder layer {cfg}")


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
def test_full_transformer_matches_torch(batch_first):
    kw = dict(d_model=E, nhead=H, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF,
              dropout=0.0, batch_first=batch_first)
    tm = torch.nn.Transformer(**kw)
    m = nn.Transformer(**kw)
    _copy_weights(m, tm)
    src, tsrc = _pair(_seq(N, S, batch_first, 1))
    tgt, ttgt = _pair(_seq(N, L, batch_first, 2))
    tmask = nn.Transformer.generate_square_subsequent_mask(L)
    kp = np.zeros((N, S), bool)
    kp[2, -2:] = True
    out = m(src, tgt, tgt_mask=tmask, src_key_padding_mask=dalam.tensor(kp),
            memory_key_padding_mask=dalam.tensor(kp), tgt_is_causal=True)
    tout = tm(tsrc, ttgt, tgt_mask=to_torch(tmask), src_key_padding_mask=torch.from_numpy(kp),
              memory_key_padding_mask=torch.from_numpy(kp), tgt_is_causal=True)
    assert_close(out, tout, rtol=1e-5, atol=5e-6)
    g = _randn(*out.shape, seed=4)
    out.backward(dalam.tensor(g))
    tout.backward(torch.from_numpy(g))
    _check_grads(m, tm, [(src, tsrc), (tgt, ttgt)], what="Transformer")


def test_encoder_stack_with_norm_matches_torch():
    tl = torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=True, norm_first=True)
    te = torch.nn.TransformerEncoder(tl, 3, norm=torch.nn.LayerNorm(E), enable_nested_tensor=False)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=True,
                                                            norm_first=True), 3, norm=nn.LayerNorm(E))
    _copy_weights(ours, te)
    assert "layers.2.self_attn.in_proj_weight" in ours.state_dict()
    x, tx = _pair(_randn(N, L, E, seed=1))
    out = ours(x, mask=nn.Transformer.generate_square_subsequent_mask(L), is_causal=True)
    tout = te(tx, mask=torch.nn.Transformer.generate_square_subsequent_mask(L), is_causal=True)
    assert_close(out, tout, atol=2e-6)
    out.sum().backward()
    tout.sum().backward()
    _check_grads(ours, te, [(x, tx)], what="encoder stack")


def test_encoder_layer_gradcheck_float64():
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True, activation="gelu").double()
    x = dalam.tensor(_randn(2, 3, 4, seed=1, dtype=np.float64), requires_grad=True)
    kp = np.zeros((2, 3), bool)
    kp[0, -1] = True
    assert gradcheck(lambda x, *ps: layer(x, src_key_padding_mask=dalam.tensor(kp)),
                     [x, *layer.parameters()])


def test_decoder_layer_gradcheck_float64():
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    t = dalam.tensor(_randn(3, 2, 4, seed=1, dtype=np.float64), requires_grad=True)
    mem = dalam.tensor(_randn(2, 2, 4, seed=2, dtype=np.float64), requires_grad=True)
    cm = nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64)
    assert gradcheck(lambda t, mem: layer(t, mem, tgt_mask=cm), [t, mem])


def test_dropout_active_only_in_training():
    layer = nn.TransformerEncoderLayer(E, H, FF, dropout=0.5, batch_first=True)
    x = dalam.randn(N, L, E)
    layer.train()
    a, b = layer(x)._data, layer(x)._data
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_array_equal(layer(x)._data, layer(x)._data)


def test_transformer_errors():
    m = nn.Transformer(d_model=E, nhead=H, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=FF)
    with pytest.raises(RuntimeError, match="batch size"):
        m(dalam.randn(S, 2, E), dalam.randn(L, 3, E))
    with pytest.raises(RuntimeError, match="d_model=8"):
        m(dalam.randn(S, 2, E), dalam.randn(L, 2, E + 2))
    with pytest.raises(RuntimeError, match="activation"):
        nn.TransformerEncoderLayer(E, H, activation="swishy")


# ------------------------------------------------------------- positions
def test_sinusoidal_encoding_values():
    pe = nn.SinusoidalPositionalEncoding(6, max_len=10)
    x = dalam.zeros(2, 7, 6)
    y = pe(x)._data
    assert y.dtype == np.float32
    pos, i = 3, 2  # dims 2i, 2i+1 at position pos
    ang = pos / 10000 ** (2 * i / 6)
    np.testing.assert_allclose(y[1, pos, 2 * i], math.sin(ang), rtol=1e-6)
    np.testing.assert_allclose(y[1, pos, 2 * i + 1], math.cos(ang), rtol=1e-6)
    assert "pe" not in pe.state_dict()  # a constant, not a weight
    with pytest.raises(RuntimeError, match="max_len"):
        pe(dalam.zeros(1, 11, 6))


def test_learned_positional_embedding():
    pe = nn.LearnedPositionalEmbedding(8, 4)
    x = dalam.zeros(2, 5, 4, requires_grad=True)
    y = pe(x, offset=2)
    np.testing.assert_array_equal(y._data[0], pe.weight._data[2:7])
    y.sum().backward()
    g = pe.weight.grad._data
    assert (g[2:7] == 2).all() and (g[:2] == 0).all() and (g[7:] == 0).all()
    with pytest.raises(RuntimeError, match="exceed"):
        pe(dalam.zeros(1, 7, 4), offset=2)


def test_rotary_relative_positions_and_gradcheck():
    """RoPE rotates pairs, so norms are kept and q.k depends only on the
    distance between positions."""
    r = np.random.default_rng(0)
    qv = r.standard_normal(8)
    kv = r.standard_normal(8)
    x = dalam.tensor(np.stack([qv] * 10)[None].astype(np.float32))
    y = nn.rotary_embedding(x)._data[0]
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(qv), rtol=1e-5)
    kx = nn.rotary_embedding(dalam.tensor(np.stack([kv] * 10)[None].astype(np.float32)))._data[0]
    d1 = y[5] @ kx[3]
    d2 = y[7] @ kx[5]
    np.testing.assert_allclose(d1, d2, rtol=1e-4)
    # offset = position shift
    np.testing.assert_allclose(nn.rotary_embedding(x[:, 4:], offset=4)._data, nn.rotary_embedding(x)._data[:, 4:],
                               rtol=1e-5, atol=1e-6)
    xx = dalam.tensor(r.standard_normal((2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda t: nn.rotary_embedding(t, offset=1), [xx])
    with pytest.raises(RuntimeError, match="even"):
        nn.rotary_embedding(dalam.zeros(1, 2, 3))
