"""``dalam.save`` / ``dalam.load``: safetensors + JSON, never pickle.

File format (one ``.safetensors`` file, written atomically):
- A state dict (``{name: Tensor or ndarray}``) is stored as a plain
  safetensors file, the names unchanged, so PyTorch reads it with
  ``safetensors.torch.load_file`` and ``load_state_dict``; a PyTorch state
  dict saved with ``safetensors.torch.save_file`` loads here the same way.
  The header metadata holds ``"format": "pt"`` and ``"dalam.order"`` (the key
  order, since safetensors sorts keys).
- Anything else -- e.g. ``{'model': sd, 'optimizer': opt.state_dict(),
  'epoch': 3, 'rng': dalam.get_rng_state()}`` -- is split in two: every
  tensor/array goes into the tensor section under its path joined by ``/``
  (``model/fc1.weight``, ``optimizer/state/0/exp_avg``), and the rest of the
  object, with a ``{"__tensor__": key}`` marker where a tensor was, becomes
  JSON in the header metadata under ``"dalam"``.  Tuples, non-string dict
  keys (the optimiser's integer state keys) and NumPy scalars are tagged so
  they come back as they went in.  Objects of other types are refused with an
  error naming their path: there is no pickle fallback.
``load`` gives back the same structure with dalam Tensors (``as_numpy=True``:
numpy arrays).  A missing, truncated or corrupt file raises an error naming it.
"""
import json
import os
import pathlib

import numpy as np

from ..tensor import Tensor
from .atomic import atomic_write

_META_TREE = "dalam"
_META_ORDER = "dalam.order"
_MARKERS = ("__tensor__", "__ndarray__", "__tuple__", "__dict__", "__scalar__")


def _safetensors_numpy():
    try:
        import safetensors.numpy as stn
    except ImportError:
        raise ImportError("dalam.save/load need the 'safetensors' package: pip install safetensors "
                          "(or pip install dalam[io])") from None
    return stn


def _array_of(v):
    a = v._data if isinstance(v, Tensor) else v
    if a.dtype.kind not in "biuf":
        raise TypeError(f"arrays of dtype {a.dtype} cannot be stored in safetensors")
    # (np.ascontiguousarray would turn a 0-d array into 1-d)
    return a if a.flags.c_contiguous else a.copy(order="C")


def _is_state_dict(obj):
    return (isinstance(obj, dict) and len(obj) > 0
            and all(isinstance(k, str) and isinstance(v, (Tensor, np.ndarray)) for k, v in obj.items()))


class _Packer:
    """Walks an object: tensors to ``self.tensors`` by path, the rest to JSON-able values."""

    def __init__(self):
        self.tensors = {}

    def key(self, path):
        k = "/".join(path) or "tensor"
        base, n = k, 1
        while k in self.tensors:
            k = f"{base}#{n}"
            n += 1
        return k

    def pack(self, v, path):
        if isinstance(v, Tensor):
            k = self.key(path)
            self.tensors[k] = _array_of(v)
            return {"__tensor__": k, "requires_grad": bool(v.requires_grad)}
        if isinstance(v, np.ndarray):
            k = self.key(path)
            self.tensors[k] = _array_of(v)
            return {"__ndarray__": k}
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, np.generic):
            if v.dtype.kind not in "biuf":
                raise TypeError(f"dalam.save: cannot store a NumPy {v.dtype} scalar at "
                                f"'{'/'.join(path)}'")
            return {"__scalar__": v.item(), "dtype": v.dtype.str}
        if isinstance(v, tuple):
            return {"__tuple__": [self.pack(x, path + [str(i)]) for i, x in enumerate(v)]}
        if isinstance(v, list):
            return [self.pack(x, path + [str(i)]) for i, x in enumerate(v)]
        if isinstance(v, dict):
            if all(isinstance(k, str) for k in v) and not any(k in _MARKERS for k in v):
                return {k: self.pack(x, path + [k]) for k, x in v.items()}
            return {"__dict__": [[self.pack(k, path + ["key"]), self.pack(x, path + [str(k)])]
                                 for k, x in v.items()]}
        raise TypeError(f"dalam.save: cannot store a {type(v).__name__} at '{'/'.join(path) or '<root>'}': "
                        "only tensors, numpy arrays, numbers, strings, None, lists, tuples and dicts can "
                        "be saved (dalam never pickles); convert it first, e.g. to a dict")


def _unpack(v, tensors, as_numpy):
    if isinstance(v, list):
        return [_unpack(x, tensors, as_numpy) for x in v]
    if not isinstance(v, dict):
        return v
    if "__tensor__" in v:
        a = tensors[v["__tensor__"]]
        if as_numpy:
            return a
        t = Tensor._make(a, False, None)
        if v.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "__ndarray__" in v:
        return tensors[v["__ndarray__"]]
    if "__scalar__" in v:
        return np.dtype(v["dtype"]).type(v["__scalar__"])
    if "__tuple__" in v:
        return tuple(_unpack(x, tensors, as_numpy) for x in v["__tuple__"])
    if "__dict__" in v:
        return {_hashable(_unpack(k, tensors, as_numpy)): _unpack(x, tensors, as_numpy)
                for k, x in v["__dict__"]}
    return {k: _unpack(x, tensors, as_numpy) for k, x in v.items()}


def _hashable(k):
    return tuple(_hashable(x) for x in k) if isinstance(k, (list, tuple)) else k


def save(obj, path, metadata=None):
    """Save a state dict or a checkpoint object to ``path`` (safetensors + JSON
    header, atomic write; see the module docstring).  ``metadata``: extra
    string->string pairs for the header."""
    stn = _safetensors_numpy()
    meta = {"format": "pt"}
    if metadata:
        meta.update({str(k): str(v) for k, v in metadata.items()})
    if _is_state_dict(obj):
        tensors = {}
        for k, v in obj.items():
            try:
                tensors[k] = _array_of(v)
            except TypeError as e:
                raise TypeError(f"dalam.save: '{k}': {e}") from None
        meta[_META_ORDER] = json.dumps(list(obj))
    else:
        packer = _Packer()
        tree = packer.pack(obj, [])
        tensors = packer.tensors
        meta[_META_TREE] = json.dumps(tree, allow_nan=True)
    data = stn.save(tensors, metadata=meta)
    return atomic_write(path, data)


def load(path, as_numpy=False, map_location=None, weights_only=True):
    """Load what ``save`` wrote (or any safetensors file, e.g. from PyTorch).
    ``map_location`` and ``weights_only`` are accepted for PyTorch
    compatibility and ignored (CPU only; nothing is ever unpickled)."""
    path = pathlib.Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"dalam.load: no such file: {path}")
    tensors, meta = read_safetensors(path)
    if meta and _META_TREE in meta:
        try:
            tree = json.loads(meta[_META_TREE])
            return _unpack(tree, tensors, as_numpy)
        except (ValueError, KeyError) as e:
            raise RuntimeError(f"dalam.load: {path}: the JSON metadata is damaged ({e})") from None
    order = list(tensors)
    if meta and _META_ORDER in meta:
        try:
            saved = json.loads(meta[_META_ORDER])
            if sorted(saved) == sorted(order):
                order = saved
        except ValueError:
            pass
    if as_numpy:
        return {k: tensors[k] for k in order}
    return {k: Tensor._make(tensors[k], False, None) for k in order}


def read_safetensors(path):
    """``({name: ndarray}, metadata)`` of a safetensors file, errors naming the file."""
    _safetensors_numpy()  # a clear ImportError when the package is missing
    from safetensors import safe_open
    size = os.path.getsize(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata()
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error type (and OSError, TypeError)
        raise RuntimeError(f"dalam.load: {path} ({size} bytes) is not a readable safetensors file: {e}. "
                           "It may be truncated or corrupt (e.g. a copy that did not finish), or not "
                           "written by dalam.save / safetensors.") from None
    # safetensors may hand out read-only buffers; give the caller ordinary arrays
    return {k: (v if v.flags.writeable else v.copy()) for k, v in tensors.items()}, meta
