"""Fused scaled dot-product attention vs torch.nn.functional.scaled_dot_product_attention:
forward and every gradient (query, key, value and a float mask), for boolean,
additive and causal masks, custom scale, broadcast batch dims; gradcheck in
float64; dropout semantics; clear errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dalam
from dalam.autograd import gradcheck
from dalam.ops.attention import scaled_dot_product_attention as sdpa

from conftest import assert_close, to_torch


def _qkv(qshape, kshape, vshape, dtype=np.float32, seed=0):
    r = np.random.default_rng(seed)
    return [dalam.tensor(r.standard_normal(s).astype(dtype), requires_grad=True)
            for s in (qshape, kshape, vshape)]


def _bool_mask(shape, seed=1):
    m = np.random.default_rng(seed).random(shape) > 0.3
    m[..., 0] = True  # every row keeps at least one position (torch's reference is then finite)
    return m


CASES = {
    "plain": dict(q=(2, 3, 5, 4), k=(2, 3, 7, 4), v=(2, 3, 7, 6)),
    "unbatched_3d": dict(q=(3, 5, 4), k=(3, 6, 4), v=(3, 6, 4)),
    "bool_mask_2d": dict(q=(2, 3, 5, 4), k=(2, 3, 7, 4), v=(2, 3, 7, 4), bool_mask=(5, 7)),
    "bool_mask_4d": dict(q=(2, 3, 5, 4), k=(2, 3, 7, 4), v=(2, 3, 7, 4), bool_mask=(2, 1, 5, 7)),
    "float_mask": dict(q=(2, 3, 5, 4), k=(2, 3, 7, 4), v=(2, 3, 7, 4), float_mask=(2, 3, 5, 7)),
    "float_mask_bcast": dict(q=(2, 3, 5, 4), k=(2, 3, 7, 4), v=(2, 3, 7, 4), float_mask=(1, 3, 1, 7)),
    "causal_square": dict(q=(2, 2, 6, 4), k=(2, 2, 6, 4), v=(2, 2, 6, 4), is_causal=True),
    "causal_rect": dict(q=(2, 2, 4, 4), k=(2, 2, 6, 4), v=(2, 2, 6, 3), is_causal=True),
    "scale": dict(q=(2, 3, 5, 4), k=(2, 3, 7, 4), v=(2, 3, 7, 4), scale=0.37),
    "bcast_batch": dict(q=(2, 3, 5, 4), k=(1, 3, 7, 4), v=(1, 3, 7, 4)),
}


def _run_both(case, dtype=np.float32):
    q, k, v = _qkv(case["q"], case["k"], case["v"], dtype)
    mask_d = mask_t = None
    if "bool_mask" in case:
        m = _bool_mask(case["bool_mask"])
        mask_d, mask_t = dalam.tensor(m), torch.from_numpy(m)
    if "float_mask" in case:
        m = np.random.default_rng(2).standard_normal(case["float_mask"]).astype(dtype)
        mask_d = dalam.tensor(m, requires_grad=True)
        mask_t = to_torch(mask_d)
    kw = dict(is_causal=case.get("is_causal", False), scale=case.get("scale"))
    out = sdpa(q, k, v, attn_mask=mask_d, **kw)
    tq, tk, tv = (to_torch(t) for t in (q, k, v))
    ref = TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=mask_t, **kw)
    g = np.random.default_rng(3).standard_normal(out.shape).astype(dtype)
    out.backward(dalam.tensor(g))
    ref.backward(torch.from_numpy(g))
    ins = [(q, tq), (k, tk), (v, tv)]
    if mask_d is not None and mask_d.requires_grad:
        ins.append((mask_d, mask_t))
    return out, ref, ins


@pytest.mark.parametrize("name", sorted(CASES))
def test_sdpa_matches_torch_forward_and_grads(name):
    out, ref, ins = _run_both(CASES[name])
    assert_close(out, ref, rtol=1e-5, atol=1e-6, msg=f"{name} forward")
    for i, (d, t) in enumerate(ins):
        assert d.grad is not None, f"{name}: input {i} got no gradient"
        assert_close(d.grad, t.grad, rtol=1e-5, atol=1e-5, msg=f"{name} grad of input {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_sdpa_float64_matches_torch(name):
    out, ref, ins = _run_both(CASES[name], np.float64)
    assert out.dtype == np.float64
    assert_close(out, ref, rtol=1e-10, atol=1e-12, msg=f"{name} forward")
    for i, (d, t) in enumerate(ins):
        assert_close(d.grad, t.grad, rtol=1e-10, atol=1e-12, msg=f"{name} grad of input {i}")


@pytest.mark.parametrize("name", ["plain", "bool_mask_4d", "float_mask_bcast", "causal_rect", "scale",
                                  "bcast_batch"])
def test_sdpa_gradcheck(name):
    c = CASES[name]
    small = lambda s: tuple(min(d, 3) if i < len(s) - 2 else d for i, d in enumerate(s))  # noqa: E731
    q, k, v = _qkv(small(c["q"]), small(c["k"]), small(c["v"]), np.float64)
    inputs = [q, k, v]
    mask = None
    if "bool_mask" in c:
        mask = dalam.tensor(_bool_mask(small(c["bool_mask"])))
    if "float_mask" in c:
        mask = dalam.tensor(np.random.default_rng(2).standard_normal(small(c["float_mask"])), requires_grad=True)
        inputs.append(mask)
    kw = dict(is_causal=c.get("is_causal", False), scale=c.get("scale"))

    def f(q, k, v, *m):
        return sdpa(q, k, v, attn_mask=m[0] if m else mask, **kw)

    assert gradcheck(f, inputs)


def test_sdpa_fully_masked_row_is_zero_like_torch():
    q, k, v = _qkv((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4))
    m = np.ones((3, 5), bool)
    m[1] = False
    out = sdpa(q, k, v, attn_mask=dalam.tensor(m))
    tq, tk, tv = (to_torch(t) for t in (q, k, v))
    ref = TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.from_numpy(m))
    out.sum().backward()
    ref.sum().backward()
    assert np.isfinite(out._data).all()
    assert_close(out, ref)
    for d, t in ((q, tq), (k, tk), (v, tv)):
        assert_close(d.grad, t.grad, atol=1e-5)


def test_sdpa_keeps_float32():
    q, k, v = _qkv((2, 5, 4), (2, 5, 4), (2, 5, 4))
    m = dalam.tensor(np.zeros((5, 5), np.float64))  # a float64 additive mask must not upcast
    out = sdpa(q, k, v, attn_mask=m)
    out.sum().backward()
    assert out.dtype == np.float32
    assert q.grad.dtype == k.grad.dtype == v.grad.dtype == np.float32


def test_sdpa_dropout_semantics():
    """With v = identity the output IS the dropped-out probability matrix: each
    entry is 0 or P/(1-p), and about p of them are zeroed."""
    p = 0.4
    S = 64
    r = np.random.default_rng(0)
    q = dalam.tensor(r.standard_normal((8, S, 16)).astype(np.float32))
    k = dalam.tensor(r.standard_normal((8, S, 16)).astype(np.float32))
    v = dalam.tensor(np.broadcast_to(np.eye(S, dtype=np.float32), (8, S, S)).copy())
    probs = sdpa(q, k, v)._data
    out = sdpa(q, k, v, dropout_p=p)._data
    kept = out != 0
    np.testing.assert_allclose(out[kept], probs[kept] / (1 - p), rtol=1e-5)
    assert abs((~kept).mean() - p) < 0.02
    # training=False (eval) disables dropout, as Module.eval() does for nn layers
    np.testing.assert_array_equal(sdpa(q, k, v, dropout_p=p, training=False)._data, probs)


def test_sdpa_dropout_gradcheck():
    q, k, v = _qkv((2, 3, 4), (2, 5, 4), (2, 5, 3), np.float64)

    def f(q, k, v):
        dalam.manual_seed(7)  # same keep-mask at every evaluation
        return sdpa(q, k, v, dropout_p=0.3)

    assert gradcheck(f, [q, k, v])


def test_sdpa_errors():
    q, k, v = _qkv((2, 5, 4), (2, 7, 4), (2, 7, 4))
    with pytest.raises(RuntimeError, match="attn_mask of shape"):
        sdpa(q, k, v, attn_mask=dalam.tensor(np.ones((5, 6), bool)))
    with pytest.raises(RuntimeError, match="query features"):
        sdpa(q, dalam.randn(2, 7, 3), v)
    with pytest.raises(RuntimeError, match="value has"):
        sdpa(q, k, dalam.randn(2, 6, 4))
    with pytest.raises(RuntimeError, match="either attn_mask or is_causal"):
        sdpa(q, k, v, attn_mask=dalam.tensor(np.ones((5, 7), bool)), is_causal=True)
    with pytest.raises(RuntimeError, match="bool or float"):
        sdpa(q, k, v, attn_mask=dalam.tensor(np.ones((5, 7), np.int64)))


def test_sdpa_functional_export():
    """F.scaled_dot_product_attention is the same op (once nn.functional exists)."""
    from dalam.nn import functional as F
    assert F.scaled_dot_product_attention is sdpa
