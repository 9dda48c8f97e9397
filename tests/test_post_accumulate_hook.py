"""Tensor.register_post_accumulate_grad_hook and the engine's queue_callback:
what DistributedDataParallel builds on (PyTorch's semantics)."""
import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn
from dalam.autograd import engine


def _mlp(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(5, 7), lib.nn.Tanh(), lib.nn.Linear(7, 3))


def test_hook_sees_the_accumulated_grad_like_torch():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    seen = {}
    for lib in (dalam, torch):
        m = _mlp(lib)
        if lib is dalam:
            m.load_state_dict({k: dalam.tensor(v.detach().numpy()) for k, v in _mlp(torch).state_dict().items()})
        got = seen[lib.__name__] = {}
        for name, p in m.named_parameters():
            p.register_post_accumulate_grad_hook(
                lambda t, n=name: got.setdefault(n, []).append(t.grad.numpy().copy()))
        for _ in range(2):  # the second backward accumulates: the hook sees the sum
            m(lib.tensor(x)).pow(2).sum().backward()
    assert seen["dalam"].keys() == seen["torch"].keys()
    for n in seen["torch"]:
        assert len(seen["dalam"][n]) == 2
        for a, b in zip(seen["dalam"][n], seen["torch"][n]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_hook_fires_during_backward_last_layer_first():
    m = _mlp(dalam)
    order, grads_then = [], []
    first = m[0].weight
    for name, p in m.named_parameters():
        p.register_post_accumulate_grad_hook(
            lambda t, n=name: (order.append(n), grads_then.append(first.grad is None)))
    m(dalam.randn(4, 5)).sum().backward()
    assert order.index("2.weight") < order.index("0.weight")
    # when the last layer's hook ran, the first layer's gradient did not exist yet
    assert grads_then[order.index("2.weight")] is True
    assert sorted(order) == sorted(n for n, _ in m.named_parameters())


def test_shared_parameter_fires_once_with_the_summed_grad():
    w = dalam.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.numpy().copy()))
    ((w * 3).sum() + (w * w).sum()).backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [5.0, 7.0])


def test_remove_and_errors():
    w = dalam.ones(3, requires_grad=True)
    calls = []
    h = w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    (w * 2).sum().backward()
    h.remove()
    (w * 2).sum().backward()
    assert calls == [1]
    assert id(w) not in engine._post_hooked  # nothing left registered: backward takes the plain path
    with pytest.raises(RuntimeError, match="leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require grad"):
        dalam.ones(2).register_post_accumulate_grad_hook(lambda t: None)


def test_hooks_go_with_their_tensor():
    w = dalam.ones(3, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: w)  # a hook that refers to its tensor
    key = id(w)
    assert key in engine._post_hooked
    del w
    import gc
    gc.collect()
    assert key not in engine._post_hooked


def test_queue_callback_runs_after_every_grad_is_written():
    m = _mlp(dalam)
    seen = []

    def hook(t):
        if not seen:
            engine.queue_callback(lambda: seen.append([p.grad is not None for p in m.parameters()]))
            seen.append("queued")
    m[2].weight.register_post_accumulate_grad_hook(hook)
    m(dalam.randn(2, 5)).sum().backward()
    assert seen == ["queued", [True] * 4]
    with pytest.raises(RuntimeError, match="during a backward"):
        engine.queue_callback(lambda: None)


def test_early_finalisation_gives_the_same_grads():
    x = dalam.randn(6, 5)
    ref = _mlp(dalam)
    ref(x).pow(2).mean().backward()
    m = _mlp(dalam)
    for p in m.parameters():
        p.register_post_accumulate_grad_hook(lambda t: None)
    m(x).pow(2).mean().backward()
    for a, b in zip(ref.parameters(), m.parameters()):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
