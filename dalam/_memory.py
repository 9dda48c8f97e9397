"""Memory layout as PyTorch reports it: memory formats, ``layout``, strides in
elements, storage offsets and a storage object, computed from the NumPy array
a Tensor holds (NumPy views share a base array the way PyTorch views share a
storage)."""
import numpy as np


class memory_format:
    """``dalam.contiguous_format``, ``preserve_format``, ``channels_last``, ``channels_last_3d``."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"dalam.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


class layout:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"dalam.{self.name}"


strided = layout("strided")
sparse_coo = layout("sparse_coo")

_CL_PERM = {4: (0, 2, 3, 1), 5: (0, 2, 3, 4, 1)}


def channels_last_perm(arr, fmt, op):
    """The axis order whose C-contiguous memory is ``fmt`` for ``arr``."""
    nd = 4 if fmt is channels_last else 5
    if arr.ndim != nd:
        raise RuntimeError(
            f"{op}: required rank {nd} tensor to use {fmt.name} format (got {arr.ndim}-D, shape "
            f"{tuple(arr.shape)})")
    return _CL_PERM[nd]


def is_contiguous(arr, fmt=None):
    if fmt is None or fmt is contiguous_format:
        return bool(arr.flags.c_contiguous)
    if fmt is preserve_format:
        raise RuntimeError("is_contiguous: preserve memory format is unsupported by the contiguous "
                           "operator")
    if fmt in (channels_last, channels_last_3d):
        nd = 4 if fmt is channels_last else 5
        if arr.ndim != nd:
            return False
        return bool(arr.transpose(_CL_PERM[nd]).flags.c_contiguous)
    raise TypeError(f"is_contiguous: memory_format must be a dalam memory format, got {fmt!r}")


def to_format(arr, fmt, op):
    """A copy of ``arr`` laid out in memory format ``fmt`` (same shape)."""
    if fmt is None or fmt is contiguous_format:
        return np.ascontiguousarray(arr)
    if fmt is preserve_format:
        return preserve_copy(arr)
    perm = channels_last_perm(arr, fmt, op)
    inv = np.argsort(perm)
    return np.ascontiguousarray(arr.transpose(perm)).transpose(inv)


def preserve_copy(arr):
    """``clone()``'s default: keep the order of the strides (a transposed tensor
    stays transposed, as in PyTorch), compact the memory."""
    if arr.flags.c_contiguous:
        return arr.copy()
    return np.copy(arr, order="K")


def has_internal_overlap(arr):
    """PyTorch's cheap test: a dimension of size > 1 with stride 0 (an expand)."""
    return any(s == 0 and n > 1 for s, n in zip(arr.strides, arr.shape))


def strides(arr):
    """Strides in elements. A C-contiguous array reports the canonical ones, as
    PyTorch does (NumPy may put any stride on a size-1 dimension)."""
    if arr.flags.c_contiguous:
        out, acc = [], 1
        for n in reversed(arr.shape):
            out.append(acc)
            acc *= max(n, 1)
        return tuple(reversed(out))
    it = arr.itemsize
    return tuple(s // it for s in arr.strides)


def write_overlapping(arr, value):
    """Write one value into every element of an expanded (stride-0) array by
    writing into the memory it views: what ``fill_``/``zero_`` do there in PyTorch.
    Returns False when that memory is not writable."""
    st = storage_flat(arr)
    if st is None or not st[0].flags.writeable:
        return False
    flat, off = st
    ar = np.arange(flat.size)
    idx = np.lib.stride_tricks.as_strided(ar[off:], shape=arr.shape,
                                          strides=[s // arr.itemsize * ar.itemsize
                                                   for s in arr.strides], writeable=False)
    flat[np.unique(idx)] = value
    return True


def root(arr):
    """The array that owns the memory (the "storage")."""
    r = arr
    while True:
        b = r.base
        if not isinstance(b, np.ndarray):
            b = getattr(b, "base", None)  # as_strided's wrapper object holds the array
            if not isinstance(b, np.ndarray):
                return r
        r = b


def _ptr(arr):
    return arr.__array_interface__["data"][0]


def storage_offset(arr):
    r = root(arr)
    return (_ptr(arr) - _ptr(r)) // arr.itemsize


def storage_flat(arr):
    """(flat 1-D view of the storage in arr's dtype, offset of arr in it), or None
    when the owner is not one dense block NumPy can view."""
    r = root(arr)
    if not r.flags.c_contiguous or r.dtype != arr.dtype:
        if arr.flags.c_contiguous:  # a dense array: treat it as its own storage
            return arr.reshape(-1), 0
        return None
    return r.reshape(-1), (_ptr(arr) - _ptr(r)) // arr.itemsize


class UntypedStorage:
    """What ``Tensor.untyped_storage()`` answers: the memory block a tensor views
    (``data_ptr()``, ``nbytes()``, ``size()``, ``element_size()``); views of one
    tensor give the same ``data_ptr()``."""

    def __init__(self, arr):
        self._root = root(arr)

    def data_ptr(self):
        return _ptr(self._root)

    def nbytes(self):
        return int(self._root.nbytes)

    def size(self):
        return self.nbytes()

    __len__ = size

    def element_size(self):
        return 1

    @property
    def device(self):
        from ._device import CPU
        return CPU

    def __repr__(self):
        return f"dalam.UntypedStorage(nbytes={self.nbytes()}, data_ptr={self.data_ptr():#x})"


class TypedStorage(UntypedStorage):
    """``Tensor.storage()`` (deprecated in PyTorch): sizes in elements of the dtype."""

    def __init__(self, arr):
        super().__init__(arr)
        self.dtype = arr.dtype

    def size(self):
        return self.nbytes() // self.dtype.itemsize

    __len__ = size

    def element_size(self):
        return self.dtype.itemsize

    def tolist(self):
        flat = storage_flat(self._root)
        return flat[0].tolist() if flat is not None else self._root.reshape(-1).tolist()

    def __repr__(self):
        return f"dalam.TypedStorage(dtype={self.dtype}, size={self.size()})"
