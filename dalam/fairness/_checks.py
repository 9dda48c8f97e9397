"""Input checks shared by the metrics and the mitigations: every column is a 1-D array of
the same length, and a wrong length says which column, expected vs actual, and what to do."""
import numpy as np


def as_column(values, name, where):
    """A 1-D numpy array from a list, array or tensor (tensors are read, not copied)."""
    if values is None:
        return None
    data = getattr(values, "_data", None)  # a dalam Tensor
    if data is None and hasattr(values, "detach") and hasattr(values, "numpy"):  # a torch tensor
        data = values.detach().numpy()
    arr = np.asarray(values if data is None else data)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{where}: {name} must be one value per sample (1-D), got shape {arr.shape}")
    return arr


def columns(where, **cols):
    """Checked 1-D columns of equal length, in the order given (None passes through)."""
    out, n, first = [], None, None
    for name, values in cols.items():
        arr = as_column(values, name, where)
        if arr is not None:
            if n is None:
                n, first = len(arr), name
            elif len(arr) != n:
                raise ValueError(f"{where}: {name} has {len(arr)} values but {first} has {n}; every column "
                                 f"needs one value per sample (is the group column from another split, or "
                                 f"filtered differently?)")
        out.append(arr)
    if n == 0:
        raise ValueError(f"{where}: no samples (the columns are empty)")
    return out


def weights_or_ones(sample_weight, n):
    return np.ones(n, np.float64) if sample_weight is None else sample_weight.astype(np.float64)
