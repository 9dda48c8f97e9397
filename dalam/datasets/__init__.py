"""Datasets: files found under root / $DALAM_DATA / ~/.cache/dalam, downloaded
and checksummed when missing."""
from .shakespeare import TinyShakespeare  # noqa: F401
from .sst2 import SST2  # noqa: F401
from .mnist1d import MNIST1D  # noqa: F401
from .mnist import MNIST, FashionMNIST, mnist_subset  # noqa: F401
from ._idx import CorruptFileError, read_idx  # noqa: F401
from .fsdd import FSDD  # noqa: F401
from .movielens import MovieLens100K  # noqa: F401
from .omniglot import Omniglot, OmniglotRuns, OmniglotFormatError  # noqa: F401
