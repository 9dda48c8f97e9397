"""``torchvision.transforms``: dalam's transforms (same names and semantics, on
NumPy images and Tensors); the names listed in
:data:`dalam.compat.tables.TORCHVISION` are all there is."""
from ...data.transforms import (Compose, ToTensor, Normalize, Lambda, Pad, CenterCrop,  # noqa: F401
                                RandomCrop, RandomHorizontalFlip, RandomVerticalFlip,
                                RandomAffine, RandomRotation)
