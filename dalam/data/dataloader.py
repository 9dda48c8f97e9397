"""``DataLoader``: batches from a dataset in sampler order, PyTorch's API.

Two ways to make a batch:
- fast path: the dataset (``TensorDataset``, MNIST, a ``Subset`` of them) has
  ``_get_batch(indices)`` and the default collate is used, so a whole batch is
  one fancy index per array;
- general path: ``collate_fn([dataset[i] for i in batch])``.

``prefetch=True`` (or ``num_workers > 0``; there are no worker processes)
makes batches in a background thread, up to ``prefetch_factor`` ahead, while
the model trains on the current one.  The order and the content of batches do
not depend on prefetching: the epoch's indices are fixed before the thread
starts and random transforms draw from a per-batch generator (``_worker``).
"""
import queue
import threading

import numpy as np

from . import _worker
from .collate import default_collate
from .dataset import IterableDataset, batch_getter
from .sampler import BatchSampler, RandomSampler, SequentialSampler

_DONE = object()


class _Raised:
    def __init__(self, exc):
        self.exc = exc


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Arguments as PyTorch's: ``batch_size`` (None: no batching), ``shuffle``
    (a new order each epoch, from ``generator`` -- a ``dalam.Generator`` --
    or dalam's global RNG), ``sampler`` / ``batch_sampler``, ``collate_fn``,
    ``drop_last``.  ``prefetch`` / ``num_workers`` / ``prefetch_factor``:
    see the module docstring; ``pin_memory``, ``timeout``,
    ``persistent_workers`` are accepted and ignored (CPU only, one process).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, generator=None, *, prefetch=False, prefetch_factor=None,
                 persistent_workers=False):
        if num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch = bool(prefetch) or num_workers > 0
        self.prefetch_factor = 2 if prefetch_factor is None else int(prefetch_factor)
        if self.prefetch_factor < 1:
            raise ValueError("DataLoader: prefetch_factor must be at least 1")
        self.generator = generator
        self.worker_init_fn = worker_init_fn
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler and "
                                 "batch_sampler options")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if not self._iterable:
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=generator) if shuffle
                           else SequentialSampler(dataset))
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else (lambda x: x)
        self.collate_fn = collate_fn

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    # ---------------------------------------------------------------- one epoch
    def _base_seed(self):
        g = self.generator
        r = getattr(g, "rng", g) if g is not None else None
        if r is None:
            from ..backend import rng
            r = rng()
        return int(r.integers(0, 2 ** 63 - 1))

    def _index_plan(self):
        """The epoch's work: a list of index arrays (or ints without batching)."""
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler._batches()
        if self.batch_sampler is not None:
            return [np.asarray(list(b), dtype=np.int64) for b in self.batch_sampler]
        return list(self.sampler)

    def _map_jobs(self):
        plan = self._index_plan()
        get = batch_getter(self.dataset) if (self._auto_collation and self._default_collate) else None
        ds, collate = self.dataset, self.collate_fn

        def make(idx):
            if get is not None:
                out = get(idx)
                return list(out) if isinstance(out, tuple) else out
            if self._auto_collation:
                return collate([ds[int(i)] for i in idx])
            return collate(ds[idx])
        return plan, make

    def _iterable_batches(self):
        """Batches of an IterableDataset (made lazily, in order)."""
        it = iter(self.dataset)
        if self.batch_size is None:
            for s in it:
                yield self.collate_fn(s)
            return
        batch = []
        for s in it:
            batch.append(s)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def _produce(self, base, jobs=None):
        """(batch number, batch) in order, each made inside its seeded context."""
        if self.worker_init_fn is not None:
            self.worker_init_fn(0)
        if self._iterable:
            gen = self._iterable_batches()
            i = 0
            while True:
                with _worker.batch_seed(base, i):
                    b = next(gen, _DONE)
                if b is _DONE:
                    return
                yield b
                i += 1
        else:
            plan, make = jobs
            for i, idx in enumerate(plan):
                with _worker.batch_seed(base, i):
                    b = make(idx)
                yield b

    def __iter__(self):
        base = self._base_seed()
        # the sampler's draws happen here, in the caller's thread, before any prefetching
        jobs = None if self._iterable else self._map_jobs()
        if not self.prefetch:
            return self._produce(base, jobs)
        return self._prefetched(self._produce(base, jobs))

    def _prefetched(self, source):
        q = queue.Queue(maxsize=self.prefetch_factor)
        stop = threading.Event()

        def put(item):
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def run():
            try:
                for b in source:
                    if stop.is_set() or not put(b):
                        return
                put(_DONE)
            except BaseException as e:  # handed to the consumer, raised there
                put(_Raised(e))

        t = threading.Thread(target=run, name="dalam-prefetch", daemon=True)
        t.start()
        try:
            while True:
                item = q.get()
                if item is _DONE:
                    break
                if isinstance(item, _Raised):
                    raise item.exc
                yield item
        finally:
            stop.set()
            try:  # free the producer if it waits on a full queue
                while True:
                    q.get_nowait()
            except queue.Empty:
                pass
            t.join(timeout=5)

    def __repr__(self):
        return (f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"batches={len(self) if hasattr(self.dataset, '__len__') else '?'}, "
                f"prefetch={self.prefetch})")
