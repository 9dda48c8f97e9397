"""The lines users write next: ``.contiguous().view(...)`` after a transpose and
PyTorch's ``Tensor.data`` idioms (a Tensor sharing memory, not a NumPy array)."""
import numpy as np
import torch

import dalam
import dalam.nn as nn


def test_contiguous_view_after_transpose_matches_torch():
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    x, tx = dalam.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    cases = [lambda t: t.transpose(1, 2).contiguous().view(2, 4, 15),
             lambda t: t.transpose(0, 2).contiguous().view(-1),
             lambda t: t[..., :-1, :].contiguous().view(-1, 5),
             lambda t: t.permute(0, 2, 1, 3).contiguous().view(2, 4, 15)]
    for f in cases:
        x.grad, tx.grad = None, None
        y, ty = f(x), f(tx)
        assert y.is_contiguous()
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
        (y * y).sum().backward()
        (ty * ty).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_contiguous_copy_does_not_alias_and_contiguous_is_identity():
    x = dalam.arange(12.0).view(3, 4)
    y = x.t().contiguous()
    y[0, 0] = 7.0
    assert x[0, 0].item() == 0.0
    assert x.contiguous() is x


def test_data_is_a_tensor_sharing_memory():
    p = nn.Parameter(dalam.ones(3))
    d = p.data
    assert isinstance(d, dalam.Tensor) and not d.requires_grad and p.requires_grad
    assert np.shares_memory(d.numpy(), p.detach().numpy())


def test_manual_sgd_and_init_idioms():
    m = nn.Linear(4, 2)
    x, y = dalam.randn(8, 4), dalam.randn(8, 2)
    loss = ((m(x) - y) ** 2).mean()
    loss.backward()
    w0 = m.weight.detach().numpy().copy()
    g = m.weight.grad.numpy().copy()
    for p in m.parameters():
        p.data.add_(p.grad, alpha=-0.1)
    np.testing.assert_allclose(m.weight.detach().numpy(), w0 - 0.1 * g, rtol=1e-6)
    for p in m.parameters():
        p.data -= 0.1 * p.grad
    np.testing.assert_allclose(m.weight.detach().numpy(), w0 - 0.2 * g, rtol=1e-6, atol=1e-7)
    m.weight.data.normal_(0, 0.02)
    m.bias.data.fill_(1)
    assert np.all(m.bias.detach().numpy() == 1)
    t = nn.Linear(4, 2)
    t.weight.data.copy_(m.weight.data)
    np.testing.assert_array_equal(t.weight.data.numpy(), m.weight.data.numpy())
    assert isinstance(loss.data.item(), float)


def test_data_assignment_replaces_values():
    p = nn.Parameter(dalam.zeros(2, 2))
    p.data = dalam.ones(2, 2)
    assert p.requires_grad and np.all(p.detach().numpy() == 1)
    p.data = p.data.clamp(0, 0.5)
    assert np.all(p.detach().numpy() == 0.5)
