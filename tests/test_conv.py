"""Conv1d/Conv2d/ConvTranspose: PyTorch parity (forward, dX, dW, db) over a grid of
stride/padding/dilation/groups incl. odd sizes and batch 1, gradcheck in float64,
module init/layouts, padding modes and error messages."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dalam
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.autograd import gradcheck
from conftest import assert_close

rng = np.random.default_rng(0)


def _pair(shape, dtype=np.float32):
    a = rng.standard_normal(shape).astype(dtype)
    return dalam.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check_fb(yd, yt, leaves, rtol=1e-4, atol=1e-5):
    assert_close(yd, yt, rtol=rtol, atol=atol, msg="forward")
    gy = rng.standard_normal(yd.shape).astype(yd.dtype)
    yd.backward(dalam.tensor(gy))
    yt.backward(torch.tensor(gy))
    for i, (d, t) in enumerate(leaves):
        assert_close(d.grad, t.grad, rtol=rtol, atol=atol, msg=f"grad of input {i}")


# (N, C, H, W, O, kernel, stride, padding, dilation, groups)
CONV2D = [
    (2, 3, 7, 6, 4, 3, 1, 1, 1, 1),
    (1, 3, 8, 8, 5, 3, 1, 0, 1, 1),
    (2, 4, 9, 8, 6, 3, 2, 0, 1, 2),
    (2, 4, 8, 9, 4, 3, 1, 2, 2, 4),      # depthwise, dilated
    (1, 4, 7, 7, 8, 3, 2, 1, 1, 4),      # depthwise multiplier 2
    (2, 2, 5, 5, 3, 2, 2, 1, 1, 1),      # even kernel
    (1, 6, 6, 7, 6, (2, 3), (2, 1), (1, 0), (1, 2), 3),
    (3, 2, 11, 5, 3, (5, 1), (3, 1), (2, 0), 1, 1),
    (2, 3, 6, 6, 4, 1, 1, 0, 1, 1),      # 1x1
    (2, 3, 8, 8, 4, 3, 1, "same", 2, 1),
    (2, 3, 8, 7, 4, 4, 1, "same", 1, 1),  # asymmetric 'same'
    (2, 3, 8, 7, 4, 3, 2, "valid", 1, 1),
    (2, 1, 7, 6, 3, 3, 2, 1, 2, 1),      # one input channel (grayscale fast path)
    (1, 3, 6, 6, 1, 3, 1, 1, 1, 1),      # one output channel (dX by im2col of dY)
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("cfg", CONV2D, ids=[str(i) for i in range(len(CONV2D))])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_conv2d_matches_torch(cfg, bias):
    N, C, H, W, O, k, s, p, d, g = cfg
    kt = k if isinstance(k, tuple) else (k, k)
    (x, xt), (w, wt) = _pair((N, C, H, W)), _pair((O, C // g) + kt)
    leaves = [(x, xt), (w, wt)]
    b = bt = None
    if bias:
        b, bt = _pair((O,))
        leaves.append((b, bt))
    y = F.conv2d(x, w, b, s, p, d, g)
    assert y.dtype == np.float32
    _check_fb(y, TF.conv2d(xt, wt, bt, s, p, d, g), leaves)


CONV1D = [(2, 3, 10, 4, 3, 1, 1, 1, 1), (1, 4, 9, 4, 3, 2, 0, 1, 2), (2, 4, 12, 8, 5, 3, 2, 2, 4),
          (1, 2, 8, 3, 4, 1, "same", 1, 1)]


@pytest.mark.parametrize("cfg", CONV1D)
def test_conv1d_matches_torch(cfg):
    N, C, L, O, k, s, p, d, g = cfg
    (x, xt), (w, wt), (b, bt) = _pair((N, C, L)), _pair((O, C // g, k)), _pair((O,))
    _check_fb(F.conv1d(x, w, b, s, p, d, g), TF.conv1d(xt, wt, bt, s, p, d, g),
              [(x, xt), (w, wt), (b, bt)])


# (N, Cin, H, W, Cout, kernel, stride, padding, output_padding, groups, dilation)
CONVT = [
    (2, 3, 5, 4, 4, 3, 1, 0, 0, 1, 1),
    (1, 4, 4, 5, 6, 4, 2, 1, 0, 2, 1),
    (2, 2, 3, 3, 3, 3, 2, 1, 1, 1, 1),
    (1, 4, 5, 5, 4, 3, 2, 0, 1, 4, 2),
    (2, 3, 4, 6, 2, (2, 3), (2, 1), (0, 1), (1, 0), 1, 1),
    (1, 2, 4, 4, 1, 3, 2, 1, 1, 1, 1),   # one output channel
]


@pytest.mark.parametrize("cfg", CONVT)
def test_conv_transpose2d_matches_torch(cfg):
    N, C, H, W, O, k, s, p, op, g, d = cfg
    kt = k if isinstance(k, tuple) else (k, k)
    (x, xt), (w, wt), (b, bt) = _pair((N, C, H, W)), _pair((C, O // g) + kt), _pair((O,))
    _check_fb(F.conv_transpose2d(x, w, b, s, p, op, g, d),
              TF.conv_transpose2d(xt, wt, bt, s, p, op, g, d), [(x, xt), (w, wt), (b, bt)])


def test_conv_transpose1d_matches_torch():
    (x, xt), (w, wt), (b, bt) = _pair((2, 4, 7)), _pair((4, 3, 3)), _pair((6,))
    _check_fb(F.conv_transpose1d(x, w, b, 2, 1, 1, 2), TF.conv_transpose1d(xt, wt, bt, 2, 1, 1, 2),
              [(x, xt), (w, wt), (b, bt)])


@pytest.mark.parametrize("cfg", [(1, 1, 1, 1), (2, 1, 1, 2), (1, 2, 2, 1), (1, 0, 1, 2)])
def test_conv2d_gradcheck(cfg):
    s, p, d, g = cfg
    x = dalam.randn(2, 2, 5, 4, dtype=dalam.float64, requires_grad=True)
    w = dalam.randn(2, 2 // g, 3, 2, dtype=dalam.float64, requires_grad=True)
    b = dalam.randn(2, dtype=dalam.float64, requires_grad=True)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g), (x, w, b))


def test_conv1d_and_transpose_gradcheck():
    x = dalam.randn(2, 2, 6, dtype=dalam.float64, requires_grad=True)
    w = dalam.randn(3, 2, 3, dtype=dalam.float64, requires_grad=True)
    gradcheck(lambda x, w: F.conv1d(x, w, None, 2, 1), (x, w))
    x2 = dalam.randn(1, 2, 3, 3, dtype=dalam.float64, requires_grad=True)
    wt = dalam.randn(2, 2, 3, 3, dtype=dalam.float64, requires_grad=True)
    b = dalam.randn(2, dtype=dalam.float64, requires_grad=True)
    gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1), (x2, wt, b))


def test_float64_matches_torch_tightly():
    (x, xt), (w, wt) = _pair((2, 3, 6, 6), np.float64), _pair((4, 3, 3, 3), np.float64)
    _check_fb(F.conv2d(x, w, None, 2, 1), TF.conv2d(xt, wt, None, 2, 1), [(x, xt), (w, wt)],
              rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_module_padding_modes_and_state_dict(mode):
    m = nn.Conv2d(3, 4, 3, stride=1, padding=(1, 2), padding_mode=mode)
    tm = torch.nn.Conv2d(3, 4, 3, stride=1, padding=(1, 2), padding_mode=mode)
    tm.load_state_dict({k: torch.tensor(v._data) for k, v in m.state_dict().items()})
    x, xt = _pair((2, 3, 6, 5))
    y, yt = m(x), tm(xt)
    _check_fb(y, yt, [(x, xt), (m.weight, tm.weight), (m.bias, tm.bias)])


def test_module_layouts_and_init_match_torch():
    for m, tm in [(nn.Conv2d(4, 8, 3, groups=2), torch.nn.Conv2d(4, 8, 3, groups=2)),
                  (nn.Conv1d(3, 5, 4, bias=False), torch.nn.Conv1d(3, 5, 4, bias=False)),
                  (nn.ConvTranspose2d(4, 6, 3, groups=2), torch.nn.ConvTranspose2d(4, 6, 3, groups=2))]:
        sd, tsd = m.state_dict(), tm.state_dict()
        assert list(sd) == list(tsd)
        for k in sd:
            assert tuple(sd[k].shape) == tuple(tsd[k].shape)
        # PyTorch's bound for kaiming_uniform(a=sqrt(5)) is 1/sqrt(fan_in)
        fan_in = m.weight.shape[1] * int(np.prod(m.weight.shape[2:]))
        assert np.abs(m.weight._data).max() <= 1 / np.sqrt(fan_in) + 1e-7
        assert m.weight._data.std() > 0.3 / np.sqrt(fan_in)
        assert repr(m) == repr(tm)


def test_conv_transpose_output_size():
    m = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    tm.load_state_dict({k: torch.tensor(v._data) for k, v in m.state_dict().items()})
    x, xt = _pair((1, 3, 4, 4))
    y, yt = m(x, output_size=(8, 8)), tm(xt, output_size=(8, 8))
    assert y.shape == (1, 2, 8, 8)
    assert_close(y, yt, rtol=1e-4, atol=1e-5)


def test_unbatched_input():
    m = nn.Conv2d(2, 3, 3, padding=1)
    x = dalam.randn(2, 5, 5)
    assert m(x).shape == (3, 5, 5)
    assert_close(m(x), m(x.unsqueeze(0)).squeeze(0))


def test_errors_name_layer_expected_and_actual():
    m = nn.Conv2d(1, 32, 3)
    with pytest.raises(RuntimeError, match=r"Conv2d\(1, 32.*expected input with 1 channels.*\(128, 28, 28\).*unsqueeze\(1\)"):
        m(dalam.randn(128, 28, 28))
    with pytest.raises(RuntimeError, match=r"Conv2d\(1, 32.*4-D input.*got 2-D"):
        m(dalam.randn(28, 28))
    with pytest.raises(RuntimeError, match=r"expected input with 3 channels.*\(2, 4, 8, 8\)"):
        nn.Conv2d(3, 4, 3)(dalam.randn(2, 4, 8, 8))
    with pytest.raises(RuntimeError, match=r"kernel size \(5, 5\).*larger than the padded input \(4, 4\)"):
        nn.Conv2d(1, 2, 5)(dalam.randn(1, 1, 4, 4))
    with pytest.raises(RuntimeError, match="dtype"):
        nn.Conv2d(1, 2, 3)(dalam.randn(1, 1, 4, 4, dtype=dalam.float64))
    with pytest.raises(ValueError, match="same"):
        nn.Conv2d(1, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_no_grad_inference_builds_no_graph():
    m = nn.Conv2d(2, 3, 3)
    with dalam.no_grad():
        y = m(dalam.randn(1, 2, 5, 5))
    assert y.grad_fn is None and not y.requires_grad
