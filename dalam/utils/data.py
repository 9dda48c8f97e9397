"""``dalam.utils.data`` is ``dalam.data`` (PyTorch's ``torch.utils.data`` path):
the same module and the same classes, so ``isinstance`` checks and
``from dalam.utils.data import DataLoader`` agree with ``dalam.data``."""
import sys

from .. import data as _data
from ..data import collate as _collate, dataloader as _dataloader, dataset as _dataset, \
    sampler as _sampler

for _name, _mod in (("dataset", _dataset), ("sampler", _sampler), ("dataloader", _dataloader),
                    ("collate", _collate)):
    sys.modules[f"{__name__}.{_name}"] = _mod
sys.modules[__name__] = _data
