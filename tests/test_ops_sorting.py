"""Sorting, selection and scan ops (dalam/ops/sorting.py): PyTorch parity of
values, dtypes, indices and input gradients in float32/float64, gradcheck in
float64, ties, the no-grad counting ops, and the error messages."""
import numpy as np
import pytest
import torch

import dalam
from op_table import OpInfo, params, run_torch_parity, run_gradcheck

F = "sorting"
DI = "distinct"  # no ties: sort-based gradients are well defined
SEL = [((3, 5),), ((2, 3, 4),), ((1,),), ((0, 3),), ((4, 1),)]


def _vi(r):
    return (r.values, r.indices)


OPS = [
    OpInfo("sort", lambda L, a: _vi(a.sort()), SEL + [((),)], F, domain=DI),
    OpInfo("sort_desc_dim0", lambda L, a: _vi(L.m.sort(a, 0, descending=True)), SEL[:4], F, domain=DI),
    OpInfo("sort_stable_neg", lambda L, a: _vi(a.sort(dim=-2, stable=True)), [((3, 4),), ((2, 0, 3),)], F,
           domain=DI),
    OpInfo("argsort", lambda L, a: a.argsort(1, descending=True), [((3, 5),), ((2, 0),)], F, grad=False,
           domain=DI),
    OpInfo("topk", lambda L, a: _vi(a.topk(2)), [((3, 5),), ((2, 3, 4),), ((4, 2),)], F, domain=DI),
    OpInfo("topk_smallest_dim0", lambda L, a: _vi(L.m.topk(a, 3, dim=0, largest=False)),
           [((3, 5),), ((4, 0),)], F, domain=DI),
    OpInfo("topk_k0", lambda L, a: _vi(a.topk(0, -1)), [((3, 2),)], F, domain=DI),
    OpInfo("kthvalue", lambda L, a: _vi(a.kthvalue(2)), SEL[:2] + [((4, 3),)], F, domain=DI),
    OpInfo("kthvalue_keep", lambda L, a: _vi(L.m.kthvalue(a, 1, 0, keepdim=True)), [((3, 4),), ((1, 0),)], F,
           domain=DI),
    OpInfo("median", lambda L, a: a.median(), [((3, 4),), ((5,),), ((),), ((2, 1, 3),)], F, domain=DI),
    OpInfo("median_dim", lambda L, a: _vi(a.median(-1)), [((3, 4),), ((2, 3, 5),), ((3, 1),)], F, domain=DI),
    OpInfo("median_dim_keep", lambda L, a: _vi(L.m.median(a, 0, keepdim=True)), [((4, 3),), ((1, 0),)], F,
           domain=DI),
    OpInfo("mode", lambda L, a: _vi(a.mode()), [((3, 4),), ((2, 3, 1),), ((),)], F, domain=DI),
    OpInfo("mode_dim0_keep", lambda L, a: _vi(L.m.mode((a * 2).round(), 0, keepdim=True)),
           [((6, 3),), ((1, 0),)], F, domain=(-1.5, 1.5)),
    OpInfo("cumprod", lambda L, a: a.cumprod(1), [((3, 4),), ((0, 3),), ((2, 1),)], F, domain=(0.5, 1.5)),
    OpInfo("cumprod_neg", lambda L, a: L.m.cumprod(a, -1), [((2, 3, 4),), ((5,),), ((),)], F),
    OpInfo("cumprod_zeros", lambda L, a: (a * (a.abs() > 0.4)).cumprod(0),
           [((6, 3),), ((5,),)], F),
    OpInfo("cummax", lambda L, a: _vi(a.cummax(1)), [((3, 5),), ((1, 3),), ((2, 1),)], F, domain=DI),
    OpInfo("cummin", lambda L, a: _vi(L.m.cummin(a, -1)), [((3, 5),), ((2, 3, 4),), ((),)], F, domain=DI),
    OpInfo("logcumsumexp", lambda L, a: a.logcumsumexp(1), [((3, 5),), ((0, 3),), ((2, 1),)], F),
    OpInfo("logcumsumexp_neg", lambda L, a: L.m.logcumsumexp(a * 30, -1), [((2, 3, 6),), ((4,),), ((),)], F,
           rtol32=2e-5, atol32=1e-5),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("op,shapes", params(OPS))
def test_matches_torch(op, shapes, dtype):
    run_torch_parity(op, shapes, dtype)


@pytest.mark.parametrize("op,shapes", params(OPS, with_grad_only=True))
def test_gradcheck(op, shapes):
    run_gradcheck(op, shapes)


def _both(a):
    return dalam.tensor(np.asarray(a)), torch.tensor(np.asarray(a))


def test_return_types_and_dtypes():
    x = dalam.randn(3, 4)
    for r in (x.sort(), x.topk(2), x.kthvalue(1), x.median(0), x.cummax(0), dalam.cummin(x, 1)):
        assert r.values.dtype == dalam.float32 and r.indices.dtype == dalam.int64
        v, i = r
        assert v is r.values and i is r.indices
    assert x.argsort().dtype == dalam.int64
    assert x.cumprod(0).dtype == dalam.float32 and x.logcumsumexp(1).dtype == dalam.float32
    assert x.median().dtype == dalam.float32


def test_ties_stable_and_gradient_to_selected_index():
    a = np.array([[2.0, 1.0, 2.0, 1.0, 3.0, 2.0]])
    for desc in (False, True):
        o = dalam.tensor(a).sort(descending=desc, stable=True)
        t = torch.tensor(a).sort(descending=desc, stable=True)
        np.testing.assert_array_equal(o.indices._data, t.indices.numpy())
    np.testing.assert_array_equal(dalam.tensor(a).argsort(stable=True)._data,
                                  torch.tensor(a).argsort(stable=True).numpy())
    # median/kthvalue with ties: the gradient goes to the one selected index only
    x = dalam.tensor(a, requires_grad=True)
    m = x.median(1)
    m.values.sum().backward()
    g = x.grad._data
    assert g.sum() == 1.0 and g[0, m.indices.item()] == 1.0
    # cummax picks the last index among equal maxima, as PyTorch
    o, t = _both([1.0, 3.0, 3.0, 2.0, 3.0])
    np.testing.assert_array_equal(o.cummax(0).indices._data, t.cummax(0).indices.numpy())
    o, t = _both([2.0, 1.0, 1.0, 3.0, 1.0])
    np.testing.assert_array_equal(o.cummin(0).indices._data, t.cummin(0).indices.numpy())


def test_integer_inputs():
    o, t = _both(np.array([[3, 1, 2], [0, 5, 5]], np.int64))
    assert o.sort(1).values.dtype == dalam.int64
    np.testing.assert_array_equal(o.sort(1, descending=True).values._data,
                                  t.sort(1, descending=True).values.numpy())
    np.testing.assert_array_equal(o.topk(2).values._data, t.topk(2).values.numpy())
    np.testing.assert_array_equal(o.cumprod(1)._data, t.cumprod(1).numpy())
    assert o.cumprod(1).dtype == dalam.int64
    np.testing.assert_array_equal(o.median()._data, t.median().numpy())


@pytest.mark.parametrize("kw", [{}, {"return_inverse": True}, {"return_counts": True},
                                {"return_inverse": True, "return_counts": True}])
def test_unique(kw):
    a = np.array([[3, 1, 3], [2, 1, 7]], np.int64)
    for arr in (a, a.astype(np.float32), np.zeros((0, 2), np.float32)):
        o, t = _both(arr)
        ro, rt = dalam.unique(o, **kw), torch.unique(t, **kw)
        ro = ro if isinstance(ro, tuple) else (ro,)
        rt = rt if isinstance(rt, tuple) else (rt,)
        assert len(ro) == len(rt)
        for u, v in zip(ro, rt):
            assert u.dtype == v.numpy().dtype and u.shape == tuple(v.shape)
            np.testing.assert_array_equal(u._data, v.numpy())
    assert o.unique(sorted=True).shape == (0,)


def test_count_nonzero_bincount():
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], np.float32)
    o, t = _both(a)
    for dim in (None, 0, -1, (0, 1)):
        r = dalam.count_nonzero(o, dim=dim)
        assert r.dtype == dalam.int64
        np.testing.assert_array_equal(r._data, torch.count_nonzero(t, dim=dim).numpy())
    assert o.count_nonzero().item() == 3
    idx = np.array([0, 3, 3, 1, 0, 3], np.int64)
    w = np.linspace(0.5, 3, 6).astype(np.float32)
    io, it = _both(idx)
    for kw in ({}, {"minlength": 7}):
        np.testing.assert_array_equal(dalam.bincount(io, **kw)._data, torch.bincount(it, **kw).numpy())
    for dt in (np.float32, np.float64):
        r = io.bincount(dalam.tensor(w.astype(dt)))
        e = it.bincount(torch.tensor(w.astype(dt)))
        assert r.dtype == e.numpy().dtype
        np.testing.assert_allclose(r._data, e.numpy(), rtol=1e-6)
    e0 = dalam.bincount(dalam.tensor(np.zeros(0, np.int64)))
    assert e0.shape == (0,) and e0.dtype == dalam.int64


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_bucketize(right):
    seq = np.array([1.0, 2.0, 2.0, 3.5, 5.0], np.float32)
    vals = np.array([[0.5, 2.0, 3.5], [5.0, 6.0, 2.1]], np.float32)
    so, st = _both(seq)
    vo, vt = _both(vals)
    for a, b in ((dalam.searchsorted(so, vo, right=right), torch.searchsorted(st, vt, right=right)),
                 (dalam.bucketize(vo, so, right=right), torch.bucketize(vt, st, right=right)),
                 (dalam.bucketize(vo, so, right=right, out_int32=True),
                  torch.bucketize(vt, st, right=right, out_int32=True)),
                 (dalam.searchsorted(so, 2.0, right=right), torch.searchsorted(st, 2.0, right=right))):
        assert a.dtype == b.numpy().dtype and a.shape == tuple(b.shape)
        np.testing.assert_array_equal(a._data, b.numpy())
    side = "right" if right else "left"
    seq2 = np.sort(np.random.default_rng(0).standard_normal((2, 3, 6)), -1)
    v2 = np.random.default_rng(1).standard_normal((2, 3, 4))
    (a2, b2), (c2, d2) = _both(seq2), _both(v2)
    np.testing.assert_array_equal(dalam.searchsorted(a2, c2, side=side)._data,
                                  torch.searchsorted(b2, d2, side=side).numpy())
    srt = np.array([2, 0, 1], np.int64)
    unsorted = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(
        dalam.searchsorted(dalam.tensor(unsorted), dalam.tensor([2.5]), sorter=dalam.tensor(srt))._data,
        torch.searchsorted(torch.tensor(unsorted), torch.tensor([2.5]), sorter=torch.tensor(srt)).numpy())


def test_cumprod_logcumsumexp_extremes():
    # logcumsumexp stays finite where exp would overflow; its gradient too
    a = np.array([[1000.0, 999.0, -1000.0, 1001.0]])
    o = dalam.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    yo, yt = o.logcumsumexp(1), t.logcumsumexp(1)
    np.testing.assert_allclose(yo._data, yt.detach().numpy(), rtol=1e-12)
    c = np.array([[0.3, -1.0, 2.0, 0.5]])
    (yo * dalam.tensor(c)).sum().backward()
    (yt * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(o.grad._data, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    # cumprod gradient with several zeros in a row
    a = np.array([2.0, 0.0, 3.0, 0.0, 4.0])
    o = dalam.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    o.cumprod(0).sum().backward()
    t.cumprod(0).sum().backward()
    np.testing.assert_allclose(o.grad._data, t.grad.numpy())


def test_errors_name_the_op():
    x = dalam.randn(2, 3)
    with pytest.raises(RuntimeError, match="topk.*k=4.*size 3"):
        x.topk(4)
    with pytest.raises(RuntimeError, match="kthvalue.*k=0"):
        x.kthvalue(0)
    with pytest.raises(IndexError, match="sort: dimension out of range"):
        x.sort(2)
    with pytest.raises(RuntimeError, match="median.*empty"):
        dalam.zeros(0).median()
    with pytest.raises(IndexError, match="median.*size 0"):
        dalam.zeros(2, 0).median(1)
    with pytest.raises(RuntimeError, match="unique: dim="):
        x.unique(dim=0)
    with pytest.raises(RuntimeError, match="bincount.*1-D"):
        dalam.bincount(x)
    with pytest.raises(RuntimeError, match="bincount.*non-negative"):
        dalam.bincount(dalam.tensor([1, -1]))
    with pytest.raises(RuntimeError, match="searchsorted.*leading"):
        dalam.searchsorted(dalam.zeros(2, 3), dalam.zeros(3, 1))
    with pytest.raises(RuntimeError, match="bucketize.*1-D"):
        dalam.bucketize(x, dalam.zeros(2, 2))
    with pytest.raises(RuntimeError, match="logcumsumexp.*floating"):
        dalam.tensor([1, 2]).logcumsumexp(0)


def test_mode_ties_and_nan_like_torch():
    a = np.array([[1.0, 2.0, 2.0, 1.0, 3.0], [5.0, 4.0, 4.0, 5.0, 0.0], [7.0, 7.0, 7.0, 1.0, 1.0]])
    o, t = dalam.tensor(a), torch.tensor(a)
    for r, e in ((o.mode(1), t.mode(1)), (dalam.mode(o, 0), torch.mode(t, 0))):
        np.testing.assert_array_equal(r.values._data, e.values.numpy())
        np.testing.assert_array_equal(r.indices._data, e.indices.numpy())
    n = np.array([[2.0, np.nan, 1.0, 3.0], [4.0, 1.0, 2.0, 0.5]])
    o, t = dalam.tensor(n), torch.tensor(n)
    for f in (lambda x: x.sort(1), lambda x: x.sort(1, descending=True), lambda x: x.topk(2),
              lambda x: x.topk(2, largest=False), lambda x: x.median(1), lambda x: x.cummax(1),
              lambda x: x.kthvalue(4, 1)):
        r, e = f(o), f(t)
        np.testing.assert_array_equal(r.values._data, e.values.numpy())
        np.testing.assert_array_equal(r.indices._data, e.indices.numpy())
    assert np.isnan(o.median().item()) and np.isnan(t.median().item())


@pytest.mark.parametrize("name", ["sort", "topk", "median", "cummax", "kthvalue"])
def test_double_backward_matches_torch(name):
    f = {"sort": lambda x: x.sort(1, descending=True).values, "topk": lambda x: x.topk(2).values,
         "median": lambda x: x.median(0).values, "cummax": lambda x: x.cummax(1).values,
         "kthvalue": lambda x: x.kthvalue(2, 1, keepdim=True).values}[name]
    a = (np.random.default_rng(3).permutation(12) * 0.37 - 2).reshape(3, 4)
    res = []
    for L, mk in ((dalam, dalam.tensor), (torch, torch.tensor)):
        x = mk(a, requires_grad=True)
        y = (f(x) ** 3).sum()
        g, = L.autograd.grad(y, [x], create_graph=True)
        gg, = L.autograd.grad((g * g).sum(), [x])
        res.append((g.detach().numpy() if L is torch else g._data, gg.numpy() if L is torch else gg._data))
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-10)
