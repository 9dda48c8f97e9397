"""BatchNorm/LayerNorm/GroupNorm, Dropout1d/2d, interpolate, PixelShuffle: PyTorch
parity forward and backward, running statistics after 50 steps, gradcheck, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dalam
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.autograd import gradcheck
from conftest import assert_close

rng = np.random.default_rng(2)


def _pair(shape, dtype=np.float32, scale=1.0, shift=0.0):
    a = (rng.standard_normal(shape) * scale + shift).astype(dtype)
    return dalam.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _sync(m, tm):
    tm.load_state_dict({k: torch.tensor(np.array(v._data)) for k, v in m.state_dict().items()})


def _backward_both(y, yt):
    gy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(dalam.tensor(gy))
    yt.backward(torch.tensor(gy))


@pytest.mark.parametrize("cls,shape", [("BatchNorm2d", (4, 3, 5, 6)), ("BatchNorm2d", (1, 3, 4, 3)),
                                       ("BatchNorm1d", (8, 5)), ("BatchNorm1d", (4, 5, 7))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_50_steps_train_then_eval(cls, shape, momentum):
    C = shape[1]
    m, tm = getattr(nn, cls)(C, momentum=momentum), getattr(torch.nn, cls)(C, momentum=momentum)
    m.weight._data[...] = rng.standard_normal(C)
    m.bias._data[...] = rng.standard_normal(C)
    _sync(m, tm)
    for step in range(50):
        x, xt = _pair(shape, scale=2.0, shift=1.5)
        y, yt = m(x), tm(xt)
        if step % 10 == 0:
            assert_close(y, yt, rtol=1e-4, atol=1e-5, msg="train forward")
            _backward_both(y, yt)
            assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-5, msg="dx")
            assert_close(m.weight.grad, tm.weight.grad, rtol=1e-4, atol=1e-4, msg="dw")
            assert_close(m.bias.grad, tm.bias.grad, rtol=1e-4, atol=1e-4, msg="db")
            m.zero_grad()
            tm.zero_grad()
    assert_close(m.running_mean, tm.running_mean, rtol=1e-5, atol=1e-6)
    assert_close(m.running_var, tm.running_var, rtol=1e-5, atol=1e-6)
    assert int(m.num_batches_tracked.item()) == 50
    m.eval()
    tm.eval()
    x, xt = _pair(shape)
    y, yt = m(x), tm(xt)
    assert_close(y, yt, rtol=1e-4, atol=1e-5, msg="eval forward")
    _backward_both(y, yt)
    assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-5)
    assert_close(m.weight.grad, tm.weight.grad, rtol=1e-4, atol=1e-4)


def test_batchnorm_no_affine_no_tracking():
    m, tm = nn.BatchNorm2d(3, affine=False, track_running_stats=False), \
        torch.nn.BatchNorm2d(3, affine=False, track_running_stats=False)
    assert list(m.state_dict()) == list(tm.state_dict()) == []
    x, xt = _pair((2, 3, 4, 4))
    m.eval()
    tm.eval()  # no running stats: batch statistics even in eval
    y, yt = m(x), tm(xt)
    assert_close(y, yt, rtol=1e-4, atol=1e-5)
    _backward_both(y, yt)
    assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-5)


def test_batchnorm_state_dict_keys():
    assert list(nn.BatchNorm2d(4).state_dict()) == list(torch.nn.BatchNorm2d(4).state_dict())


def test_batchnorm_gradcheck():
    x = dalam.randn(3, 2, 2, 2, dtype=dalam.float64, requires_grad=True)
    w = dalam.randn(2, dtype=dalam.float64, requires_grad=True)
    b = dalam.randn(2, dtype=dalam.float64, requires_grad=True)
    gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (x, w, b))
    rm, rv = dalam.randn(2, dtype=dalam.float64), dalam.rand(2, dtype=dalam.float64) + 0.5
    gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False), (x, w, b))


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected 4-D.*got 3-D"):
        nn.BatchNorm2d(3)(dalam.randn(3, 4, 4))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(3\): expected input with 3 channels"):
        nn.BatchNorm1d(3)(dalam.randn(4, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(dalam.randn(1, 3))


@pytest.mark.parametrize("shape,ns", [((4, 6), 6), ((2, 3, 5, 6), (5, 6)), ((1, 7), 7)])
@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, False)])
def test_layer_norm(shape, ns, affine, bias):
    m = nn.LayerNorm(ns, elementwise_affine=affine, bias=bias)
    tm = torch.nn.LayerNorm(ns, elementwise_affine=affine, bias=bias)
    if affine:
        m.weight._data[...] = rng.standard_normal(m.weight.shape)
    _sync(m, tm)
    x, xt = _pair(shape, scale=3.0, shift=2.0)
    y, yt = m(x), tm(xt)
    assert_close(y, yt, rtol=1e-4, atol=1e-5)
    _backward_both(y, yt)
    assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-5)
    for n, p in m.named_parameters():
        assert_close(p.grad, dict(tm.named_parameters())[n].grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("G,shape", [(3, (2, 6, 3, 4)), (1, (1, 4, 5)), (4, (3, 4, 2, 2)), (2, (2, 4))])
def test_group_norm(G, shape):
    m, tm = nn.GroupNorm(G, shape[1]), torch.nn.GroupNorm(G, shape[1])
    m.weight._data[...] = rng.standard_normal(shape[1])
    m.bias._data[...] = rng.standard_normal(shape[1])
    _sync(m, tm)
    x, xt = _pair(shape, scale=2.0)
    y, yt = m(x), tm(xt)
    assert_close(y, yt, rtol=1e-4, atol=1e-5)
    _backward_both(y, yt)
    assert_close(x.grad, xt.grad, rtol=1e-4, atol=1e-5)
    assert_close(m.weight.grad, tm.weight.grad, rtol=1e-4, atol=1e-4)
    assert_close(m.bias.grad, tm.bias.grad, rtol=1e-4, atol=1e-4)


def test_layer_group_norm_gradcheck():
    x = dalam.randn(2, 4, 3, dtype=dalam.float64, requires_grad=True)
    w = dalam.randn(4, 3, dtype=dalam.float64, requires_grad=True)
    b = dalam.randn(4, 3, dtype=dalam.float64, requires_grad=True)
    gradcheck(lambda x, w, b: F.layer_norm(x, (4, 3), w, b), (x, w, b))
    w2 = dalam.randn(4, dtype=dalam.float64, requires_grad=True)
    b2 = dalam.randn(4, dtype=dalam.float64, requires_grad=True)
    gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w2, b2))


def test_norm_errors():
    with pytest.raises(RuntimeError, match="normalized_shape"):
        nn.LayerNorm(5)(dalam.randn(2, 4))
    with pytest.raises(RuntimeError, match=r"GroupNorm\(2, 4\)"):
        nn.GroupNorm(2, 4)(dalam.randn(2, 6, 3))


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(5, 7)), dict(scale_factor=2.5),
                                dict(size=(3, 9), mode="bilinear", align_corners=False),
                                dict(size=(7, 5), mode="bilinear", align_corners=True),
                                dict(scale_factor=1.5, mode="bilinear", align_corners=False),
                                dict(size=(1, 1), mode="bilinear", align_corners=True)])
def test_interpolate(kw):
    x, xt = _pair((2, 3, 4, 5))
    y, yt = F.interpolate(x, **kw), TF.interpolate(xt, **kw)
    assert_close(y, yt, rtol=1e-5, atol=1e-6)
    _backward_both(y, yt)
    assert_close(x.grad, xt.grad, rtol=1e-5, atol=1e-5)


def test_interpolate_1d_and_modules():
    x, xt = _pair((2, 3, 6))
    for kw in [dict(scale_factor=2, mode="linear", align_corners=False), dict(size=4)]:
        assert_close(F.interpolate(x, **kw), TF.interpolate(xt, **kw), rtol=1e-5, atol=1e-6)
    x, xt = _pair((1, 8, 3, 3))
    assert_close(nn.Upsample(scale_factor=2, mode="bilinear")(x),
                 torch.nn.Upsample(scale_factor=2, mode="bilinear")(xt), rtol=1e-5, atol=1e-6)
    y, yt = nn.PixelShuffle(2)(x), torch.nn.PixelShuffle(2)(xt)
    assert_close(y, yt)
    _backward_both(y, yt)
    assert_close(x.grad, xt.grad)
    assert_close(nn.PixelUnshuffle(2)(y.detach()), torch.nn.PixelUnshuffle(2)(yt.detach()))
    g = dalam.randn(1, 2, 3, 3, dtype=dalam.float64, requires_grad=True)
    gradcheck(lambda g: F.interpolate(g, size=(4, 5), mode="bilinear", align_corners=False), (g,))


def test_dropout2d_channelwise():
    dalam.manual_seed(0)
    m = nn.Dropout2d(0.5)
    x = dalam.ones(8, 16, 4, 4, requires_grad=True)
    y = m(x)
    per_map = y._data.reshape(8, 16, -1)
    assert np.all((per_map == 0).all(-1) | (per_map == 2).all(-1))  # whole maps kept or dropped
    assert 0.25 < (per_map[..., 0] == 0).mean() < 0.75
    y.sum().backward()
    assert np.array_equal(x.grad._data, y._data)
    m.eval()
    assert m(x) is x
    z = nn.Dropout1d(0.3)(dalam.ones(4, 6, 10))._data
    assert np.all((z == 0).all(-1) | np.isclose(z, 1 / 0.7).all(-1))


def _bn_layouts(rng, dt):
    """Inputs in the memory orders a conv hands to BatchNorm: channel-last views
    (NHWC memory), a cropped channel-last view (ConvTranspose output with
    padding), plain NCHW, (N, C) and an (N, L, C)-strided (N, C, L) view."""
    a = (rng.standard_normal((4, 6, 6, 3)) * 2 + 5).astype(dt)
    b = (rng.standard_normal((4, 8, 8, 3)) * 2 + 5).astype(dt)
    yield "nhwc", a.transpose(0, 3, 1, 2)
    yield "cropped_nhwc", b[:, 1:7, 1:7, :].transpose(0, 3, 1, 2)
    yield "nchw", np.ascontiguousarray(a.transpose(0, 3, 1, 2))
    yield "2d", (rng.standard_normal((10, 3)) + 3).astype(dt)
    yield "nlc", (rng.standard_normal((4, 5, 3)) + 3).astype(dt).transpose(0, 2, 1)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_batch_norm_train_matches_torch_in_every_memory_layout(dt):
    rng = np.random.default_rng(1)
    rtol, atol = (1e-5, 1e-6) if dt == np.float32 else (1e-10, 1e-12)
    for name, xa in _bn_layouts(rng, dt):
        C = xa.shape[1]
        w, b = rng.standard_normal(C).astype(dt), rng.standard_normal(C).astype(dt)
        gy = rng.standard_normal(xa.shape).astype(dt)
        # the gradient in the input's layout and in plain C order
        for g in (gy, np.moveaxis(np.ascontiguousarray(np.moveaxis(gy, 1, -1)), -1, 1)):
            x = dalam.Tensor._make(xa, True, None)
            W, B = dalam.tensor(w, requires_grad=True), dalam.tensor(b, requires_grad=True)
            rm, rv = dalam.zeros(C, dtype=x.dtype), dalam.ones(C, dtype=x.dtype)
            y = F.batch_norm(x, rm, rv, W, B, training=True)
            y.backward(dalam.Tensor._make(g, False, None))
            xt = torch.tensor(np.ascontiguousarray(xa), requires_grad=True)
            Wt, Bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
            rmt, rvt = torch.zeros(C, dtype=xt.dtype), torch.ones(C, dtype=xt.dtype)
            yt = TF.batch_norm(xt, rmt, rvt, Wt, Bt, training=True)
            yt.backward(torch.tensor(np.ascontiguousarray(g)))
            for ours, theirs in ((y, yt), (x.grad, xt.grad), (W.grad, Wt.grad), (B.grad, Bt.grad),
                                 (rm, rmt), (rv, rvt)):
                assert_close(ours, theirs, rtol=rtol, atol=atol, msg=name)
