"""``default_collate``: turn a list of samples into one batch, as PyTorch does.

Tensors and numpy arrays are stacked along a new first axis (into a dalam
Tensor); numbers become a 1-D tensor (NumPy scalars keep their dtype; Python
ints int64, bools bool, floats float64 as in PyTorch's collate); strings stay a
list; tuples and lists become a list of collated fields, dicts a dict.
"""
import numbers

import numpy as np

from ..tensor import Tensor


def _stack(arrays, what):
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: samples have different {what} shapes {sorted(shapes)}; "
                           "they must be equal to stack into a batch (pad them, or pass a collate_fn)")
    return np.stack(arrays)


def default_collate(batch):
    """Stack a list of samples into a batch (see the module docstring)."""
    if len(batch) == 0:
        raise ValueError("default_collate: empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(t.requires_grad for t in batch):
            from ..ops.shape import stack
            return stack(list(batch))
        return Tensor._make(_stack([t._data for t in batch], "tensor"), False, None)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USO":
            raise TypeError(f"default_collate: cannot batch numpy arrays of dtype {elem.dtype}")
        return Tensor._make(_stack(list(batch), "array"), False, None)
    if isinstance(elem, np.generic):
        return Tensor._make(np.array(batch, dtype=elem.dtype), False, None)
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_), False, None)
    if isinstance(elem, numbers.Integral):
        return Tensor._make(np.array(batch, dtype=np.int64), False, None)
    if isinstance(elem, numbers.Real):
        # PyTorch's collate makes float64 here; so do we (see the module docstring)
        return Tensor._make(np.array(batch, dtype=np.float64), False, None)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, dict):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, (tuple, list)):
        n = len(elem)
        if any(len(s) != n for s in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                    f"lists; found {type(elem).__name__}")
