"""Recommender models (MovieLens-style user x item data), each an nn.Module with
PyTorch-style state dicts: biased MF (mf.py), GMF/MLP/NeuMF (ncf.py), item
AutoRec (autorec.py), a feature two-tower hybrid (two_tower.py) and a
SASRec-style sequence model (sasrec.py)."""
from .mf import BiasedMF  # noqa: F401
from .ncf import GMF, MLPRec, NeuMF  # noqa: F401
from .autorec import AutoRec  # noqa: F401
from .two_tower import TwoTower  # noqa: F401
from .sasrec import SASRec  # noqa: F401
