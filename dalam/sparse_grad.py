"""Row-sparse gradients: what ``Embedding(sparse=True)`` sends back.

A lookup of B ids in an (N, D) table touches B rows, so its gradient is B
rows of values plus their indices, not an (N, D) array of zeros.  Two pieces:

* :class:`SparseRows`: the array-level value the autograd engine passes
  around (``indices`` (nnz,), ``values`` (nnz, D), ``shape``).  Adding two
  concatenates them (uncoalesced, as PyTorch's sparse ``+``); adding it to a
  dense array scatters it in.  ``coalesce()`` sorts the indices and sums
  duplicates.
* :class:`SparseTensor`: what lands in ``param.grad``: ``is_sparse`` True,
  PyTorch's ``_indices()`` (shape (1, nnz)), ``_values()``, ``coalesce()``,
  ``to_dense()``, ``_nnz()``.  Anything that reads its ``_data`` gets a dense
  copy (so generic code still works, at dense cost); optimisers that know
  sparse gradients (SGD, Adagrad, SparseAdam) read the rows only.
"""
from . import _memory
from .autograd.sparse_rows import SparseRows  # noqa: F401  (re-exported)
from .tensor import Tensor


class SparseTensor(Tensor):
    """A row-sparse gradient tensor (PyTorch's sparse COO over dimension 0)."""
    __slots__ = ("_sp",)
    is_sparse = True

    def __init__(self, rows):
        raise TypeError("SparseTensor: build one with SparseTensor.wrap(SparseRows(...))")

    @classmethod
    def wrap(cls, rows):
        t = object.__new__(cls)
        t._sp = rows
        t.grad = None
        t.requires_grad = False
        t.grad_fn = None
        t._output_nr = 0
        t._vc = [0]
        t._hooks = None
        return t

    @property
    def _data(self):  # dense view for generic code (costs a full array)
        return self._sp.to_dense()

    @_data.setter
    def _data(self, value):  # generic code wrote a dense result back: keep it, as all rows
        import numpy as np
        value = np.asarray(value)
        self._sp = SparseRows(np.arange(value.shape[0]), value, value.shape, coalesced=True)

    shape = property(lambda self: self._sp.shape)
    dtype = property(lambda self: self._sp.dtype)
    ndim = property(lambda self: len(self._sp.shape))
    layout = property(lambda self: _memory.sparse_coo)

    def _indices(self):
        return Tensor._make(self._sp.indices[None, :], False, None)

    def _values(self):
        return Tensor._make(self._sp.values, False, None)

    indices = _indices
    values = _values

    def _nnz(self):
        return int(self._sp.indices.size)

    def is_coalesced(self):
        return self._sp.coalesced

    def coalesce(self):
        return SparseTensor.wrap(self._sp.coalesce())

    def to_dense(self):
        return Tensor._make(self._sp.to_dense(), False, None)

    def sparse_dim(self):
        return 1

    def dense_dim(self):
        return len(self._sp.shape) - 1

    def __add__(self, other):
        r = self._sp + (other._sp if isinstance(other, SparseTensor) else other)
        return SparseTensor.wrap(r) if isinstance(r, SparseRows) else Tensor._make(r, False, None)

    __radd__ = __add__

    def __repr__(self):
        return (f"SparseTensor(indices={self._sp.indices.tolist()[:8]}{'...' if self._nnz() > 8 else ''}, "
                f"nnz={self._nnz()}, size={self.shape}, layout=torch.sparse_coo)")
