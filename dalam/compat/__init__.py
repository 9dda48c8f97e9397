"""``dalam run SCRIPT.py``: PyTorch programs running unchanged on dalam.

- :func:`install` answers ``import torch`` (``torch.nn``, ``torch.optim``,
  ``torch.utils.data``, ...) and torchvision's MNIST/Fashion-MNIST parts with
  dalam, in this process only (``dalam run`` and ``python -m dalam.compat`` call
  it for you; in a notebook call it before importing torch).
- ``tables.py``: what is mapped and what is refused (the docs page is checked
  against it); ``hook.py``: the import hook; ``runner.py``: running a script as
  ``python`` would; ``serialization.py`` + ``ptfile.py``: ``torch.save``/
  ``torch.load`` in PyTorch's own file format, never running pickle code;
  ``vision/``: the torchvision subset.
"""
from .errors import UnsupportedTorchAPI, WholeModelSaveError
from .hook import install, uninstall, installed
from .runner import run_path

__all__ = ["install", "uninstall", "installed", "run_path", "UnsupportedTorchAPI", "WholeModelSaveError"]
