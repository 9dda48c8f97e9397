"""Datasets: the map-style ``Dataset`` protocol (``__getitem__`` + ``__len__``),
``IterableDataset``, and the wrappers ``TensorDataset``, ``Subset``,
``ConcatDataset`` and ``random_split``, with PyTorch's semantics.

Map-style datasets may also define ``_get_batch(indices)`` returning an
already-collated batch for an integer index array; ``DataLoader`` uses it (with
the default collate) to fetch a whole batch with one fancy index instead of
one Python call per item, which is what keeps the loader's cost small.
"""
import bisect
import math

import numpy as np

from ..tensor import Tensor


class Dataset:
    """Base of map-style datasets: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} must define __getitem__(index) (a Dataset subclass "
                        "returns one sample per index)")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__``; DataLoader batches
    what it yields (no sampler, no shuffle)."""

    def __iter__(self):
        raise TypeError(f"{type(self).__name__} must define __iter__ (an IterableDataset yields samples)")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support +; use itertools.chain")


def _rows(t, idx):
    """Rows ``idx`` of a tensor/array, without building a graph for plain data."""
    if isinstance(t, Tensor):
        if t.requires_grad:
            return t[idx]
        return Tensor._make(t._data[idx], False, None)
    return t[idx]


class TensorDataset(Dataset):
    """Samples are rows of tensors (or numpy arrays) sharing their first dimension:
    ``TensorDataset(x, y)[i] == (x[i], y[i])``."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        n = len(tensors[0])
        for i, t in enumerate(tensors):
            if not hasattr(t, "shape") or len(t.shape) == 0:
                raise TypeError(f"TensorDataset: argument {i} must be a tensor or array with a first "
                                f"dimension, got {type(t).__name__}")
            if t.shape[0] != n:
                raise ValueError(f"TensorDataset: size mismatch between tensors: tensor 0 has {n} rows, "
                                 f"tensor {i} has {t.shape[0]} (all must share the first dimension)")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(_rows(t, index) for t in self.tensors)

    def _get_batch(self, indices):
        """One fancy index per tensor for the whole batch (``indices``: int array)."""
        return tuple(_rows(t, indices) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
            idx = len(self) + idx
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = 0 if d == 0 else self.cumulative_sizes[d - 1]
        if d >= len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
        return self.datasets[d][idx - start]


def batch_getter(dataset):
    """``f(indices) -> collated batch`` when ``dataset`` can fetch a whole batch
    with array indexing (``_get_batch``, also through ``Subset``), else None."""
    if isinstance(dataset, Subset):
        inner = batch_getter(dataset.dataset)
        if inner is None:
            return None
        idx = np.asarray(dataset.indices, dtype=np.int64)
        return lambda indices: inner(idx[indices])
    return getattr(dataset, "_get_batch", None)


def _rng_of(generator):
    """A numpy Generator: the given dalam.Generator's, or dalam's global one."""
    if generator is None:
        from ..backend import rng
        return rng()
    return getattr(generator, "rng", generator)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping ``Subset``s of the given lengths,
    or of fractions summing to 1 (remainders go round-robin to the first
    parts, as PyTorch does); the permutation comes from ``generator``
    (a ``dalam.Generator``) or dalam's global RNG."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1: {frac}")
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions summing to 1, "
                         f"got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length "
                         f"of the input dataset ({n})")
    perm = _rng_of(generator).permutation(n)
    out, offset = [], 0
    for ln in lengths:
        ln = int(ln)
        out.append(Subset(dataset, perm[offset:offset + ln].tolist()))
        offset += ln
    return out
