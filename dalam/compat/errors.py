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


class WholeModelSaveError(TypeError):
    """``torch.save(model, ...)`` of a whole nn.Module (PyTorch pickles the class)."""


def is_one_line_error(exc):
    """Errors ``dalam run`` reports as one line instead of a traceback: the ones
    that mean "this PyTorch feature is not available here", not a bug in the script."""
    from .._device import DeviceUnavailableError
    from .ptfile import PtFileError
    if isinstance(exc, (UnsupportedTorchAPI, UnsupportedTorchModule, WholeModelSaveError,
                        DeviceUnavailableError, PtFileError)):
        return True
    return getattr(exc, "_dalam_one_line", False)
