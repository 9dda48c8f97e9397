"""``optim.LBFGS`` against torch.optim.LBFGS: the same iterates and losses over
several ``step(closure)`` calls, with and without strong-Wolfe line search."""
import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn


def _rosenbrock(L, p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _run(L, opt_cls, make_params, loss_fn, steps, **kw):
    params = make_params(L)
    opt = opt_cls(params, **kw)
    losses, iterates = [], []

    def closure():
        opt.zero_grad()
        loss = loss_fn(L, params)
        loss.backward()
        return loss
    for _ in range(steps):
        losses.append(opt.step(closure).item())
        iterates.append(np.concatenate([p.detach().numpy().ravel().copy() for p in params]))
    return np.array(losses), np.array(iterates), opt


P0 = np.array([-1.5, 2.0])


# Rosenbrock without a line search is chaotic: rounding differences of 1e-16 (FMA in
# torch's add(alpha=...), BLAS dots) grow over ~100 iterations, so the runs stay short.
@pytest.mark.parametrize("kw", [dict(max_iter=8), dict(line_search_fn="strong_wolfe"),
                                dict(history_size=3, max_iter=5, lr=0.5),
                                dict(history_size=2, max_iter=7, line_search_fn="strong_wolfe")])
def test_rosenbrock_trajectory_matches_torch(kw):
    def mk(L):
        return [L.tensor(P0.copy(), requires_grad=True)]

    def loss(L, ps):
        return _rosenbrock(L, ps[0])
    ld, xd, od = _run(dalam, dalam.optim.LBFGS, mk, loss, 6, **kw)
    lt, xt, ot = _run(torch, torch.optim.LBFGS, mk, loss, 6, **kw)
    # the first step agrees to rounding; later ones drift by amplified rounding only
    np.testing.assert_allclose(xd[0], xt[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ld, lt, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(xd, xt, rtol=1e-6, atol=1e-7)
    sd = od.state[od.param_groups[0]["params"][0]]
    st = ot.state[ot.param_groups[0]["params"][0]]
    assert sd["n_iter"] == st["n_iter"] and sd["func_evals"] == st["func_evals"]
    if kw.get("line_search_fn"):
        assert abs(_rosenbrock(np, xd[-1])) < 1e-6  # converges to (1, 1)


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_small_mlp_trajectory_matches_torch(line_search):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((32, 4)), rng.standard_normal((32, 1))
    W1, b1 = rng.standard_normal((6, 4)) * 0.5, rng.standard_normal(6) * 0.1
    W2, b2 = rng.standard_normal((1, 6)) * 0.5, rng.standard_normal(1) * 0.1

    def mk(L):
        return [L.tensor(a.copy(), requires_grad=True) for a in (W1, b1, W2, b2)]

    def loss(L, ps):
        w1, c1, w2, c2 = ps
        h = L.tanh(L.tensor(X) @ w1.T + c1)
        return ((h @ w2.T + c2 - L.tensor(Y)) ** 2).mean()
    kw = dict(lr=1, max_iter=10, history_size=5, line_search_fn=line_search)
    ld, xd, _ = _run(dalam, dalam.optim.LBFGS, mk, loss, 4, **kw)
    lt, xt, _ = _run(torch, torch.optim.LBFGS, mk, loss, 4, **kw)
    np.testing.assert_allclose(ld, lt, rtol=1e-8)
    np.testing.assert_allclose(xd, xt, rtol=1e-6, atol=1e-9)
    assert ld[-1] < 0.5 * ld[0]


def test_module_training_float32_and_api():
    dalam.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    x = dalam.randn(64, 3)
    y = (x ** 2).sum(1, keepdim=True)
    opt = dalam.optim.LBFGS(model.parameters(), lr=1, max_iter=20, tolerance_grad=1e-9,
                            tolerance_change=1e-12, history_size=10, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss
    first = opt.step(closure).item()
    for _ in range(3):
        last = opt.step(closure).item()
    assert last < 0.2 * first
    assert all(p.dtype == np.float32 for p in model.parameters())
    with pytest.raises(RuntimeError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="strong_wolfe"):
        dalam.optim.LBFGS(model.parameters(), line_search_fn="backtracking")
    with pytest.raises(ValueError, match="parameter groups"):
        dalam.optim.LBFGS([{"params": [model[0].weight]}, {"params": [model[0].bias]}])


def test_converged_start_returns_immediately():
    p = dalam.tensor([1.0, 1.0], dtype=dalam.float64, requires_grad=True)
    opt = dalam.optim.LBFGS([p])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = _rosenbrock(dalam, p)
        loss.backward()
        return loss
    assert opt.step(closure).item() == 0.0 and len(calls) == 1
