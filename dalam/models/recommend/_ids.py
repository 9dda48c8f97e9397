"""Id checks shared by the recommenders: an id outside the table is a user or
item the model never saw in training, which deserves a clear message (and the
cold-start path where the model has one), not an IndexError."""
import numpy as np

from ...tensor import Tensor


def as_ids(x, n, what, model, hint=""):
    a = x._data if isinstance(x, Tensor) else np.asarray(x)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{model}: {what} ids must be integers (int64), got {a.dtype}")
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{model}: {what} id {bad} was never seen in training (the model knows "
                             f"{n} {what}s, ids 0..{n - 1}){hint}")
    return a.astype(np.int64, copy=False)
