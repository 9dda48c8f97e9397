"""The graph is freed after backward: weakrefs to nodes and intermediates die,
and 10,000 training steps of a small MLP keep RSS flat."""
import gc
import os
import weakref

import numpy as np

import dalam


def _rss_bytes():
    """Resident set size from /proc/self/statm (no psutil needed)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _MLP:
    """A 2-layer MLP on raw tensors (no nn): enough graph to leak if anything leaks."""

    def __init__(self, d_in=8, d_hidden=16, d_out=1):
        s1, s2 = 1 / np.sqrt(d_in), 1 / np.sqrt(d_hidden)
        self.params = [
            (dalam.randn(d_in, d_hidden) * s1).requires_grad_(),
            dalam.zeros(d_hidden, requires_grad=True),
            (dalam.randn(d_hidden, d_out) * s2).requires_grad_(),
            dalam.zeros(d_out, requires_grad=True),
        ]

    def __call__(self, x):
        w1, b1, w2, b2 = self.params
        return (x @ w1 + b1).tanh() @ w2 + b2

    def step(self, lr):
        with dalam.no_grad():
            for p in self.params:
                p -= lr * p.grad
                p.grad = None


def _data(n=64):
    x = dalam.randn(n, 8)
    y = (x[:, :1] * 0.5 - x[:, 1:2]).sin()
    return x, y


def test_graph_nodes_and_intermediates_freed_after_backward():
    model = _MLP()
    x, y = _data()
    h = x @ model.params[0] + model.params[1]
    a = h.tanh()
    out = a @ model.params[2] + model.params[3]
    loss = ((out - y) ** 2).mean()
    refs = [weakref.ref(t) for t in (h, a, out)] + [weakref.ref(t.grad_fn) for t in (h, a, out, loss)]
    loss.backward()
    del h, a, out, loss
    gc.collect()
    assert all(r() is None for r in refs), "graph nodes or intermediates survived backward"
    assert all(p.grad is not None for p in model.params)


def test_graph_freed_without_gc_by_refcount():
    """No reference cycles between tensors and nodes: freeing needs no gc pass."""
    x = dalam.randn(4, 4, requires_grad=True)
    gc.disable()
    try:
        y = x.exp() * 2
        z = y.sum()
        ry, rfn = weakref.ref(y), weakref.ref(y.grad_fn)
        z.backward()
        del y, z
        assert ry() is None and rfn() is None
    finally:
        gc.enable()


def test_retained_graph_freed_when_tensors_go():
    x = dalam.randn(5, requires_grad=True)
    y = x.sin()
    loss = (y * y).sum()
    loss.backward(retain_graph=True)
    r = weakref.ref(loss.grad_fn)
    del y, loss
    assert r() is None


def test_no_grad_builds_no_nodes():
    model = _MLP()
    x, _ = _data()
    with dalam.no_grad():
        out = model(x)
    assert out.grad_fn is None and not out.requires_grad


def test_10k_training_steps_keep_rss_flat():
    dalam.manual_seed(0)
    model = _MLP()
    x, y = _data()
    first_loss = None
    refs = []
    rss_1k = None
    for step in range(1, 10_001):
        out = model(x)
        loss = ((out - y) ** 2).mean()
        loss.backward()
        model.step(0.05)
        if step == 1:
            first_loss = loss.item()
        if step % 2000 == 0:
            refs.append(weakref.ref(loss.grad_fn))
        if step == 1_000:
            gc.collect()
            rss_1k = _rss_bytes()
    gc.collect()
    growth = _rss_bytes() - rss_1k
    assert loss.item() < 0.5 * first_loss, "the model did not train"
    # every recorded graph except the last one's is gone
    assert sum(r() is not None for r in refs) <= 1
    assert growth < 2 * 2**20, f"RSS grew by {growth / 2**20:.2f} MiB over 9,000 steps"
