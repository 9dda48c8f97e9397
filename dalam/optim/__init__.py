"""``dalam.optim``: optimisers and learning-rate schedules with PyTorch's API.

Every optimiser updates ``param._data`` in place with NumPy ``out=`` calls (no
graph, no per-step allocations after the first) and keeps PyTorch's
``param_groups`` / ``state`` / ``state_dict`` layout.
"""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adadelta import Adadelta
from .adamax import Adamax
from .radam import RAdam
from .lbfgs import LBFGS
from .sparse_adam import SparseAdam
from . import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "RAdam",
           "LBFGS", "lr_scheduler", "SparseAdam"]
