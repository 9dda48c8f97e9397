"""dalam.optim.lr_scheduler against torch.optim.lr_scheduler: each schedule's
lr (and, for OneCycleLR, momentum) over 100 steps equals PyTorch's, and a
scheduler resumed from its state_dict (through JSON) continues identically."""
import json
import math

import numpy as np
import pytest
import torch

import dalam
import dalam.optim as optim
from dalam.optim import lr_scheduler as dls
import torch.optim.lr_scheduler as tls

STEPS = 100


def _opts(opt="SGD", **kw):
    kw = {"lr": 0.1, **kw}
    if opt == "SGD":
        kw.setdefault("momentum", 0.9)
    tp = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    dp = [dalam.zeros(2, requires_grad=True), dalam.zeros(3, requires_grad=True)]
    tgroups = [{"params": [tp[0]]}, {"params": [tp[1]], "lr": kw["lr"] * 0.5}]
    dgroups = [{"params": [dp[0]]}, {"params": [dp[1]], "lr": kw["lr"] * 0.5}]
    return getattr(torch.optim, opt)(tgroups, **kw), getattr(optim, opt)(dgroups, **kw)


def _lambda(e):
    return 0.95 ** e if e % 7 else 0.5


SCHEDS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 80], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=40, eta_min=1e-3),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=20),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=60),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=10),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=80, power=2.0),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=_lambda),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, lr_lambda=[_lambda, lambda e: 1 / (1 + e)]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.98),
    "OneCycleLR-cos": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=STEPS),
    "OneCycleLR-linear": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS + 20,
                                                   anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-3phase": lambda m, o: m.OneCycleLR(o, max_lr=0.8, epochs=10, steps_per_epoch=10,
                                                   three_phase=True, div_factor=10.0),
    "OneCycleLR-nomom": lambda m, o: m.OneCycleLR(o, max_lr=0.8, total_steps=STEPS,
                                                  cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2,
                                                                               eta_min=0.01),
    "CosineAnnealingWarmRestarts-1": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=15),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=10), m.CosineAnnealingLR(o, T_max=90)],
        milestones=[10]),
    "SequentialLR-3": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=5), m.ExponentialLR(o, gamma=0.9),
            m.StepLR(o, step_size=10)], milestones=[20, 50]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ExponentialLR(o, gamma=0.98), m.StepLR(o, step_size=25, gamma=0.5)]),
}


def _trace(opt, sched, n=STEPS, metrics=None):
    out = []
    for i in range(n):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        g = opt.param_groups
        out.append((list(sched.get_last_lr()), [x["lr"] for x in g],
                    [x.get("momentum", x.get("betas", (None,))[0]) for x in g]))
    return out


def _assert_traces(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        for u, v in zip(x, y):
            np.testing.assert_allclose(np.array(u, float), np.array(v, float), rtol=1e-12,
                                       atol=1e-15, err_msg=f"step {i}")


@pytest.mark.parametrize("name", list(SCHEDS))
def test_lr_sequence_matches_torch(name):
    opt_name = "Adam" if name == "OneCycleLR-linear" else "SGD"
    topt, dopt = _opts(opt_name)
    ts, ds = SCHEDS[name](tls, topt), SCHEDS[name](dls, dopt)
    np.testing.assert_allclose(ds.get_last_lr(), ts.get_last_lr(), rtol=1e-12)
    _assert_traces(_trace(dopt, ds), _trace(topt, ts))


def _metrics():
    r = np.random.default_rng(0)
    return list(np.r_[np.linspace(1, 0.5, 20), 0.5 + 0.01 * r.standard_normal(80)])


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", factor=0.5, patience=3, cooldown=2),
                                dict(patience=2, threshold=0.05, threshold_mode="abs",
                                     min_lr=[0.02, 0.001]),
                                dict(patience=0, factor=0.7, min_lr=0.01, eps=1e-3)])
def test_reduce_lr_on_plateau_matches_torch(kw):
    topt, dopt = _opts("Adam")
    ts, ds = tls.ReduceLROnPlateau(topt, **kw), dls.ReduceLROnPlateau(dopt, **kw)
    m = _metrics()
    a, b = _trace(dopt, ds, metrics=m), _trace(topt, ts, metrics=m)
    _assert_traces(a, b)
    assert a[-1][1] != a[0][1]  # the schedule did act


def _json(sd):
    return json.loads(json.dumps(sd, default=lambda o: dict(o) if isinstance(o, dict) else str(o)))


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "CosineAnnealingLR", "OneCycleLR-cos",
                                  "LambdaLR", "SequentialLR", "CosineAnnealingWarmRestarts",
                                  "LinearLR"])
def test_state_dict_roundtrip_continues(name):
    _, o_full = _opts()
    s_full = SCHEDS[name](dls, o_full)
    full = _trace(o_full, s_full)
    _, o1 = _opts()
    s1 = SCHEDS[name](dls, o1)
    _trace(o1, s1, 40)
    osd, ssd = o1.state_dict(), _json(s1.state_dict())
    _, o2 = _opts(lr=7.0)
    s2 = SCHEDS[name](dls, o2)  # build the scheduler, then load both states (PyTorch's order)
    o2.load_state_dict(osd)
    s2.load_state_dict(ssd)
    assert s2.last_epoch == 40
    _assert_traces(_trace(o2, s2, STEPS - 40), full[40:])


def test_reduce_lr_on_plateau_state_roundtrip():
    m = _metrics()
    _, o = _opts()
    s = dls.ReduceLROnPlateau(o, patience=2)
    full = _trace(o, s, metrics=m)
    _, o1 = _opts()
    s1 = dls.ReduceLROnPlateau(o1, patience=2)
    _trace(o1, s1, 50, metrics=m)
    _, o2 = _opts()
    s2 = dls.ReduceLROnPlateau(o2, patience=2)
    o2.load_state_dict(o1.state_dict())
    s2.load_state_dict(_json(s1.state_dict()))
    _assert_traces(_trace(o2, s2, 50, metrics=m[50:]), full[50:])


def test_scheduler_drives_training_lr():
    """The lr a scheduler writes is the one the next optimizer step uses."""
    w = dalam.ones(1, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = dls.StepLR(opt, step_size=1, gamma=0.5)
    for expected in (1.0, 0.5, 0.25):
        before = float(w._data[0])
        w.grad = dalam.ones(1)
        opt.step()
        assert before - float(w._data[0]) == pytest.approx(expected)
        sched.step()


def test_scheduler_errors():
    _, dopt = _opts()
    with pytest.raises(TypeError, match="not an Optimizer"):
        dls.StepLR(object(), 3)
    with pytest.raises(KeyError, match="initial_lr"):
        dls.StepLR(dopt, 3, last_epoch=5)
    with pytest.raises(ValueError, match="total_steps"):
        dls.OneCycleLR(dopt, max_lr=1.0)
    s = dls.OneCycleLR(dopt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s.step()
    _, dopt = _opts("Adagrad")
    with pytest.raises(ValueError, match="momentum or beta1"):
        dls.OneCycleLR(dopt, max_lr=1.0, total_steps=3)
    with pytest.raises(ValueError, match="factor"):
        dls.ReduceLROnPlateau(dopt, factor=1.5)
    with pytest.raises(ValueError, match="milestone"):
        dls.SequentialLR(dopt, [dls.StepLR(dopt, 3)], milestones=[3])
    assert math.isfinite(dls.CosineAnnealingLR(dopt, T_max=5).get_last_lr()[0])
