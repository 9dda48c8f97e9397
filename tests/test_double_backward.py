"""Double backward (create_graph=True) for the ops GAN critics use: conv,
conv-transpose, batch/layer/group norm, leaky_relu, linear.

For each op: a float64 gradcheck of its gradient (a "gradgradcheck": the
first derivative, built as a graph, differentiated again by finite
differences), and parity with torch.autograd.grad(..., create_graph=True) of
both the gradient and the gradient of a function of the gradient.  Then a
WGAN-GP gradient penalty on a small DCGAN-like critic and an MLP critic:
penalty value and its gradients for every critic parameter match PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dalam
import dalam.nn.functional as F
from dalam.autograd import grad, gradcheck

from conftest import assert_close

R = np.random.default_rng(0)
# torch warns that it copies the input for padding='same' with an even kernel
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _a(*shape):
    return R.standard_normal(shape)


# name -> (dalam fn, torch fn, input arrays (float64))
_RM, _RV = _a(3), R.random(3) + 0.5
_IDX = np.array([[0, 2, 2], [1, 3, 2]])
CASES = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b), lambda x, w, b: TF.conv2d(x, w, b),
               [_a(2, 3, 5, 4), _a(4, 3, 3, 2), _a(4)]),
    "conv2d_stride_pad": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
                          lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=1),
                          [_a(2, 3, 6, 5), _a(4, 3, 4, 4), _a(4)]),
    "conv2d_dilation_asym_pad": (lambda x, w: F.conv2d(x, w, padding=(1, 2), dilation=2),
                                 lambda x, w: TF.conv2d(x, w, padding=(1, 2), dilation=2),
                                 [_a(2, 3, 6, 5), _a(2, 3, 2, 3)]),
    "conv2d_same": (lambda x, w: F.conv2d(x, w, padding="same"),
                    lambda x, w: TF.conv2d(x, w, padding="same"), [_a(1, 2, 5, 5), _a(3, 2, 3, 3)]),
    "conv2d_same_even_kernel": (lambda x, w: F.conv2d(x, w, padding="same"),  # asymmetric pads
                                lambda x, w: TF.conv2d(x, w, padding="same"),
                                [_a(1, 2, 5, 5), _a(3, 2, 2, 3)]),
    "conv2d_groups": (lambda x, w: F.conv2d(x, w, stride=2, groups=2),
                      lambda x, w: TF.conv2d(x, w, stride=2, groups=2), [_a(2, 4, 5, 5), _a(4, 2, 3, 3)]),
    "conv2d_one_channel": (lambda x, w: F.conv2d(x, w, stride=2, padding=1),
                           lambda x, w: TF.conv2d(x, w, stride=2, padding=1),
                           [_a(2, 1, 6, 6), _a(3, 1, 4, 4)]),
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
               lambda x, w, b: TF.conv1d(x, w, b, stride=2, padding=1), [_a(2, 3, 7), _a(4, 3, 3), _a(4)]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b),
                         lambda x, w, b: TF.conv_transpose2d(x, w, b),
                         [_a(2, 3, 3, 4), _a(3, 2, 3, 2), _a(2)]),
    "conv_transpose2d_s2": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
                            lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2, padding=1),
                            [_a(2, 3, 3, 3), _a(3, 2, 4, 4), _a(2)]),
    "conv_transpose2d_outpad_groups": (
        lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2),
        lambda x, w: TF.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2),
        [_a(2, 4, 3, 3), _a(4, 1, 3, 3)]),
    "conv_transpose1d": (lambda x, w: F.conv_transpose1d(x, w, stride=2, padding=1),
                         lambda x, w: TF.conv_transpose1d(x, w, stride=2, padding=1),
                         [_a(2, 3, 5), _a(3, 2, 3)]),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
                         [_a(3, 3, 2, 2), _a(3), _a(3)]),
    "batch_norm_train_noaffine": (lambda x: F.batch_norm(x, None, None, training=True),
                                  lambda x: TF.batch_norm(x, None, None, training=True), [_a(4, 2, 3)]),
    "batch_norm_eval": (
        lambda x, w, b: F.batch_norm(x, dalam.tensor(_RM), dalam.tensor(_RV), w, b, training=False),
        lambda x, w, b: TF.batch_norm(x, torch.tensor(_RM), torch.tensor(_RV), w, b, training=False),
        [_a(3, 3, 2, 2), _a(3), _a(3)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (3, 4), w, b), lambda x, w, b: TF.layer_norm(x, (3, 4), w, b),
                   [_a(2, 3, 4), _a(3, 4), _a(3, 4)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: TF.group_norm(x, 2, w, b),
                   [_a(2, 4, 3), _a(4), _a(4)]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2) * x, lambda x: TF.leaky_relu(x, 0.2) * x, [_a(3, 5)]),
    "embedding": (lambda w, x: F.embedding(dalam.tensor(_IDX), w) * x,
                  lambda w, x: TF.embedding(torch.tensor(_IDX), w) * x, [_a(4, 3), _a(2, 3, 3)]),
    "embedding_padding_idx": (
        lambda w, x: F.embedding(dalam.tensor(_IDX), w, padding_idx=1) * x,
        lambda w, x: TF.embedding(torch.tensor(_IDX), w, padding_idx=1) * x, [_a(4, 3), _a(2, 3, 3)]),
    "linear": (lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b),
               [_a(4, 3), _a(5, 3), _a(5)]),
}


def _first_grads(lib, fn, ins, cot):
    """Gradients of <fn(ins), cot> as graph tensors (create_graph=True)."""
    if lib is dalam:
        with dalam.enable_grad():
            y = fn(*ins)
            return y, grad((y * cot).sum(), ins, create_graph=True)
    y = fn(*ins)
    return y, torch.autograd.grad((y * cot).sum(), ins, create_graph=True)


# padding_idx zeroes the padding row's gradient on purpose (PyTorch's semantics), so finite
# differences do not apply there: that case is checked against PyTorch only
NOT_A_DERIVATIVE = {"embedding_padding_idx"}


@pytest.mark.parametrize("name", [n for n in CASES if n not in NOT_A_DERIVATIVE])
def test_gradgradcheck(name):
    fn, _, arrs = CASES[name]
    ins = [dalam.tensor(a.copy(), requires_grad=True) for a in arrs]
    cot = dalam.tensor(np.random.default_rng(1).standard_normal(fn(*ins).shape))

    def first(*xs):
        return tuple(_first_grads(dalam, fn, xs, cot)[1])
    assert gradcheck(first, ins, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_double_backward_matches_torch(name):
    fn, tfn, arrs = CASES[name]
    ins = [dalam.tensor(a.copy(), requires_grad=True) for a in arrs]
    tins = [torch.tensor(a.copy(), requires_grad=True) for a in arrs]
    c = np.random.default_rng(1).standard_normal(fn(*ins).shape)
    y, gs = _first_grads(dalam, fn, ins, dalam.tensor(c))
    ty, tgs = _first_grads(torch, tfn, tins, torch.tensor(c))
    assert_close(y, ty, rtol=1e-10, atol=1e-10)
    for g, tg in zip(gs, tgs):
        assert_close(g, tg, rtol=1e-10, atol=1e-10)
    # second order: d/d inputs of sum_i <g_i, g_i * r_i>, r fixed random weights
    rs = [np.random.default_rng(2 + i).standard_normal(a.shape) for i, a in enumerate(arrs)]
    s = sum(((g * g) * dalam.tensor(r)).sum() for g, r in zip(gs, rs))
    ts = sum(((g * g) * torch.tensor(r)).sum() for g, r in zip(tgs, rs))
    got = grad(s, ins, allow_unused=True)
    want = torch.autograd.grad(ts, tins, allow_unused=True)
    for i, (a, b) in enumerate(zip(got, want)):
        if b is None:
            assert a is None or np.allclose(a._data, 0), f"input {i}"
        else:
            assert_close(a, b, rtol=1e-9, atol=1e-10, msg=f"input {i}")


def test_embedding_scale_grad_by_freq_weight_gradient_is_differentiated_exactly():
    # the weight gradient sum_i gy_i / count is linear in gy: gradcheck it as a function of x.
    # (PyTorch's double backward leaves out the 1/count factor here; we keep it.)
    w = dalam.tensor(_a(4, 3))
    w.requires_grad_(True)
    cot = dalam.tensor(_a(2, 3, 3))

    def gw_of(x):
        with dalam.enable_grad():
            y = F.embedding(dalam.tensor(_IDX), w, scale_grad_by_freq=True) * x
            return grad((y * cot).sum(), w, create_graph=True)[0]
    assert gradcheck(gw_of, [dalam.tensor(_a(2, 3, 3), requires_grad=True)], atol=1e-6, rtol=1e-5)


def test_double_backward_float32_stays_float32():
    x = dalam.randn(2, 3, 6, 6, requires_grad=True)
    w = dalam.randn(4, 3, 3, 3, requires_grad=True)
    (g,) = grad(F.batch_norm(F.conv2d(x, w, padding=1), None, None, training=True).pow(2).sum(), x,
                create_graph=True)
    assert g.dtype == np.float32
    (gw,) = grad((g * g).sum(), w)
    assert gw.dtype == np.float32 and np.isfinite(gw._data).all()


# ----------------------------------------------------------------- gradient penalty parity
def _torch_dcgan_critic(norm):
    import torch.nn as tnn
    layers = [tnn.Conv2d(1, 4, 4, 2, 1), tnn.LeakyReLU(0.2), tnn.Conv2d(4, 8, 4, 2, 1, bias=norm != "batch")]
    layers.append({"batch": tnn.BatchNorm2d(8), "layer": tnn.LayerNorm([8, 7, 7]),
                   "none": tnn.Identity()}[norm])
    layers.append(tnn.LeakyReLU(0.2))
    return tnn.Sequential(tnn.Sequential(*layers), tnn.Conv2d(8, 1, 7, 1, 0))


def _copy_weights(model, tmodel):
    sd = model.state_dict()
    tsd = tmodel.state_dict()
    assert len(sd) == len(tsd)
    tmodel.load_state_dict({tk: torch.tensor(np.array(v._data)) for tk, v in zip(tsd, sd.values())})


def _gp_pair(model, tmodel, x_real, x_fake, eps):
    from dalam.models.gan import gradient_penalty
    gp = gradient_penalty(lambda x: model(x), dalam.tensor(x_real), dalam.tensor(x_fake), eps=eps)
    tr, tf_, te = torch.tensor(x_real), torch.tensor(x_fake), torch.tensor(eps)
    xh = (tr * te + tf_ * (1 - te)).requires_grad_(True)
    (tg,) = torch.autograd.grad(tmodel(xh).sum(), xh, create_graph=True)
    tgp = ((tg.flatten(1).pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
    # some biases do not change d critic / dx: no gradient (None) or zeros, in either library
    params = list(model.parameters())
    got = grad(gp, params, allow_unused=True)
    want = torch.autograd.grad(tgp, list(tmodel.parameters()), allow_unused=True)
    got = [np.zeros(p.shape, p.dtype) if g is None else g._data for p, g in zip(params, got)]
    want = [torch.zeros(p.shape, dtype=p.dtype) if g is None else g
            for p, g in zip(tmodel.parameters(), want)]
    assert sum(np.abs(g).sum() > 0 for g in got) >= len(params) // 2  # weights at least
    return gp, tgp, got, want


@pytest.mark.parametrize("norm", ["layer", "batch", "none"])
def test_gradient_penalty_dcgan_critic_matches_torch(norm):
    from dalam.models.gan import DCGANDiscriminator
    rng = np.random.default_rng(3)
    model = DCGANDiscriminator(ndf=4, norm=norm).double()
    tmodel = _torch_dcgan_critic(norm).double()
    _copy_weights(model, tmodel)
    xr, xf = rng.uniform(-1, 1, (4, 1, 28, 28)), rng.uniform(-1, 1, (4, 1, 28, 28))
    eps = rng.random((4, 1, 1, 1))
    gp, tgp, got, want = _gp_pair(model, tmodel, xr, xf, eps)
    assert_close(gp, tgp, rtol=1e-10, atol=1e-12)
    for a, b in zip(got, want):
        assert_close(a, b, rtol=1e-8, atol=1e-11)


def test_gradient_penalty_mlp_critic_matches_torch():
    import torch.nn as tnn
    from dalam.models.gan import MLPDiscriminator
    rng = np.random.default_rng(4)
    model = MLPDiscriminator(img_shape=(1, 6, 6), hidden=8).double()
    tmodel = tnn.Sequential(tnn.Flatten(), tnn.Linear(36, 16), tnn.LeakyReLU(0.2), tnn.Linear(16, 8),
                            tnn.LeakyReLU(0.2), tnn.Linear(8, 1)).double()
    _copy_weights(model, tmodel)
    xr, xf, eps = rng.standard_normal((5, 1, 6, 6)), rng.standard_normal((5, 1, 6, 6)), rng.random((5, 1, 1, 1))
    gp, tgp, got, want = _gp_pair(model, tmodel, xr, xf, eps)
    assert_close(gp, tgp, rtol=1e-10, atol=1e-12)
    for a, b in zip(got, want):
        assert_close(a, b, rtol=1e-8, atol=1e-11)


def test_gradient_penalty_float32_close_to_torch():
    from dalam.models.gan import DCGANDiscriminator
    rng = np.random.default_rng(5)
    model = DCGANDiscriminator(ndf=4, norm="layer")
    tmodel = _torch_dcgan_critic("layer")
    _copy_weights(model, tmodel)
    xr = rng.uniform(-1, 1, (3, 1, 28, 28)).astype(np.float32)
    xf = rng.uniform(-1, 1, (3, 1, 28, 28)).astype(np.float32)
    eps = rng.random((3, 1, 1, 1)).astype(np.float32)
    gp, tgp, got, want = _gp_pair(model, tmodel, xr, xf, eps)
    assert gp.dtype == np.float32
    assert_close(gp, tgp, rtol=1e-4, atol=1e-6)
    for a, b in zip(got, want):
        assert_close(a, b, rtol=1e-3, atol=1e-5)
