"""share_memory_() is real shared memory (issue 23): a forked child's in-place
update is seen by the parent, and two forked processes train one model
Hogwild-style, as in PyTorch's mnist_hogwild example."""
import multiprocessing as mp
import sys

import numpy as np
import pytest

import dalam
import dalam.nn as nn

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork start method (POSIX)")


def _add(t, v):
    with dalam.no_grad():
        t.add_(v)


def test_child_update_is_seen_by_parent():
    ctx = mp.get_context("fork")
    w = nn.Linear(3, 2).weight
    w.share_memory_()
    assert w.is_shared() and not dalam.ones(2).is_shared()
    before = w.detach().numpy().copy()
    for v in (1.0, 10.0):
        p = ctx.Process(target=_add, args=(w, v))
        p.start()
        p.join()
        assert p.exitcode == 0
    np.testing.assert_allclose(w.detach().numpy(), before + 11.0, rtol=0, atol=1e-6)


def _data():
    r = np.random.default_rng(0)
    x = r.standard_normal((512, 8)).astype(np.float32)
    y = (x @ r.standard_normal(8).astype(np.float32) > 0).astype(np.int64)
    return dalam.tensor(x), dalam.tensor(y)


def _train(model, rank, steps):
    dalam.manual_seed(rank)
    x, y = _data()
    opt = dalam.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    for i in range(steps):
        idx = dalam.randint(0, len(x), (32,))
        opt.zero_grad()
        loss_fn(model(x[idx]), y[idx]).backward()
        opt.step()


def _loss(model):
    x, y = _data()
    with dalam.no_grad():
        return float(nn.CrossEntropyLoss()(model(x), y))


def test_hogwild_two_forked_processes_train_one_model():
    dalam.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 2))
    model.share_memory()
    assert all(p.is_shared() for p in model.parameters())
    start = _loss(model)
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_train, args=(model, rank, 60)) for rank in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    trained = _loss(model)  # the parent's model: every update of both children landed here
    assert trained < 0.6 * start, (start, trained)


def test_to_device_keyword_is_treated_like_positional():
    x = dalam.ones(2)
    for call in (lambda: x.to("cuda"), lambda: x.to(device="cuda"), lambda: nn.Linear(2, 2).to(device="cuda")):
        with pytest.raises(RuntimeError, match="CUDA"):
            call()
    assert x.to(device="cpu") is x and x.to(device="cpu", dtype=dalam.float64).dtype == dalam.float64
