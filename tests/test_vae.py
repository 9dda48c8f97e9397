"""VAE (reparameterisation, KL, negative ELBO) and the autoencoders."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dalam
from dalam.models.autoencoder import Autoencoder, ConvAutoencoder
from dalam.models.vae import VAE, kl_divergence, vae_loss

from conftest import assert_close


def test_kl_matches_torch_distributions():
    rng = np.random.default_rng(0)
    mu, lv = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    got = kl_divergence(dalam.tensor(mu), dalam.tensor(lv))
    q = torch.distributions.Normal(torch.tensor(mu), torch.tensor(np.exp(0.5 * lv)))
    p = torch.distributions.Normal(torch.zeros(5, 3, dtype=torch.float64), torch.ones(5, 3, dtype=torch.float64))
    assert_close(got, torch.distributions.kl_divergence(q, p).sum(1), rtol=1e-10, atol=1e-12)


def test_vae_loss_is_negative_elbo_and_matches_torch():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    x = rng.random((4, 1, 28, 28)).astype(np.float32)
    mu, lv = rng.standard_normal((4, 2)).astype(np.float32), rng.standard_normal((4, 2)).astype(np.float32)
    tot, rec, kl = vae_loss(dalam.tensor(logits), dalam.tensor(x), dalam.tensor(mu), dalam.tensor(lv))
    trec = TF.binary_cross_entropy_with_logits(torch.tensor(logits), torch.tensor(x), reduction="sum") / 4
    tkl = (-0.5 * (1 + torch.tensor(lv) - torch.tensor(mu) ** 2 - torch.tensor(lv).exp()).sum(1)).mean()
    assert tot.dtype == np.float32
    assert_close(rec, trec, rtol=1e-5)
    assert_close(kl, tkl, rtol=1e-5)
    assert_close(tot, trec + tkl, rtol=1e-5)


def test_reparameterisation_trick_sample_and_gradients():
    dalam.manual_seed(0)
    model = VAE(latent_dim=3, hidden=8)
    mu = dalam.tensor(np.array([[1.0, -2.0, 0.5]], np.float32), requires_grad=True)
    lv = dalam.tensor(np.array([[0.0, 1.0, -1.0]], np.float32), requires_grad=True)
    z = model.reparameterize(mu, lv, rng=np.random.default_rng(7))
    eps = np.random.default_rng(7).standard_normal((1, 3)).astype(np.float32)
    np.testing.assert_allclose(z.detach().numpy(), mu._data + np.exp(0.5 * lv._data) * eps, rtol=1e-6)
    z.sum().backward()
    np.testing.assert_allclose(mu.grad.numpy(), np.ones((1, 3)))  # dz/dmu = 1
    np.testing.assert_allclose(lv.grad.numpy(), 0.5 * np.exp(0.5 * lv._data) * eps, rtol=1e-6)


def test_vae_forward_train_samples_eval_is_deterministic():
    dalam.manual_seed(0)
    model = VAE(latent_dim=4, hidden=16)
    x = dalam.rand(3, 1, 28, 28)
    a = model(x, rng=np.random.default_rng(0))[0].detach().numpy()
    b = model(x, rng=np.random.default_rng(1))[0].detach().numpy()
    assert not np.allclose(a, b)
    model.eval()
    c, mu, lv = model(x)
    assert tuple(c.shape) == (3, 1, 28, 28) and tuple(mu.shape) == (3, 4) == tuple(lv.shape)
    np.testing.assert_array_equal(c.detach().numpy(), model(x)[0].detach().numpy())
    with dalam.no_grad():
        s = model.sample(5, np.random.default_rng(0))
    assert tuple(s.shape) == (5, 1, 28, 28) and 0 <= s.numpy().min() and s.numpy().max() <= 1


def _train(model, step_loss, steps=30):
    x, _ = dalam.datasets.MNIST(subset=True, train=True).as_tensors(normalize=False)
    x = x.numpy()[:256]
    opt = dalam.optim.Adam(model.parameters(), lr=2e-3)
    rng = np.random.default_rng(0)
    losses = []
    for i in range(steps):
        xb = dalam.tensor(x[rng.integers(0, len(x), 64)])
        loss = step_loss(model, xb, rng)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_vae_training_lowers_negative_elbo_and_is_reproducible():
    def step(m, xb, rng):
        logits, mu, lv = m(xb, rng=rng)
        return vae_loss(logits, xb, mu, lv)[0]
    runs = []
    for _ in range(2):
        dalam.manual_seed(3)
        runs.append(_train(VAE(latent_dim=2, hidden=64), step))
    assert runs[0] == runs[1]
    assert np.mean(runs[0][-5:]) < 0.6 * np.mean(runs[0][:3])


@pytest.mark.parametrize("cls", [Autoencoder, ConvAutoencoder])
def test_autoencoders_shapes_and_training(cls):
    dalam.manual_seed(0)
    model = cls(latent_dim=8)
    x = dalam.rand(2, 1, 28, 28)
    assert tuple(model(x).shape) == (2, 1, 28, 28)
    assert tuple(model.encode(x).shape) == (2, 8)

    def step(m, xb, rng):
        return dalam.nn.functional.binary_cross_entropy_with_logits(m(xb), xb, reduction="sum") / 64
    losses = _train(model, step, steps=20)
    assert np.mean(losses[-3:]) < 0.8 * losses[0]


def test_conv_autoencoder_rejects_wrong_shape():
    with pytest.raises(RuntimeError, match=r"ConvAutoencoder: expected images \(N, C, 28, 28\)"):
        ConvAutoencoder().encode(dalam.zeros(2, 1, 32, 32))
