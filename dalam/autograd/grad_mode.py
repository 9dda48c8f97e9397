"""Grad mode: whether ops record a graph.  Thread-local, as in PyTorch, so a
data-loading thread under ``no_grad`` cannot switch off autograd in the
training thread."""
import functools
from _thread import _local  # threading.local without importing threading


class _State(_local):
    enabled = True


state = _State()


def is_grad_enabled():
    return state.enabled


class _Mode:
    """Base for context managers that are also decorators."""
    _value = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._value

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_Mode):
    """Context manager / decorator: ops inside build no graph."""
    _value = False


class enable_grad(_Mode):
    """Context manager / decorator: re-enable graph building inside no_grad."""
    _value = True


class inference_mode(no_grad):
    """Alias of no_grad (kept for PyTorch users)."""

    def __init__(self, mode=True):
        self._value = not mode


class set_grad_enabled(_Mode):
    def __init__(self, mode):
        self._value = bool(mode)
        self._prev = state.enabled
        state.enabled = self._value  # takes effect as a function call too

    def __enter__(self):
        pass
