"""Shape ops: reshape/view, transpose, permute, flatten, squeeze/unsqueeze,
expand, repeat, cat, stack, split, chunk, pad, flip.  Views share memory and
the version counter with their input, as in PyTorch."""
import math

import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import method, norm_dim


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if type(s) is not int:
            return tuple(int(s) for s in shape)  # numpy ints, 0-d tensors
    return shape


class Reshape(Function):
    saves = ()
    is_view = True

    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, gy):
        return gy.reshape(self.in_shape)

    def backward_graph(self, gy):
        return gy.reshape(self.in_shape)


def _check_reshape(x, shape, op):
    n = x._data.size
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got shape {shape}")
    known = math.prod(s for s in shape if s != -1)
    bad = any(s < -1 for s in shape)
    if bad or (neg and (known == 0 or n % known)) or (not neg and known != n):
        raise RuntimeError(
            f"{op}: shape {list(shape)} is invalid for input of size {n} (input shape {tuple(x.shape)})")


@method("view")
def view(input, *shape):
    """``reshape`` that refuses to copy, as PyTorch's ``view``: the result must
    share memory with ``input``, so writes through one show in the other.
    ``view(dtype)`` reads the same bytes as another dtype."""
    if len(shape) == 1 and (isinstance(shape[0], np.dtype) or (
            isinstance(shape[0], type) and issubclass(shape[0], np.generic))):
        from .views import view_dtype
        return view_dtype(input, shape[0])
    out = reshape(input, *shape)
    if out is not input and out._data.size and not np.may_share_memory(out._data, input._data):
        raise RuntimeError(
            f"view: shape {tuple(out.shape)} is not compatible with the memory layout of the input "
            f"(shape {tuple(input.shape)}, not contiguous, e.g. after .T or permute); use "
            ".reshape(...) instead, which copies when it must")
    return out


@method("reshape")
def reshape(input, *shape):
    shape = _shape_arg(shape)
    if shape == input._data.shape:
        return input
    try:  # numpy validates the shape; a failure gets our clearer message
        return Reshape.apply(input, shape)
    except ValueError:
        _check_reshape(input, shape, "reshape")
        raise


Tensor.view_as = lambda self, other: view(self, other.shape)
Tensor.reshape_as = lambda self, other: reshape(self, other.shape)


class Permute(Function):
    saves = ()
    is_view = True

    def forward(self, x, axes):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, gy):
        return gy.transpose(np.argsort(self.axes))

    def backward_graph(self, gy):
        return gy.permute(*[int(a) for a in np.argsort(self.axes)])


@method("permute")
def permute(input, *dims):
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            f"permute: number of dims ({len(dims)}) don't match the tensor's ({input.ndim}); "
            f"shape {tuple(input.shape)}, dims {dims}")
    axes = tuple(norm_dim(d, input.ndim, "permute") for d in dims)
    if sorted(axes) != list(range(input.ndim)):
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return Permute.apply(input, axes)


@method("transpose", "swapaxes", "swapdims")
def transpose(input, dim0, dim1):
    n = input.ndim
    if n < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    a, b = norm_dim(dim0, n, "transpose"), norm_dim(dim1, n, "transpose")
    if a == b:
        return input
    axes = list(range(n))
    axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(input, tuple(axes))


@method("t")
def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but this one has {input.ndim}")
    return transpose(input, 0, -1) if input.ndim == 2 else input


_REV = {2: (1, 0)}


def _T(self):
    n = self._data.ndim
    if n < 2:
        return self
    axes = _REV.get(n)
    if axes is None:
        axes = _REV[n] = tuple(range(n))[::-1]
    return Permute.apply(self, axes)


def _T_checked(self):
    if self._data.ndim > 2:
        import warnings
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*range(x.ndim - 1, -1, -1))` to reverse "
            "the dimensions of a tensor.", UserWarning, stacklevel=2)
    return _T(self)


def _mT(self):
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _H(self):
    if self._data.ndim != 2:
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {self._data.ndim}-D tensor."
            + (" For batches of matrices, consider using tensor.mH" if self._data.ndim > 2 else ""))
    return transpose(self, 0, 1)  # real dtypes: the conjugate is the tensor itself


Tensor.T = property(_T_checked)
Tensor.mT = property(_mT)
Tensor.H = property(_H)
Tensor.mH = property(_mT)
Tensor.adjoint = _mT


@method("movedim", "moveaxis")
def movedim(input, source, destination):
    src = source if isinstance(source, (tuple, list)) else (source,)
    dst = destination if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {src} and destination {dst} must have the same length")
    src = [norm_dim(s, input.ndim, "movedim") for s in src]
    dst = [norm_dim(d, input.ndim, "movedim") for d in dst]
    order = [i for i in range(input.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Permute.apply(input, axes=tuple(order))


@method("flatten")
def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, 1)
    s = norm_dim(start_dim, input.ndim, "flatten")
    e = norm_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten: start_dim cannot come after end_dim")
    shape = input.shape[:s] + (math.prod(input.shape[s:e + 1]),) + input.shape[e + 1:]
    return reshape(input, shape)


@method("unflatten")
def unflatten(input, dim, sizes):
    d = norm_dim(dim, input.ndim, "unflatten")
    sizes = tuple(sizes)
    if -1 in sizes:
        known = math.prod(s for s in sizes if s != -1)
        sizes = tuple(input.shape[d] // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != input.shape[d]:
        raise RuntimeError(f"unflatten: sizes {sizes} don't multiply up to the size of dim {dim} ({input.shape[d]})")
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


@method("squeeze")
def squeeze(input, dim=None):
    if dim is None:
        shape = tuple(s for s in input.shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {norm_dim(d, input.ndim, "squeeze") for d in dims}
        shape = tuple(s for i, s in enumerate(input.shape) if not (i in dims and s == 1))
    return reshape(input, shape)


@method("unsqueeze")
def unsqueeze(input, dim):
    d = norm_dim(dim, input.ndim + 1, "unsqueeze")
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


class Expand(Function):
    saves = ()
    is_view = True

    def forward(self, x, shape):
        lead = len(shape) - x.ndim
        if all(n == 1 for n in shape[:lead]) and all(
                a == b for a, b in zip(x.shape, shape[lead:])):
            return x.reshape(shape)  # only new size-1 dims: a plain (writable) view
        return xp.broadcast_to(x, shape)

    def backward(self, gy):
        return gy  # the engine sums it back to the input shape

    backward_graph = backward


@method("expand")
def expand(input, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the tensor's dims "
            f"({input.ndim}); shape {tuple(input.shape)}")
    lead = len(sizes) - input.ndim
    shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, s in enumerate(input.shape):
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(
                f"expand: the expanded size ({shape[lead + i]}) must match the existing size ({s}) "
                f"at non-singleton dimension {lead + i}. Target {list(sizes)}, tensor {list(input.shape)}")
    if shape == input.shape:
        return input
    return Expand.apply(input, shape=shape)


Tensor.expand_as = lambda self, other: expand(self, other.shape)


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


class Repeat(Function):
    saves = ()

    def forward(self, x, reps):
        self.in_shape = (1,) * (len(reps) - x.ndim) + x.shape
        self.reps = reps
        return xp.tile(x.reshape(self.in_shape), reps)

    def backward(self, gy):
        inter = []
        for r, s in zip(self.reps, self.in_shape):
            inter += [r, s]
        g = gy.reshape(inter).sum(axis=tuple(range(0, 2 * len(self.reps), 2)))
        return g

    def backward_graph(self, gy):
        inter = []
        for r, s in zip(self.reps, self.in_shape):
            inter += [r, s]
        return gy.reshape(inter).sum(tuple(range(0, 2 * len(self.reps), 2)))


@method("repeat")
def repeat(input, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the tensor's "
            f"dims ({input.ndim})")
    out = Repeat.apply(input, reps=sizes)
    return out.reshape(out.shape) if out.ndim == len(sizes) else out


class Cat(Function):
    saves = ()

    def forward(self, *xs, axis):
        self.axis = axis
        self.sizes = [x.shape[axis] for x in xs]
        return xp.concatenate(xs, axis=axis)

    def backward(self, gy):
        idx = np.cumsum(self.sizes)[:-1]
        return tuple(xp.split(gy, idx, axis=self.axis))

    def backward_graph(self, gy):
        return Split.apply(gy, sections=self.sizes, axis=self.axis)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors")
    nd = tensors[0].ndim
    # PyTorch skips 1-D empty tensors in cat
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    if nd == 0:
        raise RuntimeError("cat: zero-dimensional tensor cannot be concatenated")
    axis = norm_dim(dim, tensors[0].ndim, "cat")
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != len(ref) or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref)) if j != axis):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {dim}; tensor 0 has shape "
                f"{tuple(ref)} but tensor {i} has shape {tuple(t.shape)}")
    dt = np.result_type(*[t._data.dtype for t in tensors])
    tensors = [t if t._data.dtype == dt else t.to(dt) for t in tensors]
    return Cat.apply(*tensors, axis=axis)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != ref:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but got {tuple(ref)} at entry 0 and "
                f"{tuple(t.shape)} at entry {i}")
    d = norm_dim(dim, len(ref) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors):
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t.ndim > 1 else t.reshape(1, -1) for t in tensors], 0)


class Split(Function):
    saves = ()

    def forward(self, x, sections, axis):
        self.axis = axis
        idx = np.cumsum(sections)[:-1]
        return tuple(xp.split(x, idx, axis=axis))

    def backward(self, *gys):
        return xp.concatenate(gys, axis=self.axis)

    def backward_graph(self, *gys):
        return Cat.apply(*gys, axis=self.axis)


@method("split")
def split(tensor, split_size_or_sections, dim=0):
    axis = norm_dim(dim, tensor.ndim, "split")
    n = tensor.shape[axis]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0:
            raise RuntimeError(f"split: split_size must be positive, got {s}")
        sections = [s] * (n // s) + ([n % s] if n % s else [])
        if n == 0:
            sections = [0]
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != n:
            raise RuntimeError(
                f"split: sizes {sections} must sum to the size of dim {dim} ({n})")
    return Split.apply(tensor, sections=sections, axis=axis)


@method("chunk")
def chunk(input, chunks, dim=0):
    axis = norm_dim(dim, input.ndim, "chunk")
    n = input.shape[axis]
    size = -(-n // chunks) if n else 1
    return split(input, max(size, 1), axis)


@method("unbind")
def unbind(input, dim=0):
    axis = norm_dim(dim, input.ndim, "unbind")
    return tuple(squeeze(p, axis) for p in split(input, 1, axis))


class Flip(Function):
    saves = ()

    def forward(self, x, axes):
        self.axes = axes
        return xp.flip(x, axes).copy()  # a copy, as PyTorch's (no negative strides)

    def backward(self, gy):
        return xp.flip(gy, self.axes)

    def backward_graph(self, gy):
        return Flip.apply(gy, axes=self.axes)


@method("flip")
def flip(input, dims):
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    return Flip.apply(input, axes=tuple(norm_dim(d, input.ndim, "flip") for d in dims))


class Pad(Function):
    saves = ()

    def forward(self, x, widths, mode, value):
        self.widths, self.mode, self.in_shape = widths, mode, x.shape
        if mode == "constant":
            return xp.pad(x, widths, mode="constant", constant_values=value)
        return xp.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])

    def backward(self, gy):
        if self.mode == "constant":
            sl = tuple(slice(lo, gy.shape[i] - hi) for i, (lo, hi) in enumerate(self.widths))
            return gy[sl]
        # non-constant modes: scatter-add through the padding's index map
        first = next(i for i, w in enumerate(self.widths) if w != (0, 0))
        sp_in = self.in_shape[first:]
        mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[self.mode]
        idx = xp.pad(np.arange(int(np.prod(sp_in))).reshape(sp_in), self.widths[first:], mode=mode)
        lead = int(np.prod(self.in_shape[:first]))
        g2 = gy.reshape(lead, -1)
        out = xp.zeros((lead, int(np.prod(sp_in))), gy.dtype)
        np.add.at(out, (slice(None), idx.reshape(-1)), g2)
        return out.reshape(self.in_shape)

    def backward_graph(self, gy):
        if self.mode != "constant":
            raise RuntimeError(
                f"pad: double backward (create_graph=True) supports mode='constant' only, not "
                f"{self.mode!r}")
        return gy[tuple(slice(lo, gy.shape[i] - hi) for i, (lo, hi) in enumerate(self.widths))]


def pad(input, pad, mode="constant", value=0.0):
    """``F.pad``: ``pad`` lists (left, right) widths starting from the last dim."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(
            f"pad: padding length must be even and at most 2*ndim ({2 * input.ndim}); got {len(pad)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be constant, reflect, replicate or circular; got {mode!r}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        lo, hi = int(pad[2 * i]), int(pad[2 * i + 1])
        d = input.ndim - 1 - i
        if mode == "reflect" and (lo >= input.shape[d] or hi >= input.shape[d]):
            raise RuntimeError(
                f"pad: reflect padding ({lo}, {hi}) must be smaller than the input dimension "
                f"{d} of size {input.shape[d]}")
        widths[d] = (lo, hi)
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        if mode != "constant":
            raise RuntimeError("pad: negative padding is only supported in constant mode")
        # negative padding crops
        sl = tuple(slice(-lo if lo < 0 else None, hi if hi < 0 else None) for lo, hi in widths)
        input = input[sl]
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    return Pad.apply(input, widths=tuple(widths), mode=mode, value=value)
