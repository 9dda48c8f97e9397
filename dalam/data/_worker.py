"""The random stream that random transforms draw from.

Inside a DataLoader, each batch gets its own generator seeded by
``(epoch base seed, batch number)``: the numbers a batch's transforms see are
then the same whether batches are made in the main thread or ahead of time in
the prefetch thread, and the model's own random ops (dropout) never interleave
with them.  Outside a DataLoader, transforms draw from dalam's global RNG.
"""
import threading

import numpy as np

_local = threading.local()


class batch_seed:
    """Context: transforms called inside draw from the generator of ``(base, index)``."""

    def __init__(self, base, index):
        self.key = (int(base), int(index))

    def __enter__(self):
        self.prev = getattr(_local, "state", None)
        _local.state = [self.key, None]
        return self

    def __exit__(self, *exc):
        _local.state = self.prev
        return False


def rng():
    """The numpy Generator for the current batch (made on first use), else dalam's global one."""
    state = getattr(_local, "state", None)
    if state is None:
        from ..backend import rng as global_rng
        return global_rng()
    if state[1] is None:
        state[1] = np.random.default_rng(list(state[0]))
    return state[1]


def get_worker_info():
    """``torch.utils.data.get_worker_info``: None, as in PyTorch's main process.
    dalam's DataLoader never starts worker processes (``num_workers > 0`` is one
    prefetch thread), so an IterableDataset sees the whole stream once."""
    return None
