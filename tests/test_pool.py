"""Pooling: PyTorch parity (forward, indices, input gradient) over kernel/stride/
padding/dilation/ceil_mode, odd sizes and batch 1; gradcheck in float64; errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dalam
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.autograd import gradcheck
from conftest import assert_close

rng = np.random.default_rng(1)


def _run(fd, ft, shape, with_idx=False):
    a = rng.standard_normal(shape).astype(np.float32)
    x, xt = dalam.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = fd(x), ft(xt)
    if with_idx:
        assert np.array_equal(y[1]._data, yt[1].numpy()), "indices differ"
        assert y[1].dtype == np.int64
        y, yt = y[0], yt[0]
    assert_close(y, yt, msg="forward")
    gy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(dalam.tensor(gy))
    yt.backward(torch.tensor(gy))
    assert_close(x.grad, xt.grad, msg="input grad")


SHAPES = [(2, 3, 8, 8), (1, 2, 7, 9)]
# kernel, stride, padding, dilation, ceil_mode
MAXCFG = [(2, 2, 0, 1, False), (3, 2, 1, 1, False), (3, 2, 1, 1, True), (2, 1, 0, 2, False),
          ((3, 2), (2, 1), (1, 0), 1, True), (3, 3, 0, 1, True), (3, None, 1, 1, False)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cfg", MAXCFG)
def test_max_pool2d(shape, cfg):
    k, s, p, d, c = cfg
    _run(lambda x: F.max_pool2d(x, k, s, p, d, c, True),
         lambda x: TF.max_pool2d(x, k, s, p, d, c, True), shape, True)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cfg", [c for c in MAXCFG if c[3] == 1])
@pytest.mark.parametrize("cip", [True, False])
def test_avg_pool2d(shape, cfg, cip):
    k, s, p, _, c = cfg
    _run(lambda x: F.avg_pool2d(x, k, s, p, c, cip), lambda x: TF.avg_pool2d(x, k, s, p, c, cip), shape)


def test_avg_pool2d_divisor_override():
    _run(lambda x: F.avg_pool2d(x, 3, 2, 1, divisor_override=5),
         lambda x: TF.avg_pool2d(x, 3, 2, 1, divisor_override=5), (2, 2, 7, 7))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("out", [(1, 1), (3, 3), (4, 5), (2, None), (8, 8)])
def test_adaptive_pools(shape, out):
    _run(lambda x: F.adaptive_avg_pool2d(x, out), lambda x: TF.adaptive_avg_pool2d(x, out), shape)
    _run(lambda x: F.adaptive_max_pool2d(x, out, True),
         lambda x: TF.adaptive_max_pool2d(x, out, True), shape, True)
    _run(lambda x: F.adaptive_max_pool2d(x, out), lambda x: TF.adaptive_max_pool2d(x, out), shape)


@pytest.mark.parametrize("cfg", [(3, 2, 1, 1, False), (2, 2, 0, 1, True), (3, 1, 1, 2, False)])
def test_pool1d(cfg):
    k, s, p, d, c = cfg
    _run(lambda x: F.max_pool1d(x, k, s, p, d, c, True), lambda x: TF.max_pool1d(x, k, s, p, d, c, True),
         (2, 3, 11), True)
    _run(lambda x: F.avg_pool1d(x, k, s, p, c, False), lambda x: TF.avg_pool1d(x, k, s, p, c, False),
         (2, 3, 11))
    _run(lambda x: F.adaptive_avg_pool1d(x, 4), lambda x: TF.adaptive_avg_pool1d(x, 4), (2, 3, 11))


def test_modules_and_unbatched():
    for m, tm in [(nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
                  (nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1)),
                  (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
                  (nn.AdaptiveMaxPool2d(3), torch.nn.AdaptiveMaxPool2d(3)),
                  (nn.MaxPool1d(3, 2), torch.nn.MaxPool1d(3, 2)),
                  (nn.AvgPool1d(2), torch.nn.AvgPool1d(2))]:
        shape = (3, 10) if "1d" in type(m).__name__ else (3, 9, 10)
        _run(m, tm, shape)


def test_inference_path_matches_training_path():
    x = dalam.randn(2, 3, 9, 9)
    with dalam.no_grad():
        a = F.max_pool2d(x, 3, 2, 1)
    b = F.max_pool2d(x.requires_grad_(), 3, 2, 1)
    assert_close(a, b.detach())


def test_gradcheck_pools():
    x = dalam.randn(1, 2, 5, 6, dtype=dalam.float64, requires_grad=True)
    gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (x,))
    x4 = dalam.randn(1, 2, 4, 6, dtype=dalam.float64, requires_grad=True)
    gradcheck(lambda x: F.max_pool2d(x, 2), (x4,))
    gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (x,))
    gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (x,))
    gradcheck(lambda x: F.adaptive_max_pool2d(x, (2, 4)), (x,))


def test_pool_errors():
    with pytest.raises(RuntimeError, match="larger than the padded input"):
        F.max_pool2d(dalam.randn(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="at most half"):
        F.max_pool2d(dalam.randn(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(RuntimeError, match="4-D input"):
        F.max_pool2d(dalam.randn(8, 8), 2)


def test_inplace_change_of_pooled_input_is_detected():
    x = dalam.randn(1, 1, 4, 4, requires_grad=True)
    h = x * 1
    y = F.max_pool2d(h, 2)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_max_pool_ties_first_max_in_both_memory_orders(dt):
    """Tiled windows (kernel == stride) take the fast backward; with many ties
    the gradient must go to the first maximum of each window, as PyTorch's,
    for channel-last (conv output) and NCHW memory, odd sizes included."""
    rng = np.random.default_rng(0)
    for N, C, H, W, k in [(3, 5, 8, 6, 2), (2, 4, 7, 9, 2), (2, 3, 9, 9, 3), (1, 1, 4, 4, 2),
                          (2, 6, 6, 6, (2, 3))]:
        a = rng.integers(0, 3, (N, H, W, C)).astype(dt)  # values 0..2: many ties
        for xa in (a.transpose(0, 3, 1, 2), np.ascontiguousarray(a.transpose(0, 3, 1, 2))):
            x = dalam.tensor(xa, requires_grad=True)
            y = F.max_pool2d(x, k)
            g = rng.standard_normal(y.shape).astype(dt)
            (y * dalam.tensor(g)).sum().backward()
            xt = torch.tensor(np.ascontiguousarray(xa), requires_grad=True)
            yt = TF.max_pool2d(xt, k)
            (yt * torch.tensor(g)).sum().backward()
            np.testing.assert_array_equal(y._data, yt.detach().numpy())
            np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())
            assert x.grad.dtype == dt
