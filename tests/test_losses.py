"""Losses: PyTorch parity (forward and backward, float32), float64 gradcheck
for every option, dtype preservation and error messages."""
import itertools
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dalam
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.autograd import gradcheck
from conftest import assert_close

RED = ["none", "mean", "sum"]


def _pair(a, requires_grad=True):
    """The same array as a dalam tensor and a torch tensor."""
    return (dalam.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _compare(ours, theirs, inputs, rtol=1e-5, atol=1e-6, seed=0):
    """Backward the same random cotangent through both and compare values and grads."""
    assert_close(ours, theirs, rtol=rtol, atol=atol, msg="forward")
    g = np.random.default_rng(seed).standard_normal(theirs.shape).astype(theirs.detach().numpy().dtype)
    ours.backward(dalam.tensor(g))
    theirs.backward(torch.tensor(g))
    for i, (a, b) in enumerate(inputs):
        if b.grad is not None:
            assert a.grad is not None, f"input {i}: no gradient"
            assert_close(a.grad, b.grad, rtol=rtol, atol=atol, msg=f"grad {i}")


# ---------------------------------------------------------------- cross-entropy / NLL
CE_CASES = list(itertools.product(RED, [None, "w"], [-100, 1], [0.0, 0.15], [(6, 5), (3, 4, 2, 2), (5,)]))


@pytest.mark.parametrize("reduction,weight,ignore,ls,shape", CE_CASES)
def test_cross_entropy_indices_vs_torch(reduction, weight, ignore, ls, shape):
    rng = np.random.default_rng(1)
    c = shape[0] if len(shape) == 1 else shape[1]
    z = rng.standard_normal(shape).astype(np.float32) * 3
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, c, tshape)
    if t.ndim:
        t.reshape(-1)[::3] = ignore if ignore == -100 else t.reshape(-1)[::3]
    w = rng.random(c).astype(np.float32) + 0.1 if weight else None
    a, b = _pair(z)
    kw = dict(reduction=reduction, ignore_index=ignore, label_smoothing=ls)
    la = F.cross_entropy(a, dalam.tensor(t), weight=None if w is None else dalam.tensor(w), **kw)
    lb = TF.cross_entropy(b, torch.tensor(t), weight=None if w is None else torch.tensor(w), **kw)
    assert la.dtype == np.float32
    _compare(la, lb, [(a, b)])


@pytest.mark.parametrize("reduction,weight,ignore,shape",
                         list(itertools.product(RED, [None, "w"], [-100, 2], [(6, 5), (3, 4, 2, 2)])))
def test_nll_loss_vs_torch(reduction, weight, ignore, shape):
    rng = np.random.default_rng(2)
    c = shape[1]
    z = np.log(rng.dirichlet(np.ones(c), size=int(np.prod(shape)) // c)).astype(np.float32)
    z = np.moveaxis(z.reshape((shape[0],) + shape[2:] + (c,)), -1, 1).copy()
    t = rng.integers(0, c, (shape[0],) + shape[2:])
    w = rng.random(c).astype(np.float32) + 0.1 if weight else None
    a, b = _pair(z)
    la = F.nll_loss(a, dalam.tensor(t), None if w is None else dalam.tensor(w),
                    ignore_index=ignore, reduction=reduction)
    lb = TF.nll_loss(b, torch.tensor(t), None if w is None else torch.tensor(w),
                     ignore_index=ignore, reduction=reduction)
    _compare(la, lb, [(a, b)])


@pytest.mark.parametrize("reduction,weight,ls,shape",
                         list(itertools.product(RED, [None, "w"], [0.0, 0.2], [(4, 5), (2, 3, 2)])))
def test_cross_entropy_probabilities_vs_torch(reduction, weight, ls, shape):
    rng = np.random.default_rng(3)
    c = shape[1]
    z = rng.standard_normal(shape).astype(np.float32)
    p = rng.random(shape).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    w = rng.random(c).astype(np.float32) + 0.1 if weight else None
    a, b = _pair(z)
    pa, pb = _pair(p)
    kw = dict(reduction=reduction, label_smoothing=ls)
    la = F.cross_entropy(a, pa, None if w is None else dalam.tensor(w), **kw)
    lb = TF.cross_entropy(b, pb, None if w is None else torch.tensor(w), **kw)
    _compare(la, lb, [(a, b), (pa, pb)])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(7, 4), (2, 4, 3, 2)])
def test_cross_entropy_common_case_vs_torch_and_gradcheck(reduction, shape):
    """No weight, smoothing or ignored target: the fast path."""
    rng = np.random.default_rng(16)
    z = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    a, b = _pair(z)
    _compare(F.cross_entropy(a, dalam.tensor(t), reduction=reduction),
             TF.cross_entropy(b, torch.tensor(t), reduction=reduction), [(a, b)])
    x = dalam.tensor(z.astype(np.float64), requires_grad=True)
    assert gradcheck(lambda v: F.cross_entropy(v, dalam.tensor(t), reduction=reduction), (x,))


def test_cross_entropy_all_ignored_mean_is_nan_like_torch():
    z = np.zeros((3, 4), np.float32)
    t = np.full(3, -100)
    la = F.cross_entropy(dalam.tensor(z), dalam.tensor(t))
    lb = TF.cross_entropy(torch.tensor(z), torch.tensor(t))
    assert np.isnan(la.item()) and np.isnan(lb.item())


def test_cross_entropy_stable_for_huge_logits():
    z = np.array([[1e4, -1e4, 0.0], [-3e4, 3e4, 1.0]], np.float32)
    t = np.array([1, 0])
    a, b = _pair(z)
    _compare(F.cross_entropy(a, dalam.tensor(t)), TF.cross_entropy(b, torch.tensor(t)), [(a, b)])
    assert np.isfinite(a.grad._data).all()


CE_GC = list(itertools.product(RED, [None, "w"], [0.0, 0.3]))


@pytest.mark.parametrize("reduction,weight,ls", CE_GC)
def test_cross_entropy_gradcheck(reduction, weight, ls):
    rng = np.random.default_rng(4)
    z = dalam.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    t = dalam.tensor(np.array([[0, 2], [1, -100], [2, 2], [0, 1]]))
    w = dalam.tensor(rng.random(3) + 0.5) if weight else None
    assert gradcheck(lambda x: F.cross_entropy(x, t, w, reduction=reduction, label_smoothing=ls), (z,))
    soft = dalam.tensor(rng.random((4, 3, 2)), requires_grad=True)
    assert gradcheck(lambda x, p: F.cross_entropy(x, p, w, reduction=reduction, label_smoothing=ls),
                     (z, soft))


@pytest.mark.parametrize("reduction,weight", list(itertools.product(RED, [None, "w"])))
def test_nll_gradcheck(reduction, weight):
    rng = np.random.default_rng(5)
    z = dalam.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    t = dalam.tensor(np.array([0, 3, 1, 1, 2]))
    w = dalam.tensor(rng.random(4) + 0.5) if weight else None
    assert gradcheck(lambda x: F.nll_loss(x, t, w, ignore_index=1, reduction=reduction), (z,))


def test_cross_entropy_float64_stays_float64():
    z = dalam.randn(4, 3, dtype=dalam.float64, requires_grad=True)
    loss = F.cross_entropy(z, dalam.tensor([0, 1, 2, 0]))
    loss.backward()
    assert loss.dtype == np.float64 and z.grad.dtype == np.float64


def test_cross_entropy_label_out_of_range_is_clear():
    z = dalam.randn(4, 10)
    with pytest.raises(IndexError, match=r"target class index 12 .* out of range for 10 classes"):
        nn.CrossEntropyLoss()(z, dalam.tensor([1, 12, 3, 4]))
    with pytest.raises(IndexError, match="out of range"):
        F.nll_loss(z, dalam.tensor([-1, 0, 0, 0]))


def test_cross_entropy_bad_target_shape_and_dtype():
    z = dalam.randn(4, 10)
    with pytest.raises(ValueError, match=r"expected target of shape \(4,\)"):
        F.cross_entropy(z, dalam.tensor([[1, 2, 3, 4]]))
    with pytest.raises(RuntimeError, match="integer"):
        F.cross_entropy(z, dalam.tensor([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(RuntimeError, match="weight must be a 1-D tensor of size 10"):
        F.cross_entropy(z, dalam.tensor([1, 2, 3, 4]), weight=dalam.ones(3))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(z, dalam.tensor([1, 2, 3, 4]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(z, dalam.tensor([1, 2, 3, 4]), label_smoothing=1.5)


def test_cross_entropy_backward_has_no_onehot_and_one_node():
    z = dalam.randn(8, 5, requires_grad=True)
    loss = F.cross_entropy(z, dalam.tensor(np.arange(8) % 5))
    assert type(loss.grad_fn).__name__ == "ClassNLL"
    assert loss.grad_fn.next_functions[0][0] == "AccumulateGrad"


# ---------------------------------------------------------------- regression losses
POINTWISE = [
    ("mse", lambda a, b, r: F.mse_loss(a, b, reduction=r), lambda a, b, r: TF.mse_loss(a, b, reduction=r)),
    ("l1", lambda a, b, r: F.l1_loss(a, b, reduction=r), lambda a, b, r: TF.l1_loss(a, b, reduction=r)),
    ("huber", lambda a, b, r: F.huber_loss(a, b, reduction=r, delta=0.7),
     lambda a, b, r: TF.huber_loss(a, b, reduction=r, delta=0.7)),
    ("smoothl1", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.5),
     lambda a, b, r: TF.smooth_l1_loss(a, b, reduction=r, beta=0.5)),
    ("smoothl1_b0", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.0),
     lambda a, b, r: TF.smooth_l1_loss(a, b, reduction=r, beta=0.0)),
]


@pytest.mark.parametrize("name,ours,theirs", POINTWISE, ids=[p[0] for p in POINTWISE])
@pytest.mark.parametrize("reduction", RED)
def test_pointwise_losses_vs_torch(name, ours, theirs, reduction):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    y = rng.standard_normal((4, 3)).astype(np.float32)
    a, b = _pair(x)
    ya, yb = _pair(y)
    la, lb = ours(a, ya, reduction), theirs(b, yb, reduction)
    assert la.dtype == np.float32
    _compare(la, lb, [(a, b), (ya, yb)])


@pytest.mark.parametrize("name,ours,theirs", POINTWISE, ids=[p[0] for p in POINTWISE])
@pytest.mark.parametrize("reduction", RED)
def test_pointwise_losses_gradcheck(name, ours, theirs, reduction):
    rng = np.random.default_rng(7)
    x = dalam.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = dalam.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda a, b: ours(a, b, reduction), (x, y))


def test_loss_modules_match_functional():
    rng = np.random.default_rng(8)
    x = dalam.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    y = dalam.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    assert nn.MSELoss()(x, y).item() == F.mse_loss(x, y).item()
    assert nn.L1Loss(reduction="sum")(x, y).item() == F.l1_loss(x, y, reduction="sum").item()
    assert nn.HuberLoss(delta=0.5)(x, y).item() == F.huber_loss(x, y, delta=0.5).item()
    assert nn.SmoothL1Loss(beta=2.0)(x, y).item() == F.smooth_l1_loss(x, y, beta=2.0).item()
    assert nn.MSELoss(size_average=False)(x, y).item() == F.mse_loss(x, y, reduction="sum").item()


def test_pointwise_broadcast_warns_like_torch():
    x = dalam.randn(4, 3, requires_grad=True)
    y = dalam.randn(4, 1)
    with pytest.warns(UserWarning, match="different to the input size"):
        loss = F.mse_loss(x, y)
    loss.backward()
    assert x.grad.shape == (4, 3)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        F.mse_loss(x, dalam.randn(5))


# ---------------------------------------------------------------- binary losses
@pytest.mark.parametrize("reduction,weight", list(itertools.product(RED, [False, True])))
def test_bce_vs_torch(reduction, weight):
    rng = np.random.default_rng(9)
    p = rng.random((5, 3)).astype(np.float32) * 0.98 + 0.01
    p[0, 0], p[1, 1] = 0.0, 1.0  # exercise the -100 clamp
    y = rng.random((5, 3)).astype(np.float32)
    w = (rng.random((1, 3)).astype(np.float32) + 0.5) if weight else None
    a, b = _pair(p)
    ya, yb = _pair(y)
    la = F.binary_cross_entropy(a, ya, None if w is None else dalam.tensor(w), reduction=reduction)
    lb = TF.binary_cross_entropy(b, yb, None if w is None else torch.tensor(w), reduction=reduction)
    _compare(la, lb, [(a, b), (ya, yb)], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reduction,weight,pos", list(itertools.product(RED, [False, True], [False, True])))
def test_bce_with_logits_vs_torch(reduction, weight, pos):
    rng = np.random.default_rng(10)
    x = (rng.standard_normal((5, 3)) * 4).astype(np.float32)
    x[0, :] = [80.0, -80.0, 1e4]  # large logits stay finite
    y = rng.random((5, 3)).astype(np.float32)
    w = (rng.random((5, 1)).astype(np.float32) + 0.5) if weight else None
    pw = (rng.random(3).astype(np.float32) * 3) if pos else None
    a, b = _pair(x)
    ya, yb = _pair(y)
    la = F.binary_cross_entropy_with_logits(a, ya, None if w is None else dalam.tensor(w),
                                            reduction=reduction,
                                            pos_weight=None if pw is None else dalam.tensor(pw))
    lb = TF.binary_cross_entropy_with_logits(b, yb, None if w is None else torch.tensor(w),
                                             reduction=reduction,
                                             pos_weight=None if pw is None else torch.tensor(pw))
    assert np.isfinite(la._data).all()
    _compare(la, lb, [(a, b), (ya, yb)], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reduction,weight,pos", list(itertools.product(RED, [False, True], [False, True])))
def test_binary_losses_gradcheck(reduction, weight, pos):
    rng = np.random.default_rng(11)
    x = dalam.tensor(rng.standard_normal((3, 4)) * 2, requires_grad=True)
    y = dalam.tensor(rng.random((3, 4)), requires_grad=True)
    w = dalam.tensor(rng.random((3, 1)) + 0.5) if weight else None
    pw = dalam.tensor(rng.random(4) * 3) if pos else None
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(
        a, b, w, reduction=reduction, pos_weight=pw), (x, y))
    p = dalam.tensor(rng.random((3, 4)) * 0.8 + 0.1, requires_grad=True)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, w, reduction=reduction), (p, y))


def test_bce_errors():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(dalam.tensor([0.5, 1.5]), dalam.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="same"):
        F.binary_cross_entropy_with_logits(dalam.randn(4, 1), dalam.randn(4))
    with pytest.raises(ValueError, match="same size"):
        nn.BCELoss()(dalam.rand(4, 1), dalam.rand(4))


def test_bce_with_logits_module_buffers():
    m = nn.BCEWithLogitsLoss(pos_weight=dalam.tensor([2.0, 3.0]))
    assert list(m.state_dict()) == list(torch.nn.BCEWithLogitsLoss(
        pos_weight=torch.tensor([2.0, 3.0])).state_dict())
    x, y = dalam.randn(4, 2), dalam.rand(4, 2)
    ref = TF.binary_cross_entropy_with_logits(torch.tensor(x._data), torch.tensor(y._data),
                                              pos_weight=torch.tensor([2.0, 3.0]))
    assert_close(m(x, y), ref)
    assert list(nn.CrossEntropyLoss(weight=dalam.ones(3)).state_dict()) == ["weight"]


# ---------------------------------------------------------------- KL divergence
@pytest.mark.parametrize("reduction,log_target",
                         list(itertools.product(["none", "mean", "sum", "batchmean"], [False, True])))
def test_kl_div_vs_torch(reduction, log_target):
    rng = np.random.default_rng(12)
    x = np.log(rng.dirichlet(np.ones(4), 5)).astype(np.float32)
    q = rng.dirichlet(np.ones(4), 5).astype(np.float32)
    q[0, 1] = 0.0  # zero target probability contributes 0
    y = np.log(q + 1e-3).astype(np.float32) if log_target else q
    a, b = _pair(x)
    ya, yb = _pair(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        la = F.kl_div(a, ya, reduction=reduction, log_target=log_target)
        lb = TF.kl_div(b, yb, reduction=reduction, log_target=log_target)
    _compare(la, lb, [(a, b)])
    m = nn.KLDivLoss(reduction="batchmean", log_target=log_target)
    assert_close(m(dalam.tensor(x), dalam.tensor(y)),
                 TF.kl_div(torch.tensor(x), torch.tensor(y), reduction="batchmean",
                           log_target=log_target))


@pytest.mark.parametrize("reduction,log_target",
                         list(itertools.product(["none", "sum", "batchmean"], [False, True])))
def test_kl_div_gradcheck(reduction, log_target):
    rng = np.random.default_rng(13)
    x = dalam.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = dalam.tensor(rng.standard_normal((3, 4)) if log_target else rng.random((3, 4)) + 0.1,
                     requires_grad=True)
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target), (x, y))


# ---------------------------------------------------------------- dtype
@pytest.mark.parametrize("fn", [
    lambda x, y: F.mse_loss(x, y), lambda x, y: F.l1_loss(x, y), lambda x, y: F.huber_loss(x, y),
    lambda x, y: F.smooth_l1_loss(x, y), lambda x, y: F.binary_cross_entropy_with_logits(x, y),
    lambda x, y: F.binary_cross_entropy(x.sigmoid(), y), lambda x, y: F.kl_div(x, y, reduction="sum"),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_keep_dtype(fn, dtype):
    x = dalam.randn(4, 3, dtype=dtype, requires_grad=True)
    y = dalam.rand(4, 3, dtype=dtype)
    loss = fn(x, y)
    loss.backward()
    assert loss.dtype == dtype and x.grad.dtype == dtype


# ---------------------------------------------------------------- less common losses
def _sign(rng, shape):
    return np.where(rng.random(shape) > 0.5, 1.0, -1.0).astype(np.float32)


def _extra_cases():
    rng = np.random.default_rng(14)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    x2 = rng.standard_normal((4, 3)).astype(np.float32)
    x3 = rng.standard_normal((4, 3)).astype(np.float32)
    v1 = rng.standard_normal(4).astype(np.float32)
    v2 = rng.standard_normal(4).astype(np.float32)
    cnt = rng.poisson(2.0, (4, 3)).astype(np.float32)
    var = (rng.random((4, 3)) + 0.1).astype(np.float32)
    lab = (rng.random((4, 3)) > 0.5).astype(np.float32)
    return [
        ("soft_margin", (x, _sign(rng, (4, 3))), {}, [0]),
        ("margin_ranking", (v1, v2, _sign(rng, 4)), {"margin": 0.3}, [0, 1]),
        ("hinge_embedding", (x, _sign(rng, (4, 3))), {"margin": 0.5}, [0]),
        ("cosine_embedding", (x, x2, _sign(rng, 4)), {"margin": 0.1}, [0, 1]),
        ("triplet_margin", (x, x2, x3), {"margin": 0.5}, [0, 1, 2]),
        ("triplet_margin", (x, x2, x3), {"swap": True, "p": 1}, [0, 1, 2]),
        ("poisson_nll", (x, cnt), {}, [0]),
        ("poisson_nll", (np.abs(x) + 0.1, cnt), {"log_input": False, "full": True}, [0]),
        ("gaussian_nll", (x, x2, var), {}, [0, 2]),
        ("gaussian_nll", (x, x2, var[:, 0]), {"full": True}, [0, 2]),
        ("multilabel_soft_margin", (x, lab), {}, [0]),
    ]


EXTRA = _extra_cases()


@pytest.mark.parametrize("name,arrays,kw,diff", EXTRA, ids=[f"{c[0]}-{i}" for i, c in enumerate(EXTRA)])
@pytest.mark.parametrize("reduction", RED)
def test_extra_losses_vs_torch_and_gradcheck(name, arrays, kw, diff, reduction):
    ours = getattr(F, name + "_loss")
    theirs = getattr(TF, name + "_loss")
    pairs = [_pair(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    la = ours(*[p[0] for p in pairs], reduction=reduction, **kw)
    lb = theirs(*[p[1] for p in pairs], reduction=reduction, **kw)
    assert la.dtype == np.float32
    _compare(la, lb, [pairs[i] for i in diff], rtol=1e-5, atol=1e-5)
    xs = [dalam.tensor(a.astype(np.float64), requires_grad=i in diff) for i, a in enumerate(arrays)]
    assert gradcheck(lambda *t: ours(*t, reduction=reduction, **kw), xs)


def test_extra_loss_modules():
    rng = np.random.default_rng(15)
    a, p, n = (dalam.tensor(rng.standard_normal((4, 3)).astype(np.float32)) for _ in range(3))
    ref = torch.nn.TripletMarginLoss(margin=0.4)(*(torch.tensor(t._data) for t in (a, p, n)))
    assert_close(nn.TripletMarginLoss(margin=0.4)(a, p, n), ref)
    var = dalam.rand(4, 3) + 0.1
    ref = torch.nn.GaussianNLLLoss()(torch.tensor(a._data), torch.tensor(p._data), torch.tensor(var._data))
    assert_close(nn.GaussianNLLLoss()(a, p, var), ref)
    with pytest.raises(ValueError, match="var"):
        F.gaussian_nll_loss(a, p, dalam.rand(2, 2))


# ---------------------------------------------------------------- double backward
DOUBLE = [
    ("ce_fast", lambda z, t: F.cross_entropy(z, t), lambda z, t: TF.cross_entropy(z, t)),
    ("ce_all", lambda z, t: F.cross_entropy(z, t, weight=dalam.tensor([1.0, 2.0, 0.5]),
                                            ignore_index=1, label_smoothing=0.1, reduction="sum"),
     lambda z, t: TF.cross_entropy(z, t, weight=torch.tensor([1.0, 2.0, 0.5]), ignore_index=1,
                                   label_smoothing=0.1, reduction="sum")),
    ("ce_none_4d", lambda z, t: (F.cross_entropy(z.reshape(2, 2, 3).movedim(2, 1), t.reshape(2, 2),
                                                 reduction="none") * dalam.tensor([[1.0, 2.0], [3.0, 4.0]])).sum(),
     lambda z, t: (TF.cross_entropy(z.reshape(2, 2, 3).movedim(2, 1), t.reshape(2, 2),
                                    reduction="none") * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum()),
    ("ce_weighted_mean", lambda z, t: F.cross_entropy(z, t, weight=dalam.tensor([1.0, 2.0, 0.5])),
     lambda z, t: TF.cross_entropy(z, t, weight=torch.tensor([1.0, 2.0, 0.5]))),
    ("nll", lambda z, t: F.nll_loss(z.log_softmax(1), t), lambda z, t: TF.nll_loss(z.log_softmax(1), t)),
    ("mse", lambda z, t: F.mse_loss(z, t.float().unsqueeze(1).expand(4, 3) / 2),
     lambda z, t: TF.mse_loss(z, t.float().unsqueeze(1).expand(4, 3) / 2)),
    ("huber", lambda z, t: F.huber_loss(z * 3, t.float().unsqueeze(1).expand(4, 3), delta=0.5),
     lambda z, t: TF.huber_loss(z * 3, t.float().unsqueeze(1).expand(4, 3), delta=0.5)),
    ("smoothl1", lambda z, t: F.smooth_l1_loss(z * 3, t.float().unsqueeze(1).expand(4, 3), beta=0.5),
     lambda z, t: TF.smooth_l1_loss(z * 3, t.float().unsqueeze(1).expand(4, 3), beta=0.5)),
    ("bce_logits", lambda z, t: F.binary_cross_entropy_with_logits(
        z, (t.float().unsqueeze(1).expand(4, 3) > 0.5).float(), pos_weight=dalam.tensor([1.0, 2.0, 3.0])),
     lambda z, t: TF.binary_cross_entropy_with_logits(
        z, (t.float().unsqueeze(1).expand(4, 3) > 0.5).float(), pos_weight=torch.tensor([1.0, 2.0, 3.0]))),
]


@pytest.mark.parametrize("name,ours,theirs", DOUBLE, ids=[d[0] for d in DOUBLE])
def test_double_backward_vs_torch(name, ours, theirs):
    """Gradient penalty: d/dz ||dL/dz||^2 through create_graph=True."""
    rng = np.random.default_rng(17)
    z = rng.standard_normal((4, 3)).astype(np.float32)
    t = np.array([0, 2, 1, 2])
    a, b = _pair(z)
    (ga,) = dalam.autograd.grad(ours(a, dalam.tensor(t)), a, create_graph=True)
    (gb,) = torch.autograd.grad(theirs(b, torch.tensor(t)), b, create_graph=True)
    assert_close(ga, gb)
    (ga * ga).sum().backward()
    (gb * gb).sum().backward()
    assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6)
