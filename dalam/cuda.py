"""``dalam.cuda``: answers as a CPU-only PyTorch build does.

``is_available()`` is False and ``device_count()`` 0, so the usual
``device = "cuda" if torch.cuda.is_available() else "cpu"`` picks the CPU;
seeding and cache calls are no-ops; calls that need a GPU raise the error
a CPU-only PyTorch raises ("Torch not compiled with CUDA enabled").
"""
from ._device import unavailable


class _Amp:
    """``dalam.cuda.amp``: ``autocast``/``GradScaler``, disabled as on a CPU-only PyTorch."""

    @staticmethod
    def autocast(enabled=True, dtype=None, cache_enabled=True):
        from ._runtime import autocast
        return autocast("cuda", dtype=dtype, enabled=enabled)

    @staticmethod
    def GradScaler(*args, **kwargs):
        from ._runtime import GradScaler
        return GradScaler("cuda", *args, **kwargs)


amp = _Amp()


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def manual_seed(seed):
    """No-op, as in a CPU-only PyTorch (``dalam.manual_seed`` seeds the CPU)."""


def manual_seed_all(seed):
    """No-op, as in a CPU-only PyTorch."""


def seed():
    pass


def seed_all():
    pass


def empty_cache():
    """No-op (nothing is cached on a GPU)."""


def is_bf16_supported(including_emulation=True):
    return False


def memory_allocated(device=None):
    """0, as a CPU-only PyTorch answers (no CUDA memory was ever allocated)."""
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


def memory_stats(device=None):
    return {}


def _needs_gpu(name):
    def f(*args, **kwargs):
        raise unavailable(f"dalam.cuda.{name}()", "cuda")
    f.__name__ = name
    f.__doc__ = "Needs a GPU: raises, as in a CPU-only PyTorch build."
    return f


for _n in ("current_device", "synchronize", "get_device_name", "get_device_properties",
           "get_device_capability", "set_device", "reset_peak_memory_stats", "mem_get_info",
           "memory_summary", "init", "current_stream", "Stream", "Event", "get_rng_state",
           "set_rng_state"):
    globals()[_n] = _needs_gpu(_n)
del _n


class device:
    """``with dalam.cuda.device(i):`` raises: there is no GPU."""

    def __init__(self, device):
        raise unavailable("dalam.cuda.device()", "cuda")


def _cuda_tensor_type(name):
    class _Meta(type):
        def __instancecheck__(cls, obj):
            return False

        def __call__(cls, *args, **kwargs):
            raise unavailable(f"dalam.cuda.{name}()", "cuda")
    return _Meta(name, (), {"__doc__": f"``torch.cuda.{name}``: raises (no GPU)."})


for _n in ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ByteTensor",
           "BoolTensor", "CharTensor", "ShortTensor"):
    globals()[_n] = _cuda_tensor_type(_n)
del _n
