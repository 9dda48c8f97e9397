"""``Parameter`` and ``Buffer``: tensors that a Module registers when assigned.

A Parameter is a Tensor subclass (so every op accepts it) that requires grad
by default and *shares* the array it is built from, as ``torch.nn.Parameter``
does.  Ops on a Parameter return plain Tensors.  ``Buffer`` marks a tensor to
register as a buffer on assignment (``self.running_mean = Buffer(t)``).
"""
import copy

import numpy as np

from .. import backend
from ..tensor import Tensor, _to_array


def _array_of(data):
    if data is None:
        return np.empty((0,), backend.get_default_dtype())
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    return _to_array(data)


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight (``requires_grad=True``)."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        arr = _array_of(data)
        if requires_grad and arr.dtype.kind not in "fc":
            raise RuntimeError(
                f"Parameter: only floating point tensors can require gradients (got {arr.dtype}); "
                "pass requires_grad=False or convert the data with .float().")
        t = Tensor._make.__func__(cls, arr, bool(requires_grad), None)
        if isinstance(data, Tensor):
            t._vc = data._vc  # same storage, same version counter
        return t

    def __init__(self, data=None, requires_grad=True):  # state set in __new__
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = type(self)(self._data.copy(), self.requires_grad)
        if self.grad is not None:
            p.grad = copy.deepcopy(self.grad, memo)
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, proto):
        # copy.copy / copy.deepcopy fallbacks; dalam never pickles model files
        return (Parameter, (self._data, self.requires_grad))


class Buffer(Tensor):
    """Marks a tensor to register as a buffer when assigned to a Module
    attribute; ``persistent=False`` keeps it out of ``state_dict``."""

    __slots__ = ("persistent",)

    def __new__(cls, data=None, persistent=True):
        t = Tensor._make.__func__(cls, _array_of(data), False, None)
        if isinstance(data, Tensor):
            t.requires_grad = data.requires_grad
            t._vc = data._vc
        t.persistent = persistent
        return t

    def __init__(self, data=None, persistent=True):
        pass

