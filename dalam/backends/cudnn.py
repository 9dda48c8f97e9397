"""``dalam.backends.cudnn``: flags accepted, cuDNN absent (CPU-only backend)."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = 10


def is_available():
    return False


def version():
    return None


class flags:
    """``with cudnn.flags(enabled=..., benchmark=..., deterministic=...):`` sets them for a block."""

    def __init__(self, enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
                 allow_tf32=True):
        self._new = dict(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                         deterministic=deterministic, allow_tf32=allow_tf32)

    def __enter__(self):
        g = globals()
        self._old = {k: g[k] for k in self._new}
        g.update(self._new)

    def __exit__(self, *exc):
        globals().update(self._old)
        return False
