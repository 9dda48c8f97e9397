"""MNIST and Fashion-MNIST from the original IDX ``.gz`` files.

Where files are looked for:
- ``root`` given: only there (downloads go there);
- otherwise ``$DALAM_DATA``, then ``~/.cache/dalam``, then ``../shared/data``
  beside a development checkout; downloads go to ``$DALAM_DATA`` if set, else
  ``~/.cache/dalam``.
Inside each folder the files may sit in ``mnist/`` (``fashion-mnist/``), in
torchvision's ``MNIST/raw/`` (``FashionMNIST/raw/``), or directly; gzipped or
not.  Missing files are downloaded from the canonical mirrors and checked
against their MD5.  ``MNIST(subset=True)`` needs no files at all: it reads the
5,000/1,000-image balanced subset shipped inside the package.
"""
import os
import pathlib

import numpy as np

from ..data.dataset import Dataset
from ..data.transforms import is_batchable
from ..data.collate import default_collate
from ..tensor import Tensor
from ._idx import md5sum, read_idx
from ._fetch import fetch

_EMBEDDED = pathlib.Path(__file__).resolve().parent / "_embedded" / "mnist_subset.npz"
_DEV_DATA = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"


def _dirs(root):
    if root is not None:
        return [pathlib.Path(root).expanduser()]
    dirs = []
    env = os.environ.get("DALAM_DATA")
    if env:
        dirs.append(pathlib.Path(env).expanduser())
    dirs.append(pathlib.Path("~/.cache/dalam").expanduser())
    if _DEV_DATA.is_dir():
        dirs.append(_DEV_DATA)
    return dirs


class MNIST(Dataset):
    """The MNIST digits: ``data`` uint8 (N, 28, 28), ``targets`` int64 (N,).

    ``ds[i]`` is ``(image, label)``: the uint8 28x28 array (through
    ``transform``) and an int (through ``target_transform``), as torchvision's
    MNIST but with NumPy instead of PIL.  With a DataLoader, batches are made
    by one fancy index and transforms run batched when they can.
    ``as_tensors()`` gives the whole split as normalised float32 tensors.
    """

    folders = ("mnist", "MNIST/raw", "MNIST", "")
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
    resources = {
        "train": (("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                  ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432")),
        "test": (("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")),
    }
    # MD5s of the same files un-gzipped (torchvision's raw/ folder keeps both)
    raw_md5 = {"train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
               "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
               "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
               "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637"}
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]
    mean, std = 0.1307, 0.3081  # of the training images scaled to [0, 1]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=True,
                 subset=False, mirrors=None):
        self.root = root
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        if subset:
            self.data, self.targets = self._load_embedded()
        else:
            self.data, self.targets = self._load_files(root, download,
                                                       tuple(mirrors) if mirrors else self.mirrors)

    # ---------------------------------------------------------------- loading
    @property
    def split(self):
        return "train" if self.train else "test"

    def _load_embedded(self):
        if type(self) is not MNIST:
            raise ValueError(f"{type(self).__name__}: subset=True is only available for MNIST (the "
                             "package ships an MNIST subset only)")
        with np.load(_EMBEDDED, allow_pickle=False) as z:
            return z[f"x_{self.split}"], z[f"y_{self.split}"].astype(np.int64)

    def _find(self, root):
        names = [n for n, _ in self.resources[self.split]]
        for d in _dirs(root):
            for sub in self.folders:
                base = d / sub
                found = []
                for n in names:
                    gz, plain = base / n, base / n[:-3]
                    found.append(gz if gz.is_file() else plain if plain.is_file() else None)
                if all(found) and (sub or self._bare_files_match(found)):
                    return found
        return None

    def _bare_files_match(self, paths):
        """Files lying directly in a folder could be either dataset (same names):
        accept them only when the gzipped ones have this dataset's MD5s."""
        expected = dict(self.resources[self.split])
        return all(p.suffix != ".gz" or md5sum(p) == expected[p.name] for p in paths)

    def _load_files(self, root, download, mirrors):
        paths = self._find(root)
        if paths is None:
            if not download:
                where = ", ".join(str(d) for d in _dirs(root))
                raise FileNotFoundError(
                    f"{type(self).__name__}: {self.split} files not found under {where} (looked in "
                    f"{', '.join(s or '.' for s in self.folders)}); pass download=True, root=DIR or set "
                    "$DALAM_DATA")
            target = _dirs(root)[0] / self.folders[0]
            paths = []
            for name, md5 in self.resources[self.split]:
                dest = target / name
                if not dest.is_file():
                    fetch([m + name for m in mirrors], dest, md5)
                paths.append(dest)
        (img_name, img_md5), (lab_name, lab_md5) = self.resources[self.split]
        data = read_idx(paths[0], md5=self._md5_of(paths[0], img_md5), shape=(28, 28))
        targets = read_idx(paths[1], md5=self._md5_of(paths[1], lab_md5), shape=())
        if len(data) != len(targets):
            raise RuntimeError(f"{type(self).__name__}: {paths[0]} has {len(data)} images but {paths[1]} "
                               f"has {len(targets)} labels")
        if data.dtype != np.uint8 or targets.dtype != np.uint8:
            raise RuntimeError(f"{type(self).__name__}: expected uint8 IDX files, got {data.dtype} images "
                               f"and {targets.dtype} labels")
        return data, targets.astype(np.int64)

    def _md5_of(self, path, gz_md5):
        """The MD5 ``path`` must have: the canonical one for the .gz, or for the un-gzipped file."""
        return gz_md5 if path.suffix == ".gz" else self.raw_md5.get(path.name)

    # ---------------------------------------------------------------- access
    def _arrays(self):
        """(images, labels) as NumPy arrays; subclasses that store them elsewhere say where."""
        return self.data, self.targets

    def __len__(self):
        return len(self._arrays()[0])

    def __getitem__(self, index):
        images, labels = self._arrays()
        img, target = images[index], int(labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _get_batch(self, indices):
        """A collated batch for an index array: one fancy index, batched transforms."""
        if self.target_transform is not None or (self.transform is not None
                                                 and not is_batchable(self.transform)):
            return default_collate([self[int(i)] for i in indices])
        images, labels = self._arrays()
        imgs = images[indices]
        imgs = self.transform.batch(imgs) if self.transform is not None else imgs
        if not isinstance(imgs, Tensor):
            imgs = Tensor._make(np.asarray(imgs), False, None)
        return imgs, Tensor._make(labels[indices], False, None)

    def as_tensors(self, normalize=True, flatten=False):
        """The whole split at once: ``(x, y)``, x float32 (N, 1, 28, 28) (or
        (N, 784) with ``flatten``) scaled to [0, 1] and, with ``normalize``,
        standardised by the training mean/std; y int64 (N,)."""
        x = np.divide(self.data, np.float32(255), dtype=np.float32)
        if normalize:
            x -= np.float32(self.mean)
            x /= np.float32(self.std)
        x = x.reshape(len(x), -1) if flatten else x[:, None]
        return Tensor._make(x, False, None), Tensor._make(self.targets.copy(), False, None)

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def __repr__(self):
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n    Split: "
                f"{self.split}\n    Transform: {self.transform!r}")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same format and API as ``MNIST``."""

    folders = ("fashion-mnist", "FashionMNIST/raw", "FashionMNIST", "fashion_mnist", "")
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources = {
        "train": (("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                  ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe")),
        "test": (("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")),
    }
    raw_md5 = {"train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
               "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
               "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
               "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"}
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot"]
    mean, std = 0.2860, 0.3530


def mnist_subset(train=True, transform=None, target_transform=None):
    """The embedded balanced MNIST subset (5,000 train / 1,000 test images);
    needs no data directory or network."""
    return MNIST(train=train, transform=transform, target_transform=target_transform, subset=True)
