"""``dalam.backends.mps``: Apple's GPU backend, absent (CPU-only backend)."""


def is_available():
    return False


def is_built():
    return False


def is_macos_or_newer(major, minor):
    return False
