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

Integrity: ``save`` puts a SHA-256 of the tensors (names, dtypes, shapes,
bytes) and of the other metadata into the header (``"dalam.sha256"``);
``load`` checks it (``verify=False`` skips the check for speed), so a flipped
bit anywhere is an error, never changed values.  Files without it (PyTorch's,
older dalam's) still load.  The header is parsed by us first, with limits
(size, JSON nesting), so crafted or unsupported files (bf16, float8) get an
error naming the file and the tensor.
"""
import json
import os
import pathlib

import numpy as np

from ..tensor import Tensor
from .atomic import atomic_write

_META_TREE = "dalam"
_META_ORDER = "dalam.order"
_META_HASH = "dalam.sha256"
MAX_HEADER = 100 << 20  # safetensors' own limit on the JSON header
MAX_DEPTH = 200  # JSON nesting in dalam's metadata tree (optimizer state is ~6 deep)
_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
           "I16": np.int16, "I8": np.int8, "U64": np.uint64, "U32": np.uint32, "U16": np.uint16,
           "U8": np.uint8, "BOOL": np.bool_}
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


class _Schema(ValueError):
    """The metadata tree does not have the shape ``save`` writes."""


def _unpack(v, tensors, as_numpy, depth=0):
    if depth > MAX_DEPTH:
        raise _Schema(f"nested more than {MAX_DEPTH} levels deep")
    d = depth + 1
    if isinstance(v, list):
        return [_unpack(x, tensors, as_numpy, d) for x in v]
    if not isinstance(v, dict):
        return v
    for marker in ("__tensor__", "__ndarray__"):
        if marker in v:
            key = v[marker]
            if not isinstance(key, str) or key not in tensors:
                raise _Schema(f"{marker} {key!r} names no tensor in the file")
            a = tensors[key]
            if marker == "__ndarray__" or as_numpy:
                return a
            t = Tensor._make(a, False, None)
            if v.get("requires_grad"):
                t.requires_grad_(True)
            return t
    if "__scalar__" in v:
        try:
            dt = np.dtype(v["dtype"])
            if dt.kind not in "biuf" or isinstance(v["__scalar__"], (dict, list)):
                raise TypeError(dt)
            return dt.type(v["__scalar__"])
        except (TypeError, KeyError, ValueError, OverflowError):
            raise _Schema(f"bad scalar {str(v)[:80]}") from None
    if "__tuple__" in v:
        if not isinstance(v["__tuple__"], list):
            raise _Schema(f"__tuple__ holds a {type(v['__tuple__']).__name__}, not a list")
        return tuple(_unpack(x, tensors, as_numpy, d) for x in v["__tuple__"])
    if "__dict__" in v:
        items = v["__dict__"]
        if not isinstance(items, list) or not all(isinstance(i, list) and len(i) == 2 for i in items):
            raise _Schema("__dict__ must hold a list of [key, value] pairs")
        out = {}
        for k, x in items:
            k = _hashable(_unpack(k, tensors, as_numpy, d))
            try:
                hash(k)
            except TypeError:
                raise _Schema(f"a __dict__ key is a {type(k).__name__}") from None
            out[k] = _unpack(x, tensors, as_numpy, d)
        return out
    return {k: _unpack(x, tensors, as_numpy, d) for k, x in v.items()}


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
    meta[_META_HASH] = _digest(tensors, meta)
    data = stn.save(tensors, metadata=meta)
    return atomic_write(path, data)


def _digest(tensors, meta):
    """SHA-256 over the tensors (sorted names, dtypes, shapes, bytes) and the other metadata."""
    import hashlib
    h = hashlib.sha256()
    for k in sorted(tensors):
        a = np.asarray(tensors[k])
        le = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        h.update(json.dumps([k, le.kind + str(le.itemsize), list(a.shape)]).encode())
        a = np.ascontiguousarray(a, dtype=le)
        h.update(a.reshape(-1).view(np.uint8).data)
    rest = {k: v for k, v in (meta or {}).items() if k != _META_HASH}
    h.update(json.dumps(rest, sort_keys=True).encode())
    return h.hexdigest()


def load(path, as_numpy=False, map_location=None, weights_only=True, verify=True):
    """Load what ``save`` wrote (or any safetensors file, e.g. from PyTorch).
    ``verify``: check the SHA-256 that ``save`` stores (files without one, e.g.
    PyTorch's, load unchecked); ``verify=False`` skips it for speed.
    ``map_location`` and ``weights_only`` are accepted for PyTorch
    compatibility and ignored (CPU only; nothing is ever unpickled)."""
    path = pathlib.Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"dalam.load: no such file: {path}")
    tensors, meta = read_safetensors(path, verify=verify)
    if meta and _META_TREE in meta:
        try:
            tree = json.loads(meta[_META_TREE])
            return _unpack(tree, tensors, as_numpy)
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            raise RuntimeError(f"dalam.load: {path}: the JSON metadata is damaged or not in dalam's "
                               f"format ({type(e).__name__}: {str(e)[:200]})") from None
    order = list(tensors)
    if meta and _META_ORDER in meta:
        try:
            saved = json.loads(meta[_META_ORDER])
            if isinstance(saved, list) and sorted(map(str, saved)) == sorted(order):
                order = saved
        except (ValueError, RecursionError):
            pass
    if as_numpy:
        return {k: tensors[k] for k in order}
    return {k: Tensor._make(tensors[k], False, None) for k in order}


def _fail(path, size, why):
    return RuntimeError(f"dalam.load: {path} ({size} bytes) is not a readable safetensors file: {why}. "
                        "It may be truncated or corrupt (e.g. a copy that did not finish), or not "
                        "written by dalam.save / safetensors.")


def read_header(path):
    """The parsed JSON header of a safetensors file, checked: size, nesting,
    offsets within the file, and dtypes NumPy can hold (bf16/float8 are refused
    with "dtype not supported" naming the tensor)."""
    path = pathlib.Path(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise _fail(path, size, "shorter than the 8-byte header length")
        n = int.from_bytes(head, "little")
        if n > min(MAX_HEADER, size - 8):
            raise _fail(path, size, f"the header claims {n} bytes")
        raw = f.read(n)
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise _fail(path, size, f"the header is not JSON ({type(e).__name__})") from None
    if not isinstance(header, dict):
        raise _fail(path, size, "the header is not a JSON object")
    meta = header.get("__metadata__")
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise _fail(path, size, "__metadata__ is not a table of strings")
    data_len = size - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or not isinstance(info.get("dtype"), str):
            raise _fail(path, size, f"tensor '{name}' has no dtype")
        dt = info["dtype"]
        if dt not in _DTYPES:
            raise RuntimeError(f"dalam.load: {path}: tensor '{name}' has dtype {dt}: dtype not supported "
                               f"(NumPy has no {dt}; supported: {', '.join(_DTYPES)}). Convert it before "
                               "saving, e.g. tensor.float() in PyTorch.")
        offs, shape = info.get("data_offsets"), info.get("shape")
        if (not isinstance(offs, list) or len(offs) != 2 or not all(type(o) is int for o in offs)
                or not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape)):
            raise _fail(path, size, f"tensor '{name}' has a damaged entry {str(info)[:100]}")
        need = int(np.prod(shape, dtype=object)) * np.dtype(_DTYPES[dt]).itemsize
        if not 0 <= offs[0] <= offs[1] <= data_len or offs[1] - offs[0] != need:
            raise _fail(path, size, f"tensor '{name}' has offsets {offs} for shape {shape} {dt}")
    return header


def read_safetensors(path, verify=True):
    """``({name: ndarray}, metadata)`` of a safetensors file, errors naming the file."""
    _safetensors_numpy()  # a clear ImportError when the package is missing
    from safetensors import safe_open
    size = os.path.getsize(path)
    read_header(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata()
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error type (and OSError, TypeError)
        raise _fail(path, size, e) from None
    if verify and meta and _META_HASH in meta and _digest(tensors, meta) != meta[_META_HASH]:
        raise RuntimeError(f"dalam.load: {path}: checksum mismatch (the SHA-256 stored by dalam.save does "
                           "not match the contents): the file is corrupt. Use another copy (e.g. the "
                           "previous checkpoint), or load(..., verify=False) to read it anyway.")
    # safetensors may hand out read-only buffers; give the caller ordinary arrays
    return {k: (v if v.flags.writeable else v.copy()) for k, v in tensors.items()}, meta
