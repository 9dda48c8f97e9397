"""Indexing: ``x[idx]`` with ints, slices, None, Ellipsis, integer arrays and
boolean masks; ``x[idx] = v``; gather, scatter_add, index_select,
masked_fill, where, one_hot.  Backward of advanced indexing accumulates for
repeated indices (``np.add.at``)."""
import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import method, norm_dim


def _convert_index(idx, shape=None):
    """Turn a user index (possibly holding Tensors) into a numpy index.
    Returns (index, is_basic)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    basic = True
    for i in idx:
        if isinstance(i, Tensor):
            i = i._data
            if i.dtype.kind == "f":
                raise IndexError(
                    f"tensors used as indices must be long, int or bool tensors; got {i.dtype}")
            if i.ndim == 0 and i.dtype.kind in "iu":
                i = int(i)
            else:
                basic = False
        elif isinstance(i, (list, np.ndarray)):
            i = np.asarray(i)
            if i.dtype.kind == "f":
                raise IndexError(f"indices must be integers or booleans; got an array of {i.dtype}")
            basic = False
        elif isinstance(i, float):
            raise IndexError(f"indices must be integers, slices, None, Ellipsis or tensors; got float {i}")
        elif isinstance(i, bool):
            basic = False
        out.append(i)
    return tuple(out), basic


class GetItem(Function):
    saves = ()

    def forward(self, x, index, basic):
        self.shape, self.dtype, self.index, self.basic = x.shape, x.dtype, index, basic
        return x[index]

    def backward(self, gy):
        g = xp.zeros(self.shape, gy.dtype)
        if self.basic:
            g[self.index] = gy
        else:
            np.add.at(g, self.index, gy)
        return g

    def backward_graph(self, gy):
        return IndexPutGrad.apply(gy, shape=self.shape, index=self.index, basic=self.basic)


class IndexPutGrad(Function):
    """Scatter of a gradient (the backward of GetItem, as its own op so that
    double backward works: its backward is GetItem again)."""
    saves = ()

    def forward(self, gy, shape, index, basic):
        self.index, self.basic = index, basic
        g = xp.zeros(shape, gy.dtype)
        if basic:
            g[index] = gy
        else:
            np.add.at(g, index, gy)
        return g

    def backward(self, gg):
        return gg[self.index]

    def backward_graph(self, gg):
        return GetItem.apply(gg, index=self.index, basic=self.basic)


def _getitem(self, idx):
    index, basic = _convert_index(idx)
    try:
        if basic:
            out = GetItem.apply(self, index, True)
            out._vc = self._vc  # basic indexing is a view
            return out
        return GetItem.apply(self, index=index, basic=False)
    except IndexError as e:
        raise IndexError(f"index {idx!r} is invalid for a tensor of shape {tuple(self.shape)}: {e}") from None


Tensor.__getitem__ = _getitem


class SetItem(Function):
    """y = x with y[index] = v (out of place, used when autograd is recording)."""
    saves = ()

    def forward(self, x, v, index):
        self.index = index
        self.vshape = np.shape(v)
        y = x.copy()
        y[index] = v
        return y

    def backward(self, gy):
        gx = gy.copy()
        gx[self.index] = 0
        gv = None
        if self.needs_input_grad[1]:
            gv = gy[self.index]
            if gv.shape != self.vshape:
                from ..autograd.engine import _sum_to_shape
                gv = _sum_to_shape(gv, self.vshape)
        return gx, gv


def _setitem(self, idx, value):
    index, _ = _convert_index(idx)
    from ..autograd import grad_mode
    vt = value if isinstance(value, Tensor) else None
    if grad_mode.state.enabled and (self.requires_grad or (vt is not None and vt.requires_grad)):
        if vt is None:
            vt = Tensor._make(np.asarray(value, self.dtype), False, None)
        elif vt.dtype != self.dtype:
            vt = vt.to(self.dtype)
        self._inplace_result(SetItem.apply(self, vt, index=index), "__setitem__")
        return
    self._check_inplace("__setitem__")
    self._data[index] = vt._data if vt is not None else value
    self._bump()


Tensor.__setitem__ = _setitem


class Gather(Function):
    saves = ()

    def forward(self, x, index, axis):
        self.shape, self.index, self.axis = x.shape, index, axis
        return xp.take_along_axis(x, index, axis=axis)

    def backward(self, gy):
        g = xp.zeros(self.shape, gy.dtype)
        _scatter_add_np(g, self.axis, self.index, gy)
        return g

    def backward_graph(self, gy):
        z = Tensor._make(xp.zeros(self.shape, gy.dtype), False, None)
        return ScatterAdd.apply(z, gy, index=self.index, axis=self.axis)


def _scatter_add_np(out, axis, index, src):
    """out[..., index[i], ...] += src[i] along ``axis`` (accumulating)."""
    idx = list(np.indices(index.shape, sparse=True))
    idx[axis] = index
    np.add.at(out, tuple(idx), src[tuple(slice(0, s) for s in index.shape)])


def _check_index_tensor(index, op):
    if not isinstance(index, Tensor):
        index = Tensor._from_data(index)
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an int64 index tensor, got {index.dtype}")
    return index


@method("gather")
def gather(input, dim, index):
    index = _check_index_tensor(index, "gather")
    axis = norm_dim(dim, input.ndim, "gather")
    if index.ndim != input.ndim:
        raise RuntimeError(
            f"gather: index tensor must have the same number of dimensions as input "
            f"({index.ndim} vs {input.ndim})")
    n = input.shape[axis]
    if index.numel() and (index._data.min() < -n or index._data.max() >= n):
        raise IndexError(f"gather: index out of range for dimension {dim} of size {n}")
    for d in range(input.ndim):
        if d != axis and index.shape[d] > input.shape[d]:
            raise RuntimeError(f"gather: index {tuple(index.shape)} is larger than input "
                               f"{tuple(input.shape)} in dimension {d}")
    x = input
    if any(index.shape[d] != input.shape[d] for d in range(input.ndim) if d != axis):
        sl = tuple(slice(0, index.shape[d]) if d != axis else slice(None) for d in range(input.ndim))
        x = input[sl]
    return Gather.apply(x, index=index._data, axis=axis)


class ScatterAdd(Function):
    saves = ()

    def forward(self, x, src, index, axis):
        self.index, self.axis, self.src_shape = index, axis, src.shape
        y = x.copy()
        _scatter_add_np(y, axis, index, src)
        return y

    def backward(self, gy):
        gs = None
        if self.needs_input_grad[1]:
            gs = xp.zeros(self.src_shape, gy.dtype)
            sl = tuple(slice(0, s) for s in self.index.shape)
            gs[sl] = xp.take_along_axis(gy, self.index, axis=self.axis)
        return gy, gs

    def backward_graph(self, gy):
        gs = None
        if self.needs_input_grad[1]:
            gs = Gather.apply(gy, index=self.index, axis=self.axis)
            if tuple(gs.shape) != tuple(self.src_shape):
                sl = tuple(slice(0, s) for s in self.index.shape)
                gs = IndexPutGrad.apply(gs, shape=self.src_shape, index=sl, basic=True)
        return gy, gs


@method("scatter_add")
def scatter_add(input, dim, index, src):
    index = _check_index_tensor(index, "scatter_add")
    axis = norm_dim(dim, input.ndim, "scatter_add")
    n = input.shape[axis]
    if index.numel() and (index._data.min() < -n or index._data.max() >= n):
        raise IndexError(f"scatter_add: index out of range for dimension {dim} of size {n}")
    return ScatterAdd.apply(input, src, index=index._data, axis=axis)


class Scatter(Function):
    saves = ()

    def forward(self, x, src, index, axis):
        self.index, self.axis, self.src_shape = index, axis, np.shape(src)
        y = x.copy()
        if np.ndim(src) == 0:
            src = np.full(index.shape, src, x.dtype)
        xp.put_along_axis(y, index, src[tuple(slice(0, s) for s in index.shape)], axis=axis)
        return y

    def backward(self, gy):
        gx = gy.copy()
        xp.put_along_axis(gx, self.index, 0, axis=self.axis)
        gs = None
        if self.needs_input_grad[1]:
            gs = xp.zeros(self.src_shape, gy.dtype)
            gs[tuple(slice(0, s) for s in self.index.shape)] = xp.take_along_axis(gy, self.index, axis=self.axis)
        return gx, gs


@method("scatter")
def scatter(input, dim, index, src=None, value=None):
    index = _check_index_tensor(index, "scatter")
    axis = norm_dim(dim, input.ndim, "scatter")
    if src is None:
        src = value
    if not isinstance(src, Tensor):
        src = float(src) if input.dtype.kind == "f" else src
    return Scatter.apply(input, src, index=index._data, axis=axis)


@method("index_select")
def index_select(input, dim, index):
    index = _check_index_tensor(index, "index_select")
    if index.ndim > 1:
        raise IndexError("index_select: index must be 1-D")
    axis = norm_dim(dim, input.ndim, "index_select")
    n = input.shape[axis]
    if index.numel() and (index._data.min() < -n or index._data.max() >= n):
        raise IndexError(f"index_select: index out of range for dimension {dim} of size {n}")
    sl = (slice(None),) * axis + (index._data.reshape(-1),)
    return GetItem.apply(input, index=sl, basic=False)


class MaskedFill(Function):
    saves = ()

    def forward(self, x, mask, value):
        self.mask = mask
        return xp.where(mask, xp.asarray(value, x.dtype), x)

    def backward(self, gy):
        return xp.where(self.mask, xp.zeros((), gy.dtype), gy), None

    def backward_graph(self, gy):
        return MaskedFill.apply(gy, self.mask, value=0), None


@method("masked_fill")
def masked_fill(input, mask, value):
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill: expected a bool mask, got {m.dtype}")
    try:
        np.broadcast_shapes(m.shape, input.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_fill: mask of shape {m.shape} cannot be broadcast to the input's shape "
            f"{tuple(input.shape)}") from None
    if isinstance(value, Tensor):
        value = value.item()
    out = MaskedFill.apply(input, m, value=value)
    return out


def _masked_fill_(self, mask, value):
    return self._inplace_result(masked_fill(self, mask, value), "masked_fill_")


Tensor.masked_fill_ = _masked_fill_


@method("masked_select")
def masked_select(input, mask):
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    m = np.broadcast_to(m, input.shape)
    return input[Tensor._make(m, False, None)]


class Where(Function):
    saves = ()

    def forward(self, cond, a, b):
        self.cond = cond
        return xp.where(cond, a, b)

    def backward(self, gy):
        z = xp.zeros((), gy.dtype)
        need = self.needs_input_grad
        return (None,
                xp.where(self.cond, gy, z) if need[1] else None,
                xp.where(self.cond, z, gy) if need[2] else None)

    def backward_graph(self, gy):
        c = Tensor._make(self.cond, False, None)
        z = Tensor._make(xp.zeros((), gy.dtype), False, None)
        need = self.needs_input_grad
        return (None,
                Where.apply(c, gy, z) if need[1] else None,
                Where.apply(c, z, gy) if need[2] else None)


def where(condition, input=None, other=None):
    c = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(Tensor._make(i.astype(np.int64), False, None) for i in np.nonzero(c))
    from .elementwise import _promote
    if not isinstance(input, Tensor):
        if isinstance(other, Tensor):
            other, input = _promote(other, input)
            input = Tensor._make(np.asarray(input, other.dtype), False, None) if not isinstance(input, Tensor) else input
        else:
            input = Tensor._from_data(input)
    if not isinstance(other, Tensor):
        input, other = _promote(input, other)
        if not isinstance(other, Tensor):
            other = Tensor._make(np.asarray(other, input.dtype), False, None)
    else:
        input, other = _promote(input, other)
    try:
        np.broadcast_shapes(c.shape, input.shape, other.shape)
    except ValueError:
        raise RuntimeError(
            f"where: condition {c.shape}, input {tuple(input.shape)} and other "
            f"{tuple(other.shape)} cannot be broadcast together") from None
    return Where.apply(Tensor._make(c.astype(bool), False, None), input, other)


Tensor.where = lambda self, condition, other: where(condition, self, other)


@method("nonzero")
def nonzero(input, as_tuple=False):
    nz = np.nonzero(input._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64), False, None) for i in nz)
    return Tensor._make(np.stack(nz, axis=1).astype(np.int64), False, None)


def one_hot(tensor, num_classes=-1):
    if tensor.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot: expected an integer (int64) tensor of class indices, got {tensor.dtype}")
    d = tensor._data
    if num_classes == -1:
        num_classes = int(d.max()) + 1 if d.size else 0
    if d.size and (d.min() < 0 or d.max() >= num_classes):
        raise RuntimeError(
            f"one_hot: class values must be in [0, {num_classes - 1}]; got min {d.min()}, max {d.max()}")
    out = np.zeros(d.shape + (num_classes,), np.int64)
    np.put_along_axis(out, d[..., None], 1, axis=-1)
    return Tensor._make(out, False, None)
