"""The few-shot literature's standard embedding network ("conv4", Vinyals et
al. 2016; Snell et al. 2017; Finn et al. 2017): four blocks of 3x3 conv,
batch norm, ReLU and 2x2 max pooling; a 28x28 image becomes ``hidden``
features (28 -> 14 -> 7 -> 3 -> 1)."""
import numpy as np

from .. import nn
from ..tensor import Tensor


class ConvBlock(nn.Sequential):
    def __init__(self, in_channels, out_channels, track_running_stats=True):
        super().__init__(nn.Conv2d(in_channels, out_channels, 3, padding=1),
                         nn.BatchNorm2d(out_channels, track_running_stats=track_running_stats),
                         nn.ReLU(), nn.MaxPool2d(2))


def conv4(in_channels=1, hidden=64, track_running_stats=True):
    """Image (N, C, 28, 28) -> embedding (N, hidden).  ``track_running_stats=
    False`` makes batch norm always normalise with the batch's statistics
    (what MAML does, as Finn et al.'s code)."""
    return nn.Sequential(ConvBlock(in_channels, hidden, track_running_stats),
                         ConvBlock(hidden, hidden, track_running_stats),
                         ConvBlock(hidden, hidden, track_running_stats),
                         ConvBlock(hidden, hidden, track_running_stats), nn.Flatten())


def to_input(images):
    """uint8 images (N, S, S) (ink high) -> float32 tensor (N, 1, S, S) in [0, 1].
    Tensors and float arrays of shape (N, 1, S, S) pass through."""
    if isinstance(images, Tensor):
        return images if images.ndim == 4 else images.unsqueeze(1)
    a = np.asarray(images)
    if a.dtype == np.uint8:
        a = np.divide(a, np.float32(255), dtype=np.float32)
    a = a.astype(np.float32, copy=False)
    if a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4:
        raise ValueError(f"fewshot.to_input: expected images (N, S, S) or (N, 1, S, S), got shape {a.shape}")
    return Tensor._make(np.ascontiguousarray(a), False, None)


def random_shift(images, max_shift, rng):
    """Shift each uint8 image (N, S, S) by up to ``max_shift`` pixels in x and
    y (zero fill): cheap augmentation against the minimal sets' few drawers."""
    if max_shift <= 0:
        return images
    n, h, w = images.shape
    m = max_shift
    padded = np.zeros((n, h + 2 * m, w + 2 * m), images.dtype)
    padded[:, m:m + h, m:m + w] = images
    dy, dx = rng.integers(0, 2 * m + 1, (2, n))
    rows = dy[:, None] + np.arange(h)
    cols = dx[:, None] + np.arange(w)
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
