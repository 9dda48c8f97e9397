"""Tensor creation: tensor, zeros, ones, full, arange, linspace, eye, rand,
randn, randint, randperm, and the *_like variants.  Random functions draw
from the generator that ``manual_seed`` resets."""
import numpy as np

from . import backend
from .tensor import Tensor, _to_array
from ._device import check as _check_device


def _dt(dtype, default=None):
    if dtype is None:
        return default if default is not None else backend.get_default_dtype()
    return np.dtype(dtype)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise RuntimeError(f"invalid size {tuple(size)}: sizes must be non-negative integers")
    return tuple(int(s) for s in size)


def _new(arr, requires_grad):
    t = Tensor._make(arr, False, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad=False, device=None):
    """Create a tensor from data (copies). Floats become float32 by default."""
    if device is not None:
        _check_device(device, "tensor(device=...)")
    return _new(_to_array(data, dtype), requires_grad)


def as_tensor(data, dtype=None, device=None):
    if device is not None:
        _check_device(device, "as_tensor(device=...)")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return Tensor._make(data, False, None)
    return Tensor._from_data(data, dtype)


def from_numpy(arr):
    """Share memory with a numpy array (no copy), keeping its dtype: writes to
    either show in the other, as ``torch.from_numpy``."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(arr).__name__})")
    if arr.dtype.kind not in "fiubc" or (arr.dtype.kind == "f" and arr.dtype.itemsize > 8):
        raise TypeError(
            f"from_numpy: can't convert np.ndarray of type {arr.dtype}. The only supported types "
            "are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
            "uint64, uint32, uint16, uint8, and bool.")
    if not arr.dtype.isnative:
        raise ValueError("from_numpy: given numpy array has byte order different from the native "
                         "byte order. Conversion between byte orders is currently not supported.")
    if any(s < 0 for s in arr.strides):
        raise ValueError(
            "from_numpy: At least one stride in the given numpy array is negative, and tensors "
            "with negative strides are not currently supported. (You can probably work around "
            "this by making a copy of your array with array.copy().)")
    return Tensor._make(arr, False, None)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    if device is not None:
        _check_device(device, "zeros(device=...)")
    return _new(np.zeros(_size(size), _dt(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    if device is not None:
        _check_device(device, "ones(device=...)")
    return _new(np.ones(_size(size), _dt(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    if device is not None:
        _check_device(device, "empty(device=...)")
    return _new(np.empty(_size(size), _dt(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if device is not None:
        _check_device(device, "full(device=...)")
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = np.bool_
        elif isinstance(fill_value, int):
            dtype = np.int64
    return _new(np.full(_size((size,)) if not isinstance(size, int) else (size,), fill_value,
                        _dt(dtype)), requires_grad)


def zeros_like(input, dtype=None, requires_grad=False, device=None, memory_format=None):
    if device is not None:
        _check_device(device, "zeros_like(device=...)")
    return _new(np.zeros(input.shape, _dt(dtype, input.dtype)), requires_grad)


def ones_like(input, dtype=None, requires_grad=False, device=None, memory_format=None):
    if device is not None:
        _check_device(device, "ones_like(device=...)")
    return _new(np.ones(input.shape, _dt(dtype, input.dtype)), requires_grad)


def empty_like(input, dtype=None, requires_grad=False, device=None, memory_format=None):
    if device is not None:
        _check_device(device, "empty_like(device=...)")
    return _new(np.empty(input.shape, _dt(dtype, input.dtype)), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None, memory_format=None):
    if device is not None:
        _check_device(device, "full_like(device=...)")
    return _new(np.full(input.shape, fill_value, _dt(dtype, input.dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if device is not None:
        _check_device(device, "arange(device=...)")
    if end is None:
        start, end = 0, start
    vals = (start, end, step)
    if dtype is None:
        is_float = any(isinstance(v, float) or (isinstance(v, Tensor) and v.dtype.kind == "f") for v in vals)
        dtype = backend.get_default_dtype() if is_float else np.int64
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    n = int(np.ceil((float(end) - float(start)) / float(step)))
    arr = (np.arange(max(n, 0), dtype=np.float64) * step + start).astype(_dt(dtype))
    return _new(arr, requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    if device is not None:
        _check_device(device, "linspace(device=...)")
    return _new(np.linspace(start, end, int(steps), dtype=np.float64).astype(_dt(dtype)), requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None):
    if device is not None:
        _check_device(device, "logspace(device=...)")
    return _new(np.logspace(start, end, int(steps), base=base).astype(_dt(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    if device is not None:
        _check_device(device, "eye(device=...)")
    return _new(np.eye(n, m, dtype=_dt(dtype)), requires_grad)


def _gen(generator):
    if generator is None:
        return backend.rng()
    return generator.rng if isinstance(generator, Generator) else generator


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None):
    if device is not None:
        _check_device(device, "rand(device=...)")
    g = _gen(generator)
    dt = _dt(dtype)
    return _new(g.random(_size(size), dtype=dt if dt in (np.float32, np.float64) else np.float64).astype(dt, copy=False),
                requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None):
    if device is not None:
        _check_device(device, "randn(device=...)")
    g = _gen(generator)
    dt = _dt(dtype)
    return _new(g.standard_normal(_size(size), dtype=dt if dt in (np.float32, np.float64) else np.float64)
                .astype(dt, copy=False), requires_grad)


def rand_like(input, dtype=None, requires_grad=False, device=None, memory_format=None):
    if device is not None:
        _check_device(device, "rand_like(device=...)")
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False, device=None, memory_format=None):
    if device is not None:
        _check_device(device, "randn_like(device=...)")
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint(low, high=None, size=None, dtype=None, generator=None, device=None):
    if device is not None:
        _check_device(device, "randint(device=...)")
    if high is None:
        low, high = 0, low
    elif size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high  # randint(high, size) as in PyTorch
    if size is None:
        raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
    g = _gen(generator)
    return _new(g.integers(low, high, _size((size,)) if not isinstance(size, int) else (size,))
                .astype(_dt(dtype, np.dtype(np.int64))), False)


def randint_like(input, low, high=None, dtype=None, device=None, memory_format=None):
    if device is not None:
        _check_device(device, "randint_like(device=...)")
    return randint(low, high, input.shape, dtype=input.dtype if dtype is None else dtype)


def randperm(n, dtype=None, generator=None, device=None):
    if device is not None:
        _check_device(device, "randperm(device=...)")
    return _new(_gen(generator).permutation(int(n)).astype(_dt(dtype, np.dtype(np.int64))), False)


def normal(mean, std, size=None, generator=None):
    g = _gen(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        dt = (mean if isinstance(mean, Tensor) else std).dtype
        return _new((g.standard_normal(shape) * s + m).astype(dt), False)
    return _new((g.standard_normal(_size((size,)) if not isinstance(size, int) else (size,)) * std + mean)
                .astype(backend.get_default_dtype()), False)


def bernoulli(input, generator=None):
    g = _gen(generator)
    return _new((g.random(input.shape) < input._data).astype(input.dtype), False)


def multinomial(input, num_samples, replacement=False, generator=None):
    """Sample indices from rows of (unnormalised) probabilities."""
    g = _gen(generator)
    p = np.asarray(input._data, np.float64)
    single = p.ndim == 1
    p2 = p[None] if single else p
    if (p2 < 0).any() or not np.isfinite(p2).all():
        raise RuntimeError("multinomial: probabilities must be finite and non-negative")
    out = np.empty((p2.shape[0], num_samples), np.int64)
    for r in range(p2.shape[0]):
        s = p2[r].sum()
        if s <= 0:
            raise RuntimeError("multinomial: a row of probabilities sums to 0")
        if not replacement and num_samples > np.count_nonzero(p2[r]):
            raise RuntimeError("multinomial: cannot sample more than the non-zero categories without replacement")
        out[r] = g.choice(p2.shape[1], size=num_samples, replace=replacement, p=p2[r] / s)
    return _new(out[0] if single else out, False)


class Generator:
    """A separate random stream (``dalam.Generator().manual_seed(0)``), e.g.
    for a DataLoader's shuffling, independent of the global one."""

    def __init__(self, device="cpu"):
        self.rng = np.random.default_rng(0)
        self._seed = 0

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state


def range_(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """PyTorch's deprecated ``torch.range``: like arange but ``end`` is included and
    the default dtype is float."""
    if device is not None:
        _check_device(device, "range(device=...)")
    if end is None:
        start, end = 0, start
    n = int(np.floor((end - start) / step)) + 1
    arr = (start + step * np.arange(max(n, 0), dtype=np.float64)).astype(_dt(dtype))
    return _new(arr, requires_grad)


def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    if device is not None:
        _check_device(device, "scalar_tensor(device=...)")
    return _new(np.array(s, _dt(dtype)), requires_grad)


def asarray(obj, dtype=None, device=None, copy=None, requires_grad=False):
    """``torch.asarray``: shares memory with a Tensor or NumPy array when it can
    (``copy=None``), copies with ``copy=True``."""
    if device is not None:
        _check_device(device, "asarray(device=...)")
    if isinstance(obj, Tensor):
        t = obj if dtype is None else obj.to(dtype)
        t = t.clone() if copy else t
    elif isinstance(obj, np.ndarray) and not copy and (dtype is None or np.dtype(dtype) == obj.dtype):
        if copy is False and dtype is not None and np.dtype(dtype) != obj.dtype:
            raise ValueError("asarray: copy=False but a dtype change needs a copy")
        t = Tensor._make(obj, False, None)
    else:
        t = Tensor._from_data(obj, dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def frombuffer(buffer, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over a Python buffer (shares its memory, as torch.frombuffer)."""
    arr = np.frombuffer(buffer, dtype=np.dtype(dtype), count=count, offset=offset)
    return _new(arr, requires_grad)


def empty_strided(size, stride, dtype=None, device=None, requires_grad=False):
    if device is not None:
        _check_device(device, "empty_strided(device=...)")
    size, stride = tuple(size), tuple(stride)
    dt = _dt(dtype)
    n = 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    base = np.zeros(max(n, 0), dt)
    arr = np.lib.stride_tricks.as_strided(base, size, [st * dt.itemsize for st in stride])
    return _new(arr, requires_grad)
