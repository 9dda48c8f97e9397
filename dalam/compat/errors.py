"""The errors ``dalam run`` raises for what it cannot do, each one line that names
the PyTorch API and points at the page listing what is supported."""

DOCS = "docs/coming_from_pytorch.md (section 'Running PyTorch scripts: dalam run')"


class UnsupportedTorchAPI(NotImplementedError, AttributeError):
    """A PyTorch name dalam does not provide.

    Both a NotImplementedError (what it means) and an AttributeError, so that
    ``hasattr(torch, "fft")`` and ``getattr(torch.backends, "mps", None)`` keep
    working as feature tests in scripts."""

    def __init__(self, name, reason=None):
        self.api = name
        why = f" ({reason})" if reason else ""
        super().__init__(f"{name} is not supported by dalam run{why}; see {DOCS}")


class UnsupportedTorchModule(NotImplementedError, ModuleNotFoundError):
    """``import torch.X`` of a module dalam does not have: a ModuleNotFoundError too,
    so ``try: import torch._dynamo / except ImportError`` keeps working."""

    def __init__(self, name, reason=None):
        why = f" ({reason})" if reason else ""
        super().__init__(f"{name} is not supported by dalam run{why}; see {DOCS}")
        self.api = name
        self.name = None  # not the name imported: the import system must not swallow it


class UnsupportedDtypeError(NotImplementedError):
    """A tensor asked for in a dtype dalam does not have (bfloat16, complex)."""


class UnsupportedDtype:
    """``torch.bfloat16`` and the complex dtypes under ``dalam run``: a name scripts may
    mention (``{'bfloat16': torch.bfloat16, ...}[dtype]``, ``autocast(dtype=...)``) that
    raises only when a tensor is actually made in it."""

    def __init__(self, name, reason):
        self.name, self.reason = name, reason

    def __repr__(self):
        return self.name

    @property
    def dtype(self):  # what NumPy asks an object given as dtype=: the one-line error
        raise UnsupportedDtypeError(f"{self.name} is not supported by dalam run ({self.reason}); "
                                    f"see {DOCS}")

    @property
    def is_floating_point(self):
        return "bfloat" in self.name

    itemsize = property(lambda self: self.dtype)


class WholeModelSaveError(TypeError):
    """``torch.save(model, ...)`` of a whole nn.Module (PyTorch pickles the class)."""


def is_one_line_error(exc):
    """Errors ``dalam run`` reports as one line instead of a traceback: the ones
    that mean "this PyTorch feature is not available here", not a bug in the script."""
    from .._device import DeviceUnavailableError
    from .ptfile import PtFileError
    if isinstance(exc, (UnsupportedTorchAPI, UnsupportedTorchModule, UnsupportedDtypeError, WholeModelSaveError,
                        DeviceUnavailableError, PtFileError)):
        return True
    return getattr(exc, "_dalam_one_line", False)
