"""Embedding vs PyTorch: lookup, gradients (repeated ids, padding_idx,
scale_grad_by_freq), max_norm renorm, from_pretrained/freeze, errors."""
import numpy as np
import pytest
import torch

import dalam
from dalam.autograd import gradcheck
from dalam.ops.embedding import embedding
from conftest import assert_close


def _pair(*args, **kw):
    e = dalam.nn.Embedding(*args, **kw)
    te = torch.nn.Embedding(*args, **kw)
    with torch.no_grad():
        te.weight.copy_(torch.tensor(e.weight._data))
    return e, te


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 0}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True}, {"max_norm": 1.0},
                                {"max_norm": 0.5, "norm_type": 1.0}])
def test_embedding_matches_torch(kw):
    rng = np.random.default_rng(0)
    e, te = _pair(11, 4, **kw)
    idx = rng.integers(0, 11, (5, 7))
    idx[0, :3] = 3                       # repeated ids accumulate
    out = e(dalam.tensor(idx))
    tout = te(torch.tensor(idx))
    assert_close(out, tout)
    assert_close(e.weight, te.weight)    # max_norm renormalised the same rows in place
    cot = rng.standard_normal(out.shape).astype(np.float32)
    (out * dalam.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    assert_close(e.weight.grad, te.weight.grad)
    if "padding_idx" in kw:
        assert np.all(e.weight.grad._data[kw["padding_idx"]] == 0)


def test_padding_row_initialised_to_zero_and_init_stats():
    dalam.manual_seed(0)
    e = dalam.nn.Embedding(1000, 32, padding_idx=2)
    assert np.all(e.weight._data[2] == 0)
    w = np.delete(e.weight._data, 2, axis=0)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02 and e.weight.dtype == np.float32


def test_embedding_gradcheck_float64():
    w = dalam.tensor(np.random.default_rng(1).standard_normal((6, 3)))
    w.requires_grad_(True)
    idx = dalam.tensor(np.array([[1, 2, 1], [5, 0, 1]]))
    assert gradcheck(lambda w: embedding(idx, w), [w])
    # padding_idx / scale_grad_by_freq change the gradient by convention (not the
    # derivative), so they are checked against PyTorch above instead


def test_from_pretrained_freeze():
    t = dalam.tensor(np.arange(12, dtype=np.float32).reshape(4, 3))
    e = dalam.nn.Embedding.from_pretrained(t)
    assert not e.weight.requires_grad
    np.testing.assert_array_equal(e(dalam.tensor([3, 0]))._data, t._data[[3, 0]])
    e2 = dalam.nn.Embedding.from_pretrained(t, freeze=False)
    assert e2.weight.requires_grad
    assert list(e2.state_dict()) == ["weight"]


def test_bad_ids_name_the_layer_and_shapes():
    e = dalam.nn.Embedding(65, 8)
    with pytest.raises(IndexError, match=r"Embedding\(65, 8\): token id 70 is out of range \[0, 65\).*\(2, 3\)"):
        e(dalam.tensor([[1, 2, 70], [0, 0, 0]]))
    with pytest.raises(IndexError, match=r"token id -1"):
        e(dalam.tensor([-1]))
    with pytest.raises(TypeError, match=r"Embedding\(65, 8\): expected integer token ids"):
        e(dalam.tensor([1.0, 2.0]))


def test_backward_is_fast_scatter_not_dense_loop():
    """2,048 tokens into a 65-row table: the scatter-add is exact against np.add.at."""
    from dalam.ops.embedding import _scatter_rows
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 65, 2048)
    g = rng.standard_normal((2048, 64)).astype(np.float32)
    ref = np.zeros((65, 64), np.float32)
    np.add.at(ref, idx, g)
    got = _scatter_rows(idx, g, 65)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
