"""The import hook: ``import torch`` (and torchvision's MNIST parts) answered by dalam.

A finder at the front of ``sys.meta_path`` makes, for every ``torch...`` or
``torchvision...`` module name, a *proxy module* whose attributes come from the
dalam module named in :data:`~dalam.compat.tables.MODULES`.  A name dalam lacks
raises :class:`~dalam.compat.errors.UnsupportedTorchAPI` naming the PyTorch
API, never an AttributeError from deep inside.  Nothing is changed for other
processes or for code that imports ``dalam`` itself.
"""
import importlib
import importlib.abc
import importlib.machinery
import sys
import types

from . import tables
from .errors import UnsupportedDtype, UnsupportedTorchAPI, UnsupportedTorchModule

_ROOTS = ("torch", "torchvision")


def _is_ours(fullname):
    return fullname.split(".", 1)[0] in _ROOTS


def _resolve(spec):
    mod, _, attr = spec.partition(":")
    return getattr(importlib.import_module(mod), attr)


def _refusal(fullname):
    """The REFUSED reason of ``fullname`` or of the nearest refused parent, or None."""
    parts = fullname.split(".")
    for i in range(len(parts), 0, -1):
        reason = tables.REFUSED.get(".".join(parts[:i]))
        if reason is not None:
            return reason
    return None


class TorchProxy(types.ModuleType):
    """A module named like PyTorch's whose attributes come from a dalam module
    (``None`` target: a module dalam does not have at all)."""

    def __init__(self, name, target):
        super().__init__(name)
        self.__dict__["_dalam_target"] = target
        self.__dict__["__path__"] = []  # a package: ``import torch.nn.functional`` works
        if target is not None and getattr(target, "__doc__", None):
            self.__doc__ = target.__doc__

    def __getattr__(self, attr):
        override = tables.OVERRIDES.get((self.__name__, attr))
        if override is None and attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        full = f"{self.__name__}.{attr}"
        if override is not None:
            value = _resolve(override)
        elif full in tables.DTYPES:
            value = UnsupportedDtype(full, tables.DTYPES[full])
        elif full in tables.MODULES or full in tables.REFUSED:
            value = importlib.import_module(full)  # a refused module: its names raise when used
        else:
            reason = _refusal(full) or tables.REFUSED_NAMES.get(full)
            target = self.__dict__["_dalam_target"]
            if reason is not None or target is None:
                raise UnsupportedTorchAPI(full, reason)
            try:
                value = getattr(target, attr)
            except AttributeError:
                raise UnsupportedTorchAPI(full) from None
            if isinstance(value, types.ModuleType) and value.__name__.startswith("dalam"):
                value = _proxy_for(full, value)
        self.__dict__[attr] = value  # later lookups skip __getattr__ (hot loops call torch.tanh)
        return value

    def __dir__(self):
        target = self.__dict__["_dalam_target"]
        return sorted(set(self.__dict__) | set(dir(target) if target is not None else ()))

    def __repr__(self):
        target = self.__dict__["_dalam_target"]
        what = (getattr(target, "__name__", type(target).__name__) if target is not None
                else "nothing: not supported by dalam run")
        return f"<module {self.__name__!r} (dalam run: {what})>"


def _proxy_for(fullname, target):
    mod = sys.modules.get(fullname)
    if isinstance(mod, TorchProxy):
        return mod
    mod = TorchProxy(fullname, target)
    mod.__spec__ = importlib.machinery.ModuleSpec(fullname, _LOADER, is_package=True)
    mod.__loader__ = _LOADER
    sys.modules[fullname] = mod
    return mod


def _target_of(name):
    """The object a torch module name maps to; None for a refused module; raises
    UnsupportedTorchModule for a module dalam does not have."""
    if name in tables.MODULES:
        return importlib.import_module(tables.MODULES[name])
    if name in tables.REFUSED:
        return None  # importable, but every name in it raises (torch.fft.rfft names itself)
    reason = _refusal(name)
    parent, _, leaf = name.rpartition(".")
    if reason is None and parent:
        # a submodule dalam has under the same path (torch.nn.modules.loss, torch.cuda.amp)
        if parent not in sys.modules:
            importlib.import_module(parent)
        ptarget = getattr(sys.modules.get(parent), "_dalam_target", None)
        target = getattr(ptarget, leaf, None) if ptarget is not None else None
        if target is not None and not callable(target) and not isinstance(target, (int, float, str)):
            return target
    raise UnsupportedTorchModule(name, reason)


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        name = spec.name
        target = _target_of(name)
        mod = TorchProxy(name, target)
        mod.__loader__ = self
        return mod

    def exec_module(self, module):
        pass


_LOADER = _Loader()


class TorchFinder(importlib.abc.MetaPathFinder):
    """Answers ``torch`` and ``torchvision`` imports with dalam proxies."""

    def find_spec(self, fullname, path=None, target=None):
        if not _is_ours(fullname):
            return None
        _target_of(fullname)  # raises now for a module dalam does not have
        return importlib.machinery.ModuleSpec(fullname, _LOADER, is_package=True)


_FINDER = TorchFinder()
_SAVED = {}


def installed():
    return _FINDER in sys.meta_path


def install():
    """Answer ``import torch`` with dalam in this process (for notebooks; ``dalam run``
    calls it for you).  Call it before anything imports torch."""
    if installed():
        return
    real = [n for n in sys.modules if _is_ours(n) and not isinstance(sys.modules[n], TorchProxy)]
    if real:
        raise RuntimeError(
            f"dalam.compat.install(): {real[0]} is already imported in this process, so 'import "
            f"torch' would keep returning it; call install() before anything imports torch "
            "(in a notebook: restart the kernel and run it first)")
    sys.meta_path.insert(0, _FINDER)
    _torch_flavour(True)


def uninstall():
    """Undo :func:`install`: remove the finder and the proxy modules."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for n in [n for n, m in sys.modules.items() if isinstance(m, TorchProxy)]:
        del sys.modules[n]
    _torch_flavour(False)


def _torch_flavour(on):
    """Under the hook, shapes are ``torch.Size`` as PyTorch programs expect
    (``x.shape.numel()``, ``print(x.shape)`` -> ``torch.Size([2, 3])``)."""
    from .. import _size
    from ..tensor import Tensor
    if on:
        if "shape" not in _SAVED:
            _SAVED["shape"] = Tensor.__dict__["shape"]
            _SAVED["prefix"] = _size.PREFIX
        new = tuple.__new__
        size = _size.Size
        Tensor.shape = property(lambda self: new(size, self._data.shape),
                                doc="The shape as a torch.Size (dalam run).")
        _size.PREFIX = "torch"
    elif "shape" in _SAVED:
        Tensor.shape = _SAVED.pop("shape")
        _size.PREFIX = _SAVED.pop("prefix")
