"""dalam.optim against torch.optim: same MLP weights (copied through
state_dict), same batches, 100 steps, parameters equal to rtol 1e-4; state
dicts round-trip (also through JSON and from PyTorch); clip_grad equals torch's."""
import copy
import json
import math

import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn
import dalam.optim as optim
from dalam.nn.utils import (clip_grad_norm_, clip_grad_value_, get_total_norm,
                            parameters_to_vector, vector_to_parameters)

from conftest import assert_close

STEPS = 100
IN, HID, OUT, BATCH = 6, 16, 3, 8


def _batches(n=STEPS, seed=0):
    r = np.random.default_rng(seed)
    return [(r.standard_normal((BATCH, IN)).astype(np.float32),
             r.standard_normal((BATCH, OUT)).astype(np.float32)) for _ in range(n)]


def _models(dtype=torch.float32):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(IN, HID), torch.nn.Tanh(), torch.nn.Linear(HID, HID),
                             torch.nn.ReLU(), torch.nn.Linear(HID, OUT)).to(dtype)
    dm = nn.Sequential(nn.Linear(IN, HID), nn.Tanh(), nn.Linear(HID, HID), nn.ReLU(),
                       nn.Linear(HID, OUT))
    dm.load_state_dict(tm.state_dict())  # torch tensors load directly
    dm.to(np.dtype(str(dtype).split(".")[1]))
    return tm, dm


def _groups(model, grouped, lr_first):
    params = list(model.parameters())
    if not grouped:
        return params
    return [{"params": params[:2], "lr": lr_first}, {"params": params[2:]}]


def _dloss(model, x, y, sign=1.0):
    d = model(dalam.tensor(x, dtype=model[0].weight.dtype)) - dalam.tensor(
        y, dtype=model[0].weight.dtype)
    return (d * d).mean() * sign


def _tloss(model, x, y, sign=1.0):
    dt = model[0].weight.dtype
    d = model(torch.from_numpy(x).to(dt)) - torch.from_numpy(y).to(dt)
    return (d * d).mean() * sign


def _train(tm, dm, topt, dopt, batches, sign=1.0):
    for x, y in batches:
        topt.zero_grad()
        _tloss(tm, x, y, sign).backward()
        topt.step()
        dopt.zero_grad()
        _dloss(dm, x, y, sign).backward()
        dopt.step()


def _assert_params(tm, dm, rtol=1e-4, atol=1e-6):
    tsd = tm.state_dict()
    for k, v in dm.state_dict().items():
        assert_close(v, tsd[k], rtol=rtol, atol=atol, msg=k)


# (name, kwargs, sign): sign=-1 with maximize=True maximises -loss, i.e. still descends
CASES = [
    ("SGD", dict(lr=0.05), 1),
    ("SGD", dict(lr=0.05, momentum=0.9), 1),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1), 1),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True), 1),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.01), 1),
    ("SGD", dict(lr=0.05, momentum=0.9, maximize=True, weight_decay=0.01), -1),
    ("Adam", dict(lr=1e-2), 1),
    ("Adam", dict(lr=1e-2, amsgrad=True), 1),
    ("Adam", dict(lr=1e-2, weight_decay=0.05, betas=(0.8, 0.99)), 1),
    ("Adam", dict(lr=1e-2, maximize=True), -1),
    ("AdamW", dict(lr=1e-2), 1),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True), 1),
    ("RMSprop", dict(lr=1e-3), 1),
    ("RMSprop", dict(lr=1e-3, centered=True), 1),
    ("RMSprop", dict(lr=1e-3, momentum=0.9), 1),
    ("RMSprop", dict(lr=1e-3, momentum=0.9, centered=True, weight_decay=0.01, alpha=0.9), 1),
    ("RMSprop", dict(lr=1e-3, maximize=True), -1),
    ("Adagrad", dict(lr=0.05), 1),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1), 1),
    ("Adadelta", dict(), 1),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.01), 1),
    ("Adadelta", dict(maximize=True), -1),
    ("Adamax", dict(), 1),
    ("Adamax", dict(lr=1e-2, weight_decay=0.01, betas=(0.8, 0.99), maximize=True), -1),
    ("RAdam", dict(lr=1e-2), 1),
    ("RAdam", dict(lr=1e-2, weight_decay=0.05, decoupled_weight_decay=True), 1),
    ("RAdam", dict(lr=1e-2, weight_decay=0.05, betas=(0.5, 0.9)), 1),
    ("Adam", dict(lr=1e-2, weight_decay=0.05, decoupled_weight_decay=True), 1),
]


def _id(case):
    name, kw, _ = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_matches_torch_100_steps(case):
    name, kw, sign = case
    tm, dm = _models()
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    dopt = getattr(optim, name)(dm.parameters(), **kw)
    _train(tm, dm, topt, dopt, _batches(), sign)
    _assert_params(tm, dm)
    # state buffers: same keys, float32, close to torch's
    tsd, dsd = topt.state_dict(), dopt.state_dict()
    assert sorted(tsd["state"]) == sorted(dsd["state"])
    for i, st in dsd["state"].items():
        assert sorted(st) == sorted(tsd["state"][i])
        for k, v in st.items():
            if k == "step":
                assert v == float(tsd["state"][i][k])
            else:
                assert v.dtype == np.float32
                assert_close(v, tsd["state"][i][k], rtol=1e-3, atol=1e-6, msg=f"{name} {k}")
    for p in dm.parameters():
        assert p.dtype == np.float32


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_matches_torch_float64_to_rounding(case):
    """In float64 the chaotic amplification of float32 rounding disappears, so
    agreement to 1e-9 shows the update formulas are PyTorch's, term for term."""
    name, kw, sign = case
    tm, dm = _models(torch.float64)
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    dopt = getattr(optim, name)(dm.parameters(), **kw)
    _train(tm, dm, topt, dopt, _batches(), sign)
    _assert_params(tm, dm, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_param_groups_match_torch(name):
    kw = {"SGD": dict(lr=0.05, momentum=0.9)}.get(name, {})
    lr_first = 0.002 if name != "Adadelta" else 0.3
    tm, dm = _models()
    topt = getattr(torch.optim, name)(_groups(tm, True, lr_first), **kw)
    dopt = getattr(optim, name)(_groups(dm, True, lr_first), **kw)
    assert [g["lr"] for g in dopt.param_groups] == [g["lr"] for g in topt.param_groups]
    _train(tm, dm, topt, dopt, _batches(40))
    _assert_params(tm, dm)


def test_float64_params_keep_float64_state():
    tm, dm = _models(torch.float64)
    topt = torch.optim.Adam(tm.parameters(), lr=1e-2)
    dopt = optim.Adam(dm.parameters(), lr=1e-2)
    _train(tm, dm, topt, dopt, _batches(30))
    _assert_params(tm, dm, rtol=1e-10, atol=1e-12)
    for st in dopt.state.values():
        assert st["exp_avg"].dtype == np.float64


def _json_roundtrip(sd):
    """What a checkpoint does: tensors aside as arrays, the rest through JSON."""
    arrays = {}
    state = {}
    for i, st in sd["state"].items():
        state[i] = {}
        for k, v in st.items():
            if isinstance(v, dalam.Tensor):
                key = f"{i}.{k}"
                arrays[key] = v._data.copy()
                state[i][k] = {"__tensor__": key}
            else:
                state[i][k] = v
    text = json.dumps({"state": state, "param_groups": sd["param_groups"]})
    back = json.loads(text)
    for i, st in back["state"].items():
        for k, v in st.items():
            if isinstance(v, dict) and "__tensor__" in v:
                st[k] = dalam.from_numpy(arrays[v["__tensor__"]])
    return back


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=1e-2, amsgrad=True)),
                                     ("AdamW", dict(lr=1e-2)),
                                     ("RMSprop", dict(lr=1e-3, momentum=0.5, centered=True)),
                                     ("Adagrad", dict(lr=0.05)),
                                     ("Adadelta", dict())])
def test_state_dict_roundtrip_continues_identically(name, kw):
    batches = _batches(60)
    # uninterrupted run
    _, dm = _models()
    dopt = getattr(optim, name)(_groups(dm, True, 0.003), **kw)
    for x, y in batches:
        dopt.zero_grad()
        _dloss(dm, x, y).backward()
        dopt.step()
    # interrupted at 30 steps, resumed into fresh objects (optimizer state through JSON)
    _, dm1 = _models()
    o1 = getattr(optim, name)(_groups(dm1, True, 0.003), **kw)
    for x, y in batches[:30]:
        o1.zero_grad()
        _dloss(dm1, x, y).backward()
        o1.step()
    msd = {k: v._data.copy() for k, v in dm1.state_dict().items()}
    osd = _json_roundtrip(o1.state_dict())
    _, dm2 = _models()
    dm2.load_state_dict(msd)
    o2 = getattr(optim, name)(_groups(dm2, True, 0.5), **kw)  # hyper-params come from the checkpoint
    o2.load_state_dict(osd)
    assert o2.param_groups[0]["lr"] == 0.003
    assert o2.param_groups[0] == {**o1.param_groups[0], "params": o2.param_groups[0]["params"]}
    assert o2.param_groups[0]["params"][0] is dm2[0].weight
    for x, y in batches[30:]:
        o2.zero_grad()
        _dloss(dm2, x, y).backward()
        o2.step()
    for (k, a), b in zip(dm.state_dict().items(), dm2.state_dict().values()):
        np.testing.assert_array_equal(a._data, b._data, err_msg=k)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=1e-2)), ("SGD", dict(lr=0.05, momentum=0.9)),
                                     ("RMSprop", dict(lr=1e-3, centered=True))])
def test_load_pytorch_optimizer_state_dict(name, kw):
    """A torch optimiser's state_dict (tensors, tensor 'step') loads into dalam
    and both continue the same way."""
    batches = _batches(60)
    tm, dm = _models()
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    for x, y in batches[:30]:
        topt.zero_grad()
        _tloss(tm, x, y).backward()
        topt.step()
    dm.load_state_dict(tm.state_dict())
    dopt = getattr(optim, name)(dm.parameters(), **kw)
    dopt.load_state_dict(copy.deepcopy(topt.state_dict()))
    for st in dopt.state.values():
        for k, v in st.items():
            assert isinstance(v, (int, float)) if k == "step" else isinstance(v, dalam.Tensor)
    _train(tm, dm, topt, dopt, batches[30:])
    _assert_params(tm, dm)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)),
                                     ("AdamW", dict(lr=0.01)), ("RMSprop", dict(momentum=0.5)),
                                     ("Adagrad", {}), ("Adadelta", {}), ("Adamax", {}),
                                     ("RAdam", {})])
def test_state_dict_layout_matches_torch(name, kw):
    tm, dm = _models()
    topt = getattr(torch.optim, name)(_groups(tm, True, 0.01), **kw)
    dopt = getattr(optim, name)(_groups(dm, True, 0.01), **kw)
    _train(tm, dm, topt, dopt, _batches(2))
    tsd, dsd = topt.state_dict(), dopt.state_dict()
    assert [g["params"] for g in dsd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    assert list(dsd["state"]) == list(tsd["state"])
    for g, tg in zip(dsd["param_groups"], tsd["param_groups"]):
        for k, v in g.items():
            assert tg[k] == v, k


def test_closure_zero_grad_and_version():
    w = dalam.randn(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        calls.append(1)
        return loss

    before = w._data.copy()
    v0 = w._version
    with dalam.no_grad():
        loss = opt.step(closure)  # the closure still records a graph
    assert calls and float(loss) == pytest.approx(float((before * before).sum()))
    np.testing.assert_allclose(w._data, before * 0.8, rtol=1e-6)
    assert w._version > v0
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and not w.grad._data.any()
    opt.zero_grad()
    assert w.grad is None
    opt.step()  # no gradients: nothing changes
    np.testing.assert_allclose(w._data, before * 0.8, rtol=1e-6)


def test_add_param_group_and_named_params():
    a = dalam.randn(2, requires_grad=True)
    b = dalam.randn(2, requires_grad=True)
    opt = optim.Adam([("a", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["a"]
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999) and opt.param_groups[1]["lr"] == 0.01
    (a.sum() + b.sum()).backward()
    opt.step()
    assert opt.state_dict()["param_groups"][1]["params"] == [1]


def test_errors():
    w = dalam.randn(2, requires_grad=True)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({w}, lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        optim.Adam([w], lr=-1)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0]}, {"params": [1]}]})
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1], "lr": 0.1}]})
    adam = optim.Adam([w])
    bad = {"state": {0: {"step": 3, "exp_avg": dalam.zeros(5), "exp_avg_sq": dalam.zeros(2)}},
           "param_groups": [{**adam.state_dict()["param_groups"][0]}]}
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(5,\)"):
        adam.load_state_dict(bad)


# ---------------------------------------------------------------------- clip_grad
def _with_grads(seed=0, scale=1.0):
    r = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (5, 2, 2)]
    ds, ts = [], []
    for s in shapes:
        p = r.standard_normal(s).astype(np.float32)
        g = (r.standard_normal(s) * scale).astype(np.float32)
        d = dalam.tensor(p, requires_grad=True)
        d.grad = dalam.tensor(g)
        t = torch.tensor(p, requires_grad=True)
        t.grad = torch.tensor(g)
        ds.append(d)
        ts.append(t)
    return ds, ts


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ds, ts = _with_grads()
    n_d = clip_grad_norm_(ds, max_norm, norm_type)
    n_t = torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type)
    assert isinstance(n_d, dalam.Tensor) and n_d.shape == ()
    assert_close(n_d, n_t, rtol=1e-5)
    for d, t in zip(ds, ts):
        assert_close(d.grad, t.grad, rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_nonfinite_and_value():
    ds, _ = _with_grads()
    ds[1].grad._data[0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ds, 1.0, error_if_nonfinite=True)
    assert float(get_total_norm([d.grad for d in ds])) == math.inf
    ds, ts = _with_grads(1, scale=3.0)
    clip_grad_value_(ds, 0.7)
    torch.nn.utils.clip_grad_value_(ts, 0.7)
    for d, t in zip(ds, ts):
        assert_close(d.grad, t.grad)
    assert float(clip_grad_norm_([], 1.0)) == 0.0


def test_parameters_vector_roundtrip():
    ds, ts = _with_grads()
    v = parameters_to_vector(ds)
    assert_close(v, torch.nn.utils.parameters_to_vector(ts))
    for d in ds:
        d.grad = None
    (v * v).sum().backward()  # differentiable back into the parameters
    np.testing.assert_allclose(ds[0].grad._data, 2 * ds[0]._data, rtol=1e-6)
    new = dalam.arange(v.shape[0], dtype=dalam.float32)
    vector_to_parameters(new, ds)
    np.testing.assert_array_equal(ds[1]._data, np.arange(12, 15, dtype=np.float32))
    with pytest.raises(ValueError, match="expected shape"):
        vector_to_parameters(dalam.zeros(3), ds)


# ---------------------------------------------------------------------- flat (fused) path
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_flat_and_per_tensor_paths_bit_identical(case):
    """foreach=True (one update over flat buffers) and foreach=False (tensor by
    tensor) give the same bits, also when some tensors lack a gradient on some
    steps (the flat layout is rebuilt) and across a state_dict reload."""
    name, kw, sign = case
    runs = []
    for foreach in (False, True):
        _, dm = _models()
        opt = getattr(optim, name)(dm.parameters(), foreach=foreach, **kw)
        for i, (x, y) in enumerate(_batches(24)):
            opt.zero_grad()
            _dloss(dm, x, y, sign).backward()
            if i % 5 == 3:
                dm[2].weight.grad = None  # this tensor skips a step
            if i == 12:
                opt.load_state_dict(_json_roundtrip(opt.state_dict()))
            opt.step()
        assert bool(opt._flat_cache) == foreach
        runs.append((dm.state_dict(), opt.state_dict()))
    (m0, o0), (m1, o1) = runs
    for k in m0:
        np.testing.assert_array_equal(m0[k]._data, m1[k]._data, err_msg=k)
    for i, st in o0["state"].items():
        for k, v in st.items():
            if isinstance(v, dalam.Tensor):
                np.testing.assert_array_equal(v._data, o1["state"][i][k]._data, err_msg=k)
            else:
                assert v == o1["state"][i][k]


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_per_tensor_path_matches_torch(name):
    kw = {"SGD": dict(lr=0.05, momentum=0.9), "Adam": dict(lr=1e-2),
          "RMSprop": dict(lr=1e-3, centered=True)}[name]
    tm, dm = _models()
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    dopt = getattr(optim, name)(dm.parameters(), foreach=False, **kw)
    _train(tm, dm, topt, dopt, _batches())
    assert not dopt._flat_cache
    _assert_params(tm, dm)


def test_flat_state_is_a_view_and_rebuilds_after_dtype_change():
    _, dm = _models()
    opt = optim.Adam(dm.parameters(), lr=1e-2, foreach=True)
    x, y = _batches(1)[0]
    _dloss(dm, x, y).backward()
    opt.step()
    w = dm[0].weight
    m = opt.state[w]["exp_avg"]
    assert m._data.base is not None  # a view into the group's flat buffer
    dm.double()  # parameters change dtype: the flat layout no longer fits
    for p in dm.parameters():
        p.grad = None
    _dloss(dm, x, y).backward()
    opt.step()  # mixed dtypes between params and state: still runs, params stay float64
    assert w.dtype == np.float64


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=1e-2, weight_decay=0.01)),
                                     ("SGD", dict(lr=0.05, momentum=0.9))])
def test_auto_mode_splits_small_and_large_tensors(name, kw):
    """Auto mode fuses only the small tensors (biases, the thin layers) and steps
    the 128x128 weight alone; the result is the per-tensor path's, bit for bit."""
    from dalam.optim import _flat
    x = np.random.default_rng(1).standard_normal((8, 6)).astype(np.float32)
    runs = []
    for foreach in (None, False):
        dalam.manual_seed(3)
        dm = nn.Sequential(nn.Linear(6, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(),
                           nn.Linear(128, 3))
        opt = getattr(optim, name)(dm.parameters(), foreach=foreach, **kw)
        for _ in range(10):
            opt.zero_grad()
            (dm(dalam.tensor(x)) ** 2).mean().backward()
            opt.step()
        runs.append(dm.state_dict())
        if foreach is None:
            small, rest = _flat.split_small(list(dm.parameters()))
            assert [p.numel() for p in rest] == [128 * 128] and len(small) == 5
            assert opt._flat_cache
    for k in runs[0]:
        np.testing.assert_array_equal(runs[0][k]._data, runs[1][k]._data, err_msg=k)


def test_step_hooks():
    w = dalam.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.5)
    seen = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: seen.append(("pre", float(w._data[0]))))
    opt.register_step_post_hook(lambda o, a, k: seen.append(("post", float(w._data[0]))))
    w.grad = dalam.ones(2)
    opt.step()
    h1.remove()
    opt.step()
    assert seen == [("pre", 1.0), ("post", 0.5), ("post", 0.0)]


def test_training_loop_with_scheduler_and_clipping_matches_torch():
    """A full loop as users write it: cross-entropy, AdamW, OneCycleLR stepped per
    batch, clip_grad_norm_ before each step; 100 steps against PyTorch."""
    r = np.random.default_rng(5)
    xs = r.standard_normal((STEPS, BATCH, IN)).astype(np.float32)
    ys = r.integers(0, OUT, (STEPS, BATCH))
    tm, dm = _models()
    topt = torch.optim.AdamW(tm.parameters(), lr=1e-3, weight_decay=0.05)
    dopt = optim.AdamW(dm.parameters(), lr=1e-3, weight_decay=0.05)
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.05, total_steps=STEPS)
    ds = optim.lr_scheduler.OneCycleLR(dopt, max_lr=0.05, total_steps=STEPS)
    tloss, dloss = torch.nn.CrossEntropyLoss(), nn.CrossEntropyLoss()
    for x, y in zip(xs, ys):
        topt.zero_grad()
        lt = tloss(tm(torch.from_numpy(x)), torch.from_numpy(y))
        lt.backward()
        nt = torch.nn.utils.clip_grad_norm_(tm.parameters(), 0.5)
        topt.step()
        ts.step()
        dopt.zero_grad()
        ld = dloss(dm(dalam.tensor(x)), dalam.tensor(y))
        ld.backward()
        nd = clip_grad_norm_(dm.parameters(), 0.5)
        dopt.step()
        ds.step()
        assert float(ld) == pytest.approx(float(lt.detach()), rel=1e-4, abs=1e-6)
        assert float(nd) == pytest.approx(float(nt), rel=1e-3, abs=1e-6)
    assert ds.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    _assert_params(tm, dm)
