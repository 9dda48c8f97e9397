"""Process-level switches PyTorch programs call, answered for a NumPy backend.

``compile`` returns the model or function unchanged (nothing to compile: dalam
runs eagerly); ``set_num_threads`` sets BLAS threads through threadpoolctl when
it is installed; ``use_deterministic_algorithms`` records the flag (dalam's ops
are deterministic for a given seed and thread count); ``autocast`` and
``amp.GradScaler`` run in full precision, as a CPU-only PyTorch does for CUDA
autocast (a warning says so when mixed precision was asked for).
"""
import warnings

_threads = None
_deterministic = {"mode": False, "warn_only": False}


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """``torch.compile``: returns ``model`` itself (dalam runs eagerly); usable as a
    decorator, with or without arguments."""
    if model is None:
        return lambda m: m
    return model


def set_num_threads(n):
    """Threads for BLAS (matrix products), via threadpoolctl when installed."""
    global _threads
    n = int(n)
    if n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    _threads = n
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(n)


def get_num_threads():
    if _threads is not None:
        return _threads
    try:
        from threadpoolctl import threadpool_info
        nums = [i.get("num_threads", 1) for i in threadpool_info()]
        if nums:
            return max(nums)
    except ImportError:
        pass
    import os
    return os.cpu_count() or 1


def set_num_interop_threads(n):
    pass


def get_num_interop_threads():
    return 1


def use_deterministic_algorithms(mode, *, warn_only=False):
    _deterministic.update(mode=bool(mode), warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled():
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    return _deterministic["warn_only"]


_MATMUL_PRECISION = ["highest"]


def set_float32_matmul_precision(precision):
    """``torch.set_float32_matmul_precision``: accepted and recorded; NumPy's float32
    matrix products are always full float32 ("highest")."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium', "
                           f"got {precision!r}")
    _MATMUL_PRECISION[0] = precision


def get_float32_matmul_precision():
    return _MATMUL_PRECISION[0]


def seed():
    """Seed the global generator from the OS entropy pool; returns the seed."""
    import random
    from . import backend
    s = random.SystemRandom().randrange(2 ** 63)
    backend.manual_seed(s)
    return s


class autocast:
    """``torch.autocast`` / ``torch.amp.autocast``: a context manager and
    decorator that changes nothing (dalam computes in float32); asking for
    float16/bfloat16 mixed precision warns once that it stays float32."""

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        from ._device import device as _dev
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        _dev(device_type)  # validates the name
        self.device_type, self.fast_dtype, self._enabled = device_type, dtype, bool(enabled)
        if enabled and device_type == "cuda":
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. "
                          "Disabling", UserWarning, stacklevel=2)
            self._enabled = False
        elif enabled:
            warnings.warn("autocast: dalam has no mixed precision; the block runs in float32 "
                          "(results are at least as accurate)", UserWarning, stacklevel=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*a, **k):
            with self:
                return func(*a, **k)
        return wrapper


class GradScaler:
    """``torch.amp.GradScaler``: disabled (scale 1), as PyTorch makes it when CUDA is
    unavailable, so ``scaler.scale(loss).backward(); scaler.step(opt); scaler.update()``
    is a plain training step."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        if enabled and device == "cuda":
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", UserWarning, stacklevel=2)
        self._enabled = False

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer):
        pass

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        pass

    def get_scale(self):
        return 1.0

    def is_enabled(self):
        return False

    def state_dict(self):
        return {}

    def load_state_dict(self, state_dict):
        pass
