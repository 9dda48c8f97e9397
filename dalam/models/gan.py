"""Generative adversarial networks for 28x28 digits, and the loop that trains them.

Models (PyTorch-style modules, state_dict keys as the same code in PyTorch):

* ``MLPGenerator`` / ``MLPDiscriminator``: the original fully connected GAN.
* ``DCGANGenerator`` / ``DCGANDiscriminator``: Radford et al. 2015 sized for
  MNIST: z -> ConvTranspose 7x7 -> 14x14 -> 28x28 with BatchNorm + ReLU and a
  tanh output; a strided-conv discriminator with LeakyReLU(0.2) and BatchNorm
  (``norm="batch"``), or ``norm="layer"``/``"none"`` for a WGAN-GP critic,
  where batch statistics would couple the samples the penalty treats apart.
* ``ConditionalGenerator`` / ``ConditionalDiscriminator``: the DCGAN pair
  conditioned on a digit label: the generator gets a label embedding next to
  z, the discriminator scores ``fc(h) + <embed(y), h>`` (a projection
  discriminator, Miyato & Koyama 2018), which conditions more strongly than
  concatenating labels.

Training (``GANTrainer``): alternating discriminator/generator Adam steps, the
discriminator frozen with ``requires_grad_(False)`` during the generator step,
one-sided label smoothing, the non-saturating loss (``loss="bce"``) or the
Wasserstein loss with gradient penalty (``loss="wgan-gp"``, which takes a
gradient of a gradient: ``autograd.grad(..., create_graph=True)``), a fixed
noise batch for progress images, and a seed that makes two runs identical.
Images are in [-1, 1] (tanh range).
"""
import math

import numpy as np

from .. import nn
from ..autograd import grad as _grad
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..tensor import Tensor


def _as_noise(z):
    return z.reshape(z.shape[0], z.shape[1], 1, 1)


# ----------------------------------------------------------------- MLP GAN
class MLPGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, C, H, W) in [-1, 1]."""

    def __init__(self, latent_dim=64, hidden=256, img_shape=(1, 28, 28)):
        super().__init__()
        self.latent_dim, self.img_shape = latent_dim, tuple(img_shape)
        out = int(np.prod(img_shape))
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden * 2), nn.LeakyReLU(0.2),
            nn.Linear(hidden * 2, out), nn.Tanh())

    def forward(self, z):
        return self.net(z).reshape((z.shape[0],) + self.img_shape)


class MLPDiscriminator(nn.Module):
    """images (N, C, H, W) -> one logit per image (N,)."""

    def __init__(self, img_shape=(1, 28, 28), hidden=256):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(int(np.prod(img_shape)), hidden * 2), nn.LeakyReLU(0.2),
            nn.Linear(hidden * 2, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).reshape(-1)


# ----------------------------------------------------------------- DCGAN
class DCGANGenerator(nn.Module):
    """z (N, latent_dim) -> (N, channels, 28, 28): ConvT 1->7 (k7), 7->14, 14->28 (k4 s2 p1)."""

    def __init__(self, latent_dim=64, ngf=32, channels=1, cond_dim=0):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim + cond_dim, ngf * 4, 7, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4), nn.ReLU(),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2), nn.ReLU(),
            nn.ConvTranspose2d(ngf * 2, channels, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(_as_noise(z))


def _norm(kind, ch, side):
    if kind == "batch":
        return nn.BatchNorm2d(ch)
    if kind == "layer":
        return nn.LayerNorm([ch, side, side])
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"DCGANDiscriminator: norm must be 'batch', 'layer' or 'none', got {kind!r}")


class DCGANDiscriminator(nn.Module):
    """(N, channels, 28, 28) -> logits (N,): conv 28->14->7 (k4 s2 p1), LeakyReLU(0.2),
    then a 7x7 conv to one score."""

    def __init__(self, ndf=32, channels=1, norm="batch"):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=norm != "batch"), _norm(norm, ndf * 2, 7),
            nn.LeakyReLU(0.2))
        self.head = nn.Conv2d(ndf * 2, 1, 7, 1, 0)

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[2:]) != (28, 28):
            raise RuntimeError(f"DCGANDiscriminator: expected images (N, C, 28, 28), got shape "
                               f"{tuple(x.shape)}")
        return self.head(self.features(x)).reshape(-1)


# ----------------------------------------------------------------- conditional
class ConditionalGenerator(nn.Module):
    """(z, labels) -> images: the DCGAN generator fed [z, embed(label)]."""

    def __init__(self, latent_dim=64, num_classes=10, ngf=32, channels=1, embed_dim=16):
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.body = DCGANGenerator(latent_dim, ngf, channels, cond_dim=embed_dim)

    def forward(self, z, labels):
        _check_labels(labels, z.shape[0], self.num_classes, "ConditionalGenerator")
        from ..ops.shape import cat
        return self.body(cat([z, self.embed(labels)], 1))


class ConditionalDiscriminator(nn.Module):
    """(images, labels) -> logits: DCGAN features h, score fc(h) + <embed(y), h>."""

    def __init__(self, num_classes=10, ndf=32, channels=1, norm="batch"):
        super().__init__()
        self.num_classes = num_classes
        d = DCGANDiscriminator(ndf, channels, norm)
        self.features = d.features
        feat = ndf * 2 * 7 * 7
        self.fc = nn.Linear(feat, 1)
        self.embed = nn.Embedding(num_classes, feat)
        # as the fc weights: N(0, 1) rows would make <embed(y), h> ~ sqrt(feat) times larger than
        # fc(h) at the start, and the discriminator's logits explode
        bound = 1.0 / math.sqrt(feat)
        nn.init.uniform_(self.embed.weight, -bound, bound)

    def forward(self, x, labels):
        _check_labels(labels, x.shape[0], self.num_classes, "ConditionalDiscriminator")
        h = self.features(x).flatten(1)
        return self.fc(h).reshape(-1) + (self.embed(labels) * h).sum(1)


def _check_labels(labels, n, k, who):
    if not isinstance(labels, Tensor) or labels.dtype.kind not in "iu" or tuple(labels.shape) != (n,):
        raise RuntimeError(f"{who}: expected integer labels of shape ({n},), got "
                           f"{getattr(labels, 'shape', type(labels))} "
                           f"({getattr(labels, 'dtype', '')}); pass dalam.tensor(y, dtype=int64)")


# ----------------------------------------------------------------- losses
def discriminator_loss(real_logits, fake_logits, real_label=1.0):
    """Standard GAN discriminator loss, BCE on logits; ``real_label`` < 1 is
    one-sided label smoothing (Salimans et al. 2016)."""
    real_t = Tensor._make(np.full(real_logits.shape, real_label, real_logits.dtype), False, None)
    fake_t = Tensor._make(np.zeros(fake_logits.shape, fake_logits.dtype), False, None)
    return (F.binary_cross_entropy_with_logits(real_logits, real_t)
            + F.binary_cross_entropy_with_logits(fake_logits, fake_t))


def generator_loss(fake_logits):
    """The non-saturating generator loss: -log D(G(z)) (BCE against 'real')."""
    ones = Tensor._make(np.ones(fake_logits.shape, fake_logits.dtype), False, None)
    return F.binary_cross_entropy_with_logits(fake_logits, ones)


def gradient_penalty(critic, real, fake, *cond, eps=None, rng=None):
    """WGAN-GP term E[(||d critic(x_hat) / d x_hat||_2 - 1)^2] on random
    interpolates x_hat of real and fake (Gulrajani et al. 2017). Built with
    create_graph=True so that its own gradient reaches the critic's weights."""
    n = real.shape[0]
    if eps is None:
        rng = rng if rng is not None else np.random.default_rng()
        eps = rng.random((n,) + (1,) * (real.ndim - 1)).astype(real.dtype)
    e = eps if isinstance(eps, Tensor) else Tensor._make(np.asarray(eps, real.dtype), False, None)
    xh = (real.detach() * e + fake.detach() * (1 - e)).detach().requires_grad_(True)
    out = critic(xh, *cond)
    (g,) = _grad(out.sum(), xh, create_graph=True)
    norm = ((g * g).reshape(n, -1).sum(1) + 1e-12).sqrt()
    return ((norm - 1) ** 2).mean()


# ----------------------------------------------------------------- sampling helpers
def sample_noise(n, latent_dim, rng, dtype=np.float32):
    """Standard normal noise (n, latent_dim) from a numpy Generator."""
    return Tensor._make(rng.standard_normal((n, latent_dim)).astype(dtype), False, None)


def latent_interpolation(z0, z1, steps=8, spherical=True):
    """``steps`` latent vectors from z0 to z1 (arrays or Tensors, shape (D,)):
    spherical (slerp, stays on the Gaussian shell) or linear."""
    a = np.asarray(z0.detach().numpy() if isinstance(z0, Tensor) else z0, np.float64).reshape(-1)
    b = np.asarray(z1.detach().numpy() if isinstance(z1, Tensor) else z1, np.float64).reshape(-1)
    t = np.linspace(0, 1, steps)[:, None]
    if spherical:
        cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12)
        om = math.acos(float(np.clip(cos, -1, 1)))
        if om > 1e-6:
            out = (np.sin((1 - t) * om) * a + np.sin(t * om) * b) / math.sin(om)
            return Tensor._make(out.astype(np.float32), False, None)
    return Tensor._make(((1 - t) * a + t * b).astype(np.float32), False, None)


# ----------------------------------------------------------------- training
class GANTrainer:
    """Alternating D/G training for unconditional (``G(z)``, ``D(x)``) or
    conditional (``G(z, y)``, ``D(x, y)``, pass ``conditional=True``) GANs.

    loss="bce": non-saturating loss, one D step and one G step per batch; the
    fake batch is generated once and fed to D detached.  loss="wgan-gp":
    ``n_critic`` critic steps per generator step, critic loss
    ``D(fake) - D(real) + gp_weight * GP``.  ``label_smoothing`` s sets real
    targets to 1 - s.  ``seed`` fixes shuffling, noise and fixed noise (model
    initialisation is seeded by the caller with ``dalam.manual_seed``).
    """

    def __init__(self, generator, discriminator, latent_dim, loss="bce", lr_g=2e-4, lr_d=2e-4,
                 betas=(0.5, 0.999), label_smoothing=0.0, n_critic=None, gp_weight=10.0,
                 conditional=False, num_classes=10, seed=0, n_fixed=64):
        from ..optim import Adam
        if loss not in ("bce", "wgan-gp"):
            raise ValueError(f"GANTrainer: loss must be 'bce' or 'wgan-gp', got {loss!r}")
        self.G, self.D, self.latent_dim, self.loss = generator, discriminator, latent_dim, loss
        self.real_label = 1.0 - float(label_smoothing)
        self.n_critic = n_critic if n_critic is not None else (5 if loss == "wgan-gp" else 1)
        self.gp_weight, self.conditional, self.num_classes = gp_weight, conditional, num_classes
        self.opt_g = Adam(generator.parameters(), lr=lr_g, betas=betas)
        self.opt_d = Adam(discriminator.parameters(), lr=lr_d, betas=betas)
        self.rng = np.random.default_rng(seed)
        self.fixed_noise = sample_noise(n_fixed, latent_dim, np.random.default_rng(seed + 1))
        self.fixed_labels = Tensor._make(np.arange(n_fixed) % num_classes, False, None)
        self.history = {"d_loss": [], "g_loss": []}
        self.steps = 0

    # -- pieces
    def _cond(self, labels):
        return (labels,) if self.conditional else ()

    def _fake_labels(self, n):
        if not self.conditional:
            return None
        return Tensor._make(self.rng.integers(0, self.num_classes, n), False, None)

    def _generate(self, n, labels):
        z = sample_noise(n, self.latent_dim, self.rng)
        return self.G(z, *self._cond(labels))

    def d_step(self, real, labels=None, fake=None, fake_labels=None):
        """One discriminator/critic update; returns its loss (float)."""
        n = real.shape[0]
        self.D.requires_grad_(True)
        if fake is None:
            fake_labels = self._fake_labels(n)
            with no_grad():
                fake = self._generate(n, fake_labels)
        self.opt_d.zero_grad()
        real_out = self.D(real, *self._cond(labels))
        fake_out = self.D(fake.detach(), *self._cond(fake_labels))
        if self.loss == "bce":
            loss = discriminator_loss(real_out, fake_out, self.real_label)
        else:
            eps = self.rng.random((n,) + (1,) * (real.ndim - 1)).astype(real.dtype)
            # conditional critics: interpolates keep the real labels
            gp = gradient_penalty(self.D, real, fake, *self._cond(labels), eps=eps)
            loss = fake_out.mean() - real_out.mean() + gp * self.gp_weight
        loss.backward()
        self.opt_d.step()
        return float(loss.item())

    def g_step(self, n, fake=None, fake_labels=None):
        """One generator update with D frozen; returns its loss (float)."""
        self.D.requires_grad_(False)  # D's weights get no gradient (and no buffers to zero)
        self.opt_g.zero_grad()
        if fake is None:
            fake_labels = self._fake_labels(n)
            fake = self._generate(n, fake_labels)
        out = self.D(fake, *self._cond(fake_labels))
        loss = generator_loss(out) if self.loss == "bce" else -out.mean()
        loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        return float(loss.item())

    def train_step(self, real, labels=None):
        """One batch: D step(s) then a G step; appends both losses to history."""
        self.G.train()
        self.D.train()
        n = real.shape[0]
        if self.loss == "bce":
            fl = self._fake_labels(n)
            fake = self._generate(n, fl)  # with graph: reused by the G step
            d = self.d_step(real, labels, fake=fake, fake_labels=fl)
            g = self.g_step(n, fake=fake, fake_labels=fl)
        else:
            for _ in range(self.n_critic):
                d = self.d_step(real, labels)
            g = self.g_step(n)
        self.history["d_loss"].append(d)
        self.history["g_loss"].append(g)
        self.steps += 1
        return d, g

    def fit(self, images, labels=None, epochs=1, batch_size=64, max_steps=None, on_epoch_end=None,
            log_every=0, log=print):
        """Train on arrays ``images`` (N, C, H, W) in [-1, 1] (and int ``labels``);
        ``on_epoch_end(trainer, epoch)`` runs after each epoch (e.g. to save samples)."""
        images = images.detach().numpy() if isinstance(images, Tensor) else np.asarray(images)
        if labels is not None:
            labels = labels.detach().numpy() if isinstance(labels, Tensor) else np.asarray(labels)
        if self.conditional and labels is None:
            raise ValueError("GANTrainer.fit: a conditional GAN needs labels")
        n = len(images)
        for epoch in range(epochs):
            order = self.rng.permutation(n)
            for i in range(0, n - batch_size + 1, batch_size):  # full batches only (BatchNorm)
                idx = order[i:i + batch_size]
                x = Tensor._make(images[idx], False, None)
                y = Tensor._make(labels[idx], False, None) if labels is not None else None
                d, g = self.train_step(x, y)
                if log_every and self.steps % log_every == 0:
                    log(f"epoch {epoch + 1} step {self.steps}: d_loss {d:.4f} g_loss {g:.4f}")
                if max_steps is not None and self.steps >= max_steps:
                    break
            if on_epoch_end is not None:
                on_epoch_end(self, epoch)
            if max_steps is not None and self.steps >= max_steps:
                break
        return self.history

    def sample(self, n=None, labels=None, noise=None):
        """Images from the generator in eval mode: from ``noise`` (default the
        fixed noise, so progress images are comparable across epochs)."""
        z = noise if noise is not None else self.fixed_noise
        if n is not None and noise is None:
            z = sample_noise(n, self.latent_dim, self.rng)
        if self.conditional and labels is None:
            labels = Tensor._make(np.arange(z.shape[0]) % self.num_classes, False, None)
        self.G.eval()
        with no_grad():
            out = self.G(z, *self._cond(labels))
        self.G.train()
        return out


def generate(generator, n, latent_dim, rng=None, labels=None, batch_size=500):
    """``n`` samples (numpy, (n, C, H, W)) from a generator in eval mode, in batches."""
    rng = rng if rng is not None else np.random.default_rng(0)
    was = generator.training
    generator.eval()
    out = []
    with no_grad():
        for i in range(0, n, batch_size):
            z = sample_noise(min(batch_size, n - i), latent_dim, rng)
            if labels is not None:
                y = Tensor._make(np.asarray(labels[i:i + batch_size], np.int64), False, None)
                out.append(generator(z, y).numpy())
            else:
                out.append(generator(z).numpy())
    generator.train(was)
    return np.concatenate(out)
