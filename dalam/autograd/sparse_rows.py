"""``SparseRows``: a row-sparse array (the rows ``indices`` of a ``shape``
array hold ``values``), the value the autograd engine passes for
``Embedding(sparse=True)``; see dalam/sparse_grad.py.  NumPy only."""
import numpy as np


class SparseRows:
    __slots__ = ("indices", "values", "shape", "coalesced")
    __array_ufunc__ = None  # ndarray + SparseRows -> SparseRows.__radd__

    def __init__(self, indices, values, shape, coalesced=False):
        self.indices = np.asarray(indices, np.int64).reshape(-1)
        self.values = values
        self.shape = tuple(shape)
        self.coalesced = coalesced
        if values.shape[0] != self.indices.size or tuple(values.shape[1:]) != self.shape[1:]:
            raise ValueError(f"SparseRows: values of shape {values.shape} do not fit "
                             f"{self.indices.size} indices of a {self.shape} array")

    dtype = property(lambda self: self.values.dtype)
    ndim = property(lambda self: len(self.shape))

    def astype(self, dtype):
        return SparseRows(self.indices, self.values.astype(dtype), self.shape, self.coalesced)

    def coalesce(self):
        """Sorted unique indices with duplicate rows summed."""
        if self.coalesced:
            return self
        idx, v = self.indices, self.values
        if idx.size == 0:
            return SparseRows(idx, v, self.shape, True)
        order = np.argsort(idx, kind="stable")
        si = idx[order]
        starts = np.flatnonzero(np.r_[True, si[1:] != si[:-1]])
        vals = np.add.reduceat(v[order], starts, axis=0) if starts.size < si.size else v[order]
        return SparseRows(si[starts], vals, self.shape, True)

    def to_dense(self):
        out = np.zeros(self.shape, self.values.dtype)
        self.add_to_(out)
        return out

    def add_to_(self, dense, alpha=1.0):
        """``dense += alpha * self`` in place, touching only its rows."""
        c = self.coalesce()
        if c.indices.size:
            dense[c.indices] += c.values if alpha == 1.0 else c.values * dense.dtype.type(alpha)
        return dense

    def __add__(self, other):
        if isinstance(other, SparseRows):
            if other.shape != self.shape:
                raise RuntimeError(f"sparse gradient add: shapes {self.shape} and {other.shape} differ")
            return SparseRows(np.concatenate([self.indices, other.indices]),
                              np.concatenate([self.values, other.values.astype(self.dtype, copy=False)]),
                              self.shape)
        sp = getattr(other, "_sp", None)
        if sp is not None:  # a SparseTensor
            return self + sp
        if hasattr(other, "_data"):  # a dense Tensor
            other = other._data
        out = np.array(other, dtype=np.result_type(other, self.values), copy=True)
        return self.add_to_(np.broadcast_to(out, self.shape).copy() if out.shape != self.shape else out)

    __radd__ = __add__

    def __neg__(self):
        return SparseRows(self.indices, -self.values, self.shape, self.coalesced)

    def __mul__(self, s):
        if not np.isscalar(s):
            return self.to_dense() * s
        return SparseRows(self.indices, self.values * self.values.dtype.type(s), self.shape,
                          self.coalesced)

    __rmul__ = __mul__

    def __repr__(self):
        return f"SparseRows(nnz={self.indices.size}, shape={self.shape}, dtype={self.dtype})"
