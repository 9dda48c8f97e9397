"""New elementwise maths (dalam/ops/math_extra.py): PyTorch parity in float32
and float64 (values, dtype, input gradients) and gradcheck in float64."""
import math

import numpy as np
import pytest
import torch

import dalam
from op_table import OpInfo, params, run_torch_parity, run_gradcheck

# some samples feed nan/inf on purpose (nan_to_num) or log2(0): their warnings are expected
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")

UN = [((3, 4),), ((2, 1, 3),), ((),), ((0, 3),), ((5,),)]
BIN = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((0, 3), (1, 3)), ((), (2, 3)),
       ((2, 3), ())]
TER = [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (4,)), ((2, 3, 4), (4,), (3, 1)),
       ((0, 3), (1, 3), (3,)), ((), (2, 3), ())]
E = "math_extra"

OPS = [
    OpInfo("erf", lambda L, a: a.erf(), UN, E),
    OpInfo("erf_wide", lambda L, a: L.m.erf(a), UN[:1], E, domain=(-6.0, 6.0)),
    OpInfo("erfc", lambda L, a: a.erfc(), UN, E),
    OpInfo("erfc_tail", lambda L, a: L.m.erfc(a), UN[:1], E, domain=(1.0, 8.0), rtol32=2e-5),
    OpInfo("erfinv", lambda L, a: a.erfinv(), UN, E, domain=(-0.95, 0.95), rtol32=2e-5),
    OpInfo("erfinv_edge", lambda L, a: L.m.erfinv(a), UN[:1], E, domain=(0.99, 0.99999), rtol32=1e-4,
           gradcheck=False),
    OpInfo("asin", lambda L, a: a.asin(), UN, E, domain=(-0.9, 0.9)),
    OpInfo("acos", lambda L, a: L.m.acos(a), UN, E, domain=(-0.9, 0.9)),
    OpInfo("atan", lambda L, a: a.atan(), UN, E),
    OpInfo("arcsin_alias", lambda L, a: L.m.arcsin(a), UN[:1], E, domain=(-0.9, 0.9)),
    OpInfo("sinh", lambda L, a: a.sinh(), UN, E),
    OpInfo("cosh", lambda L, a: L.m.cosh(a), UN, E),
    OpInfo("asinh", lambda L, a: a.asinh(), UN, E),
    OpInfo("acosh", lambda L, a: a.acosh(), UN, E, domain=(1.2, 4.0)),
    OpInfo("atanh", lambda L, a: L.m.atanh(a), UN, E, domain=(-0.9, 0.9)),
    OpInfo("log2", lambda L, a: a.log2(), UN, E, domain="pos"),
    OpInfo("log10", lambda L, a: L.m.log10(a), UN, E, domain="pos"),
    OpInfo("expm1", lambda L, a: a.expm1(), UN, E),
    OpInfo("expm1_small", lambda L, a: L.m.expm1(a * 1e-6), UN[:1], E),
    OpInfo("exp2", lambda L, a: L.m.exp2(a), UN, E),
    OpInfo("atan2", lambda L, a, b: L.m.atan2(a, b), BIN, E, domain=["any", "nonzero"]),
    OpInfo("atan2_scalar", lambda L, a: a.atan2(L.m.tensor(0.5, dtype=a.dtype)), UN[:2], E),
    OpInfo("hypot", lambda L, a, b: a.hypot(b), BIN, E, domain=["nonzero", "nonzero"]),
    OpInfo("fmod", lambda L, a, b: L.m.fmod(a, b), BIN, E, domain=[(-5.0, 5.0), (0.7, 1.9)]),
    OpInfo("fmod_scalar", lambda L, a: a.fmod(0.75), UN, E, domain=(-3.1, 3.1)),
    OpInfo("fmod_neg_divisor", lambda L, a, b: a.fmod(-b), BIN[:2], E, domain=[(-5.0, 5.0), (0.7, 1.9)]),
    OpInfo("floor_divide", lambda L, a, b: L.m.floor_divide(a, b), BIN, E, grad=False,
           domain=["any", "nonzero"]),
    OpInfo("floor_divide_scalar", lambda L, a: a.floor_divide(0.3), UN, E, grad=False),
    OpInfo("nan_to_num", lambda L, a: L.m.nan_to_num(a / (a > 0.5).to(a.dtype) - 1 / (a < -1).to(a.dtype)),
           UN, E, gradcheck=False),  # outputs +-float max: finite differences overflow
    OpInfo("nan_to_num_args", lambda L, a: (a.log() / (a - a.mean())).nan_to_num(nan=1.5, posinf=3.0,
                                                                                  neginf=-2.0),
           UN[:2], E),
    OpInfo("lerp_scalar", lambda L, a, b: L.m.lerp(a, b, 0.3), BIN[:4], E),
    OpInfo("lerp_tensor", lambda L, a, b, w: a.lerp(b, w), TER, E),
    OpInfo("addcmul", lambda L, x, a, b: L.m.addcmul(x, a, b, value=-0.5), TER, E),
    OpInfo("addcmul_default", lambda L, x, a, b: x.addcmul(a, b), TER[:2], E),
    OpInfo("addcdiv", lambda L, x, a, b: L.m.addcdiv(x, a, b, value=2), TER, E,
           domain=["any", "any", "nonzero"]),
    OpInfo("addcdiv_method", lambda L, x, a, b: x.addcdiv(a, b, value=0.25), TER[:2], E,
           domain=["any", "any", "nonzero"]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("op,shapes", params(OPS))
def test_matches_torch(op, shapes, dtype):
    run_torch_parity(op, shapes, dtype)


@pytest.mark.parametrize("op,shapes", params(OPS, with_grad_only=True))
def test_gradcheck(op, shapes):
    run_gradcheck(op, shapes)


def test_special_values_match_torch():
    v = np.array([-np.inf, -30.0, -5.0, -1e-300, 0.0, 1e-8, 0.3, 2.0, 6.5, 27.0, 40.0, np.inf, np.nan])
    for fn in ("erf", "erfc"):
        ours = getattr(dalam, fn)(dalam.tensor(v, dtype=dalam.float64)).numpy()
        theirs = getattr(torch, fn)(torch.tensor(v)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0, err_msg=fn)
    y = np.array([-1.0, -0.999999999, -0.5, 0.0, 1e-10, 0.7, 0.9999, 1.0, 1.5, np.nan])
    ours = dalam.erfinv(dalam.tensor(y, dtype=dalam.float64)).numpy()
    # near +-1 erfinv is ill-conditioned (1e-9 from 1: relative condition ~1e8)
    np.testing.assert_allclose(ours, torch.erfinv(torch.tensor(y)).numpy(), rtol=1e-11, atol=0)


@pytest.mark.parametrize("fn", ["erf", "erfc", "erfinv", "asin", "sinh", "log2", "exp2", "expm1"])
def test_int_input_gives_default_float(fn):
    x = dalam.tensor([0, 1, 2]) if fn != "erfinv" and fn != "asin" else dalam.tensor([0, 0, 1])
    out = getattr(dalam, fn)(x)
    t = getattr(torch, fn)(torch.tensor(x.numpy()))
    assert out.dtype == np.float32 and t.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)


def test_integer_fmod_floor_divide_and_promotion():
    a, b = np.array([7, -7, 5, -5]), np.array([3, 3, -2, -2])
    for fn in ("fmod", "floor_divide"):
        ours = getattr(dalam, fn)(dalam.tensor(a), dalam.tensor(b))
        theirs = getattr(torch, fn)(torch.tensor(a), torch.tensor(b))
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        o2 = getattr(dalam, fn)(dalam.tensor(a), 2.5)  # int tensor with a float: default float
        t2 = getattr(torch, fn)(torch.tensor(a), 2.5)
        assert o2.dtype == np.float32 and t2.dtype == torch.float32
        np.testing.assert_allclose(o2.numpy(), t2.numpy())
    x = dalam.tensor([1.5, -2.5], dtype=dalam.float32)
    assert (x // 2).dtype == np.float32 and dalam.floor_divide(x, 2).dtype == np.float32
    with pytest.raises(RuntimeError, match="fmod: ZeroDivisionError"):
        dalam.fmod(dalam.tensor([1, 2]), 0)


def test_float32_stays_float32_with_scalars():
    x = dalam.randn(4)
    for out in (dalam.atan2(x, 0.5), dalam.hypot(x, 2), dalam.fmod(x, np.float64(0.3)),
                dalam.lerp(x, x * 2, np.float64(0.25)), dalam.addcmul(x, x, x, value=np.float64(0.1)),
                dalam.addcdiv(x, x, x.exp(), value=0.1), dalam.nan_to_num(x)):
        assert out.dtype == np.float32


def test_nan_to_num_defaults_are_dtype_limits():
    v = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    ours = dalam.nan_to_num(dalam.tensor(v)).numpy()
    np.testing.assert_array_equal(ours, torch.nan_to_num(torch.tensor(v)).numpy())
    assert ours.dtype == np.float32
    x = dalam.tensor(v, requires_grad=True)
    x.nan_to_num(posinf=9.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0, 1])


def test_inplace_variants():
    x = dalam.tensor([1.0, 2.0])
    x.lerp_(dalam.tensor([3.0, 4.0]), 0.5)
    x.addcmul_(dalam.tensor([1.0, 1.0]), dalam.tensor([2.0, 3.0]), value=2)
    np.testing.assert_allclose(x.numpy(), [6.0, 9.0])


def test_bad_input_errors():
    with pytest.raises(RuntimeError, match=r"hypot: shapes \(3,\) and \(4,\) cannot be broadcast"):
        dalam.hypot(dalam.randn(3), dalam.randn(4))
    with pytest.raises(RuntimeError, match=r"addcmul: shapes \(2,\), \(3,\), \(2,\)"):
        dalam.addcmul(dalam.randn(2), dalam.randn(3), dalam.randn(2))
    with pytest.raises(RuntimeError, match="lerp: expected all tensors to have the same dtype"):
        dalam.lerp(dalam.randn(2), dalam.randn(2).double(), 0.5)
    with pytest.raises(RuntimeError, match="addcdiv: integer division"):
        dalam.addcdiv(dalam.tensor([1]), dalam.tensor([1]), dalam.tensor([2]))
    with pytest.raises(TypeError, match="erf: expected a Tensor"):
        dalam.erf(1.0)


def test_expm1_accurate_near_zero():
    x = dalam.tensor([1e-10, -1e-12], dtype=dalam.float64)
    np.testing.assert_allclose(dalam.expm1(x).numpy(), [math.expm1(1e-10), math.expm1(-1e-12)], rtol=1e-15)
