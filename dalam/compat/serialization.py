"""``torch.save`` / ``torch.load`` under ``dalam run``: thin calls into
:mod:`dalam.compat.ptfile` (PyTorch's own zip format, read without pickle code).

``torch.load`` also reads dalam's safetensors files (told apart by their first
bytes).  Saving a whole ``nn.Module`` is refused with a one-line error that
points at ``state_dict()``, and nothing is written."""
from .errors import WholeModelSaveError

# torch.__version__ under the hook: PyTorch's release the API follows, dalam as the local label
TORCH_VERSION = "2.13.0+dalam"


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True):
    """``torch.save``: state dicts, tensors, and dicts/lists/tuples of tensors,
    numbers and strings, in PyTorch's zip format (loads in real PyTorch)."""
    from . import ptfile
    from ..nn.module import Module
    if isinstance(obj, Module):
        raise WholeModelSaveError(
            f"torch.save: saving a whole model ({type(obj).__name__}) pickles its class, which dalam "
            "never does; save its weights instead: torch.save(model.state_dict(), path), and load "
            "them into a model built by code with model.load_state_dict(torch.load(path))")
    try:
        return ptfile.save(obj, f)
    except TypeError as e:
        if "whole model" in str(e):  # a module nested in a dict
            raise WholeModelSaveError(str(e).replace("save_pytorch", "torch.save", 1)) from None
        raise


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """``torch.load``: PyTorch zip or legacy checkpoints and dalam safetensors files,
    never running pickle code (as ``weights_only=True`` in PyTorch)."""
    from . import ptfile
    return ptfile.load(f, map_location=map_location, weights_only=weights_only, mmap=mmap)
