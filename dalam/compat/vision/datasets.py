"""``torchvision.datasets.MNIST`` / ``FashionMNIST`` with torchvision's signature,
read by :mod:`dalam.datasets` (IDX files from ``root``, ``root/MNIST/raw``...).

One difference: an untransformed sample is a uint8 NumPy array (28, 28), not a
PIL image; ``transforms.ToTensor()`` gives the same tensor either way.
``.data`` and ``.targets`` are tensors as in torchvision."""
import numpy as np

from ... import datasets as _ds
from ...tensor import Tensor


class _TorchvisionStyle:
    """torchvision's constructor (root first, ``download=False``) and tensor attributes."""

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root=root, train=train, transform=transform,
                         target_transform=target_transform, download=download)

    @property
    def data(self):
        return Tensor._make(self._images, False, None)

    @data.setter
    def data(self, value):
        self._images = value.numpy() if isinstance(value, Tensor) else np.asarray(value)

    @property
    def targets(self):
        return Tensor._make(self._labels, False, None)

    @targets.setter
    def targets(self, value):
        self._labels = value.numpy() if isinstance(value, Tensor) else np.asarray(value)

    def _arrays(self):  # the loading, indexing and batching are dalam.datasets.MNIST's
        return self._images, self._labels


class MNIST(_TorchvisionStyle, _ds.MNIST):
    __doc__ = _ds.MNIST.__doc__


class FashionMNIST(_TorchvisionStyle, _ds.FashionMNIST):
    __doc__ = _ds.FashionMNIST.__doc__
