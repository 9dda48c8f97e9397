"""Layout, memory and view methods that never lie: for each, the result shares
memory with its input exactly when PyTorch's does, reports PyTorch's strides,
storage offset and contiguity, and writes through it reach the input exactly
when they do in PyTorch (or raise the same kind of error)."""
import warnings

import numpy as np
import pytest
import torch

import dalam
from op_table import OpInfo, params, run_torch_parity, run_gradcheck

VIEWS = {
    "view": lambda L, x: x.view(6, 4), "view_neg": lambda L, x: x.view(-1, 4),
    "reshape": lambda L, x: x.reshape(-1), "reshape_copy": lambda L, x: x.transpose(0, 1).reshape(-1),
    "flatten": lambda L, x: x.flatten(), "flatten_copy": lambda L, x: x.transpose(1, 2).flatten(),
    "ravel": lambda L, x: x.ravel(), "transpose": lambda L, x: x.transpose(0, 2),
    "permute": lambda L, x: x.permute(2, 0, 1), "T": lambda L, x: x[0].T, "mT": lambda L, x: x.mT,
    "H": lambda L, x: x[1].H, "mH": lambda L, x: x.mH, "t": lambda L, x: x[0].t(),
    "adjoint": lambda L, x: x.adjoint(),
    "squeeze": lambda L, x: x.unsqueeze(0).squeeze(0), "squeeze_dim": lambda L, x: x[:, :1].squeeze(1),
    "unsqueeze": lambda L, x: x.unsqueeze(1), "expand": lambda L, x: x[:, :1].expand(2, 5, 4),
    "expand_new_dim": lambda L, x: x.expand(1, 2, 3, 4), "expand_as": lambda L, x: x[:1].expand_as(x),
    "broadcast_to": lambda L, x: L.broadcast_to(x[:, :1], (2, 3, 4)),
    "getitem_int": lambda L, x: x[1], "getitem_slice": lambda L, x: x[:, 1:],
    "getitem_step": lambda L, x: x[:, ::2], "getitem_none": lambda L, x: x[None],
    "getitem_ellipsis": lambda L, x: x[..., 1], "getitem_last": lambda L, x: x[:, -1],
    "getitem_list": lambda L, x: x[[0, 1]], "getitem_bool": lambda L, x: x[x > 3],
    "getitem_tensor": lambda L, x: x[L.tensor([1, 0])],
    "narrow": lambda L, x: x.narrow(2, 1, 2), "select": lambda L, x: x.select(1, 2),
    "unbind": lambda L, x: x.unbind(0)[1], "split": lambda L, x: x.split(2, 2)[1],
    "chunk": lambda L, x: x.chunk(2, 2)[1], "tensor_split": lambda L, x: x.tensor_split(2, 2)[1],
    "hsplit": lambda L, x: L.hsplit(x, 3)[0], "vsplit": lambda L, x: L.vsplit(x, 2)[1],
    "diagonal": lambda L, x: x.diagonal(0, 1, 2), "diag_copies": lambda L, x: L.diag(x[0]),
    "movedim": lambda L, x: x.movedim(0, 2), "swapaxes": lambda L, x: x.swapaxes(0, 1),
    "unflatten": lambda L, x: x.unflatten(2, (2, 2)), "view_as": lambda L, x: x.view_as(L.zeros(4, 6)),
    "flip_copies": lambda L, x: x.flip(0), "roll": lambda L, x: x.roll(1, 0),
    "repeat": lambda L, x: x.repeat(1, 1, 1), "contiguous": lambda L, x: x.contiguous(),
    "contiguous_copy": lambda L, x: x.transpose(0, 1).contiguous(), "clone": lambda L, x: x.clone(),
    "clone_t": lambda L, x: x.transpose(0, 1).clone(),
    "clone_t_contig": lambda L, x: x.transpose(0, 1).clone(memory_format=L.contiguous_format),
    "clone_step": lambda L, x: x[:, ::2].clone(),
    "channels_last": lambda L, x: x[None].contiguous(memory_format=L.channels_last),
    "to_channels_last": lambda L, x: x[None].to(memory_format=L.channels_last),
    "detach": lambda L, x: x.detach(), "data": lambda L, x: x.data,
    "to_same": lambda L, x: x.to(L.float32), "to_copy": lambda L, x: x.to(L.float32, copy=True),
    "to_cpu": lambda L, x: x.to("cpu"), "cpu": lambda L, x: x.cpu(), "double": lambda L, x: x.double(),
    "float": lambda L, x: x.float(), "type_as": lambda L, x: x.type_as(x), "real": lambda L, x: x.real,
    "as_strided": lambda L, x: x.as_strided((2, 2), (1, 2)),
    "as_strided_offset": lambda L, x: x[1].as_strided((3,), (4,), 1),
    "as_strided_windows": lambda L, x: x.view(-1).as_strided((5, 4), (4, 1)),
    "unfold": lambda L, x: x.unfold(2, 2, 1), "unfold_step": lambda L, x: x.unfold(1, 2, 2),
    "view_dtype": lambda L, x: x.view(L.int32), "atleast_2d": lambda L, x: L.atleast_2d(x),
    "atleast_3d_1d": lambda L, x: L.atleast_3d(x[0, 0]),
    "take_along": lambda L, x: x.take_along_dim(L.tensor([[[0]]]), 2),
    "index_select": lambda L, x: x.index_select(0, L.tensor([1])),
    "masked_fill": lambda L, x: x.masked_fill(x > 3, 0), "add0": lambda L, x: x + 0,
    "relu": lambda L, x: L.relu(x), "tril": lambda L, x: x.tril(),
}


def _probe(L, f):
    x = L.arange(24.0).reshape(2, 3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            y = f(L, x)
        except Exception as e:
            return ("raises", type(e).__name__)
    if L is torch:
        share = y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    else:
        share = y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
        assert share == bool(np.shares_memory(y.numpy(), x.numpy()))
    layout = (tuple(y.shape), tuple(y.stride()), y.storage_offset(), y.is_contiguous(),
              str(y.dtype).replace("torch.", ""), y is x)
    fill = 0 if y.dtype in (L.int32,) else -1.0
    try:
        with L.no_grad():
            y.fill_(fill)
        through = bool((x == -1).any()) if fill == -1.0 else bool((x == 0).sum() > 1)
    except RuntimeError:
        through = "raises"
    return share, layout, through


@pytest.mark.parametrize("name", list(VIEWS))
def test_memory_sharing_layout_and_write_through_match_torch(name):
    ours, theirs = _probe(dalam, VIEWS[name]), _probe(torch, VIEWS[name])
    assert ours == theirs, f"{name}: dalam {ours} vs torch {theirs}"


INPLACE_ON_EXPANDED = ["fill_(1)", "zero_()", "copy_(L.ones(3, 4))", "normal_()", "uniform_()",
                       "mul_(2)", "add_(1)", "__setitem__(0, 1.0)", "clamp_(0, 1)", "relu_()",
                       "bernoulli_()", "copy_(L.ones(4))"]


@pytest.mark.parametrize("expr", INPLACE_ON_EXPANDED)
def test_inplace_on_expanded_tensor_raises_or_works_as_torch(expr):
    out = []
    for L in (dalam, torch):
        base = L.zeros(3, 1)
        x = base.expand(3, 4)
        try:
            eval("x." + expr, {"x": x, "L": L})
            out.append(("ok", base.numpy().ravel().tolist()))
        except RuntimeError as e:
            out.append(("raises", "more than one element" in str(e)))
    assert out[0] == out[1], f"{expr}: dalam {out[0]} vs torch {out[1]}"


def test_contiguous_view_channels_last_and_memory_formats():
    a = np.arange(120.0, dtype=np.float32).reshape(2, 3, 4, 5)
    x, t = dalam.tensor(a), torch.tensor(a)
    y, ty = x.contiguous(memory_format=dalam.channels_last), t.contiguous(memory_format=torch.channels_last)
    assert y.stride() == ty.stride() and not y.is_contiguous()
    assert y.is_contiguous(memory_format=dalam.channels_last)
    assert ty.is_contiguous(memory_format=torch.channels_last)
    assert y.contiguous(memory_format=dalam.channels_last) is y
    np.testing.assert_array_equal(y.numpy(), a)
    with pytest.raises(RuntimeError):
        ty.view(-1)
    with pytest.raises(RuntimeError, match="view"):
        y.view(-1)
    assert y.contiguous().is_contiguous() and y.reshape(-1).shape == (120,)
    with pytest.raises(RuntimeError, match="rank 4"):
        dalam.zeros(2, 3, 4).contiguous(memory_format=dalam.channels_last)
    with pytest.raises(RuntimeError, match="preserve"):
        x.contiguous(memory_format=dalam.preserve_format)
    xg = dalam.tensor(a, requires_grad=True)
    (xg.contiguous(memory_format=dalam.channels_last) * 2).sum().backward()
    assert np.all(xg.grad.numpy() == 2)


def test_clone_preserves_strides_as_torch_so_view_fails_the_same_way():
    x, t = dalam.zeros(2, 3), torch.zeros(2, 3)
    with pytest.raises(RuntimeError):
        t.t().clone().view(6)
    with pytest.raises(RuntimeError, match="view"):
        x.t().clone().view(6)
    assert x.t().clone(memory_format=dalam.contiguous_format).view(6).shape == (6,)
    assert x.t().contiguous().view(6).shape == (6,)


def test_numpy_and_from_numpy_share_memory():
    a = np.zeros(3, np.float32)
    x = dalam.from_numpy(a)
    a[0] = 5
    x[1] = 7
    assert x.tolist() == [5, 7, 0] and a.tolist() == [5, 7, 0]
    n = x.numpy()
    n[2] = 9
    assert x[2].item() == 9
    assert dalam.from_numpy(np.zeros(2, np.float64)).dtype == np.float64
    with pytest.raises(ValueError, match="negative"):
        dalam.from_numpy(np.arange(3)[::-1])
    with pytest.raises(ValueError):
        torch.from_numpy(np.arange(3)[::-1])
    with pytest.raises(TypeError):
        dalam.from_numpy(np.array(["a"]))
    with pytest.raises(TypeError):
        dalam.from_numpy([1, 2])
    g = dalam.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        g.numpy()
    assert np.shares_memory(g.numpy(force=True), g.detach().numpy())
    y = dalam.tensor(a)   # tensor() copies, as torch.tensor
    y[0] = -1
    assert a[0] == 5
    assert np.shares_memory(dalam.as_tensor(a).numpy(), a)


def test_stride_storage_offset_data_ptr():
    a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    x, t = dalam.tensor(a), torch.tensor(a)
    for f in [lambda z: z, lambda z: z[1:], lambda z: z[:, 2], lambda z: z.t(), lambda z: z[1:, 1:].t(),
              lambda z: z.unsqueeze(0), lambda z: z[:, None], lambda z: z.reshape(2, 6)]:
        assert f(x).stride() == f(t).stride()
        assert f(x).storage_offset() == f(t).storage_offset()
        assert f(x).stride(-1) == f(t).stride(-1)
        assert (f(x).data_ptr() - x.data_ptr()) == (f(t).data_ptr() - t.data_ptr())
    assert x.untyped_storage().nbytes() == t.untyped_storage().nbytes()
    assert x[1:].untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    assert x.clone().untyped_storage().data_ptr() != x.untyped_storage().data_ptr()
    assert dalam.zeros(0, 3).stride() == torch.zeros(0, 3).stride()
    assert dalam.zeros(2, 0).stride() == torch.zeros(2, 0).stride()
    assert x.element_size() == t.element_size()
    assert x.layout == dalam.strided and x.is_set_to(x) and not x.is_set_to(x.clone())


def test_transpose_property_rules_match_torch():
    with pytest.warns(UserWarning, match="deprecated"):   # torch warns too (once per process)
        assert tuple(dalam.zeros(2, 3, 4).T.shape) == (4, 3, 2)
    for L in (dalam, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert tuple(L.zeros(2, 3, 4).T.shape) == (4, 3, 2)
        assert tuple(L.zeros(3).T.shape) == (3,)
        with pytest.raises(RuntimeError, match="matrices"):
            L.zeros(3).mT
        with pytest.raises(RuntimeError, match="2-D"):
            L.zeros(2, 3, 4).H
        assert tuple(L.zeros(2, 3, 4).mH.shape) == (2, 4, 3)
        with pytest.raises(RuntimeError):
            L.zeros(3).imag


def test_as_strided_and_unfold_errors():
    x, t = dalam.arange(6.0), torch.arange(6.0)
    for f in [lambda z: z.as_strided((4,), (2,)), lambda z: z.as_strided((2,), (-1,)),
              lambda z: z.unfold(0, 7, 1), lambda z: z.unfold(0, 2, 0), lambda z: z.as_strided((2, 2), (1,))]:
        with pytest.raises(RuntimeError):
            f(t)
        with pytest.raises(RuntimeError):
            f(x)
    # unfold windows overlap: a write to one element shows in every window holding it
    w, tw = x.unfold(0, 3, 1), t.unfold(0, 3, 1)
    w[0, 2] = 100.0
    tw[0, 2] = 100.0
    np.testing.assert_array_equal(w.numpy(), tw.numpy())
    assert x[2].item() == 100.0


def test_select_ravel_view_dtype_atleast_split_match_torch():
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    x, t = dalam.tensor(a), torch.tensor(a)
    pairs = [lambda L, z: z.select(-1, 1), lambda L, z: z.ravel(), lambda L, z: z.view(L.int32),
             lambda L, z: z.view(L.float64) if z.shape[-1] % 2 == 0 else z,
             lambda L, z: L.atleast_1d(z[0, 0, 0]), lambda L, z: L.atleast_2d(z[0, 0]),
             lambda L, z: L.atleast_3d(z[0]), lambda L, z: L.dsplit(z, [1, 3])[1],
             lambda L, z: L.hsplit(z[0, 0], 2)[1], lambda L, z: z.unfold(0, 1, 1),
             lambda L, z: L.ravel(z.transpose(0, 2))]
    for f in pairs:
        np.testing.assert_array_equal(f(dalam, x).numpy(), f(torch, t).numpy())
    with pytest.raises(IndexError):
        x.select(0, 5)
    with pytest.raises(RuntimeError, match="divisible"):
        dalam.hsplit(x, 2)


# gradients through the new view ops, with the shared op-table checks
OPS = [
    OpInfo("as_strided", lambda L, a: a.as_strided((3, 2), (1, 2)), [((3, 4),)], "views"),
    OpInfo("as_strided_overlap", lambda L, a: a.as_strided((4, 3), (1, 1), 2), [((8,),)], "views"),
    OpInfo("as_strided_of_view", lambda L, a: a[1:].as_strided((2, 2), (2, 1)), [((4, 2),)], "views"),
    OpInfo("unfold", lambda L, a: a.unfold(1, 3, 1), [((2, 5),), ((2, 3, 4),)], "views"),
    OpInfo("unfold_step", lambda L, a: a.unfold(-1, 2, 3), [((3, 7),), ((8,),)], "views"),
    OpInfo("unfold_sum_sq", lambda L, a: (a.unfold(0, 2, 1) ** 2).sum(-1), [((6,),)], "views"),
    OpInfo("select", lambda L, a: a.select(1, -1), [((2, 3, 4),)], "views"),
    OpInfo("ravel", lambda L, a: a.transpose(0, 1).ravel(), [((2, 3),)], "views"),
    OpInfo("diagonal_view", lambda L, a: a.diagonal(1, -2, -1), [((2, 3, 4),)], "views"),
    OpInfo("atleast_3d", lambda L, a: L.m.atleast_3d(a), [((3,),), ((2, 3),)], "views"),
    OpInfo("hsplit", lambda L, a: L.m.hsplit(a, 2), [((2, 4),)], "views"),
    OpInfo("clone_preserve", lambda L, a: a.t().clone(), [((2, 3),)], "views"),
    OpInfo("channels_last", lambda L, a: a.contiguous(memory_format=L.m.channels_last) * 2,
           [((1, 2, 3, 2),)], "views"),
    OpInfo("to_copy", lambda L, a: a.to(a.dtype, copy=True) * a, [((3,),)], "views"),
]


@pytest.mark.parametrize("op,shapes", params(OPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_view_ops_torch_parity(op, shapes, dtype):
    run_torch_parity(op, shapes, dtype)


@pytest.mark.parametrize("op,shapes", params(OPS, with_grad_only=True))
def test_view_ops_gradcheck(op, shapes):
    run_gradcheck(op, shapes)


def test_unfold_double_backward_matches_torch():
    a = np.random.default_rng(0).standard_normal(7)
    x, t = dalam.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    g, = dalam.autograd.grad((x.unfold(0, 3, 2) ** 3).sum(), x, create_graph=True)
    tg, = torch.autograd.grad((t.unfold(0, 3, 2) ** 3).sum(), t, create_graph=True)
    gg, = dalam.autograd.grad((g * g).sum(), x)
    tgg, = torch.autograd.grad((tg * tg).sum(), t)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12)
