"""Autoencoders for 28x28 digits: a dense one and a convolutional one.

Both map images in [0, 1] to a ``latent_dim`` code and back to logits (apply
``sigmoid`` for pixels); train with ``binary_cross_entropy_with_logits`` (or
MSE on ``sigmoid`` outputs).  ``encode``/``decode`` are exposed for latent
interpolation and for using the code as features."""
import numpy as np

from .. import nn


class Autoencoder(nn.Module):
    """Dense: 784 -> hidden -> latent -> hidden -> 784 (ReLU)."""

    def __init__(self, latent_dim=32, hidden=256, img_shape=(1, 28, 28)):
        super().__init__()
        self.img_shape = tuple(img_shape)
        d = int(np.prod(img_shape))
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(d, hidden), nn.ReLU(),
                                     nn.Linear(hidden, latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, d))

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z).reshape((z.shape[0],) + self.img_shape)

    def forward(self, x):
        return self.decode(self.encode(x))


class ConvAutoencoder(nn.Module):
    """Conv: 28 -> 14 -> 7 (stride-2 convs) -> latent; ConvTranspose back 7 -> 14 -> 28."""

    def __init__(self, latent_dim=16, channels=1, width=16):
        super().__init__()
        w2 = width * 2
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, width, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(width, w2, 3, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(w2 * 7 * 7, latent_dim))
        self.fc = nn.Linear(latent_dim, w2 * 7 * 7)
        self.decoder = nn.Sequential(
            nn.ReLU(), nn.Unflatten(1, (w2, 7, 7)),
            nn.ConvTranspose2d(w2, width, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1))

    def encode(self, x):
        if x.ndim != 4 or tuple(x.shape[2:]) != (28, 28):
            raise RuntimeError(f"ConvAutoencoder: expected images (N, C, 28, 28), got shape "
                               f"{tuple(x.shape)}")
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(self.fc(z))

    def forward(self, x):
        return self.decode(self.encode(x))
