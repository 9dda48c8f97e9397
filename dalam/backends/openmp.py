"""``dalam.backends.openmp``: answers as PyTorch's CPU build (NumPy's BLAS
brings its own threads)."""


def is_available():
    return True
