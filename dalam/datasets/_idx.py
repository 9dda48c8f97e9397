"""Reading IDX files (the MNIST format), gzip-compressed or not, with NumPy.

Layout (big-endian): two zero bytes, a type code (0x08 = uint8), the number
of dimensions, one ``>u4`` size per dimension, then the data row-major.  A
file that is truncated, corrupt (bad gzip stream or CRC) or of the wrong
shape raises ``CorruptFileError`` naming the file and, when known, the MD5 it
should have; a file whose MD5 is known is checked against it.

A gzip file is never inflated blindly: the IDX header (the first bytes
inflated) says how many bytes the data must have; that size is checked
against ``max_bytes`` and against the gzip trailer's size field before the
rest is inflated, and inflation stops one byte past it, so a small file that
would inflate to gigabytes (a "gzip bomb") costs no memory.
"""
import gzip
import hashlib
import os
import pathlib
import struct
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


MAX_BYTES = 4 << 30  # the largest IDX payload read_idx inflates (EMNIST-sized files fit)


def _idx_size(head):
    """(header length, total bytes) an IDX file must have, from its first bytes; None if unknown yet."""
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _TYPES:
        return None
    n = 4 + 4 * head[3]
    if len(head) < n:
        return n, None
    dims = np.frombuffer(head, ">u4", head[3], 4)
    return n, n + int(np.prod(dims.astype(object))) * np.dtype(_TYPES[head[2]]).itemsize


def _read_gz(path, md5, max_bytes):
    """The inflated bytes of IDX gzip ``path``, bounded by what the IDX header says."""
    size = os.path.getsize(path)
    if size < 18:
        raise _fail(path, f"truncated gzip file ({size} bytes)", md5)
    with open(path, "rb") as fh:
        fh.seek(-4, os.SEEK_END)
        isize = struct.unpack("<I", fh.read(4))[0]  # the inflated size mod 2**32
    with gzip.open(path, "rb") as f:
        head = f.read(4)
        if len(head) == 4 and head[0] == 0 and head[1] == 0 and head[2] in _TYPES:
            head += f.read(4 * head[3])
        info = _idx_size(head)
        if info is None or info[1] is None:
            return head  # not IDX / header cut short: read_idx says which
        need = info[1]
        if need > max_bytes:
            raise _fail(path, f"the IDX header promises {need:,} bytes, more than the limit of "
                        f"{max_bytes:,} (max_bytes=)", md5)
        if need % (1 << 32) != isize:
            raise _fail(path, f"IDX payload has {isize:,} bytes by the gzip trailer, the IDX header "
                        f"needs {need:,} (checked before inflating: corrupt, or a gzip bomb)", md5)
        rest = f.read(need - len(head) + 1)  # one byte more: inflation stops right past the data
    return head + rest


def read_idx(path, md5=None, shape=None, max_bytes=MAX_BYTES):
    """The array in IDX file ``path`` (``.gz`` or raw).  ``shape``: the
    expected trailing dimensions (e.g. (28, 28)); ``md5``: the file's expected
    MD5, checked (after the structure) and quoted in errors; ``max_bytes``:
    refuse files whose data would be larger."""
    path = pathlib.Path(path)
    try:
        if path.suffix == ".gz":
            raw = _read_gz(path, md5, max_bytes)
        else:
            if os.path.getsize(path) > max_bytes + 4 + 4 * 255:
                raise _fail(path, f"larger than the limit of {max_bytes:,} bytes (max_bytes=)", md5)
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
    need = head + int(np.prod(np.array(dims, dtype=object))) * dtype.itemsize
    if len(raw) != need:
        more = " or more" if path.suffix == ".gz" and len(raw) > need else ""
        raise _fail(path, f"IDX payload has {len(raw)}{more} bytes, the header {dims} needs {need}", md5)
    if md5 is not None and md5sum(path) != md5:
        raise _fail(path, "MD5 checksum mismatch: the file is corrupt or not the expected one", md5)
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
