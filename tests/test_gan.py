"""GAN models and training utilities, save_image_grid, and the Frechet distance / MNIST FID."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import dalam
from dalam.models import gan
from dalam.metrics import fid

from conftest import assert_close


def _torch_dcgan_generator(nz, ngf):
    return tnn.Sequential(
        tnn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False), tnn.BatchNorm2d(ngf * 4), tnn.ReLU(),
        tnn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), tnn.BatchNorm2d(ngf * 2), tnn.ReLU(),
        tnn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1), tnn.Tanh())


def _load_into(tmodel, sd, prefix_map=lambda k: k):
    tmodel.load_state_dict({prefix_map(k): torch.tensor(np.array(v._data)) for k, v in sd.items()})


# ----------------------------------------------------------------- models
def test_dcgan_generator_matches_torch_train_and_eval():
    G = gan.DCGANGenerator(latent_dim=8, ngf=4)
    T = _torch_dcgan_generator(8, 4)
    _load_into(T, G.state_dict(), lambda k: k[len("net."):])
    z = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    y = G(dalam.tensor(z))
    ty = T(torch.tensor(z).reshape(5, 8, 1, 1))
    assert tuple(y.shape) == (5, 1, 28, 28) and y.dtype == np.float32
    assert_close(y, ty, rtol=1e-4, atol=1e-5)
    y.sum().backward()
    ty.sum().backward()
    assert_close(G.net[0].weight.grad, T[0].weight.grad, rtol=1e-3, atol=1e-4)
    G.eval(), T.eval()
    assert_close(G(dalam.tensor(z)), T(torch.tensor(z).reshape(5, 8, 1, 1)), rtol=1e-4, atol=1e-5)


def test_dcgan_discriminator_matches_torch():
    D = gan.DCGANDiscriminator(ndf=4)
    T = tnn.Sequential(
        tnn.Sequential(tnn.Conv2d(1, 4, 4, 2, 1), tnn.LeakyReLU(0.2), tnn.Conv2d(4, 8, 4, 2, 1, bias=False),
                       tnn.BatchNorm2d(8), tnn.LeakyReLU(0.2)), tnn.Conv2d(8, 1, 7, 1, 0))
    sd = D.state_dict()
    _load_into(T, sd, lambda k: k.replace("features.", "0.").replace("head.", "1."))
    x = np.random.default_rng(1).uniform(-1, 1, (6, 1, 28, 28)).astype(np.float32)
    assert_close(D(dalam.tensor(x)), T(torch.tensor(x)).reshape(-1), rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match=r"DCGANDiscriminator: expected images \(N, C, 28, 28\)"):
        D(dalam.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match="norm must be"):
        gan.DCGANDiscriminator(norm="instance")


def test_mlp_and_conditional_shapes_and_label_check():
    G, D = gan.MLPGenerator(16, 32), gan.MLPDiscriminator(hidden=32)
    x = G(dalam.randn(3, 16))
    assert tuple(x.shape) == (3, 1, 28, 28) and float(x.abs().max().item()) <= 1
    assert tuple(D(x).shape) == (3,)
    CG, CD = gan.ConditionalGenerator(16, ngf=4), gan.ConditionalDiscriminator(ndf=4)
    lab = dalam.tensor(np.array([0, 3, 9]))
    xc = CG(dalam.randn(3, 16), lab)
    assert tuple(xc.shape) == (3, 1, 28, 28) and tuple(CD(xc, lab).shape) == (3,)
    with pytest.raises(RuntimeError, match="expected integer labels of shape"):
        CG(dalam.randn(3, 16), dalam.tensor([0.0, 1.0, 2.0]))


def test_conditional_discriminator_uses_the_label():
    CD = gan.ConditionalDiscriminator(ndf=4)
    x = dalam.randn(4, 1, 28, 28)
    a = CD(x, dalam.tensor(np.array([0, 0, 0, 0]))).detach().numpy()
    b = CD(x, dalam.tensor(np.array([1, 1, 1, 1]))).detach().numpy()
    assert not np.allclose(a, b)


# ----------------------------------------------------------------- losses
def test_losses_match_torch_and_label_smoothing():
    r = np.random.default_rng(2).standard_normal(7).astype(np.float32)
    f = np.random.default_rng(3).standard_normal(7).astype(np.float32)
    d = gan.discriminator_loss(dalam.tensor(r), dalam.tensor(f), real_label=0.9)
    td = (TF.binary_cross_entropy_with_logits(torch.tensor(r), torch.full((7,), 0.9))
          + TF.binary_cross_entropy_with_logits(torch.tensor(f), torch.zeros(7)))
    assert_close(d, td)
    g = gan.generator_loss(dalam.tensor(f))
    assert_close(g, -torch.nn.functional.logsigmoid(torch.tensor(f)).mean())


def test_gradient_penalty_is_zero_for_unit_slope_critic():
    # critic(x) = <a, x> with ||a|| = 1 has gradient norm 1 everywhere
    a = np.zeros((1, 1, 28, 28), np.float32)
    a[0, 0, 3, 4] = 1.0
    gp = gan.gradient_penalty(lambda x: (x * dalam.tensor(a)).sum((1, 2, 3)), dalam.randn(4, 1, 28, 28),
                              dalam.randn(4, 1, 28, 28), rng=np.random.default_rng(0))
    assert abs(gp.item()) < 1e-6


# ----------------------------------------------------------------- training
def _tiny_run(seed, loss="bce", steps=3, conditional=False):
    dalam.manual_seed(seed)
    if conditional:
        G, D = gan.ConditionalGenerator(8, ngf=2), gan.ConditionalDiscriminator(ndf=2)
    else:
        G, D = gan.DCGANGenerator(8, ngf=2), gan.DCGANDiscriminator(ndf=2, norm="layer" if loss != "bce" else "batch")
    tr = gan.GANTrainer(G, D, 8, loss=loss, label_smoothing=0.1, seed=seed, n_critic=2,
                        conditional=conditional, n_fixed=10)
    x = np.random.default_rng(0).uniform(-1, 1, (24, 1, 28, 28)).astype(np.float32)
    y = np.arange(24) % 10
    tr.fit(x, y if conditional else None, epochs=2, batch_size=8, max_steps=steps)
    return tr


def test_training_is_reproducible_with_a_seed():
    a, b, c = _tiny_run(1), _tiny_run(1), _tiny_run(2)
    assert a.history == b.history and len(a.history["d_loss"]) == 3
    assert a.history != c.history
    np.testing.assert_array_equal(a.sample().numpy(), b.sample().numpy())


def test_wgan_gp_and_conditional_steps_run_and_are_reproducible():
    a, b = _tiny_run(3, "wgan-gp", 2), _tiny_run(3, "wgan-gp", 2)
    assert a.history == b.history and np.isfinite(a.history["d_loss"]).all()
    c = _tiny_run(4, steps=2, conditional=True)
    assert np.isfinite(c.history["g_loss"]).all()
    d = _tiny_run(5, "wgan-gp", steps=1, conditional=True)  # penalty through the label embedding
    assert np.isfinite(d.history["d_loss"]).all()
    s = c.sample()
    assert tuple(s.shape) == (10, 1, 28, 28)


def test_generator_step_freezes_discriminator():
    dalam.manual_seed(0)
    G, D = gan.MLPGenerator(8, 16), gan.MLPDiscriminator(hidden=16)
    tr = gan.GANTrainer(G, D, 8)
    before = [p._data.copy() for p in D.parameters()]
    for p in D.parameters():
        p.grad = None
    g_before = [p._data.copy() for p in G.parameters()]
    tr.g_step(4)
    assert all(p.grad is None for p in D.parameters())  # frozen: no gradient reached D
    assert all(np.array_equal(a, p._data) for a, p in zip(before, D.parameters()))
    assert all(p.requires_grad for p in D.parameters())  # unfrozen afterwards
    assert any(not np.array_equal(a, p._data) for a, p in zip(g_before, G.parameters()))


def test_fixed_noise_gives_same_samples_and_interpolation_endpoints():
    dalam.manual_seed(0)
    tr = gan.GANTrainer(gan.MLPGenerator(8, 16), gan.MLPDiscriminator(hidden=16), 8, n_fixed=6)
    np.testing.assert_array_equal(tr.sample().numpy(), tr.sample().numpy())
    z0, z1 = np.random.default_rng(0).standard_normal(8), np.random.default_rng(1).standard_normal(8)
    for sph in (True, False):
        zs = gan.latent_interpolation(z0, z1, 5, spherical=sph).numpy()
        assert zs.shape == (5, 8) and zs.dtype == np.float32
        np.testing.assert_allclose(zs[0], z0, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(zs[-1], z1, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------- images
def test_save_image_grid(tmp_path):
    from dalam.utils import save_image_grid, make_image_grid
    imgs = dalam.rand(10, 1, 5, 4)
    g = make_image_grid(imgs, nrow=4, padding=1)
    assert g.shape == (3 * 6 + 1, 4 * 5 + 1, 1) and g.min() >= 0 and g.max() <= 1
    np.testing.assert_allclose(g[1:6, 1:5, 0], (imgs.numpy()[0, 0] - imgs.numpy().min())
                               / (imgs.numpy().max() - imgs.numpy().min()), rtol=1e-6)
    p = tmp_path / "grid.png"
    save_image_grid(imgs, str(p), nrow=4, padding=1, scale=2)
    from matplotlib import image as mpimg
    arr = mpimg.imread(str(p))
    assert arr.shape[:2] == (2 * 19, 2 * 21)
    with pytest.raises(ValueError, match="expected images"):
        make_image_grid(np.zeros((2, 2, 5, 5)))


# ----------------------------------------------------------------- Frechet distance
def test_frechet_distance_known_cases():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 6))
    s = a @ a.T + 0.1 * np.eye(6)
    mu = rng.standard_normal(6)
    assert abs(fid.frechet_distance(mu, s, mu, s)) < 1e-9
    assert abs(fid.frechet_distance(mu, s, mu + 2, s) - 4 * 6) < 1e-8
    d1, d2 = rng.random(6) + 0.1, rng.random(6) + 0.1  # commuting (diagonal): closed form
    want = float(((np.sqrt(d1) - np.sqrt(d2)) ** 2).sum())
    assert abs(fid.frechet_distance(np.zeros(6), np.diag(d1), np.zeros(6), np.diag(d2)) - want) < 1e-10
    # 1-D Gaussians: (m1-m2)^2 + (s1-s2)^2
    assert abs(fid.frechet_distance([1.0], [[4.0]], [0.0], [[9.0]]) - 2.0) < 1e-12
    # general case against tr sqrtm(s1 s2) from the eigenvalues of the (non-symmetric) product
    b = rng.standard_normal((6, 6))
    s2 = b @ b.T + 0.1 * np.eye(6)
    tr = np.sqrt(np.linalg.eigvals(s @ s2).real.clip(0)).sum()
    assert abs(fid.frechet_distance(mu, s, mu, s2) - (np.trace(s) + np.trace(s2) - 2 * tr)) < 1e-8
    assert abs(fid.frechet_distance(mu, s, mu, s2) - fid.frechet_distance(mu, s2, mu, s)) < 1e-8
    r = fid.sqrtm_psd(s)
    np.testing.assert_allclose(r @ r, s, atol=1e-10)
    with pytest.raises(ValueError, match="expected means"):
        fid.frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(2))


def test_mnist_fid_and_classifier_report_with_a_given_model(tmp_path):
    from dalam.models import LeNet5
    model = LeNet5().eval()
    rng = np.random.default_rng(0)
    a = rng.random((200, 1, 28, 28)).astype(np.float32)
    b = np.clip(a + 0.5, 0, 1)
    assert abs(fid.mnist_fid(a, a, model)) < 1e-6
    assert fid.mnist_fid(a, b, model) > 1e-3
    rep = fid.classifier_report(a, model)
    assert abs(rep["histogram"].sum() - 1) < 1e-9 and 0.1 <= rep["confidence"] <= 1
    assert rep["predictions"].shape == (200,)
    # weights round-trip through the cache path (safetensors)
    p = tmp_path / "clf.safetensors"
    dalam.save(model.state_dict(), str(p))
    m2 = fid.load_mnist_classifier(str(p))
    np.testing.assert_array_equal(fid.mnist_features(a[:5], m2)[0], fid.mnist_features(a[:5], model)[0])
    with pytest.raises(FileNotFoundError, match="train them once"):
        fid.load_mnist_classifier(str(tmp_path / "missing.safetensors"))
    with pytest.raises(ValueError, match=r"expected images \(N, 1, 28, 28\)"):
        fid.mnist_features(np.zeros((2, 3, 28, 28)), model)
