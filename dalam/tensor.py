"""``Tensor``: a NumPy array plus what autograd needs.

A Tensor holds ``data`` (a numpy array), ``requires_grad``, ``grad`` and
``grad_fn`` (the Function that produced it; None for leaves).  Maths methods
are attached by the op modules in ``dalam.ops`` next to each op's forward and
backward, so this file only has the container, conversions and the
in-place/housekeeping methods.
"""
import numpy as np

from . import backend
from .backend import xp
from .autograd import grad_mode

_gstate = grad_mode.state
_ndarray = xp.ndarray
_run_backward = None  # engine, imported on first backward()


class Tensor:
    __slots__ = ("_data", "grad", "requires_grad", "grad_fn", "_output_nr", "_vc", "_hooks",
                 "__weakref__")
    __array_priority__ = 1000  # so ndarray (op) Tensor defers to Tensor's reflected op

    def __init__(self, *args, requires_grad=False, dtype=None, device=None):
        """PyTorch's ``torch.Tensor(...)``: ``Tensor(2, 3)`` (or a ``Size``) makes a
        float tensor of that shape (zeros; PyTorch leaves it uninitialised),
        ``Tensor(data)`` a float tensor of the data (default dtype unless ``dtype=``),
        ``Tensor(t)`` an alias of tensor ``t``. Prefer ``dalam.tensor(data)``,
        which infers the dtype."""
        if device is not None:
            _check_device(device, "Tensor()")
        alias = None
        arr = _legacy_array(args, dtype, "Tensor")
        if isinstance(arr, Tensor):
            alias, arr = arr, arr._data
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._vc = alias._vc if alias is not None else [0]
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _from_data(cls, data, dtype=None):
        """A new leaf holding a copy of ``data`` with ``dalam.tensor``'s dtype inference."""
        return cls._make(_to_array(data, dtype), False, None)

    @classmethod
    def _make(cls, data, requires_grad, grad_fn, output_nr=0, vc=None):
        t = object.__new__(cls)
        t._data = data if type(data) is _ndarray else xp.asarray(data)
        t.grad = None
        t.requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._vc = vc if vc is not None else [0]
        t._hooks = None
        return t

    # ---------------------------------------------------------------- basics
    @property
    def data(self):
        """PyTorch's ``.data``: a Tensor sharing this one's memory, cut from the
        graph and not requiring grad; writes through it are invisible to autograd
        (its version counter is its own).  ``numpy()`` is the way to the array."""
        return Tensor._make(self._data, False, None)

    @data.setter
    def data(self, value):
        arr = value._data if isinstance(value, Tensor) else xp.asarray(value)
        if arr.dtype != self._data.dtype and self.requires_grad and arr.dtype.kind != "f":
            raise RuntimeError(
                f"data: cannot assign a {arr.dtype} array to a {self._data.dtype} tensor that "
                "requires grad")
        self._data = arr

    @property
    def shape(self):
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def device(self):
        return _CPU

    is_cuda = False
    is_cpu = True
    is_mps = False
    is_meta = False
    is_sparse = False
    is_quantized = False
    is_mkldnn = False
    is_nested = False

    @property
    def layout(self):
        return _memory.strided

    def get_device(self):
        return -1

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def _version(self):
        return self._vc[0]

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def dim(self):
        return self._data.ndim

    def size(self, dim=None):
        """``dalam.Size`` (a tuple with ``numel()``) of the shape, or one dim's size.
        ``x.shape`` stays a plain tuple (it is on the hot path of every layer)."""
        if dim is None:
            return _tnew(_Size, self._data.shape)
        try:
            return self._data.shape[dim]
        except (IndexError, TypeError):
            from .ops._util import norm_dim
            return self._data.shape[norm_dim(dim, self._data.ndim, "size")]

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"item(): a Tensor with {self._data.size} elements cannot be converted to a "
                "Python number; only one-element tensors can.")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force=False):
        """The array itself (shares memory: writes show in the tensor), as PyTorch.
        ``force=True`` also works on a tensor that requires grad (detached first)."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on a Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self._data
        return a if dtype is None else a.astype(dtype)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of a Tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all().")
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self):
        from ._repr import tensor_repr
        return tensor_repr(self)

    def _repr_html_(self):
        """Jupyter's rich view: shape, dtype, gradient state, value statistics, the values."""
        from ._repr import tensor_repr_html
        return tensor_repr_html(self)

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self) if not spec else format(repr(self), spec)

    # ---------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating point tensors can require gradients (this one is {self._data.dtype}); "
                "convert it with .float() first.")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use .detach() instead.")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """A tensor sharing data (and version counter) but cut from the graph."""
        return Tensor._make(self._data, False, None, 0, self._vc)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self):
        if self.grad_fn is None:
            return
        fn = self.grad_fn
        import weakref
        if fn._retained is None:
            fn._retained = {}
        fn._retained[self._output_nr] = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a return
        value other than None replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            lst = self._hooks
        else:
            fn = self.grad_fn
            if fn._hooks is None:
                fn._hooks = {}
            lst = fn._hooks.setdefault(self._output_nr, [])
            lst.append(hook)
        return _HookHandle(lst, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after this leaf's ``.grad`` has been updated by a
        backward pass (as PyTorch); the hook returns nothing.  It runs during
        the pass, as soon as the leaf's gradient is complete, which is what lets
        DistributedDataParallel communicate while backward continues."""
        if not self.requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a "
                               "tensor that doesn't require grad")
        if self.grad_fn is not None:
            raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors (parameters) "
                               "accumulate a .grad; use register_hook on a non-leaf tensor")
        from .autograd.engine import register_post_accumulate_grad_hook
        return register_post_accumulate_grad_hook(self, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        global _run_backward
        if _run_backward is None:
            from .autograd.engine import run_backward as _run_backward
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs, but this "
                    f"tensor has shape {tuple(self.shape)}. Pass a gradient of that shape "
                    "(e.g. t.backward(dalam.ones_like(t))) or reduce it first (t.sum()).")
            g = xp.ones(self._data.shape, self._data.dtype)
        else:
            g = gradient._data if isinstance(gradient, Tensor) else xp.asarray(gradient, self._data.dtype)
            if g.shape != self._data.shape:
                raise RuntimeError(
                    f"backward: gradient has shape {g.shape} but the tensor has shape {self._data.shape}")
        if create_graph:
            g = gradient if isinstance(gradient, Tensor) else Tensor._make(g, False, None)
        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            # accumulate only into ``inputs`` (as torch's backward(inputs=...))
            ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            grads = _run_backward([self], [g], retain_graph=retain_graph, create_graph=create_graph,
                                  inputs=ins, allow_unused=True, accumulate=False)
            for t, gi in zip(ins, grads):
                if gi is not None:
                    gi = gi if create_graph else Tensor._make(gi._data.copy(), False, None)
                    t.grad = gi if t.grad is None else t.grad + gi
            return
        _run_backward([self], [g], retain_graph=retain_graph, create_graph=create_graph)

    # ---------------------------------------------------------------- dtype
    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device, dtype)``, ``to(other)``, with ``non_blocking``,
        ``copy`` and ``memory_format`` as in PyTorch. The device must be the CPU
        ('cpu', ``dalam.device('cpu')``); a GPU raises a clear error."""
        dev, dtype, copy, fmt = _parse_to(args, kwargs, "to")
        if dev is not None:
            _check_device(dev, f"to({dev!r})" if isinstance(dev, str) else "to()")
        out = self
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype != self._data.dtype:
                from .ops.elementwise import cast
                out = cast(self, dtype)
                copy = False
        if fmt is not None and fmt is not _memory.preserve_format and \
                not _memory.is_contiguous(out._data, fmt):
            return out.contiguous(memory_format=fmt)
        if copy:
            return out.clone()
        return out

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """``type()`` names the tensor type as PyTorch does ('torch.FloatTensor');
        ``type(dalam.float64)``, ``type('torch.DoubleTensor')`` and
        ``type(dalam.DoubleTensor)`` convert."""
        from . import _legacy
        if dtype is None:
            return _legacy.type_name(self._data.dtype)
        return self.to(_legacy.dtype_of(dtype))

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def long(self):
        return self.to(backend.int64)

    def int(self):
        return self.to(backend.int32)

    def bool(self):
        return self.to(backend.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    def cpu(self, memory_format=None):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        raise _device.unavailable("cuda()", "cuda")

    def mps(self, *a, **k):
        raise _device.unavailable("mps()", "mps")

    def pin_memory(self, device=None):
        """Raises as a CPU-only PyTorch does: pinned memory serves copies to a GPU
        and there is none (DataLoader(pin_memory=True) is accepted and ignored)."""
        raise _device.DeviceUnavailableError(
            "pin_memory(): Cannot access accelerator device when none is available: dalam is a "
            "CPU-only backend (NumPy), so there is nothing to pin for; drop the .pin_memory() call.")

    def is_pinned(self, device=None):
        return False

    # ---------------------------------------------------------------- in-place
    def _bump(self):
        self._vc[0] += 1

    def _check_inplace(self, opname):
        if not self._data.flags.writeable:
            _raise_readonly(self, opname)
        self._check_inplace_grad(opname)

    def _check_inplace_grad(self, opname):
        if _gstate.enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{opname}: a leaf Variable that requires grad is being used in an in-place "
                "operation. Wrap it in `with dalam.no_grad():` (as optimisers do) or use an "
                "out-of-place op.")

    def _inplace_result(self, result, opname):
        """Make ``self`` hold ``result`` (a Tensor) in place."""
        self._check_inplace(opname)
        if _gstate.enabled and result.requires_grad:
            # rebase history: self now is the op's output
            self._data = result._data.astype(self._data.dtype, copy=False)
            fn = self.grad_fn = result.grad_fn
            self._output_nr = result._output_nr
            self.requires_grad = True
            self._bump()
            refs = fn.__dict__.get("_out_refs")
            if refs is not None:
                # an op that reads its output in backward (exp_, relu_...) now watches self
                refs[self._output_nr] = (self._vc, self._vc[0])
            return self
        r = result._data
        if r.shape != self._data.shape:
            r = xp.broadcast_to(r, self._data.shape)
        self._data[...] = r
        self._bump()
        return self

    def copy_(self, src):
        src_t = src if isinstance(src, Tensor) else Tensor._from_data(src)
        if _gstate.enabled and src_t.requires_grad:
            from .ops.elementwise import cast
            from .ops.shape import expand
            r = src_t if src_t.shape == self.shape else expand(src_t, self.shape)
            return self._inplace_result(cast(r, self.dtype) if r.dtype != self.dtype else r, "copy_")
        self._check_inplace("copy_")
        try:
            self._data[...] = src_t._data
        except ValueError:
            raise RuntimeError(
                f"copy_: source of shape {tuple(src_t.shape)} cannot be broadcast to {tuple(self.shape)}")
        self._bump()
        return self

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        value = value.item() if isinstance(value, Tensor) else value
        if not self._data.flags.writeable and _memory.has_internal_overlap(self._data):
            # an expanded tensor: every element gets the same value, which PyTorch allows
            self._check_inplace_grad("fill_")
            if _memory.write_overlapping(self._data, value):
                self._bump()
                return self
        self._check_inplace("fill_")
        self._data[...] = value
        self._bump()
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        self._check_inplace("normal_")
        g = generator or backend.rng()
        self._data[...] = g.standard_normal(self._data.shape, dtype=np.float64) * std + mean
        self._bump()
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        self._check_inplace("uniform_")
        g = generator or backend.rng()
        self._data[...] = g.uniform(a, b, self._data.shape)
        self._bump()
        return self

    def bernoulli_(self, p=0.5, generator=None):
        self._check_inplace("bernoulli_")
        g = generator or backend.rng()
        self._data[...] = g.random(self._data.shape) < p
        self._bump()
        return self

    def clone(self, memory_format=None):
        """A copy in the graph. PyTorch's default ``preserve_format`` keeps the
        order of the strides (``x.t().clone()`` stays transposed, so ``.view``
        of it fails as in PyTorch); ``memory_format=dalam.contiguous_format``
        gives C-contiguous memory."""
        from .ops.elementwise import clone
        return clone(self, memory_format)

    def contiguous(self, memory_format=None):
        """C-contiguous memory (or ``memory_format=dalam.channels_last``): this tensor
        when it already is, else a copy that stays in the graph (so
        ``.contiguous().view(...)`` always works)."""
        if memory_format is None or memory_format is _memory.contiguous_format:
            if self._data.flags.c_contiguous:
                return self
            fmt = _memory.contiguous_format
        elif memory_format is _memory.preserve_format:
            raise RuntimeError("contiguous(): preserve memory format is unsupported by the "
                               "contiguous operator; use clone() to copy keeping the layout")
        else:
            fmt = memory_format
            if _memory.is_contiguous(self._data, fmt):
                return self
            _memory.channels_last_perm(self._data, fmt, "contiguous()")
        from .ops.elementwise import clone
        return clone(self, fmt)

    def is_contiguous(self, memory_format=None):
        if memory_format is None:
            return bool(self._data.flags.c_contiguous)
        return _memory.is_contiguous(self._data, memory_format)

    def stride(self, dim=None):
        """Strides in elements, as PyTorch counts them (NumPy's are in bytes)."""
        st = _memory.strides(self._data)
        if dim is None:
            return st
        from .ops._util import norm_dim
        return st[norm_dim(dim, self._data.ndim, "stride")]

    def storage_offset(self):
        """Elements between the start of the memory block this tensor views and
        its first element (``x[1:].storage_offset() == x.shape[1]``, as in PyTorch)."""
        return _memory.storage_offset(self._data)

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    def untyped_storage(self):
        """The memory block this tensor views: ``data_ptr()``, ``nbytes()``; two
        views of one tensor report the same ``data_ptr()``."""
        return _memory.UntypedStorage(self._data)

    def storage(self):
        return _memory.TypedStorage(self._data)

    def is_set_to(self, other):
        a, b = self._data, other._data
        return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
                and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)

    def share_memory_(self):
        """Move the data into memory shared with processes forked afterwards (see
        dalam/_shared.py), so Hogwild-style training with forked workers updates
        one set of weights, as in PyTorch.  In place; returns ``self``."""
        from . import _shared
        if not _shared.is_shared(self._data):
            self._data = _shared.to_shared(self._data)
            if self.grad is not None and not _shared.is_shared(self.grad._data):
                self.grad._data = _shared.to_shared(self.grad._data)
        return self

    def is_shared(self):
        from . import _shared
        return _shared.is_shared(self._data)


class _HookHandle:
    def __init__(self, lst, hook):
        self._lst, self._hook = lst, hook

    def remove(self):
        try:
            self._lst.remove(self._hook)
        except ValueError:
            pass


def _to_array(data, dtype=None):
    """Build the numpy array for a new tensor with PyTorch's dtype inference:
    Python floats -> float32 (default), ints -> int64, bools -> bool."""
    if isinstance(data, Tensor):
        arr = data._data.copy()
        return arr if dtype is None else arr.astype(np.dtype(dtype), copy=False)
    if dtype is not None:
        dtype = np.dtype(dtype)
        return np.array(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        if data.dtype == np.float64 or data.dtype.kind in "fiub":
            return data.copy()
        return data.astype(backend.get_default_dtype())
    if isinstance(data, np.generic) and data.dtype.kind in "fiub":
        return np.array(data)  # a NumPy scalar keeps its dtype, as in PyTorch
    arr = np.array(data)
    k = arr.dtype.kind
    if k == "f":
        return arr.astype(backend.get_default_dtype(), copy=False)
    if k in "iu":
        return arr.astype(np.int64, copy=False)
    if k == "b":
        return arr
    if k == "O" or k in "US":
        # e.g. a list of tensors
        try:
            arr = np.array([np.asarray(x._data if isinstance(x, Tensor) else x) for x in data])
        except Exception:
            raise TypeError(f"tensor(): could not infer a numeric dtype from {type(data).__name__} data")
        return _to_array(arr if arr.dtype.kind != "f" else arr.astype(backend.get_default_dtype()))
    raise TypeError(f"tensor(): unsupported data of dtype {arr.dtype}")


def _raise_readonly(t, opname):
    if _memory.has_internal_overlap(t._data):
        raise RuntimeError(
            f"{opname}: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location (it comes from expand() or broadcast_to()). "
            "Please clone() the tensor before performing the operation.")
    raise RuntimeError(
        f"{opname}: the tensor's memory is read-only (it wraps a read-only NumPy array, e.g. "
        "from np.broadcast_to or a memory-mapped file). clone() it before writing to it.")


def _parse_to(args, kwargs, op):
    """(device, dtype, copy, memory_format) from the argument forms of ``Tensor.to``."""
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    copy = kwargs.pop("copy", False)
    fmt = kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{op}() got an unexpected keyword argument {next(iter(kwargs))!r}")
    if args:
        a, rest = args[0], list(args[1:])
        if isinstance(a, Tensor):
            dtype = a._data.dtype
        elif a is None or _device.is_device_like(a) or (isinstance(a, int) and not isinstance(a, bool)):
            dev = a
            if rest and not isinstance(rest[0], bool):
                dtype = rest.pop(0)
        else:
            dtype = a
        if rest:
            rest.pop(0)  # non_blocking
        if rest:
            copy = rest.pop(0)
        if rest:
            raise TypeError(f"{op}(): too many positional arguments {args!r}")
    return dev, dtype, bool(copy), fmt


def _legacy_array(args, dtype, name):
    """The array for ``Tensor(...)`` / ``FloatTensor(...)``'s argument forms (or the
    Tensor to alias)."""
    dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    if not args:
        return np.empty((0,), dt)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in args):
        if any(a < 0 for a in args):
            raise RuntimeError(f"{name}(): negative dimension in size {tuple(args)}")
        return np.zeros(tuple(int(a) for a in args), dt)
    if len(args) != 1:
        raise TypeError(f"{name}(): expected sizes (ints) or one sequence of data, got {args!r}")
    data = args[0]
    from ._size import Size
    if isinstance(data, Size):
        return np.zeros(tuple(data), dt)
    if isinstance(data, Tensor):
        if dtype is not None and data._data.dtype != dt:
            raise TypeError(
                f"{name}(): expected a {dt} tensor, got {data._data.dtype}; convert it with "
                f".to(dalam.{dt}) first")
        return data
    if isinstance(data, (float, complex, bool)) or (isinstance(data, np.generic)):
        raise TypeError(f"{name}(): data must be a sequence (got {type(data).__name__}); "
                        "use dalam.tensor(x) for a 0-d tensor")
    return _to_array(data, dt)


from . import _device, _memory  # noqa: E402
from ._device import check as _check_device, CPU as _CPU  # noqa: E402
from ._size import Size as _Size  # noqa: E402

_tnew = tuple.__new__
