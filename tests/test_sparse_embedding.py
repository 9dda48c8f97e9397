"""nn.EmbeddingBag, Embedding(sparse=True) row-sparse gradients and the
optimisers that apply them (SparseAdam, SGD, Adagrad), against PyTorch."""
import numpy as np
import pytest
import torch

import dalam
from dalam import nn, optim
from dalam.autograd import gradcheck
from dalam.nn.functional import embedding_bag

INP = np.array([1, 2, 4, 5, 4, 3, 2, 9, 2, 2, 7], np.int64)
OFF = np.array([0, 2, 2, 6, 8], np.int64)  # bag 1 is empty


def _pair(mode, pad=None, sparse=False, **kw):
    w0 = np.random.default_rng(0).standard_normal((20, 5)).astype(np.float32)
    e = nn.EmbeddingBag(20, 5, mode=mode, padding_idx=pad, sparse=sparse, **kw)
    e.weight._data[:] = w0
    te = torch.nn.EmbeddingBag(20, 5, mode=mode, padding_idx=pad, sparse=sparse, **kw)
    te.weight.data[:] = torch.tensor(w0)
    return e, te


def _dense(g):
    return g.to_dense().numpy() if g.is_sparse else g.numpy()


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("pad", [None, 2])
@pytest.mark.parametrize("sparse", [False, True])
def test_embedding_bag_matches_torch(mode, pad, sparse):
    if mode == "max" and sparse:
        with pytest.raises(ValueError, match="max mode does not support sparse"):
            _pair(mode, pad, sparse)[0](dalam.tensor(INP), dalam.tensor(OFF))
        return
    rng = np.random.default_rng(1)
    for psw_on in ([False, True] if mode == "sum" else [False]):
        e, te = _pair(mode, pad, sparse)
        ps = rng.standard_normal(len(INP)).astype(np.float32)
        dps = dalam.tensor(ps, requires_grad=True) if psw_on else None
        tps = torch.tensor(ps, requires_grad=True) if psw_on else None
        y = e(dalam.tensor(INP), dalam.tensor(OFF), dps)
        ty = te(torch.tensor(INP), torch.tensor(OFF), tps)
        gy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        (y * dalam.tensor(gy)).sum().backward()
        (ty * torch.tensor(gy)).sum().backward()
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert e.weight.grad.is_sparse == sparse == te.weight.grad.is_sparse
        np.testing.assert_allclose(_dense(e.weight.grad), _dense(te.weight.grad), rtol=1e-5,
                                   atol=1e-6)
        if psw_on:
            np.testing.assert_allclose(dps.grad.numpy(), tps.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_embedding_bag_2d_input_and_include_last_offset():
    x = np.array([[1, 2, 3], [4, 4, 0]], np.int64)
    for mode in ("sum", "mean", "max"):
        e, te = _pair(mode)
        np.testing.assert_allclose(e(dalam.tensor(x)).detach().numpy(),
                                   te(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    e, te = _pair("sum", include_last_offset=True)
    off = np.array([0, 3, 3, 11], np.int64)
    np.testing.assert_allclose(e(dalam.tensor(INP), dalam.tensor(off)).detach().numpy(),
                               te(torch.tensor(INP), torch.tensor(off)).detach().numpy(), rtol=1e-6)


def test_embedding_bag_gradcheck_float64():
    rng = np.random.default_rng(0)
    w = dalam.tensor(rng.standard_normal((10, 3)), requires_grad=True)
    ps = dalam.tensor(rng.standard_normal(len(INP[INP < 10])), requires_grad=True)
    inp = dalam.tensor(INP[INP < 10])
    off = dalam.tensor(np.array([0, 2, 2, 6], np.int64))
    for mode in ("sum", "mean", "max"):
        assert gradcheck(lambda w: embedding_bag(inp, w, off, mode=mode), [w])
    assert gradcheck(lambda w, p: embedding_bag(inp, w, off, mode="sum", per_sample_weights=p),
                     [w, ps])


def test_embedding_bag_bad_input_errors():
    e = nn.EmbeddingBag(20, 5, mode="mean")
    with pytest.raises(ValueError, match=r"EmbeddingBag\(20, 5\): offsets has to be"):
        e(dalam.tensor(INP))
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        e(dalam.tensor(INP), dalam.tensor(np.array([1, 3])))
    with pytest.raises(IndexError, match=r"EmbeddingBag\(20, 5\): token id 25 is out of range"):
        e(dalam.tensor(np.array([1, 25])), dalam.tensor(np.array([0])))
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        e(dalam.tensor(INP), dalam.tensor(OFF), dalam.ones(len(INP)))


@pytest.mark.parametrize("name,kw", [("SparseAdam", dict(lr=0.01)), ("SGD", dict(lr=0.05)),
                                     ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
                                     ("SparseAdam", dict(lr=0.01, betas=(0.8, 0.99), maximize=True))])
def test_sparse_embedding_optimisers_match_torch_over_100_steps(name, kw):
    w0 = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    e = nn.Embedding(50, 8, sparse=True, padding_idx=3)
    e.weight._data[:] = w0
    te = torch.nn.Embedding(50, 8, sparse=True, padding_idx=3)
    te.weight.data[:] = torch.tensor(w0)
    bag = nn.EmbeddingBag(50, 8, mode="sum", sparse=True)
    tbag = torch.nn.EmbeddingBag(50, 8, mode="sum", sparse=True)
    bag.weight._data[:] = w0
    tbag.weight.data[:] = torch.tensor(w0)
    o = getattr(optim, name)(list(e.parameters()) + list(bag.parameters()), **kw)
    to = getattr(torch.optim, name)(list(te.parameters()) + list(tbag.parameters()), **kw)
    rng = np.random.default_rng(1)
    sign = -1.0 if kw.get("maximize") else 1.0
    for s in range(100):
        idx = rng.integers(0, 50, (6, 4))
        t = rng.standard_normal((6, 4, 8)).astype(np.float32)
        o.zero_grad()
        to.zero_grad()
        loss = sign * (((e(dalam.tensor(idx)) - dalam.tensor(t)) ** 2).sum()
                       + (bag(dalam.tensor(idx)) ** 2).sum())
        tloss = sign * (((te(torch.tensor(idx)) - torch.tensor(t)) ** 2).sum()
                        + (tbag(torch.tensor(idx)) ** 2).sum())
        loss.backward()
        tloss.backward()
        g = e.weight.grad
        assert g.is_sparse and g._nnz() == int((idx != 3).sum())  # rows of the batch only
        o.step()
        to.step()
    np.testing.assert_allclose(e.weight.detach().numpy(), te.weight.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(bag.weight.detach().numpy(), tbag.weight.detach().numpy(), rtol=1e-4,
                               atol=1e-5)


def test_sparse_grad_representation_and_accumulation():
    e = nn.Embedding(10, 3, sparse=True)
    idx = dalam.tensor(np.array([1, 4, 1]))
    e(idx).sum().backward()
    e(dalam.tensor(np.array([4]))).sum().backward()  # a second backward concatenates rows
    g = e.weight.grad
    assert g.is_sparse and g._nnz() == 4 and not g.is_coalesced()
    c = g.coalesce()
    assert c._indices().numpy().tolist() == [[1, 4]] and c.is_coalesced()
    np.testing.assert_allclose(c._values().numpy(), [[2, 2, 2], [2, 2, 2]])
    dense = np.zeros((10, 3), np.float32)
    dense[1] = 2
    dense[4] = 2
    np.testing.assert_allclose(g.to_dense().numpy(), dense)
    # a table used both sparsely and densely gets a dense gradient
    w = nn.Parameter(np.ones((10, 3), np.float32))
    from dalam.nn.functional import embedding
    (embedding(idx, w, sparse=True).sum() + w.sum()).backward()
    assert not w.grad.is_sparse and w.grad.numpy()[1, 0] == 3


def test_dense_optimiser_refuses_sparse_gradient_clearly():
    e = nn.Embedding(10, 3, sparse=True)
    e(dalam.tensor(np.array([1, 2]))).sum().backward()
    with pytest.raises(RuntimeError, match="Adam does not support sparse gradients.*SparseAdam"):
        optim.Adam(e.parameters()).step()
    lin = nn.Linear(3, 1)
    lin(dalam.ones(1, 3)).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        optim.SparseAdam(lin.parameters()).step()
    with pytest.raises(RuntimeError, match="SGD: sparse gradients .* without momentum"):
        optim.SGD(e.parameters(), lr=0.1, momentum=0.9).step()


def test_sparse_adam_step_touches_only_batch_rows():
    e = nn.Embedding(100000, 16, sparse=True)
    opt = optim.SparseAdam(e.parameters(), lr=0.1)
    before = e.weight.detach().numpy().copy()
    e(dalam.tensor(np.array([5, 70000]))).sum().backward()
    opt.step()
    changed = np.flatnonzero(np.any(e.weight.detach().numpy() != before, 1))
    assert changed.tolist() == [5, 70000]


def test_sparse_gradient_with_clipping_and_zero_grad_matches_torch():
    w0 = np.random.default_rng(0).standard_normal((30, 4)).astype(np.float32)
    e = nn.Embedding(30, 4, sparse=True)
    e.weight._data[:] = w0
    te = torch.nn.Embedding(30, 4, sparse=True)
    te.weight.data[:] = torch.tensor(w0)
    idx = np.array([1, 5, 5, 29])
    (e(dalam.tensor(idx)) ** 3).sum().backward()
    (te(torch.tensor(idx)) ** 3).sum().backward()
    te.weight.grad = te.weight.grad.to_dense()  # torch's clip_grad_norm_ has no sparse kernel
    n = nn.utils.clip_grad_norm_(e.parameters(), 1.0)
    tn = torch.nn.utils.clip_grad_norm_(te.parameters(), 1.0)
    assert float(n.item()) == pytest.approx(float(tn), rel=1e-5)
    assert e.weight.grad.is_sparse  # scaled in place, still row-sparse
    np.testing.assert_allclose(e.weight.grad.to_dense().numpy(), te.weight.grad.numpy(),
                               rtol=1e-5, atol=1e-7)
    nn.utils.clip_grad_value_(e.parameters(), 0.1)
    assert np.abs(e.weight.grad.to_dense().numpy()).max() <= 0.1 + 1e-7
    e.zero_grad(set_to_none=False)
    assert e.weight.grad is None


def test_embedding_bag_max_norm_matches_torch():
    e, te = _pair("sum", max_norm=1.0)
    y = e(dalam.tensor(INP), dalam.tensor(OFF))
    ty = te(torch.tensor(INP), torch.tensor(OFF))
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e.weight.detach().numpy(), te.weight.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(e.weight.grad.numpy(), te.weight.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_embedding_bag_scale_grad_by_freq_is_embeddings_then_sum():
    """scale_grad_by_freq divides each row's gradient by its count in the batch, as
    torch.nn.Embedding(scale_grad_by_freq=True) does.  (torch 2.13's CPU EmbeddingBag
    looks the counts up in sorted order instead: for input [3, 1, 1] it gives row 3
    a gradient of 0.5 and row 1 of 1.0; we follow the documented rule.)"""
    e, _ = _pair("sum", scale_grad_by_freq=True)
    te = torch.nn.Embedding(20, 5, scale_grad_by_freq=True)
    te.weight.data[:] = torch.tensor(e.weight.detach().numpy())
    e(dalam.tensor(INP), dalam.tensor(OFF)).sum().backward()
    te(torch.tensor(INP)).sum().backward()  # every element is in some bag: same total
    np.testing.assert_allclose(e.weight.grad.numpy(), te.weight.grad.numpy(), rtol=1e-6)
