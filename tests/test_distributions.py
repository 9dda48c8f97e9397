"""dalam.distributions against torch.distributions: values and gradients of
log_prob / entropy / moments / cdf / KL from the same parameters, shapes,
validation errors, sampling statistics, rsample gradients, float64 gradcheck,
and the idioms (REINFORCE loss with Categorical, VAE reparameterisation)."""
import math

import numpy as np
import pytest
import torch

import dalam
import dalam.distributions as dd
import torch.distributions as td
from dalam.autograd import gradcheck
from conftest import assert_close

R = np.random.default_rng(0)


def _pair(arr, grad=True):
    """The same values as a dalam leaf and a torch leaf."""
    a = np.array(arr, copy=True)
    d = dalam.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    t = torch.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    return d, t


def _spd(n, batch=(), dtype=np.float32):
    a = R.standard_normal(batch + (n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def _tril(n, batch=(), dtype=np.float32):
    return np.linalg.cholesky(_spd(n, batch, np.float64)).astype(dtype)


f32 = lambda *s: R.standard_normal(s).astype(np.float32)  # noqa: E731
pos = lambda *s: (R.random(s) + 0.5).astype(np.float32)  # noqa: E731
prob = lambda *s: (R.random(s) * 0.8 + 0.1).astype(np.float32)  # noqa: E731

# name -> (params {name: array}, builder(M, **params), value array for log_prob)
CASES = {
    "normal": ({"loc": f32(3, 2), "scale": pos(3, 2)},
               lambda M, loc, scale: M.Normal(loc, scale), f32(4, 3, 2)),
    "normal_broadcast": ({"loc": f32(3, 1), "scale": pos(2)},
                         lambda M, loc, scale: M.Normal(loc, scale), f32(3, 2)),
    "uniform": ({"low": f32(4) - 3, "high": f32(4) + 3},
                lambda M, low, high: M.Uniform(low, high), np.zeros(4, np.float32)),
    "bernoulli_probs": ({"probs": prob(5)}, lambda M, probs: M.Bernoulli(probs=probs),
                        (R.random(5) < 0.5).astype(np.float32)),
    "bernoulli_logits": ({"logits": f32(2, 5)}, lambda M, logits: M.Bernoulli(logits=logits),
                         (R.random((3, 2, 5)) < 0.5).astype(np.float32)),
    "categorical_probs": ({"probs": prob(3, 4)}, lambda M, probs: M.Categorical(probs=probs),
                          R.integers(0, 4, (2, 3))),
    "categorical_logits": ({"logits": f32(3, 4)}, lambda M, logits: M.Categorical(logits=logits),
                           R.integers(0, 4, (3,))),
    "onehot": ({"logits": f32(3, 4)}, lambda M, logits: M.OneHotCategorical(logits=logits),
               np.eye(4, dtype=np.float32)[R.integers(0, 4, (3,))]),
    "independent": ({"loc": f32(3, 2), "scale": pos(3, 2)},
                    lambda M, loc, scale: M.Independent(M.Normal(loc, scale), 1), f32(5, 3, 2)),
    "mvn_cov": ({"loc": f32(2, 3), "cov": _spd(3, (2,))},
                lambda M, loc, cov: M.MultivariateNormal(loc, covariance_matrix=cov), f32(4, 2, 3)),
    "mvn_tril": ({"loc": f32(3), "tril": _tril(3, (2,))},
                 lambda M, loc, tril: M.MultivariateNormal(loc, scale_tril=tril), f32(2, 3)),
    "mvn_prec": ({"loc": f32(3), "prec": _spd(3)},
                 lambda M, loc, prec: M.MultivariateNormal(loc, precision_matrix=prec), f32(5, 3)),
}


def _build(name, dtype=None):
    params, build, value = CASES[name]
    if dtype is not None:
        params = {k: v.astype(dtype) for k, v in params.items()}
        value = value.astype(dtype) if value.dtype.kind == "f" else value
    dp, tp = {}, {}
    for k, v in params.items():
        dp[k], tp[k] = _pair(v)
    return build(dd, **dp), build(td, **tp), dp, tp, value


def _grads(dp, tp):
    return [(dp[k].grad, tp[k].grad) for k in dp]


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name):
    d, t, dp, tp, value = _build(name)
    assert d.batch_shape == tuple(t.batch_shape) and d.event_shape == tuple(t.event_shape)
    vd, vt = dalam.tensor(value), torch.tensor(value)
    lp_d, lp_t = d.log_prob(vd), t.log_prob(vt)
    assert_close(lp_d, lp_t, rtol=1e-4, atol=1e-5, msg=f"{name} log_prob")
    ent_d, ent_t = d.entropy(), t.entropy()
    assert_close(ent_d, ent_t, rtol=1e-4, atol=1e-5, msg=f"{name} entropy")
    # gradients of a combination of both w.r.t. every parameter
    (lp_d.sum() + 0.5 * ent_d.sum()).backward()
    (lp_t.sum() + 0.5 * ent_t.sum()).backward()
    for k, (gd, gt) in zip(dp, _grads(dp, tp)):
        assert_close(gd, gt, rtol=1e-3, atol=1e-4, msg=f"{name} grad of {k}")
    for attr in ("mean", "variance", "stddev", "mode"):
        try:
            want = getattr(t, attr)
        except NotImplementedError:
            continue
        got = getattr(d, attr)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=f"{name}.{attr}")
    if hasattr(t, "probs"):
        assert_close(d.probs, t.probs, rtol=1e-5, atol=1e-6, msg=f"{name}.probs")
        assert_close(d.logits, t.logits, rtol=1e-4, atol=1e-5, msg=f"{name}.logits")
    if name.startswith("mvn"):
        for attr in ("scale_tril", "covariance_matrix", "precision_matrix"):
            assert_close(getattr(d, attr), getattr(t, attr), rtol=1e-3, atol=1e-4, msg=f"{name}.{attr}")
    assert d.sample((2,)).shape == tuple(t.sample((2,)).shape)
    assert d.has_rsample == t.has_rsample


def test_cdf_icdf_match_torch():
    for name in ("normal", "uniform"):
        d, t, dp, tp, _ = _build(name)
        v = (R.random(d.batch_shape) * 0.9 + 0.05).astype(np.float32)
        assert_close(d.icdf(dalam.tensor(v)), t.icdf(torch.tensor(v)), rtol=1e-4, atol=1e-5)
        x = d.icdf(dalam.tensor(v)).detach()
        assert_close(d.cdf(x), t.cdf(torch.tensor(x.numpy())), rtol=1e-4, atol=1e-5)


def test_enumerate_support_and_expand_match_torch():
    for name in ("bernoulli_probs", "categorical_logits", "onehot"):
        d, t, *_ = _build(name)
        assert_close(d.enumerate_support(), t.enumerate_support(), check_dtype=False)
        assert_close(d.enumerate_support(expand=False), t.enumerate_support(expand=False), check_dtype=False)
    for name in CASES:
        d, t, *_ = _build(name)
        new_batch = (2,) + d.batch_shape
        de, te = d.expand(new_batch), t.expand(torch.Size(new_batch))
        assert de.batch_shape == tuple(te.batch_shape) and de.event_shape == tuple(te.event_shape)
        v = te.sample()
        vd = dalam.tensor(v.numpy())
        assert_close(de.log_prob(vd), te.log_prob(v), rtol=1e-4, atol=1e-5, msg=f"{name} expanded")


KL_PAIRS = [("normal", "normal"), ("uniform", "uniform"), ("bernoulli_probs", "bernoulli_probs"),
            ("categorical_logits", "categorical_logits"), ("onehot", "onehot"),
            ("independent", "independent"), ("mvn_cov", "mvn_tril"), ("mvn_prec", "mvn_cov")]


def _other(name, shift):
    params, build, value = CASES[name]
    moved = {}
    for k, v in params.items():
        if k in ("cov", "prec"):
            moved[k] = _spd(v.shape[-1], v.shape[:-2])
        elif k == "tril":
            moved[k] = _tril(v.shape[-1], v.shape[:-2])
        elif k in ("scale", "probs"):
            moved[k] = np.clip(v * (1 + shift), 0.05, 0.95 if k == "probs" else None).astype(np.float32)
        elif k == "low":
            moved[k] = v - 1
        elif k == "high":
            moved[k] = v + 1
        else:
            moved[k] = v + shift
    return moved, build


@pytest.mark.parametrize("pn,qn", KL_PAIRS)
def test_kl_divergence_matches_torch(pn, qn):
    d_p, t_p, dp, tp, _ = _build(pn)
    qparams, qbuild = _other(qn, 0.3)
    if qn != pn:
        qparams, qbuild = dict(CASES[qn][0]), CASES[qn][1]
    dq = {k: _pair(v) for k, v in qparams.items()}
    d_q, t_q = qbuild(dd, **{k: v[0] for k, v in dq.items()}), qbuild(td, **{k: v[1] for k, v in dq.items()})
    kd, kt = dd.kl_divergence(d_p, d_q), td.kl_divergence(t_p, t_q)
    assert_close(kd, kt, rtol=1e-3, atol=1e-4, msg=f"KL({pn}||{qn})")
    kd.sum().backward()
    kt.sum().backward()
    for k in dp:
        assert_close(dp[k].grad, tp[k].grad, rtol=2e-3, atol=1e-4, msg=f"KL grad {k}")
    for k in dq:
        assert_close(dq[k][0].grad, dq[k][1].grad, rtol=2e-3, atol=1e-4, msg=f"KL grad q.{k}")


def test_kl_special_cases_match_torch():
    # uniform -> normal, disjoint uniforms (inf), zero probabilities (inf / 0)
    lo, hi, mu, sd = np.float32(-1), np.float32(2), f32(1), pos(1)
    assert_close(dd.kl_divergence(dd.Uniform(dalam.tensor(lo), dalam.tensor(hi)),
                                  dd.Normal(dalam.tensor(mu), dalam.tensor(sd))),
                 td.kl_divergence(td.Uniform(torch.tensor(lo), torch.tensor(hi)),
                                  td.Normal(torch.tensor(mu), torch.tensor(sd))), rtol=1e-5)
    assert_close(dd.kl_divergence(dd.Normal(dalam.tensor([0.0]), dalam.tensor([1.0])), dd.Uniform(-1.0, 1.0)),
                 td.kl_divergence(td.Normal(torch.tensor([0.0]), torch.tensor([1.0])), td.Uniform(-1.0, 1.0)))
    assert_close(dd.kl_divergence(dd.Uniform(0.0, 2.0), dd.Uniform(0.5, 1.0)),
                 td.kl_divergence(td.Uniform(0.0, 2.0), td.Uniform(0.5, 1.0)))
    p = np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]], np.float32)
    q = np.array([[0.5, 0.5, 0.0], [0.2, 0.4, 0.4]], np.float32)
    assert_close(dd.kl_divergence(dd.Categorical(probs=dalam.tensor(p)), dd.Categorical(probs=dalam.tensor(q))),
                 td.kl_divergence(td.Categorical(probs=torch.tensor(p)), td.Categorical(probs=torch.tensor(q))))
    pb, qb = np.array([0.0, 1.0, 0.3], np.float32), np.array([0.5, 0.0, 1.0], np.float32)
    assert_close(dd.kl_divergence(dd.Bernoulli(dalam.tensor(pb)), dd.Bernoulli(dalam.tensor(qb))),
                 td.kl_divergence(td.Bernoulli(torch.tensor(pb)), td.Bernoulli(torch.tensor(qb))))


def test_kl_registry_covers_torch_pairs_and_dispatch():
    from torch.distributions.kl import _KL_REGISTRY as torch_registry
    ours = {n for n in dd.__all__ if isinstance(getattr(dd, n), type)}
    theirs = {(p.__name__, q.__name__) for p, q in torch_registry if p.__name__ in ours and q.__name__ in ours}
    mine = {(p.__name__, q.__name__) for p, q in dd.kl._KL_REGISTRY}
    assert theirs <= mine, f"pairs torch registers that dalam lacks: {theirs - mine}"
    with pytest.raises(NotImplementedError, match="register_kl"):
        dd.kl_divergence(dd.Normal(0.0, 1.0), dd.Bernoulli(0.5))

    class MyNormal(dd.Normal):
        pass

    @dd.register_kl(MyNormal, MyNormal)
    def _kl(p, q):
        return dalam.tensor(42.0)

    assert float(dd.kl_divergence(MyNormal(0.0, 1.0), MyNormal(1.0, 1.0))) == 42.0
    assert float(dd.kl_divergence(MyNormal(0.0, 1.0), dd.Normal(0.0, 1.0))) == 0.0  # falls back to Normal
    with pytest.raises(ValueError, match="different event shapes"):
        dd.kl_divergence(dd.MultivariateNormal(dalam.zeros(2), dalam.eye(2)),
                         dd.MultivariateNormal(dalam.zeros(3), dalam.eye(3)))


# ------------------------------------------------------------------ gradcheck in float64
def _gc_cases():
    out = []
    for name in ("normal", "uniform", "bernoulli_logits", "categorical_probs", "categorical_logits",
                 "onehot", "independent", "mvn_tril", "mvn_cov", "mvn_prec"):
        out.append(name)
    return out


@pytest.mark.parametrize("name", _gc_cases())
def test_gradcheck_float64(name):
    params, build, value = CASES[name]
    keys = list(params)
    tensors = []
    for k in keys:
        v = params[k].astype(np.float64)
        tensors.append(dalam.tensor(v, requires_grad=True))
    val = dalam.tensor(value.astype(np.float64) if value.dtype.kind == "f" else value)

    def fn(*ts):
        kw = dict(zip(keys, ts))
        if name == "mvn_cov":   # symmetrise: cholesky reads one triangle
            kw["cov"] = (kw["cov"] + kw["cov"].mT) / 2
        if name == "mvn_prec":
            kw["prec"] = (kw["prec"] + kw["prec"].mT) / 2
        if name == "mvn_tril":
            kw["tril"] = kw["tril"].tril()
        d = build(dd, **kw)
        return d.log_prob(val), d.entropy()
    assert gradcheck(fn, tensors, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_gradcheck_kl_and_linalg_float64():
    x = dalam.tensor(_spd(3, (2,), np.float64), requires_grad=True)
    b = dalam.tensor(R.standard_normal((2, 3, 2)), requires_grad=True)
    assert gradcheck(lambda a: dalam.linalg.cholesky((a + a.mT) / 2), [x])
    L = dalam.tensor(_tril(3, (2,), np.float64), requires_grad=True)
    assert gradcheck(lambda L, b: dalam.linalg.solve_triangular(L, b, upper=False), [L, b])
    assert gradcheck(lambda L, b: dalam.linalg.solve_triangular(L.mT, b, upper=True), [L, b])
    assert gradcheck(lambda L, b: dalam.linalg.solve_triangular(L, b.mT, upper=False, left=False), [L, b])
    assert gradcheck(lambda L: L.tril().cholesky_inverse(), [L])
    m1, s1 = dalam.tensor(R.standard_normal(3), requires_grad=True), dalam.tensor(R.random(3) + .5, requires_grad=True)
    m2, s2 = dalam.tensor(R.standard_normal(3), requires_grad=True), dalam.tensor(R.random(3) + .5, requires_grad=True)
    assert gradcheck(lambda a, b, c, d: dd.kl_divergence(dd.Normal(a, b), dd.Normal(c, d)), [m1, s1, m2, s2])
    L2 = dalam.tensor(_tril(3, (), np.float64), requires_grad=True)
    assert gradcheck(lambda a, L, c, L2: dd.kl_divergence(dd.MultivariateNormal(a, scale_tril=L.tril()),
                                                          dd.MultivariateNormal(c, scale_tril=L2.tril())),
                     [m1, dalam.tensor(L._data[0], requires_grad=True), m2, L2])
    lg1, lg2 = (dalam.tensor(R.standard_normal((2, 4)), requires_grad=True) for _ in range(2))
    assert gradcheck(lambda a, b: dd.kl_divergence(dd.Categorical(logits=a), dd.Categorical(logits=b)), [lg1, lg2])
    assert gradcheck(lambda a, b: dd.kl_divergence(dd.Bernoulli(logits=a), dd.Bernoulli(logits=b)), [lg1, lg2])


def test_linalg_matches_torch():
    a = _spd(4, (3,))
    ad, at = _pair(a)
    Ld, Lt = dalam.linalg.cholesky(ad), torch.linalg.cholesky(at)
    assert_close(Ld, Lt, rtol=1e-4, atol=1e-5)
    g = f32(3, 4, 4)
    (Ld * dalam.tensor(g)).sum().backward()
    (Lt * torch.tensor(g)).sum().backward()
    assert_close(ad.grad, at.grad, rtol=1e-3, atol=1e-4)
    Ud, Ut = dalam.linalg.cholesky(ad, upper=True), torch.linalg.cholesky(at, upper=True)
    assert_close(Ud, Ut, rtol=1e-4, atol=1e-5)
    L = _tril(4, (3,))
    for upper in (False, True):
        for left in (True, False):
            Ldd, Ltt = _pair(L.swapaxes(-1, -2).copy() if upper else L)
            B = f32(3, 4, 2) if left else f32(3, 2, 4)
            Bd, Bt = _pair(B)
            xd = dalam.linalg.solve_triangular(Ldd, Bd, upper=upper, left=left)
            xt = torch.linalg.solve_triangular(Ltt, Bt, upper=upper, left=left)
            assert_close(xd, xt, rtol=1e-4, atol=1e-5)
            (xd ** 2).sum().backward()
            (xt ** 2).sum().backward()
            assert_close(Ldd.grad, Ltt.grad, rtol=1e-3, atol=1e-4)
            assert_close(Bd.grad, Bt.grad, rtol=1e-3, atol=1e-4)
    assert_close(dalam.tensor(L).cholesky_inverse(), torch.tensor(L).cholesky_inverse(), rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="not positive-definite"):
        dalam.linalg.cholesky(-dalam.eye(3))


# ------------------------------------------------------------------ sampling
def test_samples_have_the_right_statistics_and_follow_the_seed():
    n = 40000
    dalam.manual_seed(0)
    probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]], np.float32)
    s = dd.Categorical(probs=dalam.tensor(probs)).sample((n,)).numpy()
    assert s.shape == (n, 2) and s.dtype == np.int64
    freq = np.stack([(s == k).mean(0) for k in range(3)], -1)
    np.testing.assert_allclose(freq, probs, atol=0.01)
    b = dd.Bernoulli(dalam.tensor([0.2, 0.7])).sample((n,)).numpy()
    np.testing.assert_allclose(b.mean(0), [0.2, 0.7], atol=0.01)
    x = dd.Normal(dalam.tensor([1.0, -2.0]), dalam.tensor([0.5, 2.0])).sample((n,)).numpy()
    np.testing.assert_allclose(x.mean(0), [1, -2], atol=0.05)
    np.testing.assert_allclose(x.std(0), [0.5, 2.0], rtol=0.03)
    cov = _spd(3)
    m = dd.MultivariateNormal(dalam.tensor([1.0, 0.0, -1.0]), covariance_matrix=dalam.tensor(cov))
    xs = m.sample((n,)).numpy()
    np.testing.assert_allclose(np.cov(xs.T), cov, atol=0.15 * np.abs(cov).max())
    u = dd.Uniform(-1.0, 3.0).sample((n,)).numpy()
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.05
    oh = dd.OneHotCategorical(probs=dalam.tensor(probs[0])).sample((n,)).numpy()
    np.testing.assert_allclose(oh.mean(0), probs[0], atol=0.01)
    dalam.manual_seed(7)
    a = dd.Normal(0.0, 1.0).sample((5,)).numpy()
    c = dd.Categorical(logits=dalam.zeros(4)).sample((5,)).numpy()
    dalam.manual_seed(7)
    np.testing.assert_array_equal(a, dd.Normal(0.0, 1.0).sample((5,)).numpy())
    np.testing.assert_array_equal(c, dd.Categorical(logits=dalam.zeros(4)).sample((5,)).numpy())


def test_rsample_gradients_are_reparameterised():
    loc, scale = dalam.tensor([0.5, -1.0], requires_grad=True), dalam.tensor([2.0, 0.3], requires_grad=True)
    x = dd.Normal(loc, scale).rsample((3,))
    assert x.requires_grad
    (x ** 2).sum().backward()
    eps = ((x.detach() - loc.detach()) / scale.detach()).numpy()
    xv = x.detach().numpy()
    np.testing.assert_allclose(loc.grad.numpy(), (2 * xv).sum(0), rtol=1e-5)
    np.testing.assert_allclose(scale.grad.numpy(), (2 * xv * eps).sum(0), rtol=1e-4)
    # MVN: x = loc + L eps, compared with torch on the same eps
    Lnp = _tril(3)
    Ld, Lt = _pair(Lnp)
    md, mt = _pair(f32(3))
    xs = dd.MultivariateNormal(md, scale_tril=Ld).rsample((4,))
    eps = np.linalg.solve(Lnp, (xs.detach().numpy() - md.detach().numpy()).T).T.astype(np.float32)
    xt = mt + (Lt @ torch.tensor(eps).T).T
    assert_close(xs, xt, rtol=1e-4, atol=1e-4)
    (xs.sin()).sum().backward()
    xt.sin().sum().backward()
    assert_close(Ld.grad, Lt.grad, rtol=1e-3, atol=1e-4)
    assert_close(md.grad, mt.grad, rtol=1e-3, atol=1e-4)
    lo, hi = dalam.tensor(0.0, requires_grad=True), dalam.tensor(2.0, requires_grad=True)
    us = dd.Uniform(lo, hi).rsample((10,))
    us.sum().backward()
    r = (us.detach().numpy() - 0.0) / 2.0
    np.testing.assert_allclose(hi.grad.numpy(), r.sum(), rtol=1e-5)
    np.testing.assert_allclose(lo.grad.numpy(), (1 - r).sum(), rtol=1e-5)
    with pytest.raises(NotImplementedError, match="score-function"):
        dd.Categorical(logits=dalam.zeros(3)).rsample()
    assert not dd.Categorical(logits=dalam.zeros(3, requires_grad=True)).sample().requires_grad


# ------------------------------------------------------------------ validation and errors
BAD = [
    ("normal scale<0", lambda M, T: M.Normal(T([0.0]), T([-1.0]))),
    ("bernoulli p>1", lambda M, T: M.Bernoulli(probs=T([1.5]))),
    ("categorical probs<0", lambda M, T: M.Categorical(probs=T([0.5, -0.1]))),
    ("uniform low>=high", lambda M, T: M.Uniform(T([1.0]), T([0.0]))),
    ("mvn cov not pd", lambda M, T: M.MultivariateNormal(T([0.0, 0.0]), covariance_matrix=T([[1.0, 2.0], [2.0, 1.0]]))),
    ("mvn tril not lower", lambda M, T: M.MultivariateNormal(T([0.0, 0.0]), scale_tril=T([[1.0, 2.0], [0.0, 1.0]]))),
    ("both probs and logits", lambda M, T: M.Categorical(probs=T([0.5, 0.5]), logits=T([0.0, 0.0]))),
    ("neither", lambda M, T: M.Bernoulli()),
]


@pytest.mark.parametrize("label,make", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_raise_like_torch(label, make):
    with pytest.raises(ValueError) as theirs:
        make(td, torch.tensor)
    with pytest.raises(ValueError) as ours:
        make(dd, dalam.tensor)
    first = lambda e: str(e.value).split("(")[0].split(":")[0]  # noqa: E731
    assert first(ours)[:20] == first(theirs)[:20], (str(ours.value), str(theirs.value))


def test_bad_values_raise_and_validation_can_be_turned_off():
    with pytest.raises(ValueError, match="within the support"):
        dd.Categorical(logits=dalam.zeros(3)).log_prob(dalam.tensor([3]))
    with pytest.raises(ValueError, match="within the support"):
        dd.Bernoulli(0.3).log_prob(dalam.tensor(0.5))
    with pytest.raises(ValueError, match="broadcastable"):
        dd.Normal(dalam.zeros(2), dalam.ones(2)).log_prob(dalam.zeros(3))
    with pytest.raises(ValueError, match="right-most size"):
        dd.MultivariateNormal(dalam.zeros(2), dalam.eye(2)).log_prob(dalam.zeros(3))
    with pytest.raises(ValueError, match="must be a Tensor"):
        dd.Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(ValueError, match="Exactly one"):
        dd.MultivariateNormal(dalam.zeros(2))
    assert dd.Normal(dalam.tensor([0.0]), dalam.tensor([-1.0]), validate_args=False).scale.item() == -1.0
    dd.Distribution.set_default_validate_args(False)
    try:
        dd.Normal(dalam.tensor([0.0]), dalam.tensor([-1.0]))
    finally:
        dd.Distribution.set_default_validate_args(True)
    assert repr(dd.constraints.positive) == repr(td.constraints.positive)
    assert repr(dd.constraints.unit_interval) == repr(td.constraints.unit_interval)
    assert repr(dd.constraints.real) == repr(td.constraints.real)


def test_float64_parameters_stay_float64_and_float32_stays_float32():
    for name in ("normal", "categorical_logits", "mvn_cov", "bernoulli_logits"):
        d = _build(name, np.float64)[0]
        assert d.entropy().dtype == np.float64
        assert d.sample().dtype == (np.int64 if "categorical" in name else np.float64)
        d32 = _build(name)[0]
        assert d32.entropy().dtype == np.float32


# ------------------------------------------------------------------ idioms
def test_reinforce_idiom_matches_torch():
    """The policy-gradient step of public REINFORCE code, on both frameworks."""
    obs = f32(6, 4)
    acts = R.integers(0, 2, 6)
    ret = f32(6)
    lin_d = dalam.nn.Linear(4, 2)
    lin_t = torch.nn.Linear(4, 2)
    lin_t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lin_d.state_dict().items()})
    for M, lin, T in ((dd, lin_d, dalam.tensor), (td, lin_t, torch.tensor)):
        dist = M.Categorical(logits=lin(T(obs)))
        loss = -(dist.log_prob(T(acts)) * T(ret)).mean() - 0.01 * dist.entropy().mean()
        loss.backward()
    assert_close(lin_d.weight.grad, lin_t.weight.grad, rtol=1e-4, atol=1e-6)
    assert_close(lin_d.bias.grad, lin_t.bias.grad, rtol=1e-4, atol=1e-6)


def test_vae_reparameterisation_idiom():
    mu = dalam.zeros(4, 2, requires_grad=True)
    logvar = dalam.zeros(4, 2, requires_grad=True)
    q = dd.Normal(mu, (0.5 * logvar).exp())
    z = q.rsample()
    prior = dd.Normal(dalam.zeros_like(mu), dalam.ones_like(mu))
    kl = dd.kl_divergence(q, prior).sum(-1).mean()
    loss = (z ** 2).sum(-1).mean() + kl
    loss.backward()
    assert mu.grad is not None and logvar.grad is not None
    assert float(kl) == pytest.approx(0.0, abs=1e-6)
    # an Independent diagonal Gaussian policy over action vectors
    pi = dd.Independent(dd.Normal(mu, logvar.exp()), 1)
    a = pi.sample()
    assert pi.log_prob(a).shape == (4,) and pi.entropy().shape == (4,)
