"""nn.utils.parametrize / parametrizations (weight_norm, spectral_norm) and the
older hook-based weight_norm/spectral_norm against PyTorch: state_dict keys,
values, forward outputs and gradients."""
import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn
from dalam.nn.utils import parametrize as P
from dalam.nn.utils import parametrizations as PZ


def _pair_linear(i=4, o=3, seed=0):
    rng = np.random.default_rng(seed)
    w, b = rng.standard_normal((o, i)), rng.standard_normal(o)
    d = nn.Linear(i, o).double()
    t = torch.nn.Linear(i, o).double()
    d.load_state_dict({"weight": dalam.tensor(w), "bias": dalam.tensor(b)})
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
        t.bias.copy_(torch.tensor(b))
    return d, t


def _pair_conv(seed=0):
    rng = np.random.default_rng(seed)
    w, b = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    d = nn.Conv2d(2, 4, 3).double()
    t = torch.nn.Conv2d(2, 4, 3).double()
    d.load_state_dict({"weight": dalam.tensor(w), "bias": dalam.tensor(b)})
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
        t.bias.copy_(torch.tensor(b))
    return d, t


def _sd_close(d, t):
    sd, st = d.state_dict(), t.state_dict()
    assert list(sd) == list(st)
    for k in sd:
        np.testing.assert_allclose(sd[k].numpy(), st[k].numpy(), rtol=1e-12, atol=1e-14, err_msg=k)


def _grads_close(d, t, x):
    yd, yt = d(dalam.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(yd.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    (yd ** 2).sum().backward()
    (yt ** 2).sum().backward()
    gd = {k: p.grad.numpy() for k, p in d.named_parameters()}
    gt = {k: p.grad.numpy() for k, p in t.named_parameters()}
    assert list(gd) == list(gt)
    for k in gd:
        np.testing.assert_allclose(gd[k], gt[k], rtol=1e-9, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization_matches_torch(dim):
    d, t = _pair_linear()
    PZ.weight_norm(d, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    _sd_close(d, t)
    assert P.is_parametrized(d, "weight") and type(d).__name__ == type(t).__name__
    np.testing.assert_allclose(d.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-12)
    _grads_close(d, t, np.random.default_rng(1).standard_normal((5, 4)))
    # the parameters (in the optimiser's order) are PyTorch's
    assert [n for n, _ in d.named_parameters()] == [n for n, _ in t.named_parameters()]


def test_weight_norm_on_conv_and_load_state_dict_from_torch():
    d, t = _pair_conv()
    PZ.weight_norm(d)
    torch.nn.utils.parametrizations.weight_norm(t)
    with torch.no_grad():
        t.parametrizations.weight.original0.mul_(1.5)
    d.load_state_dict({k: dalam.tensor(v.numpy()) for k, v in t.state_dict().items()})
    _sd_close(d, t)
    _grads_close(d, t, np.random.default_rng(2).standard_normal((2, 2, 5, 5)))


@pytest.mark.parametrize("make", ["linear", "conv"])
def test_spectral_norm_parametrization_matches_torch(make):
    d, t = _pair_linear() if make == "linear" else _pair_conv()
    PZ.spectral_norm(d)
    torch.nn.utils.parametrizations.spectral_norm(t)
    assert list(d.state_dict()) == list(t.state_dict())
    # power-iteration vectors start random in both: take torch's
    d.load_state_dict({k: dalam.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((2, 4) if make == "linear" else (2, 2, 5, 5))
    _grads_close(d, t, x)
    _sd_close(d, t)   # the training-mode forward advanced _u, _v identically
    d.eval()
    t.eval()
    np.testing.assert_allclose(d.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-10)
    s = np.linalg.svd(d.weight.detach().numpy().reshape(d.weight.shape[0], -1), compute_uv=False)
    assert abs(s[0] - 1) < 0.05  # normalised by (an estimate of) the largest singular value


def test_register_custom_parametrization_and_remove():
    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    class TSymmetric(torch.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)
    d, t = _pair_linear(3, 3)
    P.register_parametrization(d, "weight", Symmetric())
    torch.nn.utils.parametrize.register_parametrization(t, "weight", TSymmetric())
    _sd_close(d, t)
    w = d.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    _grads_close(d, t, np.random.default_rng(4).standard_normal((2, 3)))
    with P.cached():
        assert d.weight is d.weight
    assert d.weight is not d.weight
    P.remove_parametrizations(d, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight")
    assert type(d) is nn.Linear and not P.is_parametrized(d)
    _sd_close(d, t)
    assert isinstance(d.weight, nn.Parameter)


def test_right_inverse_assignment_and_errors():
    class Scale(nn.Module):
        def forward(self, X):
            return X * 2

        def right_inverse(self, W):
            return W / 2
    d, _ = _pair_linear()
    P.register_parametrization(d, "weight", Scale())
    d.weight = dalam.ones(3, 4, dtype=dalam.float64)
    np.testing.assert_allclose(d.parametrizations.weight.original.detach().numpy(), 0.5)
    np.testing.assert_allclose(d.weight.detach().numpy(), 1.0)

    class Bad(nn.Module):
        def forward(self, X):
            return X[0]
    with pytest.raises(ValueError, match="shape"):
        P.register_parametrization(nn.Linear(2, 2), "weight", Bad())
    with pytest.raises(ValueError, match="does not have"):
        P.register_parametrization(nn.Linear(2, 2), "nope", Scale())
    # a model with weight norm trains: the optimiser updates original0/original1
    m = PZ.weight_norm(nn.Linear(3, 1))
    opt = dalam.optim.SGD(m.parameters(), lr=0.1)
    x, y = dalam.randn(8, 3), dalam.randn(8, 1)
    first = None
    for _ in range(20):
        opt.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        first = first or loss.item()
    assert loss.item() < first


def test_hook_based_weight_norm_and_spectral_norm_match_torch():
    d, t = _pair_linear()
    nn.utils.weight_norm(d)
    torch.nn.utils.weight_norm(t)
    _sd_close(d, t)
    _grads_close(d, t, np.random.default_rng(5).standard_normal((3, 4)))
    nn.utils.remove_weight_norm(d)
    torch.nn.utils.remove_weight_norm(t)
    _sd_close(d, t)

    d, t = _pair_conv()
    nn.utils.spectral_norm(d)
    torch.nn.utils.spectral_norm(t)
    assert set(d.state_dict()) == set(t.state_dict())
    d.load_state_dict({k: dalam.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((2, 2, 5, 5))
    _grads_close(d, t, x)
    for k in ("weight_u", "weight_v"):
        np.testing.assert_allclose(d.state_dict()[k].numpy(), t.state_dict()[k].numpy(), rtol=1e-10)
    nn.utils.remove_spectral_norm(d)
    torch.nn.utils.remove_spectral_norm(t)
    np.testing.assert_allclose(d.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-10)
