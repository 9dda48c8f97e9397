"""Tensor data in memory shared with forked child processes.

``Tensor.share_memory_()`` moves a tensor's array into an anonymous shared
memory mapping (``mmap`` with ``MAP_SHARED``).  A process forked afterwards
(``os.fork``, ``multiprocessing`` with the 'fork' start method, what
PyTorch's Hogwild example uses on Linux) maps the same pages, so an in-place
update in a child (``weight.add_(1)``, an optimiser step) is seen by the
parent and the other children, as with PyTorch's shared tensors.  A process
started with 'spawn' or 'forkserver' gets a pickled copy, not the shared
pages: pass shared tensors to children by forking.
"""
import mmap

import numpy as np


def to_shared(a):
    """A copy of array ``a`` whose memory is a shared anonymous mapping."""
    flags = getattr(mmap, "MAP_SHARED", None)
    n = max(int(a.nbytes), 1)
    buf = mmap.mmap(-1, n) if flags is None else mmap.mmap(-1, n, flags=flags)
    out = np.frombuffer(buf, dtype=a.dtype, count=a.size).reshape(a.shape)
    out[...] = a
    return out


def is_shared(a):
    """Whether array ``a`` (or the array it views) lives in a shared mapping."""
    while isinstance(a, np.ndarray):
        a = a.base
    if isinstance(a, memoryview):
        a = a.obj
    return isinstance(a, mmap.mmap)
