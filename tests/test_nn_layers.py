"""Layers and nn.init against PyTorch: same weights loaded through
state_dict (torch -> numpy -> dalam), same inputs, forward and backward."""
import math

import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.autograd import gradcheck
from conftest import assert_close


def _sync(ours, theirs):
    """Copy torch's weights into our module through state_dict; keys must match."""
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict({k: v.detach().numpy() for k, v in sd.items()})


def _run_both(ours, theirs, *arrays, rtol=1e-5, atol=1e-6):
    xs = [dalam.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ya, yb = ours(*xs), theirs(*ts)
    assert ya.dtype == yb.detach().numpy().dtype
    assert_close(ya, yb, rtol=rtol, atol=atol, msg="forward")
    g = np.random.default_rng(0).standard_normal(yb.shape).astype(yb.detach().numpy().dtype)
    ya.backward(dalam.tensor(g))
    yb.backward(torch.tensor(g))
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert_close(x.grad, t.grad, rtol=rtol, atol=atol, msg=f"input grad {i}")
    if not isinstance(ours, nn.Module):
        return
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p.grad, q.grad, rtol=rtol, atol=atol, msg=f"grad of {n}")


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 6), (2, 3, 6), (6,)])
def test_linear_vs_torch(bias, shape):
    ours, theirs = nn.Linear(6, 4, bias=bias), torch.nn.Linear(6, 4, bias=bias)
    _sync(ours, theirs)
    _run_both(ours, theirs, np.random.default_rng(1).standard_normal(shape).astype(np.float32))


def test_linear_float64_and_gradcheck():
    m = nn.Linear(3, 2).double()
    x = dalam.randn(4, 3, dtype=dalam.float64, requires_grad=True)
    assert m(x).dtype == np.float64
    assert gradcheck(lambda a, w, b: F.linear(a, w, b), (x, m.weight, m.bias))


def test_linear_wrong_input_names_layer():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(RuntimeError) as e:
        model(dalam.randn(2, 1, 28, 27))
    msg = str(e.value)
    assert "Linear '1'" in msg and "in_features=784" in msg and "(2, 756)" in msg
    # the qualified name is filled in however deep the layer sits
    outer = nn.Sequential(nn.ModuleDict({"enc": model}))
    outer.forward = lambda x: outer[0]["enc"](x)
    with pytest.raises(RuntimeError, match=r"Linear '0\.enc\.1' \(in_features=784"):
        outer(dalam.randn(2, 5))
    with pytest.raises(RuntimeError, match=r"^Linear \(in_features=784"):
        model[1](dalam.randn(2, 5))

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc1(x)
    with pytest.raises(RuntimeError, match=r"Linear 'fc1' .* expected input of shape \(\*, 3\), got \(4, 5\)"):
        M()(dalam.randn(4, 5))
    with pytest.raises(RuntimeError, match="dtype float64 does not match weight dtype float32"):
        M()(dalam.randn(4, 3, dtype=dalam.float64))
    with pytest.raises(TypeError, match="expected a dalam Tensor"):
        M()(np.zeros((4, 3), np.float32))


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_vs_torch_and_gradcheck(bias):
    ours, theirs = nn.Bilinear(3, 4, 5, bias=bias), torch.nn.Bilinear(3, 4, 5, bias=bias)
    _sync(ours, theirs)
    rng = np.random.default_rng(2)
    _run_both(ours, theirs, rng.standard_normal((6, 3)).astype(np.float32),
              rng.standard_normal((6, 4)).astype(np.float32))
    m = nn.Bilinear(2, 3, 2, bias=bias).double()
    a = dalam.randn(2, 2, 2, dtype=dalam.float64, requires_grad=True)
    b = dalam.randn(2, 2, 3, dtype=dalam.float64, requires_grad=True)
    args = (a, b, m.weight) + ((m.bias,) if bias else ())
    assert gradcheck(lambda *t: F.bilinear(*t), args)
    with pytest.raises(RuntimeError, match="Bilinear"):
        ours(dalam.randn(6, 3), dalam.randn(5, 4))


def test_flatten_unflatten_identity():
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype(np.float32)
    _run_both(nn.Flatten(), torch.nn.Flatten(), x)
    _run_both(nn.Flatten(0, 2), torch.nn.Flatten(0, 2), x)
    _run_both(nn.Unflatten(2, (2, 2)), torch.nn.Unflatten(2, (2, 2)), x)
    i = dalam.tensor(x)
    assert nn.Identity(54, unused="x")(i) is i


ACTS = [
    (nn.ReLU, torch.nn.ReLU, {}), (nn.LeakyReLU, torch.nn.LeakyReLU, {"negative_slope": 0.2}),
    (nn.ELU, torch.nn.ELU, {"alpha": 0.7}), (nn.CELU, torch.nn.CELU, {"alpha": 0.7}),
    (nn.SELU, torch.nn.SELU, {}), (nn.GELU, torch.nn.GELU, {}),
    (nn.GELU, torch.nn.GELU, {"approximate": "tanh"}), (nn.SiLU, torch.nn.SiLU, {}),
    (nn.Mish, torch.nn.Mish, {}), (nn.Sigmoid, torch.nn.Sigmoid, {}), (nn.Tanh, torch.nn.Tanh, {}),
    (nn.Softplus, torch.nn.Softplus, {"beta": 2.0, "threshold": 5.0}),
    (nn.Hardtanh, torch.nn.Hardtanh, {"min_val": -0.5, "max_val": 0.8}), (nn.ReLU6, torch.nn.ReLU6, {}),
    (nn.Hardsigmoid, torch.nn.Hardsigmoid, {}), (nn.Hardswish, torch.nn.Hardswish, {}),
    (nn.LogSigmoid, torch.nn.LogSigmoid, {}), (nn.Softsign, torch.nn.Softsign, {}),
    (nn.Tanhshrink, torch.nn.Tanhshrink, {}), (nn.Threshold, torch.nn.Threshold, {"threshold": 0.1, "value": -2.0}),
    (nn.Softmax, torch.nn.Softmax, {"dim": 1}), (nn.LogSoftmax, torch.nn.LogSoftmax, {"dim": -1}),
    (nn.Softmin, torch.nn.Softmin, {"dim": 0}), (nn.GLU, torch.nn.GLU, {"dim": 1}),
    (nn.PReLU, torch.nn.PReLU, {}), (nn.PReLU, torch.nn.PReLU, {"num_parameters": 4, "init": 0.1}),
    (nn.Hardshrink, torch.nn.Hardshrink, {"lambd": 0.7}), (nn.Softshrink, torch.nn.Softshrink, {}),
    (nn.Softmax2d, torch.nn.Softmax2d, {}),
]


@pytest.mark.parametrize("ours,theirs,kw", ACTS, ids=[f"{a[0].__name__}-{i}" for i, a in enumerate(ACTS)])
def test_activations_vs_torch(ours, theirs, kw):
    a, b = ours(**kw), theirs(**kw)
    _sync(a, b)
    x = np.random.default_rng(4).standard_normal((3, 4, 5)).astype(np.float32) * 3
    _run_both(a, b, x, atol=2e-6)
    assert repr(a) == repr(b)


@pytest.mark.parametrize("mod", [nn.ReLU, nn.LeakyReLU, nn.ELU, nn.Hardtanh, nn.ReLU6, nn.SiLU,
                                 nn.Mish, nn.SELU, nn.Hardswish])
def test_inplace_activation_values(mod):
    x = dalam.randn(3, 4)
    ref = mod()(x)
    y = mod(inplace=True)(x)
    assert y is x and np.array_equal(x._data, ref._data)


def test_dropout():
    d = nn.Dropout(0.3)
    x = dalam.ones(200, 100, requires_grad=True)
    y = d(x)
    kept = y._data != 0
    assert abs(kept.mean() - 0.7) < 0.02
    assert np.allclose(y._data[kept], 1 / 0.7) and y.dtype == np.float32
    y.sum().backward()
    assert np.array_equal(x.grad._data != 0, kept)
    assert np.allclose(x.grad._data[kept], 1 / 0.7)
    d.eval()
    assert d(x) is x
    assert (nn.Dropout(1.0)(x)._data == 0).all()
    assert F.dropout(x, 0.5, training=False) is x
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(p)
    xd = dalam.ones(10, dtype=dalam.float64)
    assert nn.Dropout(0.5)(xd).dtype == np.float64


def test_dropout_reproducible_with_seed():
    dalam.manual_seed(3)
    a = nn.Dropout(0.5)(dalam.ones(50))._data
    dalam.manual_seed(3)
    b = nn.Dropout(0.5)(dalam.ones(50))._data
    assert np.array_equal(a, b)


# ---------------------------------------------------------------- init
def test_calculate_gain_matches_torch():
    for nl, p in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                  ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert nn.init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))
    with pytest.raises(ValueError):
        nn.init.calculate_gain("swishy")


def _bound_check(t, bound):
    d = t._data
    assert np.abs(d).max() <= bound + 1e-7
    assert np.abs(d).max() > 0.9 * bound  # actually fills the range


def test_linear_and_bilinear_default_init_ranges():
    m = nn.Linear(400, 300)
    _bound_check(m.weight, 1 / math.sqrt(400))
    _bound_check(m.bias, 1 / math.sqrt(400))
    assert abs(m.weight._data.std() - (1 / math.sqrt(400)) / math.sqrt(3)) < 1e-3
    b = nn.Bilinear(50, 20, 40)
    _bound_check(b.weight, 1 / math.sqrt(50))
    _bound_check(b.bias, 1 / math.sqrt(50))
    assert m.weight.dtype == np.float32 and nn.Linear(2, 2, dtype=dalam.float64).weight.dtype == np.float64


def test_init_functions_distributions():
    w = dalam.empty(256, 512)
    nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu")
    _bound_check(w, math.sqrt(2) * math.sqrt(3 / 512))
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    _bound_check(w, math.sqrt(2) * math.sqrt(3 / 256))
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w._data.std() - math.sqrt(2 / 512)) < 0.003
    nn.init.xavier_uniform_(w, gain=2.0)
    _bound_check(w, 2.0 * math.sqrt(6 / (256 + 512)))
    nn.init.xavier_normal_(w)
    assert abs(w._data.std() - math.sqrt(2 / (256 + 512))) < 0.002
    nn.init.normal_(w, 1.0, 0.5)
    assert abs(w._data.mean() - 1.0) < 0.01 and abs(w._data.std() - 0.5) < 0.01
    nn.init.uniform_(w, -2, 3)
    assert w._data.min() >= -2 and w._data.max() <= 3
    nn.init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5)
    assert w._data.min() >= -0.5 and w._data.max() <= 0.5
    nn.init.constant_(w, 0.25)
    assert (w._data == 0.25).all()
    nn.init.ones_(w)
    assert (w._data == 1).all()
    nn.init.zeros_(w)
    assert (w._data == 0).all()
    e = dalam.empty(3, 5)
    nn.init.eye_(e)
    assert np.array_equal(e._data, np.eye(3, 5))
    assert w.dtype == np.float32
    conv = dalam.empty(16, 8, 3, 3)
    nn.init.kaiming_uniform_(conv, a=math.sqrt(5))
    _bound_check(conv, 1 / math.sqrt(8 * 9))
    nn.init.dirac_(conv)
    assert conv._data[2, 2, 1, 1] == 1 and conv._data.sum() == 8


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3)])
def test_orthogonal(shape):
    w = dalam.empty(*shape)
    nn.init.orthogonal_(w, gain=1.5)
    m = w._data.reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    assert np.allclose(gram, 1.5 ** 2 * np.eye(gram.shape[0]), atol=1e-5)


def test_init_on_parameter_records_no_graph_and_is_seeded():
    dalam.manual_seed(7)
    a = nn.Linear(5, 5).weight._data.copy()
    dalam.manual_seed(7)
    p = nn.Linear(5, 5).weight
    assert np.array_equal(a, p._data) and p.grad_fn is None and p.requires_grad
    g = dalam.Generator().manual_seed(1)
    w1 = nn.init.normal_(dalam.empty(4), generator=g)._data.copy()
    g.manual_seed(1)
    assert np.array_equal(w1, nn.init.normal_(dalam.empty(4), generator=g)._data)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(dalam.empty(3))


# ---------------------------------------------------------------- an MLP end to end
def test_mlp_trains_like_torch_for_a_few_sgd_steps():
    ours = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Dropout(0.0), nn.Linear(16, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Dropout(0.0),
                                 torch.nn.Linear(16, 3))
    _sync(ours, theirs)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((10, 8)).astype(np.float32)
    y = rng.integers(0, 3, 10)
    loss_a, loss_b = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for _ in range(5):
        ours.zero_grad()
        theirs.zero_grad()
        la = loss_a(ours(dalam.tensor(x)), dalam.tensor(y))
        lb = loss_b(theirs(torch.tensor(x)), torch.tensor(y))
        la.backward()
        lb.backward()
        with dalam.no_grad():
            for p in ours.parameters():
                p._data -= 0.1 * p.grad._data
        with torch.no_grad():
            for q in theirs.parameters():
                q -= 0.1 * q.grad
    for (k, v), (_, w) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert_close(v, w, rtol=1e-4, atol=1e-5, msg=k)


# ---------------------------------------------------------------- functional similarity
@pytest.mark.parametrize("name,kw", [("normalize", {"dim": 1}), ("normalize", {"dim": 0, "p": 1.0}),
                                     ("cosine_similarity", {"dim": 1}), ("pairwise_distance", {})])
def test_similarity_functions_vs_torch_and_gradcheck(name, kw):
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    args = (a,) if name == "normalize" else (a, b)
    _run_both(lambda *x: ours(*x, **kw), lambda *x: theirs(*x, **kw), *args)
    xs = [dalam.tensor(x.astype(np.float64), requires_grad=True) for x in args]
    assert gradcheck(lambda *x: ours(*x, **kw), xs)


def test_normalize_zero_vector_is_finite():
    z = dalam.zeros(2, 3, requires_grad=True)
    y = F.normalize(z)
    y.sum().backward()
    assert (y._data == 0).all() and np.isfinite(z.grad._data).all()


@pytest.mark.parametrize("ours,theirs,kw", ACTS, ids=[f"{a[0].__name__}-{i}" for i, a in enumerate(ACTS)])
def test_activations_gradcheck_float64(ours, theirs, kw):
    m = ours(**kw).double()
    x = dalam.tensor(np.random.default_rng(5).standard_normal((2, 4, 3)) * 2, requires_grad=True)
    assert m(x).dtype == np.float64
    params = list(m.parameters())
    assert gradcheck(lambda a, *p: m(a), [x] + params)
