"""Variational autoencoder (Kingma & Welling 2013) for 28x28 digits.

Encoder q(z|x) = N(mu, diag(exp(logvar))), decoder p(x|z) Bernoulli with
logits; ``forward`` samples z = mu + exp(logvar/2) * eps (the
reparameterisation trick: eps carries the randomness, so gradients flow to
mu and logvar).  ``vae_loss`` is the negative ELBO in nats:
sum over pixels of BCE(logits, x) + KL(q(z|x) || N(0, I)), averaged over the
batch.  ``latent_dim=2`` gives a latent space one can plot."""
import numpy as np

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor


class VAE(nn.Module):
    def __init__(self, latent_dim=16, hidden=400, img_shape=(1, 28, 28)):
        super().__init__()
        self.latent_dim, self.img_shape = latent_dim, tuple(img_shape)
        d = int(np.prod(img_shape))
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(d, hidden), nn.ReLU())
        self.fc_mu = nn.Linear(hidden, latent_dim)
        self.fc_logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, d))

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        """Pixel logits (N, C, H, W); ``sigmoid`` gives Bernoulli means."""
        return self.decoder(z).reshape((z.shape[0],) + self.img_shape)

    def reparameterize(self, mu, logvar, rng=None):
        """z = mu + sigma * eps with eps ~ N(0, I) drawn outside the graph."""
        from ..backend import rng as _global_rng
        g = rng if rng is not None else _global_rng()
        eps = Tensor._make(g.standard_normal(mu.shape).astype(mu.dtype), False, None)
        return mu + (logvar * 0.5).exp() * eps

    def forward(self, x, rng=None):
        """(logits, mu, logvar); in eval mode z = mu (no sampling)."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, rng) if self.training else mu
        return self.decode(z), mu, logvar

    def sample(self, n, rng=None):
        from ..backend import rng as _global_rng
        g = rng if rng is not None else _global_rng()
        z = Tensor._make(g.standard_normal((n, self.latent_dim)).astype(np.float32), False, None)
        return self.decode(z).sigmoid()


def kl_divergence(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per sample, summed over latent dims (nats)."""
    return ((mu * mu + logvar.exp() - logvar - 1) * 0.5).sum(1)


def vae_loss(logits, x, mu, logvar, beta=1.0):
    """Negative ELBO per image (nats), averaged over the batch:
    (reconstruction BCE summed over pixels, KL) -> (total, recon, kl) as Tensors."""
    n = x.shape[0]
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = kl_divergence(mu, logvar).mean()
    return rec + kl * beta, rec, kl
