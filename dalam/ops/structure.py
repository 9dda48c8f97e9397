"""Structural ops: diag, diagonal, trace, tril/triu, roll, tile,
repeat_interleave, narrow, tensor_split, take, take_along_dim, index_add,
index_fill, index_copy, masked_scatter, broadcast_tensors, meshgrid.
Each differentiable op's backward routes the gradient through the same
index map its forward used."""
import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import method, norm_dim
from .shape import _shape_arg, repeat, expand, reshape
from .index import Gather, _check_index_tensor


def _diag_index(shape, offset, a1, a2):
    """(rows, cols) of the ``offset`` diagonal of the (a1, a2) plane."""
    n = max(0, min(shape[a1] + min(offset, 0), shape[a2] - max(offset, 0)))
    r = xp.arange(n) + max(-offset, 0)
    return r, r - max(-offset, 0) + max(offset, 0)


class Diagonal(Function):
    saves = ()

    def forward(self, x, offset, a1, a2):
        self.shape, self.offset, self.a1, self.a2 = x.shape, offset, a1, a2
        return xp.diagonal(x, offset, a1, a2).copy()

    def backward(self, gy):
        g = xp.zeros(self.shape, gy.dtype)
        r, c = _diag_index(self.shape, self.offset, self.a1, self.a2)
        xp.moveaxis(g, (self.a1, self.a2), (-2, -1))[..., r, c] = gy
        return g


class DiagonalView(Diagonal):
    """``Tensor.diagonal``: a writable view, as in PyTorch (``torch.diag`` copies)."""
    is_view = True

    def forward(self, x, offset, a1, a2):
        self.shape, self.offset, self.a1, self.a2 = x.shape, offset, a1, a2
        v = xp.diagonal(x, offset, a1, a2)
        if x.flags.writeable:
            v.flags.writeable = True  # NumPy marks diagonal views read-only by default
        return v


class DiagEmbed(Function):
    """1-D vector -> square matrix with it on the ``offset`` diagonal."""
    saves = ()

    def forward(self, v, offset):
        self.offset = offset
        m = v.shape[0] + abs(offset)
        out = xp.zeros((m, m), v.dtype)
        r, c = _diag_index(out.shape, offset, 0, 1)
        out[r, c] = v
        return out

    def backward(self, gy):
        return xp.diagonal(gy, self.offset).copy()


@method("diagonal")
def diagonal(input, offset=0, dim1=0, dim2=1):
    if input.ndim < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dims, got shape {tuple(input.shape)}")
    a1, a2 = norm_dim(dim1, input.ndim, "diagonal"), norm_dim(dim2, input.ndim, "diagonal")
    if a1 == a2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dimension ({dim1}, {dim2})")
    return DiagonalView.apply(input, offset=int(offset), a1=a1, a2=a2)


@method("diag")
def diag(input, diagonal=0):
    """1-D input: a matrix with it on the ``diagonal``-th diagonal; 2-D: that diagonal."""
    if input.ndim == 1:
        return DiagEmbed.apply(input, offset=int(diagonal))
    if input.ndim == 2:
        return Diagonal.apply(input, offset=int(diagonal), a1=0, a2=1)
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


class Trace(Function):
    saves = ()

    def forward(self, x):
        self.shape = x.shape
        return xp.asarray(xp.trace(x), x.dtype if x.dtype.kind == "f" else np.int64)

    def backward(self, gy):
        g = xp.zeros(self.shape, gy.dtype)
        n = min(self.shape)
        g[xp.arange(n), xp.arange(n)] = gy
        return g


@method("trace")
def trace(input):
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a 2-D matrix, got shape {tuple(input.shape)}")
    return Trace.apply(input)


class Tri(Function):
    saves = ()

    def forward(self, x, k, lower):
        self.k, self.lower = k, lower
        return (xp.tril if lower else xp.triu)(x, k)

    def backward(self, gy):
        return (xp.tril if self.lower else xp.triu)(gy, self.k)

    def backward_graph(self, gy):
        return Tri.apply(gy, k=self.k, lower=self.lower)


def _tri(input, diagonal, lower, name):
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    if input._data.dtype.kind not in "fc":
        return Tensor._make((xp.tril if lower else xp.triu)(input._data, int(diagonal)), False, None)
    return Tri.apply(input, k=int(diagonal), lower=lower)


@method("tril")
def tril(input, diagonal=0):
    return _tri(input, diagonal, True, "tril")


@method("triu")
def triu(input, diagonal=0):
    return _tri(input, diagonal, False, "triu")


class Roll(Function):
    saves = ()

    def forward(self, x, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return xp.roll(x, shifts, axes)

    def backward(self, gy):
        neg = -self.shifts if self.axes is None else tuple(-s for s in self.shifts)
        return xp.roll(gy, neg, self.axes)

    def backward_graph(self, gy):
        neg = -self.shifts if self.axes is None else tuple(-s for s in self.shifts)
        return Roll.apply(gy, shifts=neg, axes=self.axes)


@method("roll")
def roll(input, shifts, dims=None):
    """Shift elements circularly; without ``dims`` the flattened tensor is rolled."""
    if dims is None:
        if isinstance(shifts, (tuple, list)):
            if len(shifts) != 1:
                raise RuntimeError(f"roll: without dims, shifts must be one int, got {shifts}")
            shifts = shifts[0]
        return Roll.apply(input, shifts=int(shifts), axes=None)
    sh = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dm = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(sh) != len(dm):
        raise RuntimeError(f"roll: shifts {sh} and dims {dm} must have the same length")
    axes = tuple(norm_dim(d, input.ndim, "roll") for d in dm)
    return Roll.apply(input, shifts=tuple(int(s) for s in sh), axes=axes)


@method("tile")
def tile(input, *dims):
    """``repeat`` that also accepts fewer reps than dims (leading ones are added)."""
    dims = _shape_arg(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + tuple(dims)
    return repeat(input, *dims)


class RepeatInterleave(Function):
    saves = ()

    def forward(self, x, reps, axis):
        self.shape, self.axis = x.shape, axis
        self.src = np.repeat(np.arange(x.shape[axis]), reps)
        return xp.repeat(x, reps, axis=axis)

    def backward(self, gy):
        g = xp.zeros(self.shape, gy.dtype)
        np.add.at(xp.moveaxis(g, self.axis, 0), self.src, xp.moveaxis(gy, self.axis, 0))
        return g


@method("repeat_interleave")
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int, or one count per element)."""
    if repeats is None:  # repeat_interleave(counts): indices 0..n-1 repeated counts times
        c = input._data
        if c.ndim > 1 or c.dtype.kind not in "iu" or (c.size and c.min() < 0):
            raise RuntimeError("repeat_interleave: repeats must be a 0-d or 1-D non-negative integer tensor")
        return Tensor._make(np.repeat(np.arange(c.size, dtype=np.int64), c.reshape(-1)), False, None)
    if dim is None:
        input, axis = input.reshape(-1), 0
    else:
        axis = norm_dim(dim, input.ndim, "repeat_interleave")
        if input.ndim == 0:
            input = input.reshape(1)
    n = input.shape[axis]
    if isinstance(repeats, Tensor):
        reps = repeats._data
        if reps.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave: repeats must be an integer tensor, got {reps.dtype}")
        if reps.ndim > 1 or (reps.ndim == 1 and reps.size not in (1, n)):
            raise RuntimeError(
                f"repeat_interleave: repeats must have shape ({n},) (one count per element of dim "
                f"{dim}) or be a single value; got shape {tuple(reps.shape)}")
        reps = reps.reshape(-1) if reps.size != 1 else int(reps.reshape(-1)[0])
    else:
        reps = int(repeats)
    if np.any(np.asarray(reps) < 0):
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    out = RepeatInterleave.apply(input, reps=reps, axis=axis)
    if output_size is not None and out.shape[axis] != output_size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the "
                           f"result's size {out.shape[axis]}")
    return out


@method("narrow")
def narrow(input, dim, start, length):
    """The slice ``start:start+length`` of ``dim`` (a view, as PyTorch)."""
    axis = norm_dim(dim, input.ndim, "narrow")
    n = input.shape[axis]
    start, length = int(start), int(length)
    if start < -n or start > n:
        raise IndexError(f"narrow: start ({start}) out of range for dimension {dim} of size {n}")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension {dim} "
                           f"size ({n})")
    return input[(slice(None),) * axis + (slice(start, start + length),)]


@method("tensor_split")
def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` near-equal parts (the first ``size % n`` one longer) or at indices."""
    axis = norm_dim(dim, input.ndim, "tensor_split")
    n = input.shape[axis]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.dtype.kind not in "iu" or ios.ndim > 1:
            raise RuntimeError("tensor_split: indices_or_sections tensor must be a 0-d or 1-D int64 tensor")
        ios = int(ios.item()) if ios.ndim == 0 else [int(v) for v in ios._data]
    if isinstance(ios, (int, np.integer)):
        s = int(ios)
        if s <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {s}")
        q, r = divmod(n, s)
        bounds, b = [], 0
        for k in range(s - 1):
            b += q + (1 if k < r else 0)
            bounds.append(b)
    else:
        bounds = [int(v) for v in ios]
    edges = [0] + bounds + [n]
    pre = (slice(None),) * axis
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        lo = min(max(lo + n if lo < 0 else lo, 0), n)
        hi = min(max(hi + n if hi < 0 else hi, 0), n)
        out.append(input[pre + (slice(lo, max(lo, hi)),)])
    return tuple(out)


@method("take")
def take(input, index):
    """Elements of the flattened input at ``index`` (output has index's shape)."""
    index = _check_index_tensor(index, "take")
    n = input.numel()
    if index.numel() and (index._data.min() < -n or index._data.max() >= n):
        raise IndexError(f"take: index out of range for a tensor of {n} elements "
                         f"(got min {index._data.min()}, max {index._data.max()})")
    flat = input.reshape(-1)
    return Gather.apply(flat, index=index._data.reshape(-1), axis=0).reshape(index.shape)


@method("take_along_dim")
def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting; without ``dim`` on the flattened input."""
    indices = _check_index_tensor(indices, "take_along_dim")
    if dim is None:
        return take(input, indices.reshape(-1))
    axis = norm_dim(dim, input.ndim, "take_along_dim")
    if indices.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim: input {tuple(input.shape)} and indices "
                           f"{tuple(indices.shape)} must have the same number of dimensions")
    n = input.shape[axis]
    if indices.numel() and (indices._data.min() < -n or indices._data.max() >= n):
        raise IndexError(f"take_along_dim: index out of range for dimension {dim} of size {n}")
    a = list(input.shape)
    b = list(indices.shape)
    a[axis] = b[axis] = 1
    try:
        bs = list(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise RuntimeError(f"take_along_dim: input {tuple(input.shape)} and indices "
                           f"{tuple(indices.shape)} cannot be broadcast (outside dim {dim})") from None
    sx, si = list(bs), list(bs)
    sx[axis], si[axis] = input.shape[axis], indices.shape[axis]
    x = expand(input, tuple(sx))
    idx = np.broadcast_to(indices._data, tuple(si)) % max(n, 1)
    return Gather.apply(x, index=np.ascontiguousarray(idx), axis=axis)


def _index_args(input, dim, index, op):
    index = _check_index_tensor(index, op)
    if index.ndim > 1:
        raise IndexError(f"{op}: index must be a 0-d or 1-D int64 tensor, got shape {tuple(index.shape)}")
    axis = norm_dim(dim, input.ndim, op)
    n = input.shape[axis] if input.ndim else 1
    idx = index._data.reshape(-1).astype(np.int64)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{op}: index out of range for dimension {dim} of size {n} "
                         f"(got min {idx.min()}, max {idx.max()})")
    return axis, idx


def _check_source(input, source, axis, idx, op):
    want = list(input.shape)
    if want:
        want[axis] = idx.size
    got = list(source.shape) if source.ndim else [1] * len(want)
    if source.ndim and got != want or (not source.ndim and idx.size != 1):
        raise RuntimeError(f"{op}: source must have shape {tuple(want)} (the input's shape with dim "
                           f"{axis} of size len(index)={idx.size}), got {tuple(source.shape)}")


class IndexAdd(Function):
    saves = ()

    def forward(self, x, src, index, axis, alpha):
        self.index, self.axis, self.alpha, self.src_shape = index, axis, alpha, src.shape
        y = x.copy()
        s = src.reshape(-1) if x.ndim == 0 else xp.moveaxis(src, axis, 0)
        np.add.at(y.reshape(-1) if x.ndim == 0 else xp.moveaxis(y, axis, 0), index,
                  s * alpha if alpha != 1 else s)
        return y

    def backward(self, gy):
        gs = None
        if self.needs_input_grad[1]:
            gs = xp.take(gy.reshape(-1), self.index) if gy.ndim == 0 else xp.take(gy, self.index, self.axis)
            gs = (gs * self.alpha if self.alpha != 1 else gs).reshape(self.src_shape)
        return gy, gs


@method("index_add")
def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` slices added at ``index`` along ``dim`` (repeats accumulate)."""
    axis, idx = _index_args(input, dim, index, "index_add")
    _check_source(input, source, axis, idx, "index_add")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_add: source dtype {source.dtype} must match the input's {input.dtype}")
    return IndexAdd.apply(input, source, index=idx, axis=axis, alpha=alpha)


class IndexFill(Function):
    saves = ()

    def forward(self, x, index, axis, value):
        self.index, self.axis = index, axis
        y = x.copy()
        (y.reshape(-1) if x.ndim == 0 else xp.moveaxis(y, axis, 0))[index] = value
        return y

    def backward(self, gy):
        g = gy.copy()
        (g.reshape(-1) if g.ndim == 0 else xp.moveaxis(g, self.axis, 0))[self.index] = 0
        return g

    def backward_graph(self, gy):
        return IndexFill.apply(gy, index=self.index, axis=self.axis, value=0)


@method("index_fill")
def index_fill(input, dim, index, value):
    axis, idx = _index_args(input, dim, index, "index_fill")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill: value must be a number or a 0-d tensor, got shape "
                               f"{tuple(value.shape)}")
        value = value.item()
    return IndexFill.apply(input, index=idx, axis=axis, value=value)


class IndexCopy(Function):
    saves = ()

    def forward(self, x, src, index, axis):
        self.index, self.axis, self.src_shape = index, axis, src.shape
        y = x.copy()
        if x.ndim == 0:
            y.reshape(-1)[index] = src.reshape(-1)
        else:
            xp.moveaxis(y, axis, 0)[index] = xp.moveaxis(src, axis, 0)
        return y

    def backward(self, gy):
        gx = gy.copy()
        (gx.reshape(-1) if gx.ndim == 0 else xp.moveaxis(gx, self.axis, 0))[self.index] = 0
        gs = None
        if self.needs_input_grad[1]:
            gs = xp.take(gy.reshape(-1), self.index) if gy.ndim == 0 else xp.take(gy, self.index, self.axis)
            gs = gs.reshape(self.src_shape)
        return gx, gs


@method("index_copy")
def index_copy(input, dim, index, source):
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s."""
    axis, idx = _index_args(input, dim, index, "index_copy")
    _check_source(input, source, axis, idx, "index_copy")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_copy: source dtype {source.dtype} must match the input's {input.dtype}")
    return IndexCopy.apply(input, source, index=idx, axis=axis)


class MaskedScatter(Function):
    saves = ()

    def forward(self, x, src, mask):
        self.mask, self.src_shape = mask, src.shape
        self.k = k = int(mask.sum())
        y = x.copy()
        y[mask] = src.reshape(-1)[:k]
        return y

    def backward(self, gy):
        gx = xp.where(self.mask, xp.zeros((), gy.dtype), gy)
        gs = None
        if self.needs_input_grad[1]:
            gs = xp.zeros(int(np.prod(self.src_shape)), gy.dtype)
            gs[:self.k] = gy[self.mask]
            gs = gs.reshape(self.src_shape)
        return gx, gs


@method("masked_scatter")
def masked_scatter(input, mask, source):
    """Copy ``source``'s leading elements, in order, to where ``mask`` is True."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter: expected a bool mask, got {m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, tuple(input.shape))
    except ValueError:
        raise RuntimeError(f"masked_scatter: mask {m.shape} and input {tuple(input.shape)} cannot be "
                           "broadcast together") from None
    if source.dtype != input.dtype:
        raise RuntimeError(f"masked_scatter: source dtype {source.dtype} must match the input's {input.dtype}")
    m = np.broadcast_to(m, shape)
    if int(m.sum()) > source.numel():
        raise RuntimeError(f"masked_scatter: the mask selects {int(m.sum())} elements but source has "
                           f"only {source.numel()}")
    x = expand(input, shape) if tuple(input.shape) != shape else input
    return MaskedScatter.apply(x, source, mask=m)


def broadcast_tensors(*tensors):
    """Expand the tensors to their common broadcast shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    try:
        shape = np.broadcast_shapes(*[tuple(t.shape) for t in tensors])
    except ValueError:
        raise RuntimeError("broadcast_tensors: shapes " + ", ".join(str(tuple(t.shape)) for t in tensors)
                           + " cannot be broadcast together") from None
    return tuple(expand(t, shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors; 'xy' swaps the first two output dims."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise RuntimeError("meshgrid: expects a non-empty list of tensors")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expects 0-d or 1-d tensors, got shape {tuple(t.shape)}")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    grids = []
    for i, t in enumerate(ts):
        s = [1] * len(ts)
        s[i] = -1
        grids.append(expand(reshape(t, tuple(s)), shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def _inplace(name, fn):
    def method_(self, *args, **kwargs):
        return self._inplace_result(fn(self, *args, **kwargs), name)
    method_.__name__ = name
    method_.__doc__ = f"In-place ``{fn.__name__}``."
    setattr(Tensor, name, method_)


for _f in (index_add, index_fill, index_copy, masked_scatter):
    _inplace(_f.__name__ + "_", _f)
