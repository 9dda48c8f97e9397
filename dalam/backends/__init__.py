"""``dalam.backends``: PyTorch's backend flags, answered as a CPU-only build.

``backends.mps.is_available()`` and ``backends.cudnn.is_available()`` are
False; the flags public scripts set (``cudnn.benchmark = True``,
``cudnn.deterministic = True``, ``cuda.matmul.allow_tf32 = True``) are plain
attributes that change nothing here: NumPy is always deterministic for a given
seed and thread count.
"""
from . import cpu, cuda, cudnn, mkldnn, mps, openmp  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "openmp"]
