"""Reading IDX files (the MNIST format), gzip-compressed or not, with NumPy.

Layout (big-endian): two zero bytes, a type code (0x08 = uint8), the number
of dimensions, one ``>u4`` size per dimension, then the data row-major.  A
file that is truncated, corrupt (bad gzip stream or CRC) or of the wrong
shape raises ``CorruptFileError`` naming the file and, when known, the MD5 it
should have.
"""
import gzip
import hashlib
import pathlib
import zlib

import numpy as np

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class CorruptFileError(RuntimeError):
    """A dataset file that cannot be read as what it should be."""


def md5sum(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fail(path, why, md5):
    exp = (f" It should have MD5 {md5}; this file has MD5 {md5sum(path)}." if md5 else "")
    return CorruptFileError(f"{path}: {why}.{exp} Delete it and load again with download=True "
                            "(or copy a good file there).")


def read_idx(path, md5=None, shape=None):
    """The array in IDX file ``path`` (``.gz`` or raw).  ``shape``: the
    expected trailing dimensions (e.g. (28, 28)); ``md5``: the file's expected
    MD5, quoted in errors."""
    path = pathlib.Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise _fail(path, f"corrupt or truncated gzip data ({type(e).__name__}: {e})", md5) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise _fail(path, f"not an IDX file (magic bytes {raw[:4].hex() or 'missing'})", md5)
    ndim = raw[3]
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise _fail(path, f"IDX header cut short ({len(raw)} bytes, the header needs {head})", md5)
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    if shape is not None and dims[1:] != tuple(shape):
        raise _fail(path, f"IDX dimensions {dims}, expected (N, {', '.join(map(str, shape))})", md5)
    dtype = np.dtype(_TYPES[raw[2]])
    need = head + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != need:
        raise _fail(path, f"IDX payload has {len(raw)} bytes, the header {dims} needs {need}", md5)
    arr = np.frombuffer(raw, dtype, offset=head).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=False) if dtype.byteorder == ">" else arr.copy()


def write_idx(path, arr):
    """Write a uint8 array as IDX (gzip when ``path`` ends in .gz); for tests and tools."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + np.asarray(arr.shape, ">u4").tobytes()
    data = head + arr.tobytes()
    path = pathlib.Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
