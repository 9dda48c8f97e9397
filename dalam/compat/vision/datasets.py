"""``torchvision.datasets.MNIST`` / ``FashionMNIST`` with torchvision's signature,
read by :mod:`dalam.datasets` (IDX files from ``root``, ``root/MNIST/raw``...).

One difference: an untransformed sample is a uint8 NumPy array (28, 28), not a
PIL image; ``transforms.ToTensor()`` gives the same tensor either way.
``.data`` and ``.targets`` are tensors as in torchvision."""
import numpy as np

from ... import datasets as _ds
from ...data.collate import default_collate
from ...data.transforms import is_batchable
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

    def __len__(self):
        return len(self._images)

    def __getitem__(self, index):
        img, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _get_batch(self, indices):
        if self.target_transform is not None or (self.transform is not None
                                                 and not is_batchable(self.transform)):
            return default_collate([self[int(i)] for i in indices])
        imgs = self._images[indices]
        imgs = self.transform.batch(imgs) if self.transform is not None else imgs
        if not isinstance(imgs, Tensor):
            imgs = Tensor._make(np.asarray(imgs), False, None)
        return imgs, Tensor._make(self._labels[indices], False, None)


class MNIST(_TorchvisionStyle, _ds.MNIST):
    __doc__ = _ds.MNIST.__doc__


class FashionMNIST(_TorchvisionStyle, _ds.FashionMNIST):
    __doc__ = _ds.FashionMNIST.__doc__
