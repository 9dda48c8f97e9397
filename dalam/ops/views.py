"""View ops with PyTorch's memory semantics: ``as_strided``, ``unfold``,
``select``, ``ravel``, ``view(dtype)``, ``atleast_*d``, ``hsplit``/``vsplit``/
``dsplit``, ``real``/``imag``.  Their outputs share memory with the input
(writes show through, as in PyTorch); backward routes the gradient through the
same index map."""
import numpy as np

from .. import _memory
from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import method, norm_dim
from .shape import reshape, unsqueeze
from .structure import tensor_split

_as_strided = np.lib.stride_tricks.as_strided


class AsStrided(Function):
    saves = ()
    is_view = True

    def forward(self, x, size, stride, offset):
        flat, x_off = self._storage(x)
        it = x.itemsize
        out = _as_strided(flat[offset:], shape=size, strides=[s * it for s in stride],
                          writeable=bool(flat.flags.writeable))
        if _memory.has_internal_overlap(out):
            out.flags.writeable = False
        # index maps into the storage, for backward
        ar = np.arange(flat.size)
        ai = ar.itemsize
        self.out_idx = _as_strided(ar[offset:], shape=size, strides=[s * ai for s in stride],
                                   writeable=False)
        self.in_idx = _as_strided(ar[x_off:], shape=x.shape,
                                  strides=[s // it * ai for s in x.strides], writeable=False)
        self.n = flat.size
        return out

    @staticmethod
    def _storage(x):
        st = _memory.storage_flat(x)
        if st is None:
            raise RuntimeError(
                "as_strided: this tensor's memory is not one dense block NumPy can address (it "
                "views an array with gaps); call .contiguous() first")
        return st

    def backward(self, gy):
        buf = xp.zeros(self.n, gy.dtype)
        np.add.at(buf, self.out_idx.reshape(-1), gy.reshape(-1))
        return buf[self.in_idx]


@method("as_strided")
def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s memory with the given ``size``, ``stride`` (in elements) and
    ``storage_offset``, as ``torch.as_strided``: positions count from the start of the
    memory block ``input`` views (so ``x[1:].as_strided(...)`` can reach ``x[0]``)."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"as_strided: mismatch in length of strides and shape ({len(stride)} "
                           f"strides for {len(size)} sizes)")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"as_strided: negative size in {list(size)}")
    flat, x_off = AsStrided._storage(input._data)
    offset = x_off if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"as_strided: storage offset must be non-negative, got {offset}")
    if all(s > 0 for s in size):
        need = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if need > flat.size:
            raise RuntimeError(
                f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
                f"and itemsize {input._data.itemsize} requiring a storage size of "
                f"{need * input._data.itemsize} are out of bounds for storage of size "
                f"{flat.size * input._data.itemsize}")
    return AsStrided.apply(input, size, stride, offset)


class Unfold(Function):
    saves = ()
    is_view = True

    def forward(self, x, axis, size, step):
        self.shape, self.axis, self.size, self.step = x.shape, axis, size, step
        n = x.shape[axis]
        nw = (n - size) // step + 1
        shape = x.shape[:axis] + (nw,) + x.shape[axis + 1:] + (size,)
        st = x.strides
        strides = st[:axis] + (st[axis] * step,) + st[axis + 1:] + (st[axis],)
        return _as_strided(x, shape=shape, strides=strides, writeable=bool(x.flags.writeable))

    def backward(self, gy):
        return _unfold_grad(gy, self.shape, self.axis, self.size, self.step)

    def backward_graph(self, gy):
        return UnfoldBackward.apply(gy, self.shape, self.axis, self.size, self.step)


def _unfold_grad(gy, shape, axis, size, step):
    g = xp.zeros(shape, gy.dtype)
    nw = gy.shape[axis]
    lead = (slice(None),) * axis
    for k in range(size):
        g[lead + (slice(k, k + step * (nw - 1) + 1, step),)] += gy[..., k]
    return g


class UnfoldBackward(Function):
    """The scatter-add of unfold's backward, as an op (its own backward is unfold)."""
    saves = ()

    def forward(self, gy, shape, axis, size, step):
        self.axis, self.size, self.step = axis, size, step
        return _unfold_grad(gy, shape, axis, size, step)

    def backward(self, gg):
        return Unfold().forward(gg, self.axis, self.size, self.step).copy()

    def backward_graph(self, gg):
        return unfold(gg, self.axis, self.size, self.step)


@method("unfold")
def unfold(input, dimension, size, step):
    """All windows of ``size`` along ``dimension``, ``step`` apart, in a new last
    dimension: a view sharing memory, as ``Tensor.unfold``."""
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, 1).unfold(0, size, step)
    axis = norm_dim(dimension, nd, "unfold")
    n = input._data.shape[axis]
    if size > n:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {axis} is {n} but size is "
                           f"{size}")
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    return Unfold.apply(input, axis, int(size), int(step))


@method("select")
def select(input, dim, index):
    """``input`` indexed at ``index`` along ``dim`` (a view without that dim)."""
    axis = norm_dim(dim, input._data.ndim, "select")
    n = input._data.shape[axis]
    index = int(index)
    if index < -n or index >= n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    return input[(slice(None),) * axis + (index,)]


@method("ravel")
def ravel(input):
    """Flattened (a view when the memory allows, else a copy), as ``torch.ravel``."""
    return reshape(input, -1)


def view_dtype(input, dtype):
    """``x.view(dtype)``: the same bytes read as another dtype (shares memory, no gradient)."""
    dtype = np.dtype(dtype)
    a = input._data
    if dtype == a.dtype:
        return input
    if a.ndim == 0 and dtype.itemsize != a.itemsize:
        raise RuntimeError("view(dtype): self.dim() cannot be 0 if self.element_size() != "
                           "dtype's itemsize")
    try:
        out = a.view(dtype)
    except ValueError as e:
        raise RuntimeError(
            f"view(dtype): to view a {a.dtype} tensor as {dtype} (a different element size) its "
            f"last dimension must be contiguous and divisible; call .contiguous() first ({e})") from None
    if input.requires_grad and dtype.kind == "f":
        raise RuntimeError("view(dtype): a tensor that requires grad can only be viewed as its own "
                           "dtype here; use .detach().view(dtype)")
    return Tensor._make(out, False, None, 0, input._vc)


def atleast_1d(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_1d(t) for t in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_1d(t) for t in tensors)
    t = tensors[0]
    return reshape(t, 1) if t.ndim == 0 else t


def atleast_2d(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_2d(t) for t in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_2d(t) for t in tensors)
    t = tensors[0]
    if t.ndim == 0:
        return reshape(t, 1, 1)
    return unsqueeze(t, 0) if t.ndim == 1 else t


def atleast_3d(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_3d(t) for t in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_3d(t) for t in tensors)
    t = tensors[0]
    if t.ndim == 0:
        return reshape(t, 1, 1, 1)
    if t.ndim == 1:
        return reshape(t, 1, -1, 1)
    return unsqueeze(t, -1) if t.ndim == 2 else t


def _nsplit(input, sections, dim, name, min_dims):
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {input.ndim} dimensions!")
    if isinstance(sections, int):
        n = input.shape[dim]
        if sections <= 0 or n % sections:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                f"dimension {n} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, dim)


@method("hsplit")
def hsplit(input, sections):
    return _nsplit(input, sections, 0 if input.ndim == 1 else 1, "hsplit", 1)


@method("vsplit")
def vsplit(input, sections):
    return _nsplit(input, sections, 0, "vsplit", 2)


@method("dsplit")
def dsplit(input, sections):
    return _nsplit(input, sections, 2, "dsplit", 3)


def _real(self):
    if self._data.dtype.kind == "c":
        return Tensor._make(self._data.real, False, None, 0, self._vc)
    return self


def _imag(self):
    if self._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Tensor._make(self._data.imag, False, None, 0, self._vc)


Tensor.real = property(_real)
Tensor.imag = property(_imag)
Tensor.atleast_1d = atleast_1d
Tensor.atleast_2d = atleast_2d
Tensor.atleast_3d = atleast_3d
