"""Autograd semantics against PyTorch: accumulation, retain_graph, freed graphs,
hooks, retain_grad, grad modes, detach, version counters, autograd.grad and
double backward, deep chains, dtype rules, numerics, seeding, repr, creation."""
import re
import types

import numpy as np
import pytest
import torch

import dalam
from dalam.ops import activation as A

from conftest import assert_close, to_torch


def _pair(shape=(3, 4), seed=0, dtype=np.float32):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return dalam.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


# ------------------------------------------------------------ accumulation
def test_grad_accumulates_over_two_backward_calls():
    x, tx = _pair()
    for _ in range(2):
        (x * x).sum().backward()
        (tx * tx).sum().backward()
    assert_close(x.grad, tx.grad)
    assert x.grad.dtype == np.float32


def test_retain_graph_allows_second_backward_and_accumulates():
    x, tx = _pair()
    y = (x.exp() * x).sum()
    ty = (tx.exp() * tx).sum()
    y.backward(retain_graph=True)
    y.backward()
    ty.backward(retain_graph=True)
    ty.backward()
    assert_close(x.grad, tx.grad)


def test_second_backward_on_freed_graph_raises_clear_error():
    x, _ = _pair()
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_shared_subgraph_gradient_summed_once():
    # diamond: y = a*b + a*c, with a = exp(x): the engine must sum both paths
    x, tx = _pair((5,))
    for m, xx in ((dalam, x), (torch, tx)):
        a = xx.exp()
        y = (a * a.sin() + a.cos() * a).sum()
        y.backward()
    assert_close(x.grad, tx.grad, rtol=1e-5, atol=1e-5)


def test_zero_grad_by_setting_none_then_fresh_grad():
    x, _ = _pair()
    (x * 3).sum().backward()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 4), 2, np.float32))


def test_backward_non_scalar_needs_gradient():
    x, tx = _pair()
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    g = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    y.backward(dalam.tensor(g))
    (tx * 2).backward(torch.tensor(g))
    assert_close(x.grad, tx.grad)


# ------------------------------------------------------------ hooks
def test_register_hook_changes_gradient_like_torch():
    x, tx = _pair()
    y = x * 2
    ty = tx * 2
    y.register_hook(lambda g: g * 3)
    ty.register_hook(lambda g: g * 3)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(x.grad, tx.grad)


def test_leaf_hook_and_handle_remove():
    x, tx = _pair()
    seen = []
    h = x.register_hook(lambda g: seen.append(g.shape) or g + 1)
    th = tx.register_hook(lambda g: g + 1)
    (x * 5).sum().backward()
    (tx * 5).sum().backward()
    assert_close(x.grad, tx.grad)
    assert seen == [(3, 4)]
    h.remove()
    th.remove()
    (x * 5).sum().backward()
    (tx * 5).sum().backward()
    assert_close(x.grad, tx.grad)
    assert len(seen) == 1


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="require"):
        dalam.ones(3).register_hook(lambda g: g)


def test_retain_grad_on_non_leaf():
    x, tx = _pair()
    y = x.tanh()
    ty = tx.tanh()
    y.retain_grad()
    ty.retain_grad()
    z = y * y
    (z.sum() + y.sum()).backward()
    (ty * ty).sum().add(ty.sum()).backward()
    assert y.grad is not None and z.grad is None
    assert_close(y.grad, ty.grad)
    assert_close(x.grad, tx.grad)


# ------------------------------------------------------------ grad modes
@pytest.mark.parametrize("mode", ["no_grad", "inference_mode", "set_grad_enabled"])
def test_modes_build_no_graph(mode):
    x, _ = _pair()
    ctx = {"no_grad": dalam.no_grad, "inference_mode": dalam.inference_mode,
           "set_grad_enabled": lambda: dalam.set_grad_enabled(False)}[mode]()
    with ctx:
        y = (x * 2).exp().sum()
        assert not dalam.is_grad_enabled()
    assert dalam.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_enable_grad_inside_no_grad_and_decorators():
    x, _ = _pair()
    with dalam.no_grad():
        with dalam.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad

    @dalam.no_grad()
    def f(t):
        return t * 2

    @dalam.enable_grad()
    def g(t):
        return t * 2

    assert not f(x).requires_grad
    with dalam.no_grad():
        assert g(x).requires_grad
    assert dalam.is_grad_enabled()


def test_set_grad_enabled_as_function_call():
    x, _ = _pair()
    dalam.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        dalam.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with dalam.no_grad():
            raise ValueError("boom")
    assert dalam.is_grad_enabled()


def test_detach_cuts_graph_and_shares_data():
    x, tx = _pair()
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d._data, y._data)
    z = (y * d).sum()
    z.backward()
    tz = ((tx * 2) * (tx * 2).detach()).sum()
    tz.backward()
    assert_close(x.grad, tx.grad)


def test_requires_grad_propagation():
    a = dalam.randn(3, requires_grad=True)
    b = dalam.randn(3)
    assert (a + b).requires_grad and not (b * 2).requires_grad
    assert (a + b).grad_fn is not None and (b * 2).grad_fn is None
    assert a.is_leaf and b.is_leaf and not (a + b).is_leaf
    # comparisons and argmax give no grad
    assert not (a > 0).requires_grad
    assert not a.argmax().requires_grad
    # requires_grad_ on int tensors is refused
    with pytest.raises(RuntimeError, match="floating point"):
        dalam.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        dalam.tensor([1, 2], requires_grad=True)


def test_only_inputs_that_require_grad_get_grad():
    a = dalam.randn(3, requires_grad=True)
    b = dalam.randn(3)
    (a * b).sum().backward()
    assert a.grad is not None and b.grad is None


# ------------------------------------------------------------ version counters
def test_inplace_on_saved_tensor_raises_on_backward():
    x, tx = _pair()
    y = x.exp()
    z = (y * 2).sum()          # exp saves its output y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward()
    ty = tx.exp()
    tz = (ty * 2).sum()
    ty.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tz.backward()


def test_inplace_on_saved_input_raises_on_backward():
    x, _ = _pair()
    y = x * 1
    z = (y * y).sum()          # mul saves its inputs
    y.mul_(2)
    with pytest.raises(RuntimeError, match="version 0 -> 1"):
        z.backward()


def test_inplace_through_view_bumps_base_version():
    x, _ = _pair()
    y = x * 1
    z = (y * y).sum()
    v = y[0]
    v[1] = 5.0                  # writes into y's memory
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward()


def test_inplace_not_saved_is_fine_and_matches_torch():
    x, tx = _pair()
    for xx in (x, tx):
        y = xx * 2               # add does not need y's value
        y.add_(1)
        (y * 3).sum().backward()
    assert_close(x.grad, tx.grad)


def test_inplace_on_leaf_requiring_grad_raises():
    x, _ = _pair()
    for f in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.fill_(1.0),
              lambda: x.__setitem__(0, 1.0)):
        with pytest.raises(RuntimeError, match="leaf"):
            f()
    with dalam.no_grad():       # what optimisers do
        x.add_(1)
        x.zero_()
    assert float(x.abs().sum()) == 0.0
    assert x._version >= 2


def test_version_counter_bumps():
    t = dalam.zeros(3)
    v0 = t._version
    t.add_(1)
    t[0] = 2.0
    t.fill_(0.0)
    assert t._version == v0 + 3


# ------------------------------------------------------------ autograd.grad
def test_autograd_grad_matches_torch_and_does_not_accumulate():
    x, tx = _pair()
    w, tw = _pair((4, 2), seed=1)
    gx, gw = dalam.autograd.grad((x @ w).tanh().sum(), (x, w))
    tgx, tgw = torch.autograd.grad((tx @ tw).tanh().sum(), (tx, tw))
    assert_close(gx, tgx)
    assert_close(gw, tgw)
    assert x.grad is None and w.grad is None


def test_autograd_grad_of_intermediate_and_unused():
    x, tx = _pair()
    y = x.sin()
    out = (y * y).sum()
    (gy,) = dalam.autograd.grad(out, y)
    ty = tx.sin()
    (tgy,) = torch.autograd.grad((ty * ty).sum(), ty)
    assert_close(gy, tgy)
    u = dalam.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        dalam.autograd.grad((x * 2).sum(), (x, u))
    g = dalam.autograd.grad((x * 2).sum(), (x, u), allow_unused=True)
    assert g[1] is None


def _F(m):
    """The functional namespace of either library (dalam's ops modules hold them)."""
    if m is torch:
        return torch.nn.functional
    from dalam.ops import shape
    return types.SimpleNamespace(gelu=A.gelu, silu=A.silu, softplus=A.softplus, elu=A.elu, pad=shape.pad)


DOUBLE = {
    "mul_exp": lambda m, x: (x * x.exp()).sum(),
    "tanh_pow": lambda m, x: (x.tanh() ** 3).sum(),
    "sigmoid_div": lambda m, x: (x.sigmoid() / (1 + x * x)).sum(),
    "log_sqrt": lambda m, x: ((x * x + 1).log() * (x * x + 2).sqrt()).sum(),
    "matmul": lambda m, x: ((x @ x.T).sin()).sum(),
    "sin_cos_mean": lambda m, x: (x.sin() * x.cos()).mean(),
    "sqrt_rsqrt_log1p": lambda m, x: ((x * x + 1).sqrt() * (x * x + 2).rsqrt() * (x * x).log1p()).sum(),
    "abs_clamp": lambda m, x: (x.abs() * x * x.clamp(-0.5, 0.5) * x).sum(),
    "max_min": lambda m, x: (m.maximum(x, x.T) * m.minimum(x * x, x) * x).sum(),
    "gelu": lambda m, x: (_F(m).gelu(x) * x).sum(),
    "gelu_tanh": lambda m, x: (_F(m).gelu(x * 2, approximate="tanh") ** 2).sum(),
    "silu_softplus_elu": lambda m, x: (_F(m).silu(x) * _F(m).softplus(x * 3, beta=2.0)
                                       * _F(m).elu(x, 1.5)).sum(),
    "where_masked_fill": lambda m, x: (m.where(x > 0, x * x, x.exp()) * x.masked_fill(x > 0.5, 2.0)).sum(),
    "softmax_logsumexp": lambda m, x: (x.softmax(-1) * x.log_softmax(0) + x.logsumexp(1, keepdim=True) ** 2).sum(),
    "var_std": lambda m, x: (x.var(1) * x.std(0) + x.var()).sum(),
    "amax_maxdim": lambda m, x: ((x * x).amax(1) * x.max(0)[0] + (x ** 3).max()).sum(),
    "cat_split_flip": lambda m, x: (m.cat([x * x, x.flip(0)], 1).split(2, 1)[1] ** 2).sum(),
    "pad_repeat_cumsum": lambda m, x: (_F(m).pad(x * x, (1, 2)) ** 2).sum()
                                      + ((x.repeat(2, 1) * x.repeat(2, 1)).cumsum(0) ** 2).sum(),
    "gather_index": lambda m, x: (x.gather(1, m.tensor([[0, 2], [1, 1], [2, 0]])) ** 3).sum()
                                 + (x[[0, 0, 2]] ** 3).sum() + (x[1:, ::2] ** 3).sum(),
}


@pytest.mark.parametrize("name", sorted(DOUBLE))
def test_double_backward_matches_torch(name):
    f = DOUBLE[name]
    x, tx = _pair((3, 3), seed=2, dtype=np.float64)
    (g,) = dalam.autograd.grad(f(dalam, x), x, create_graph=True)
    (tg,) = torch.autograd.grad(f(torch, tx), tx, create_graph=True)
    assert g.requires_grad
    assert_close(g, tg, rtol=1e-10, atol=1e-12)
    v = np.random.default_rng(3).standard_normal((3, 3))
    (gg,) = dalam.autograd.grad((g * dalam.tensor(v)).sum(), x)
    (tgg,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    assert_close(gg, tgg, rtol=1e-10, atol=1e-12)


def test_backward_create_graph_gives_differentiable_grad():
    x, tx = _pair((4,), dtype=np.float64)
    (x ** 3).sum().backward(create_graph=True)
    (tx ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    gx, = dalam.autograd.grad(x.grad.sum(), x)
    tgx, = torch.autograd.grad(tx.grad.sum(), tx)
    assert_close(gx, tgx, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------ deep graphs
def test_100k_op_chain_backward_without_recursion_error():
    x = dalam.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0])
    assert x.grad.dtype == np.float32


def test_100k_op_chain_mixed_ops():
    x = dalam.tensor([0.1, 0.2], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = (y * 1.0001).tanh()
    y.sum().backward()
    tx = torch.tensor([0.1, 0.2], requires_grad=True)
    ty = tx
    for _ in range(20_000):
        ty = (ty * 1.0001).tanh()
    ty.sum().backward()
    assert_close(x.grad, tx.grad, rtol=1e-4, atol=1e-7)


# ------------------------------------------------------------ dtypes
def test_int_and_bool_tensors_get_no_grad():
    i = dalam.arange(6).reshape(2, 3)
    x = dalam.randn(2, 3, requires_grad=True)
    y = x * i
    assert y.dtype == np.float32 and y.requires_grad
    y.sum().backward()
    assert i.grad is None
    assert_close(x.grad, torch.arange(6).reshape(2, 3).float())
    assert (i * 2).dtype == np.int64 and (i > 2).dtype == np.bool_
    assert not (i * 2).requires_grad
    assert (i / 2).dtype == np.float32
    assert (i // 2).dtype == np.int64
    idx = x.argmax(1)
    assert idx.dtype == np.int64 and not idx.requires_grad


SCALARS = [2, 2.5, np.float64(2.5), np.float32(2.5), np.int64(3), np.sqrt(2.0), True]
EXPRS = {
    "add": lambda x, s: x + s, "radd": lambda x, s: s + x, "sub": lambda x, s: x - s,
    "rsub": lambda x, s: s - x, "mul": lambda x, s: x * s, "rmul": lambda x, s: s * x,
    "div": lambda x, s: x / s, "rdiv": lambda x, s: s / (x.abs() + 1), "pow": lambda x, s: x.abs() ** s,
    "rpow": lambda x, s: s ** x, "max": lambda x, s: A.maximum(x, dalam.tensor(float(s))),
    "clamp": lambda x, s: x.clamp(-float(s), float(s)), "where": lambda x, s: dalam.where(x > 0, x, s),
}


@pytest.mark.parametrize("name", sorted(EXPRS))
def test_no_float64_upcast_with_python_and_numpy_scalars(name):
    x = dalam.randn(3, 4, requires_grad=True)
    for s in SCALARS:
        if name == "rpow" and isinstance(s, (bool, np.bool_)):
            continue
        y = EXPRS[name](x, s)
        assert y.dtype == np.float32, f"{name} with {type(s).__name__} gave {y.dtype}"
        y.sum().backward()
        assert x.grad.dtype == np.float32
        x.grad = None


def test_no_upcast_in_reductions_and_activations():
    x = dalam.randn(4, 5)
    for y in (x.mean(), x.var(), x.std(), x.sum() * 0.5, x.norm(), x.logsumexp(1), x.softmax(-1),
              x.log_softmax(-1), A.gelu(x), A.gelu(x, approximate="tanh"), A.silu(x), A.softplus(x),
              A.elu(x), A.leaky_relu(x), x.sigmoid(), x.prod(1), x.cumsum(0), x.var(0, unbiased=False)):
        assert y.dtype == np.float32
    assert x.double().mean().dtype == np.float64


def test_float64_tensors_stay_float64():
    x = dalam.randn(3, dtype=dalam.float64, requires_grad=True)
    y = (x * 2.5 + np.float32(1)) / 3
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float64


# ------------------------------------------------------------ numerics
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_are_finite_and_match_torch(fn, dtype):
    a = np.array([[1e4, -1e4, 0.0, 1e4 - 1], [-1e4, -1e4 + 2, -1e4 + 1, -1e4]], dtype)
    x = dalam.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    y = getattr(x, fn)(-1)
    ty = getattr(tx, fn)(-1)
    assert np.isfinite(y.numpy() if not y.requires_grad else y.detach().numpy()).all()
    assert_close(y, ty, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-6)
    w = np.arange(y.numel(), dtype=dtype).reshape(y.shape)
    (y * dalam.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    assert_close(x.grad, tx.grad, atol=1e-5)


# ------------------------------------------------------------ seeding
def test_manual_seed_reproducible_random_functions():
    def draw():
        return (dalam.rand(3, 4).numpy().copy(), dalam.randn(5).numpy().copy(),
                dalam.randint(0, 10, (6,)).numpy().copy(), dalam.randperm(7).numpy().copy())
    dalam.manual_seed(123)
    first = draw()
    dalam.manual_seed(123)
    second = draw()
    third = draw()
    for a, b, c in zip(first, second, third):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c) or a.size < 2
    dalam.manual_seed(124)
    assert not np.array_equal(draw()[1], first[1])
    r = dalam.rand(1000)
    assert 0.0 <= float(r.min()) and float(r.max()) < 1.0
    ri = dalam.randint(3, 5, (1000,))
    assert set(np.unique(ri.numpy())) == {3, 4}


def test_generator_is_independent_of_global_seed():
    g1 = dalam.Generator().manual_seed(7)
    a = dalam.randn(4, generator=g1)
    dalam.randn(10)
    g2 = dalam.Generator().manual_seed(7)
    b = dalam.randn(4, generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# ------------------------------------------------------------ repr
def _norm_repr(s):
    return s.replace("torch.", "").replace("dalam.", "")


def _repr_cases():
    rg = {"requires_grad": True}
    return [
        ("f32", lambda m: m.tensor([1.0, 2.5, -3.0])),
        ("f32_int_valued", lambda m: m.tensor([1.0, 2.0])),
        ("f32_2d", lambda m: m.tensor([[0.1, 2.0], [3.25, -4.5]])),
        ("f32_scalar", lambda m: m.tensor(3.5)),
        ("f32_sci", lambda m: m.tensor([1e-5, 1.0, 100.0])),
        ("f32_nan_inf", lambda m: m.tensor([float("nan"), 1.0, float("-inf")])),
        ("f32_big_ints", lambda m: m.tensor([123456.0, 1.0])),
        ("bool_2d", lambda m: m.tensor([[True, False], [True, True]])),
        ("empty_2d", lambda m: m.zeros(2, 0)),
        ("f64", lambda m: m.tensor([1.5, 2.0], dtype=m.float64)),
        ("int64", lambda m: m.tensor([[1, 2, 3], [4, 5, 6]])),
        ("bool", lambda m: m.tensor([True, False])),
        ("requires_grad", lambda m: m.tensor([1.0, 2.0], **rg)),
        ("grad_fn_mul", lambda m: m.tensor([1.0, 2.0], **rg) * 2),
        ("grad_fn_add", lambda m: m.tensor([1.0, 2.0], **rg) + 1),
        ("grad_fn_sum", lambda m: m.tensor([1.0, 2.0], **rg).sum()),
        ("grad_fn_mean", lambda m: m.tensor([1.0, 2.0], **rg).mean()),
        ("grad_fn_exp", lambda m: m.tensor(2.0, **rg).exp()),
        ("f64_rg", lambda m: m.tensor([1.0, 2.0], dtype=m.float64, **rg)),
    ]


@pytest.mark.parametrize("name,make", _repr_cases(), ids=[c[0] for c in _repr_cases()])
def test_repr_matches_torch(name, make):
    assert _norm_repr(repr(make(dalam))) == _norm_repr(repr(make(torch)))


# ------------------------------------------------------------ creation
CREATE = {
    "tensor_float": lambda m: m.tensor([1.0, 2.0]),
    "tensor_int": lambda m: m.tensor([1, 2]),
    "tensor_bool": lambda m: m.tensor([True]),
    "tensor_nested": lambda m: m.tensor([[1, 2], [3, 4]]),
    "tensor_f64": lambda m: m.tensor([1, 2], dtype=m.float64),
    "tensor_np_f64": lambda m: m.tensor(np.array([1.0, 2.0])),
    "tensor_np_i32": lambda m: m.tensor(np.array([1, 2], np.int32)),
    "zeros": lambda m: m.zeros(2, 3),
    "zeros_tuple": lambda m: m.zeros((2, 3)),
    "zeros_int": lambda m: m.zeros(2, dtype=m.int64),
    "ones": lambda m: m.ones(4),
    "ones_f64": lambda m: m.ones(2, 2, dtype=m.float64),
    "full_float": lambda m: m.full((2, 2), 1.5),
    "full_int": lambda m: m.full((2,), 3),
    "full_bool": lambda m: m.full((2,), True),
    "arange_int": lambda m: m.arange(5),
    "arange_start_step": lambda m: m.arange(1, 10, 3),
    "arange_float": lambda m: m.arange(0, 1, 0.25),
    "arange_float_end": lambda m: m.arange(2.5),
    "arange_neg": lambda m: m.arange(5, 0, -2),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "linspace_1": lambda m: m.linspace(-2, 3, 1),
    "eye": lambda m: m.eye(3),
    "eye_rect": lambda m: m.eye(2, 3),
    "zeros_like": lambda m: m.zeros_like(m.ones(2, 3, dtype=m.float64)),
    "ones_like_int": lambda m: m.ones_like(m.arange(3)),
    "full_like": lambda m: m.full_like(m.ones(2), 7),
    "empty_shape": lambda m: m.zeros(0, 3),
}


@pytest.mark.parametrize("name", sorted(CREATE))
def test_creation_matches_torch(name):
    ours = CREATE[name](dalam)
    theirs = CREATE[name](torch)
    assert_close(ours, theirs, rtol=1e-7, atol=0)


RANDOM = {
    "rand": lambda m: m.rand(2, 3),
    "rand_tuple": lambda m: m.rand((4,)),
    "rand_f64": lambda m: m.rand(2, dtype=m.float64),
    "randn": lambda m: m.randn(3, 2),
    "randn_f64": lambda m: m.randn(3, dtype=m.float64),
    "randint": lambda m: m.randint(0, 5, (2, 3)),
    "randint_high": lambda m: m.randint(5, (4,)),
    "rand_like": lambda m: m.rand_like(m.zeros(2, 2, dtype=m.float64)),
    "randn_like": lambda m: m.randn_like(m.zeros(3)),
    "randint_like": lambda m: m.randint_like(m.zeros(3, dtype=m.int64), 0, 4),
    "randperm": lambda m: m.randperm(5),
}


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_creation_dtypes_and_shapes(name):
    ours = RANDOM[name](dalam)
    theirs = RANDOM[name](torch)
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    assert not ours.requires_grad


def test_creation_requires_grad_and_bad_sizes():
    t = dalam.zeros(2, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    assert dalam.randn(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="size"):
        dalam.zeros(-1)
    with pytest.raises(RuntimeError, match="step"):
        dalam.arange(0, 3, 0)


def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.arange(3.0)
    t = dalam.from_numpy(a)
    u = dalam.tensor(a)
    a[0] = 9.0
    assert t[0].item() == 9.0 and u[0].item() == 0.0
    assert t.dtype == np.float64 and u.dtype == np.float64


def test_tensor_basics_like_torch():
    t = dalam.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    tt = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert t.shape == tuple(tt.shape) and t.ndim == tt.ndim and t.numel() == tt.numel()
    assert t.T.shape == (2, 2) and t.size(1) == tt.size(1)
    assert t[1, 0].item() == tt[1, 0].item()
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    assert t.detach().numpy().dtype == np.float32
    with pytest.raises(RuntimeError, match="2 elements|4 elements"):
        t.item()
    assert re.search(r"\d", repr(t))


def test_backward_inputs_accumulates_only_there():
    x, tx = _pair()
    w, tw = _pair((4,), seed=1)
    (x * w).sum().backward(inputs=[w])
    (tx * tw).sum().backward(inputs=[tw])
    assert x.grad is None and tx.grad is None
    assert_close(w.grad, tw.grad)


def test_inplace_relu_then_modified_is_caught():
    x, _ = _pair()
    y = x * 1
    A.relu(y, inplace=True)     # relu reads its output in backward
    z = y.sum()
    with dalam.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward()
    x2, tx2 = _pair()
    for m, xx in ((dalam, x2), (torch, tx2)):
        yy = xx * 1
        (A.relu(yy, inplace=True) if m is dalam else torch.relu_(yy))
        (yy * yy).sum().backward()
    assert_close(x2.grad, tx2.grad)


def test_numpy_scalars_keep_their_dtype_like_torch():
    for v in (np.float64(0.1), np.float32(1.5), np.int32(3), np.int64(4), np.bool_(True)):
        assert dalam.tensor(v).dtype == v.dtype
        assert str(torch.tensor(v).dtype) == "torch." + str(v.dtype)
    assert dalam.tensor(0.1).dtype == np.float32  # Python floats still take the default dtype
