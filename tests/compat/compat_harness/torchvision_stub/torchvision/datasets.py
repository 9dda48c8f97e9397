import gzip
import os

import numpy as np
import torch
from PIL import Image


def _idx(path):
    with (gzip.open(path) if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


class MNIST(torch.utils.data.Dataset):
    folder = "MNIST"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        raw = os.path.join(root, self.folder, "raw")
        pre = "train" if train else "t10k"
        self.data = torch.from_numpy(_idx(os.path.join(raw, f"{pre}-images-idx3-ubyte.gz")).copy())
        self.targets = torch.from_numpy(_idx(os.path.join(raw, f"{pre}-labels-idx1-ubyte.gz")).astype(np.int64))
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        img, target = Image.fromarray(self.data[i].numpy(), mode="L"), int(self.targets[i])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class FashionMNIST(MNIST):
    folder = "FashionMNIST"
