"""New linear algebra (dalam/ops/linalg_extra.py, dalam.linalg): PyTorch parity
in float32/float64 (values, dtype, input gradients), gradcheck in float64,
dtype helpers (finfo, iinfo, result_type, broadcast_shapes) and Tensor.new_*."""
import math

import numpy as np
import pytest
import torch

import dalam
from op_table import OpInfo, params, run_torch_parity, run_gradcheck

A = "linalg_extra"
SMALL = (-0.3, 0.3)


def _lin(L):
    return L.m.linalg


def _wc(L, a):
    """A well-conditioned matrix (batch): small noise plus 2 * identity."""
    return a + 2 * L.m.eye(a.shape[-1], dtype=a.dtype)


OPS = [
    OpInfo("addmm", lambda L, x, a, b: L.m.addmm(x, a, b),
           [((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4)), ((), (2, 3), (3, 4)),
            ((0, 4), (0, 3), (3, 4)), ((2, 4), (2, 0), (0, 4)), ((1, 4), (2, 1), (1, 4))], A),
    OpInfo("addmm_beta_alpha", lambda L, x, a, b: x.addmm(a, b, beta=0.5, alpha=-2),
           [((2, 1), (2, 3), (3, 4))], A),
    OpInfo("addmm_beta0", lambda L, x, a, b: L.m.addmm(x, a, b, beta=0), [((2, 4), (2, 3), (3, 4))], A),
    OpInfo("addmv", lambda L, x, a, v: L.m.addmv(x, a, v, alpha=1.5),
           [((2,), (2, 3), (3,)), ((), (2, 3), (3,)), ((0,), (0, 3), (3,)), ((1,), (2, 1), (1,))], A),
    OpInfo("baddbmm", lambda L, x, a, b: L.m.baddbmm(x, a, b, beta=2, alpha=0.5),
           [((2, 3, 4), (2, 3, 5), (2, 5, 4)), ((3, 4), (2, 3, 5), (2, 5, 4)),
            ((1, 1, 4), (2, 3, 1), (2, 1, 4)), ((0, 3, 2), (0, 3, 2), (0, 2, 2))], A),
    OpInfo("tensordot2", lambda L, a, b: L.m.tensordot(a, b), [((2, 3, 4), (3, 4, 5)), ((3, 1), (3, 1))], A),
    OpInfo("tensordot_lists", lambda L, a, b: L.m.tensordot(a, b, dims=([1, 0], [0, 2])),
           [((3, 2, 4), (2, 5, 3)), ((3, 2), (2, 0, 3))], A),
    OpInfo("tensordot0", lambda L, a, b: L.m.tensordot(a, b, dims=0), [((2,), (3, 2))], A),
    OpInfo("tensordot1", lambda L, a, b: L.m.tensordot(a, b, dims=1), [((2, 3), (3, 4, 2))], A),
    OpInfo("kron", lambda L, a, b: L.m.kron(a, b),
           [((2, 3), (3, 2)), ((2,), (2, 3)), ((2, 1, 3), (2, 2)), ((0, 2), (2, 2)), ((), (3,))], A),
    OpInfo("kron_method", lambda L, a, b: a.kron(b), [((1, 2), (2, 1))], A),
    OpInfo("cross_dim", lambda L, a, b: L.m.cross(a, b, dim=1),
           [((4, 3), (4, 3)), ((4, 3), (1, 3)), ((0, 3), (0, 3)), ((2, 3, 2), (2, 3, 2))], A),
    OpInfo("cross_method", lambda L, a, b: a.cross(b, dim=0), [((3, 2), (3, 2))], A),
    OpInfo("linalg_cross", lambda L, a, b: _lin(L).cross(a, b), [((2, 4, 3), (1, 4, 3))], A),
    OpInfo("cdist_p2", lambda L, a, b: L.m.cdist(a, b),
           [((4, 3), (5, 3)), ((2, 4, 3), (2, 5, 3)), ((1, 4, 2), (3, 2, 2)), ((0, 3), (2, 3)),
            ((3, 1), (2, 1))], A),
    OpInfo("cdist_p1", lambda L, a, b: L.m.cdist(a, b, p=1), [((4, 3), (5, 3)), ((2, 3, 3), (2, 2, 3))], A),
    OpInfo("cdist_p3", lambda L, a, b: L.m.cdist(a, b, p=3.0), [((4, 3), (5, 3))], A),
    OpInfo("cdist_pinf", lambda L, a, b: L.m.cdist(a, b, p=float("inf")), [((4, 3), (5, 3))], A),
    OpInfo("det", lambda L, a: L.m.det(_wc(L, a)), [((3, 3),), ((2, 3, 3),), ((1, 1),), ((0, 3, 3),)], A,
           domain=SMALL),
    OpInfo("det_raw", lambda L, a: _lin(L).det(a), [((4, 4),), ((2, 2, 2),)], A, rtol32=1e-4, atol32=1e-5),
    OpInfo("inverse", lambda L, a: _wc(L, a).inverse(), [((3, 3),), ((2, 4, 4),), ((1, 1),), ((0, 2, 2),)],
           A, domain=SMALL),
    OpInfo("linalg_inv", lambda L, a: _lin(L).inv(_wc(L, a)), [((3, 3),)], A, domain=SMALL),
    OpInfo("slogdet", lambda L, a: tuple(_lin(L).slogdet(_wc(L, a) * L.m.tensor([1.0, -1.0, 1.0],
                                                                               dtype=a.dtype))),
           [((3, 3),), ((2, 3, 3),)], A, domain=SMALL),
    OpInfo("solve", lambda L, a, b: _lin(L).solve(_wc(L, a), b),
           [((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 3, 3), (2, 3, 1)), ((2, 3, 3), (3, 4)),
            ((2, 3, 3), (2, 3)), ((3, 3), (3, 0))], A, domain=[SMALL, "any"]),
    OpInfo("solve_right", lambda L, a, b: _lin(L).solve(_wc(L, a), b, left=False), [((3, 3), (2, 3))], A,
           domain=[SMALL, "any"]),
    OpInfo("vector_norm", lambda L, a: _lin(L).vector_norm(a), [((3, 4),), ((5,),), ((2, 1, 3),)], A),
    OpInfo("vector_norm_dim", lambda L, a: _lin(L).vector_norm(a, 2, dim=-1, keepdim=True),
           [((3, 4),), ((0, 3),)], A),
    OpInfo("vector_norm_1", lambda L, a: _lin(L).vector_norm(a, ord=1, dim=(0, 2)), [((2, 3, 4),)], A,
           domain="nonzero"),
    OpInfo("vector_norm_inf", lambda L, a: _lin(L).vector_norm(a, float("inf"), 1), [((3, 4),)], A,
           domain="distinct"),
    OpInfo("vector_norm_neginf", lambda L, a: _lin(L).vector_norm(a, -float("inf")), [((3, 4),)], A,
           domain="distinct"),
    OpInfo("vector_norm_3", lambda L, a: _lin(L).vector_norm(a, 3, dim=0), [((3, 4),)], A, domain="nonzero"),
    OpInfo("vector_norm_half", lambda L, a: _lin(L).vector_norm(a, 0.5), [((5,),)], A, domain="nonzero"),
    OpInfo("vector_norm_0", lambda L, a: _lin(L).vector_norm(a, 0, dim=1), [((3, 4),)], A),
    OpInfo("matrix_norm_fro", lambda L, a: _lin(L).matrix_norm(a), [((3, 4),), ((2, 3, 4),)], A),
    OpInfo("matrix_norm_nuc", lambda L, a: _lin(L).matrix_norm(a, "nuc"), [((3, 4),), ((2, 4, 3),)], A),
    OpInfo("matrix_norm_2", lambda L, a: _lin(L).matrix_norm(a, 2, keepdim=True), [((3, 4),)], A),
    OpInfo("matrix_norm_neg2", lambda L, a: _lin(L).matrix_norm(a, -2), [((4, 3),)], A),
    OpInfo("matrix_norm_1", lambda L, a: _lin(L).matrix_norm(a, 1), [((3, 4),), ((2, 3, 4),)], A,
           domain="distinct"),
    OpInfo("matrix_norm_neginf_dims", lambda L, a: _lin(L).matrix_norm(a, -float("inf"), dim=(0, 2),
                                                                       keepdim=True),
           [((3, 2, 4),)], A, domain="distinct"),
    OpInfo("matrix_norm_inf", lambda L, a: _lin(L).matrix_norm(a, float("inf")), [((3, 4),)], A,
           domain="distinct"),
    OpInfo("linalg_norm", lambda L, a: _lin(L).norm(a), [((3, 4),), ((2, 3, 4),), ((5,),)], A),
    OpInfo("linalg_norm_ord", lambda L, a: _lin(L).norm(a, 1), [((5,),), ((3, 4),)], A, domain="distinct"),
    OpInfo("linalg_norm_dim", lambda L, a: _lin(L).norm(a, 2, dim=(1, 2)), [((2, 3, 4),)], A),
    OpInfo("svdvals", lambda L, a: _lin(L).svdvals(a), [((3, 4),), ((2, 4, 3),)], A),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("op,shapes", params(OPS))
def test_matches_torch(op, shapes, dtype):
    run_torch_parity(op, shapes, dtype)


@pytest.mark.parametrize("op,shapes", params(OPS, with_grad_only=True))
def test_gradcheck(op, shapes):
    run_gradcheck(op, shapes)


def test_vector_norm_zero_vector_has_zero_grad():
    for ord_ in (2, 3):
        x = dalam.zeros(3, dtype=dalam.float64, requires_grad=True)
        dalam.linalg.vector_norm(x, ord_).backward()
        t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        torch.linalg.vector_norm(t, ord_).backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_cross_default_dim_is_first_size_3():
    a, b = np.random.default_rng(0).standard_normal((2, 3, 3))
    np.testing.assert_allclose(dalam.cross(dalam.tensor(a), dalam.tensor(b)).numpy(),
                               np.cross(a, b, axis=0).astype(np.float32), rtol=1e-6)


def test_bad_input_errors_name_op_and_shapes():
    r = dalam.randn
    with pytest.raises(RuntimeError, match=r"addmm: shapes \(2, 3\) and \(4, 4\) cannot be multiplied"):
        dalam.addmm(r(2, 4), r(2, 3), r(4, 4))
    with pytest.raises(RuntimeError, match=r"addmm: input of shape \(3,\) cannot be broadcast"):
        dalam.addmm(r(3), r(2, 3), r(3, 4))
    i = dalam.tensor([[1, 2], [3, 4]])
    assert dalam.addmm(i, i, i, alpha=2).numpy().tolist() == [[15, 22], [33, 48]]
    with pytest.raises(RuntimeError, match=r"addmm: for integer tensors \(int64\), beta and alpha"):
        dalam.addmm(i, i, i, beta=0.5)
    with pytest.raises(RuntimeError, match=r"baddbmm: expected 3-D and 3-D operands"):
        dalam.baddbmm(r(2, 3), r(2, 3), r(3, 3))
    with pytest.raises(RuntimeError, match=r"linalg.det: expected a square matrix .* shape \(2, 3\)"):
        dalam.linalg.det(r(2, 3))
    with pytest.raises(RuntimeError, match="singular"):
        dalam.linalg.inv(dalam.zeros(3, 3))
    with pytest.raises(RuntimeError, match=r"linalg.solve: A of shape \(3, 3\) and B of shape \(4, 2\)"):
        dalam.linalg.solve(r(3, 3), r(4, 2))
    with pytest.raises(RuntimeError, match=r"tensordot: contracted dimension"):
        dalam.tensordot(r(2, 3), r(2, 3), dims=1)
    with pytest.raises(RuntimeError, match=r"cross: inputs must have the same number of dimensions"):
        dalam.cross(r(2, 3), r(3), dim=-1)
    with pytest.raises(RuntimeError, match=r"cross: dimension 0 must have size 3"):
        dalam.cross(r(2, 3), r(2, 3), dim=0)
    with pytest.raises(RuntimeError, match=r"cdist: expected \(\.\.\., P, M\)"):
        dalam.cdist(r(3, 2), r(3, 4))
    with pytest.raises(RuntimeError, match="vector_norm: expected a floating point"):
        dalam.linalg.vector_norm(dalam.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="matrix_norm: ord must be"):
        dalam.linalg.matrix_norm(r(2, 2), ord=3)
    with pytest.raises(RuntimeError, match=r"broadcast_shapes: shapes \(2,\), \(3,\)"):
        dalam.broadcast_shapes((2,), (3,))


def test_new_methods_keep_dtype_and_have_no_grad():
    x = dalam.randn(2, 3, dtype=dalam.float64, requires_grad=True)
    t = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    pairs = [(x.new_zeros(2, 3), t.new_zeros(2, 3)), (x.new_ones((4,)), t.new_ones((4,))),
             (x.new_full((2, 2), 1.5), t.new_full((2, 2), 1.5)), (x.new_empty(3), t.new_empty(3)),
             (x.new_tensor([[1, 2]]), t.new_tensor([[1, 2]])),
             (x.new_zeros(3, dtype=dalam.int64), t.new_zeros(3, dtype=torch.int64))]
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        assert not ours.requires_grad and not theirs.requires_grad
        if theirs.dtype != torch.float64 or theirs.numel() != 3 or ours.shape != (3,):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert x.new_zeros(2, requires_grad=True).requires_grad


def test_finfo_iinfo_match_torch():
    for d, td in ((dalam.float32, torch.float32), (dalam.float64, torch.float64), (dalam.float16, torch.float16)):
        ours, theirs = dalam.finfo(d), torch.finfo(td)
        for k in ("eps", "max", "min", "tiny", "smallest_normal", "resolution", "bits"):
            assert getattr(ours, k) == getattr(theirs, k), (d, k)
        assert ours.dtype == theirs.dtype
    assert dalam.finfo().eps == torch.finfo().eps
    for d, td in ((dalam.int64, torch.int64), (dalam.int32, torch.int32), (dalam.uint8, torch.uint8),
                  (dalam.int8, torch.int8)):
        ours, theirs = dalam.iinfo(d), torch.iinfo(td)
        assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max, theirs.dtype)
    with pytest.raises(TypeError, match="finfo: expected a floating point dtype"):
        dalam.finfo(dalam.int32)


_DT = [("float32", (2,)), ("float64", (2,)), ("int32", (2,)), ("int64", ()), ("uint8", (2,)),
       ("int8", ()), ("bool", (2,)), ("float64", ()), ("float16", (2,)), ("bool", ())]


def _pair(spec):
    if isinstance(spec, tuple):
        name, shape = spec
        return (dalam.zeros(shape, dtype=getattr(np, name if name != "bool" else "bool_")),
                torch.zeros(shape, dtype=getattr(torch, name)))
    return spec, spec


@pytest.mark.parametrize("b", _DT + [1, 2.5, True])
@pytest.mark.parametrize("a", _DT)
def test_result_type_matches_torch(a, b):
    (oa, ta), (ob, tb) = _pair(a), _pair(b)
    assert str(dalam.result_type(oa, ob)) == str(torch.result_type(ta, tb)).replace("torch.", "")


def test_broadcast_shapes_matches_torch():
    for shapes in [((2, 1), (3,)), ((1,), (0,)), ((), (2, 3)), (3, (2, 1)), ((5, 1, 4), (3, 1), (1,))]:
        assert dalam.broadcast_shapes(*shapes) == tuple(torch.broadcast_shapes(*shapes))


def test_linalg_namespace_and_float32():
    a = dalam.randn(3, 3) + 3 * dalam.eye(3)
    for out in (dalam.linalg.inv(a), dalam.linalg.det(a), dalam.linalg.solve(a, dalam.randn(3)),
                dalam.linalg.norm(a), dalam.cdist(a, a), dalam.kron(a, a), dalam.addmm(a, a, a, beta=0.5)):
        assert out.dtype == np.float32
    assert math.isclose(float(dalam.linalg.det(a)), float(np.linalg.det(a.numpy())), rel_tol=1e-5)
