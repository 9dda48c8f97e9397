"""dalam.autograd.functional and dalam.func against torch's, in float64."""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TAF

import dalam
import dalam.autograd.functional as DAF

RNG = np.random.default_rng(0)
A = RNG.standard_normal(3)
B = RNG.standard_normal((2, 3))
W = RNG.standard_normal((4, 3))


def f_vec(L, x):            # R^3 -> R^4
    return L.tanh(L.tensor(W) @ x) * x.sum()


def f_scalar(L, x):
    return (x.exp() * x.sin()).sum() + (x ** 2).sum() ** 2 + x.logsumexp(0)


def f_two(L, x, y):         # two inputs, two outputs
    return (y @ x).exp(), (x * x).sum() + y.sum()


def _t(a):
    return torch.tensor(a, requires_grad=False)


def _d(a):
    return dalam.tensor(a)


def _close(a, b, rtol=1e-10):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, rtol)
        return
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=1e-12)


def test_jacobian_single_and_tuple():
    _close(DAF.jacobian(lambda x: f_vec(dalam, x), _d(A)), TAF.jacobian(lambda x: f_vec(torch, x), _t(A)))
    _close(DAF.jacobian(lambda x, y: f_two(dalam, x, y), (_d(A), _d(B))),
           TAF.jacobian(lambda x, y: f_two(torch, x, y), (_t(A), _t(B))))
    _close(DAF.jacobian(lambda x: f_vec(dalam, x), _d(A), vectorize=True),
           TAF.jacobian(lambda x: f_vec(torch, x), _t(A), vectorize=True))
    _close(DAF.jacobian(lambda x: f_vec(dalam, x), (_d(A),)), TAF.jacobian(lambda x: f_vec(torch, x), (_t(A),)))


def test_hessian_vhp_hvp_vjp_jvp():
    _close(DAF.hessian(lambda x: f_scalar(dalam, x), _d(A)), TAF.hessian(lambda x: f_scalar(torch, x), _t(A)))
    fd = lambda x, y: ((y @ x) ** 2).sum() * x.sum()  # noqa: E731
    ft = lambda x, y: ((y @ x) ** 2).sum() * x.sum()  # noqa: E731
    _close(DAF.hessian(fd, (_d(A), _d(B))), TAF.hessian(ft, (_t(A), _t(B))))
    v = RNG.standard_normal(3)
    for fn_d, fn_t in [(DAF.vhp, TAF.vhp), (DAF.hvp, TAF.hvp)]:
        _close(fn_d(lambda x: f_scalar(dalam, x), _d(A), _d(v)), fn_t(lambda x: f_scalar(torch, x), _t(A), _t(v)))
    u = RNG.standard_normal(4)
    _close(DAF.vjp(lambda x: f_vec(dalam, x), _d(A), _d(u)), TAF.vjp(lambda x: f_vec(torch, x), _t(A), _t(u)))
    _close(DAF.jvp(lambda x: f_vec(dalam, x), _d(A), _d(v)), TAF.jvp(lambda x: f_vec(torch, x), _t(A), _t(v)))
    _close(DAF.vjp(lambda x: f_scalar(dalam, x), _d(A)), TAF.vjp(lambda x: f_scalar(torch, x), _t(A)))
    _close(DAF.jvp(lambda x, y: f_two(dalam, x, y), (_d(A), _d(B)), (_d(v), _d(B * 0.5))),
           TAF.jvp(lambda x, y: f_two(torch, x, y), (_t(A), _t(B)), (_t(v), _t(B * 0.5))))


def test_create_graph_strict_and_errors():
    x = dalam.tensor(A, requires_grad=True)
    j = DAF.jacobian(lambda z: (z ** 3), x, create_graph=True)
    assert j.requires_grad
    (g,) = dalam.autograd.grad(j.sum(), x)
    np.testing.assert_allclose(g.numpy(), 6 * A, rtol=1e-12)
    assert not DAF.jacobian(lambda z: z ** 3, x).requires_grad
    # an output independent of an input: zeros, or an error in strict mode (as torch)
    jd = DAF.jacobian(lambda a, b: a * 2, (_d(A), _d(B)))
    jt = TAF.jacobian(lambda a, b: a * 2, (_t(A), _t(B)))
    _close(jd, jt)
    with pytest.raises(RuntimeError, match="independent"):
        DAF.jacobian(lambda a, b: a * 2, (_d(A), _d(B)), strict=True)
    with pytest.raises(RuntimeError, match="single element"):
        DAF.vjp(lambda x: f_vec(dalam, x), _d(A))
    with pytest.raises(RuntimeError):
        DAF.hessian(lambda x: f_vec(dalam, x), _d(A))
    with pytest.raises(TypeError):
        DAF.jacobian(lambda x: x, [1.0, 2.0])


def test_func_grad_vmap_jacrev_match_torch():
    import torch.func as tf
    import dalam.func as df
    _close(df.grad(lambda x: f_scalar(dalam, x))(_d(A)), tf.grad(lambda x: f_scalar(torch, x))(_t(A)))
    g, v = df.grad_and_value(lambda x: f_scalar(dalam, x))(_d(A))
    tg, tv = tf.grad_and_value(lambda x: f_scalar(torch, x))(_t(A))
    _close((g, v), (tg, tv))
    # argnums, has_aux, second derivative by nesting
    gd = df.grad(lambda x, y: ((y @ x) ** 2).sum(), argnums=(0, 1))(_d(A), _d(B))
    gt = tf.grad(lambda x, y: ((y @ x) ** 2).sum(), argnums=(0, 1))(_t(A), _t(B))
    _close(gd, gt)
    (gd, aux) = df.grad(lambda x: ((x ** 2).sum(), x.mean()), has_aux=True)(_d(A))
    (gt, taux) = tf.grad(lambda x: ((x ** 2).sum(), x.mean()), has_aux=True)(_t(A))
    _close((gd, aux), (gt, taux))
    d2 = df.grad(df.grad(lambda x: x.sin().sum() * 0 + (x ** 3).sum() if x.ndim == 0 else x))
    _close(df.grad(df.grad(lambda x: x.sin() * x ** 2))(_d(A[0])), tf.grad(tf.grad(lambda x: x.sin() * x ** 2))(_t(A[0])))
    del d2
    _close(df.jacrev(lambda x: f_vec(dalam, x))(_d(A)), tf.jacrev(lambda x: f_vec(torch, x))(_t(A)))
    _close(df.jacfwd(lambda x: f_vec(dalam, x))(_d(A)), tf.jacfwd(lambda x: f_vec(torch, x))(_t(A)))
    _close(df.hessian(lambda x: f_scalar(dalam, x))(_d(A)), tf.hessian(lambda x: f_scalar(torch, x))(_t(A)))
    # vmap: batched matrix-vector, in_dims with None, out_dims, nested with grad
    X = RNG.standard_normal((5, 3))
    _close(df.vmap(lambda x: dalam.tensor(W) @ x)(_d(X)), tf.vmap(lambda x: torch.tensor(W) @ x)(_t(X)))
    _close(df.vmap(lambda w, x: w @ x, in_dims=(None, 0))(_d(W), _d(X)),
           tf.vmap(lambda w, x: w @ x, in_dims=(None, 0))(_t(W), _t(X)))
    _close(df.vmap(lambda x: (x.sum(), x * 2), out_dims=(0, 1))(_d(X)),
           tf.vmap(lambda x: (x.sum(), x * 2), out_dims=(0, 1))(_t(X)))
    _close(df.vmap(lambda x: x.sum(0), in_dims=1)(_d(X)), tf.vmap(lambda x: x.sum(0), in_dims=1)(_t(X)))
    _close(df.vmap(df.grad(lambda x: f_scalar(dalam, x)))(_d(X)), tf.vmap(tf.grad(lambda x: f_scalar(torch, x)))(_t(X)))


def test_per_sample_gradients_with_functional_call():
    import torch.func as tf
    import dalam.func as df
    import dalam.nn as nn
    dalam.manual_seed(0)
    dm = nn.Linear(3, 2)
    tm = torch.nn.Linear(3, 2).double()
    dm.double()
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(dm.weight.detach().numpy()))
        tm.bias.copy_(torch.tensor(dm.bias.detach().numpy()))
    X, Y = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 2))

    def loss_d(params, x, y):
        out = df.functional_call(dm, params, (x.unsqueeze(0),))
        return ((out - y.unsqueeze(0)) ** 2).mean()

    def loss_t(params, x, y):
        out = tf.functional_call(tm, params, (x.unsqueeze(0),))
        return ((out - y.unsqueeze(0)) ** 2).mean()
    pd = {k: v.detach() for k, v in dm.named_parameters()}
    pt = {k: v.detach() for k, v in tm.named_parameters()}
    gd = df.vmap(df.grad(loss_d), in_dims=(None, 0, 0))(pd, _d(X), _d(Y))
    gt = tf.vmap(tf.grad(loss_t), in_dims=(None, 0, 0))(pt, _t(X), _t(Y))
    assert set(gd) == set(gt)
    for k in gd:
        _close(gd[k], gt[k])
    assert dm.weight.grad is None  # functional: nothing accumulated on the module
