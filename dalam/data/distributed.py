"""``DistributedSampler``: each rank visits its own share of the dataset.

As ``torch.utils.data.distributed.DistributedSampler``: every rank draws the
same permutation (seeded by ``seed + epoch``, so call ``set_epoch(epoch)`` at
the start of each epoch; ``fit`` does it for you), pads it by repeating its
first indices until it divides evenly (or, with ``drop_last``, cuts the tail),
and takes every ``num_replicas``-th index from position ``rank``.  So at
batch t, the ranks' batches together are exactly positions
``t*N*B .. (t+1)*N*B`` of that permutation: one process with batch N*B over
the same permutation sees the same samples.
"""
import math

import numpy as np

from .sampler import Sampler


class DistributedSampler(Sampler):
    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: no process group; call "
                                   "dalam.distributed.init_process_group() first, or pass num_replicas= "
                                   "and rank=")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, rank
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % num_replicas:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        """Reshuffle: the permutation depends on ``seed + epoch``, the same on every rank."""
        self.epoch = int(epoch)

    def _index_array(self):
        n = len(self.dataset)
        if self.shuffle:
            idx = np.random.default_rng(self.seed + self.epoch).permutation(n).astype(np.int64)
        else:
            idx = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                reps = math.ceil(pad / n)
                idx = np.concatenate([idx] + [idx] * reps)[:self.total_size]
        else:
            idx = idx[:self.total_size]
        return idx[self.rank:self.total_size:self.num_replicas]

    def __len__(self):
        return self.num_samples
