"""Samplers: the order in which a DataLoader visits indices.

Each sampler can hand out its epoch's indices as one int64 array
(``_index_array()``), so ``BatchSampler`` slices batches out of it without a
Python loop per index; iterating a sampler yields Python ints as in PyTorch.
"""
import numpy as np


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and usually ``__len__``."""

    def __iter__(self):
        arr = self._index_array()
        return iter(arr.tolist())

    def _index_array(self):
        raise TypeError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random permutation each epoch (or ``num_samples`` draws with
    replacement).  Without a ``generator`` a seed is drawn from dalam's global
    RNG at the start of each epoch, so ``dalam.manual_seed`` fixes the order."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got {num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _rng(self):
        if self.generator is not None:
            return getattr(self.generator, "rng", self.generator)
        from ..backend import rng
        return np.random.default_rng(int(rng().integers(0, 2 ** 63 - 1)))

    def _index_array(self):
        n = len(self.data_source)
        g = self._rng()
        if self.replacement:
            return g.integers(0, n, self.num_samples, dtype=np.int64)
        reps, rest = divmod(self.num_samples, n)
        parts = [g.permutation(n) for _ in range(reps)] + [g.permutation(n)[:rest]]
        return np.concatenate(parts).astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = np.asarray(indices, dtype=np.int64)
        self.generator = generator

    def _index_array(self):
        return self.indices[RandomSampler(self.indices, generator=self.generator)._index_array()]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        w = np.asarray(weights._data if hasattr(weights, "_data") else weights, dtype=np.float64)
        if w.ndim != 1 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be a 1-D sequence of non-negative, "
                             "finite numbers with a positive sum")
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def _index_array(self):
        g = RandomSampler([0], generator=self.generator)._rng()
        return g.choice(len(self.weights), self.num_samples, replace=self.replacement,
                        p=self.weights / self.weights.sum()).astype(np.int64)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of ``batch_size`` (the last one
    shorter unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last=False):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer, got {batch_size!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _batches(self):
        """The epoch's batches as int64 arrays (one array per batch)."""
        if hasattr(self.sampler, "_index_array") and type(self.sampler).__iter__ is Sampler.__iter__:
            idx = np.asarray(self.sampler._index_array(), dtype=np.int64)
            n = len(idx)
            stop = n - n % self.batch_size if self.drop_last else n
            return [idx[i:i + self.batch_size] for i in range(0, stop, self.batch_size)]
        out, batch = [], []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                out.append(np.asarray(batch, dtype=np.int64))
                batch = []
        if batch and not self.drop_last:
            out.append(np.asarray(batch, dtype=np.int64))
        return out

    def __iter__(self):
        for b in self._batches():
            yield b.tolist()

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
