"""Data loading with PyTorch's ``torch.utils.data`` API: datasets, samplers,
``default_collate``, ``DataLoader`` (fast whole-batch indexing, optional
prefetch thread) and ``transforms``."""
from .dataset import (Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset,  # noqa: F401
                      random_split)
from .sampler import (Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler,  # noqa: F401
                      WeightedRandomSampler, BatchSampler)
from .collate import default_collate  # noqa: F401
from .dataloader import DataLoader  # noqa: F401
from ._worker import get_worker_info  # noqa: F401,E402
from .distributed import DistributedSampler  # noqa: F401
from . import distributed  # noqa: F401
from . import transforms  # noqa: F401
from .episodes import EpisodeSampler, split_episode  # noqa: F401
