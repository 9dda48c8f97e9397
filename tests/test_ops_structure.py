"""Structural ops (dalam/ops/structure.py): PyTorch parity of values, dtypes
and input gradients in float32/float64, gradcheck in float64, and errors."""
import numpy as np
import pytest
import torch

import dalam
from op_table import OpInfo, params, run_torch_parity, run_gradcheck

F = "structure"
IDX = [2, 0, 2]


def _t(r):
    return tuple(r)


OPS = [
    OpInfo("diag_vec", lambda L, a: L.m.diag(a), [((3,),), ((1,),), ((0,),)], F),
    OpInfo("diag_vec_off", lambda L, a: a.diag(-2), [((3,),)], F),
    OpInfo("diag_mat", lambda L, a: a.diag(), [((3, 4),), ((4, 2),), ((0, 3),)], F),
    OpInfo("diag_mat_off", lambda L, a: L.m.diag(a, 1), [((3, 4),), ((1, 1),)], F),
    OpInfo("diagonal", lambda L, a: a.diagonal(), [((3, 4),), ((2, 3, 4),), ((0, 2),)], F),
    OpInfo("diagonal_dims", lambda L, a: L.m.diagonal(a, offset=-1, dim1=-1, dim2=0), [((3, 2, 4),)], F),
    OpInfo("diagonal_off_big", lambda L, a: a.diagonal(5), [((3, 4),)], F),
    OpInfo("trace", lambda L, a: a.trace(), [((3, 4),), ((3, 3),), ((1, 1),), ((0, 2),)], F),
    OpInfo("tril", lambda L, a: a.tril(), [((3, 4),), ((2, 3, 3),), ((0, 2),)], F),
    OpInfo("tril_k", lambda L, a: L.m.tril(a, -1), [((4, 3),)], F),
    OpInfo("triu", lambda L, a: a.triu(1), [((3, 4),), ((2, 1, 3),)], F),
    OpInfo("triu_neg", lambda L, a: L.m.triu(a, diagonal=-2), [((4, 4),)], F),
    OpInfo("roll", lambda L, a: a.roll(2), [((3, 4),), ((5,),), ((0, 2),), ((),)], F),
    OpInfo("roll_dim", lambda L, a: L.m.roll(a, -1, 1), [((3, 4),), ((2, 1, 3),)], F),
    OpInfo("roll_dims", lambda L, a: a.roll((1, -3), (0, -1)), [((3, 4),), ((2, 3, 2),)], F),
    OpInfo("tile", lambda L, a: a.tile((2,)), [((3,),), ((2, 3),), ((0, 2),)], F),
    OpInfo("tile_more", lambda L, a: L.m.tile(a, (2, 1, 3)), [((2, 3),), ((),)], F),
    OpInfo("repeat_interleave", lambda L, a: a.repeat_interleave(2), [((2, 3),), ((),), ((0,),)], F),
    OpInfo("repeat_interleave_dim", lambda L, a: L.m.repeat_interleave(a, 3, dim=-1), [((2, 3),), ((2, 0),)], F),
    OpInfo("repeat_interleave_tensor", lambda L, a: a.repeat_interleave(L.long([1, 0, 3]), dim=0),
           [((3, 2),), ((3,),)], F),
    OpInfo("repeat_interleave_tensor1", lambda L, a: L.m.repeat_interleave(a, L.long([2]), dim=1),
           [((2, 3),)], F),
    OpInfo("narrow", lambda L, a: a.narrow(1, 1, 2), [((3, 4),), ((2, 3, 2),), ((0, 3),)], F),
    OpInfo("narrow_neg", lambda L, a: L.m.narrow(a, -1, -2, 2), [((3, 4),)], F),
    OpInfo("narrow_empty", lambda L, a: a.narrow(0, 3, 0), [((3, 2),)], F),
    OpInfo("tensor_split", lambda L, a: _t(a.tensor_split(3)), [((7,),), ((2, 5),), ((2,),), ((0, 3),)], F),
    OpInfo("tensor_split_idx", lambda L, a: _t(L.m.tensor_split(a, [1, 6, 2], dim=-1)), [((3, 4),)], F),
    OpInfo("tensor_split_tensor", lambda L, a: _t(a.tensor_split(L.long([1, -1]), 0)), [((4, 2),)], F),
    OpInfo("take", lambda L, a: a.take(L.long([[0, 5], [-1, 5]])), [((2, 3),), ((6,),)], F),
    OpInfo("take_0d", lambda L, a: L.m.take(a, L.long(0)), [((),), ((2, 2),)], F),
    OpInfo("take_along_dim", lambda L, a: a.take_along_dim(L.long([[0, 2], [1, 1], [2, 0]]), 1),
           [((3, 3),)], F),
    OpInfo("take_along_dim_bcast", lambda L, a: L.m.take_along_dim(a, L.long([[[1], [0]]]), dim=-2),
           [((3, 2, 4),)], F),
    OpInfo("take_along_dim_bcast_in", lambda L, a: a.take_along_dim(L.long([[0, 1], [1, 1], [0, 0]]), 0),
           [((2, 1),)], F),
    OpInfo("take_along_dim_none", lambda L, a: a.take_along_dim(L.long([5, 0, 0])), [((2, 3),)], F),
    OpInfo("index_add", lambda L, a, s: a.index_add(0, L.long(IDX), s), [((3, 2), (3, 2)), ((4,), (3,))], F),
    OpInfo("index_add_alpha", lambda L, a, s: L.m.index_add(a, -1, L.long([1, 1]), s, alpha=-1.5),
           [((2, 3), (2, 2)), ((0, 2), (0, 2))], F),
    OpInfo("index_fill", lambda L, a: a.index_fill(1, L.long([0, 2, 0]), -1.0), [((2, 3),), ((0, 3),)], F),
    OpInfo("index_fill_0d", lambda L, a: L.m.index_fill(a, 0, L.long([1]), 2.5), [((3,),)], F),
    OpInfo("index_copy", lambda L, a, s: a.index_copy(0, L.long([2, 0]), s), [((3, 2), (2, 2)), ((3,), (2,))], F),
    OpInfo("index_copy_dim", lambda L, a, s: L.m.index_copy(a, -1, L.long([1]), s), [((2, 3), (2, 1))], F),
    OpInfo("masked_scatter", lambda L, a, s: a.masked_scatter(a > 0, s), [((3, 4), (3, 4)), ((0, 2), (1,))], F),
    OpInfo("masked_scatter_bcast",
           lambda L, a, s: L.m.masked_scatter(a, L.bool([[True], [False], [True]]), s), [((3, 2), (5,))], F),
    OpInfo("masked_scatter_bcast_in", lambda L, a, s: a.masked_scatter(L.bool([[True, False], [True, True]]), s),
           [((2,), (2, 3))], F),
    OpInfo("broadcast_tensors", lambda L, a, b, c: L.m.broadcast_tensors(a, b, c),
           [((3, 1), (1, 4), (4,)), ((2, 0), (1,), ()), ((2,), (2,), (2,))], F),
    OpInfo("meshgrid_ij", lambda L, a, b: L.m.meshgrid(a, b, indexing="ij"), [((3,), (4,)), ((0,), (2,)), ((), (2,))], F),
    OpInfo("meshgrid_xy", lambda L, a, b, c: L.m.meshgrid([a, b, c], indexing="xy"), [((3,), (4,), (2,))], F),
    OpInfo("meshgrid_one", lambda L, a: L.m.meshgrid(a, indexing="xy"), [((3,),)], F),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("op,shapes", params(OPS))
def test_matches_torch(op, shapes, dtype):
    run_torch_parity(op, shapes, dtype)


@pytest.mark.parametrize("op,shapes", params(OPS, with_grad_only=True))
def test_gradcheck(op, shapes):
    run_gradcheck(op, shapes)


def test_integer_inputs_and_views():
    a = np.arange(12, dtype=np.int64).reshape(3, 4)
    o, t = dalam.tensor(a), torch.tensor(a)
    for fo, ft in ((o.tril(), t.tril()), (o.triu(-1), t.triu(-1)), (o.trace(), t.trace()),
                   (o.diag(1), t.diag(1)), (o.roll(1, 0), t.roll(1, 0)), (o.tile(2), t.tile(2)),
                   (o.repeat_interleave(2, 0), t.repeat_interleave(2, 0)),
                   (dalam.repeat_interleave(dalam.tensor([2, 0, 1])),
                    torch.repeat_interleave(torch.tensor([2, 0, 1])))):
        assert fo.dtype == ft.numpy().dtype and fo.shape == tuple(ft.shape)
        np.testing.assert_array_equal(fo._data, ft.numpy())
    n = o.narrow(1, 1, 2)
    assert np.shares_memory(n._data, o._data)  # a view, as PyTorch
    x = dalam.randn(2, 3)
    assert x.diag().dtype == dalam.float32 and x.trace().dtype == dalam.float32


def test_errors_name_the_op():
    x = dalam.randn(2, 3)
    with pytest.raises(RuntimeError, match="narrow.*exceeds"):
        x.narrow(1, 2, 2)
    with pytest.raises(IndexError, match="take: index out of range"):
        x.take(dalam.tensor([6]))
    with pytest.raises(IndexError, match="index_add: index out of range"):
        x.index_add(0, dalam.tensor([2]), dalam.zeros(1, 3))
    with pytest.raises(RuntimeError, match="index_copy: source must have shape"):
        x.index_copy(0, dalam.tensor([0]), dalam.zeros(2, 3))
    with pytest.raises(RuntimeError, match="masked_scatter.*selects 6.*only 2"):
        x.masked_scatter(dalam.ones(2, 3) > 0, dalam.zeros(2))
    with pytest.raises(RuntimeError, match="trace: expected a 2-D"):
        dalam.zeros(3).trace()
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2"):
        dalam.zeros(3).tril()
    with pytest.raises(RuntimeError, match="diag: expected a 1-D or 2-D"):
        dalam.zeros(2, 2, 2).diag()
    with pytest.raises(RuntimeError, match="repeat_interleave: repeats must have shape"):
        x.repeat_interleave(dalam.tensor([1, 2]), dim=1)
    with pytest.raises(RuntimeError, match="broadcast_tensors"):
        dalam.broadcast_tensors(dalam.zeros(2), dalam.zeros(3))
    with pytest.raises(RuntimeError, match="meshgrid: indexing"):
        dalam.meshgrid(dalam.zeros(2), indexing="ji")
    with pytest.raises(RuntimeError, match="tensor_split: number of sections"):
        x.tensor_split(0)
    with pytest.raises(RuntimeError, match="take_along_dim.*number of dimensions"):
        x.take_along_dim(dalam.tensor([0]), 1)


def test_inplace_variants():
    rng = np.random.default_rng(0)
    a, s2, s3 = rng.standard_normal((3, 2)), rng.standard_normal((2, 2)), rng.standard_normal(6)
    mask = a > 0
    for name, args in (("index_add_", (0, [2, 2], s2)), ("index_fill_", (1, [1], -3.0)),
                       ("index_copy_", (0, [2, 0], s2)), ("masked_scatter_", (mask, s3))):
        def conv(v, L):
            if isinstance(v, list):
                return L.long(v)
            if isinstance(v, np.ndarray):
                return L.bool(v) if v.dtype == bool else L.m.tensor(v, requires_grad=True)
            return v
        from op_table import D, T
        lo = dalam.tensor(a, requires_grad=True)
        lt = torch.tensor(a, requires_grad=True)
        yo, yt = lo * 2, lt * 2
        ao, at = [conv(v, D) for v in args], [conv(v, T) for v in args]
        ro, rt = getattr(yo, name)(*ao), getattr(yt, name)(*at)
        assert ro is yo and rt is yt
        np.testing.assert_allclose(yo._data, yt.detach().numpy(), rtol=1e-12, err_msg=name)
        (yo * yo).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(lo.grad._data, lt.grad.numpy(), rtol=1e-12, err_msg=name)
        for u, v in zip(ao, at):
            if isinstance(u, dalam.Tensor) and u.requires_grad:
                np.testing.assert_allclose(u.grad._data, v.grad.numpy(), rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", ["tril", "triu", "roll", "index_fill"])
def test_double_backward_matches_torch(name):
    f = {"tril": lambda L, x: x.tril(-1), "triu": lambda L, x: L.m.triu(x, 1),
         "roll": lambda L, x: x.roll((1, 2), (0, 1)),
         "index_fill": lambda L, x: x.index_fill(1, L.long([0, 2]), 0.5)}[name]
    from op_table import D, T
    a = np.random.default_rng(3).standard_normal((3, 4))
    res = []
    for L, mk in ((D, dalam.tensor), (T, torch.tensor)):
        x = mk(a, requires_grad=True)
        y = (f(L, x) ** 3).sum()
        g, = L.m.autograd.grad(y, [x], create_graph=True)
        gg, = L.m.autograd.grad((g * g).sum(), [x])
        res.append((g.detach().numpy() if L is T else g._data, gg.numpy() if L is T else gg._data))
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-10)
