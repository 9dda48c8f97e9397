"""The part of torchvision that ``dalam run`` answers: MNIST and Fashion-MNIST
(:mod:`.datasets`), the common transforms (:mod:`.transforms`, dalam's own) and
``make_grid``/``save_image`` (:mod:`.utils`)."""
from . import datasets, transforms, utils  # noqa: F401

__version__ = "0.28.0+dalam"
