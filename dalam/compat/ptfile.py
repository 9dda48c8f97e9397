"""PyTorch's checkpoint files (``torch.save``), read and written without pickle code.

A ``.pt``/``.pth`` file is a zip archive: ``data.pkl`` holds the object as a
pickle stream in which every tensor is a call to ``torch._utils._rebuild_tensor_v2``
on a *storage* named by a persistent id, and ``data/<key>`` holds each storage's
raw little-endian bytes.  (The legacy format, before PyTorch 1.6, puts several
pickles and the raw storages one after another in a plain file.)

Reading never runs Python's unpickler.  ``_Machine`` below interprets only the
pickle opcodes a state dict needs and resolves only the globals in ``_GLOBALS``
(the same idea as PyTorch's own ``weights_only`` loader): anything else -- a
``posix.system`` global, an unknown opcode, a size beyond the file -- raises
``PtFileError`` naming the file and what was refused.  Writing emits the small
pickle stream itself (protocol 2, the opcodes ``torch.save`` uses), so a file
from ``save`` loads in PyTorch with ``torch.load(path, weights_only=True)``.
"""
import collections
import io
import os
import pathlib
import struct
import zipfile

import numpy as np

from ..io.atomic import atomic_write
from ..tensor import Tensor

__all__ = ["save", "load", "PtFileError", "is_pytorch_file"]

DOCS = "see docs/coming_from_pytorch.md"


class PtFileError(RuntimeError):
    """A PyTorch file that dalam refuses to read (corrupt, or asks for code to run)."""


# storage class name <-> numpy dtype (bfloat16 is widened to float32 on load: exact)
_STORAGES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
    "BFloat16Storage": "bfloat16", "ComplexFloatStorage": np.complex64,
    "ComplexDoubleStorage": np.complex128,
}
_STORAGE_OF = {np.dtype(v): k for k, v in _STORAGES.items() if v != "bfloat16"}
_TORCH_DTYPES = {"float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
                 "float16": "float16", "half": "float16", "int64": "int64", "long": "int64",
                 "int32": "int32", "int": "int32", "int16": "int16", "int8": "int8", "uint8": "uint8",
                 "bool": "bool", "bfloat16": "float32"}
_MAX_DIMS = 64


class _StorageType:
    """What ``GLOBAL torch FloatStorage`` resolves to: a dtype, nothing callable."""

    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGES[name]


class _Storage:
    """A storage's bytes as a flat numpy array (read lazily from the archive)."""

    def __init__(self, array):
        self.array = array


# --------------------------------------------------------------------------- reading

class _Machine:
    """A pickle interpreter restricted to the opcodes and globals of state dicts."""

    def __init__(self, data, pos, where, persistent_load, globals_=None):
        self.data, self.pos, self.where = data, pos, where
        self.persistent_load = persistent_load
        self.globals = _GLOBALS if globals_ is None else globals_
        self.stack, self.marks, self.memo = [], [], {}

    def fail(self, what):
        raise PtFileError(f"{self.where}: {what}. dalam reads PyTorch files without running pickle code and "
                          f"accepts only what a state dict holds (tensors, numbers, strings, lists, tuples, "
                          f"dicts); {DOCS}")

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            self.fail(f"the pickle stream is truncated (wants {n} bytes at offset {self.pos}, "
                      f"{len(self.data) - self.pos} left)")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def line(self):
        end = self.data.find(b"\n", self.pos, self.pos + 256)
        if end < 0:
            self.fail("a GLOBAL name is not terminated")
        s = self.data[self.pos:end].decode("ascii", "replace")
        self.pos = end + 1
        return s

    def pop_mark(self):
        if not self.marks:
            self.fail("the pickle stream is malformed (no MARK)")
        k = self.marks.pop()
        items = self.stack[k:]
        del self.stack[k:]  # in place: callers hold bound methods of this list
        return items

    def pop(self):
        if not self.stack or (self.marks and len(self.stack) <= self.marks[-1]):
            self.fail("the pickle stream is malformed (empty stack)")
        return self.stack.pop()

    def top(self):
        if not self.stack:
            self.fail("the pickle stream is malformed (empty stack)")
        return self.stack[-1]

    def run(self):
        ops = _OPS
        while True:
            code = self.take(1)
            op = ops.get(code)
            if op is None:
                self.fail(f"pickle opcode {code!r} at offset {self.pos - 1} is not allowed")
            if op is _stop:
                if len(self.stack) != 1 or self.marks:
                    self.fail("the pickle stream is malformed (STOP with a stack of "
                              f"{len(self.stack)} items)")
                return self.stack[0], self.pos
            op(self)


def _stop(m):  # handled in run()
    pass


def _global(m, module, name):
    fn = m.globals.get((module, name))
    if fn is None:
        if module == "torch" and name in _STORAGES:
            return _StorageType(name)
        if module == "torch" and name in _TORCH_DTYPES:
            import dalam
            return getattr(dalam, _TORCH_DTYPES[name])
        m.fail(f"the global {module}.{name} is not allowed")
    return fn


def _reduce(m):
    args = m.pop()
    fn = m.pop()
    if not callable(fn) or isinstance(fn, _StorageType) or not isinstance(args, tuple):
        m.fail(f"REDUCE of {type(fn).__name__} is not allowed")
    if fn not in m.globals.values():
        m.fail(f"calling {getattr(fn, '__name__', fn)!r} is not allowed")
    try:
        m.stack.append(fn(*args))
    except PtFileError:
        raise
    except Exception as e:
        m.fail(f"a call to {fn.__name__} failed ({type(e).__name__}: {e})")


def _build(m):
    state = m.pop()
    inst = m.top()
    # OrderedDict state dicts carry ``_metadata`` (layer versions); nothing else may be built
    if (type(inst) is collections.OrderedDict and isinstance(state, dict)
            and all(isinstance(k, str) and k.startswith("_") for k in state)):
        for k, v in state.items():
            setattr(inst, k, v)
    elif isinstance(inst, Tensor) and (state is None or state == {} or isinstance(state, tuple)):
        pass  # Parameter/tensor state from _rebuild_parameter_with_state: nothing a state dict needs
    else:
        m.fail(f"BUILD on {type(inst).__name__} is not allowed")


def _setitems(m, items, d):
    if not isinstance(d, dict):
        m.fail("SETITEMS on a non-dict")
    if len(items) % 2:
        m.fail("the pickle stream is malformed (odd SETITEMS)")
    for i in range(0, len(items), 2):
        try:
            d[items[i]] = items[i + 1]
        except TypeError:
            m.fail(f"a dict key of type {type(items[i]).__name__} is not allowed")


def _appends(m, items, lst):
    if not isinstance(lst, list):
        m.fail("APPEND on a non-list")
    lst.extend(items)


def _memo_get(m, i):
    if i not in m.memo:
        m.fail(f"the pickle stream refers to memo entry {i}, which does not exist")
    m.stack.append(m.memo[i])


def _persid(m):
    pid = m.pop()
    m.stack.append(m.persistent_load(pid))


def _mark(m):
    m.marks.append(len(m.stack))


_OPS = {
    b"\x80": lambda m: m.take(1),                                 # PROTO
    b"\x95": lambda m: m.take(8),                                 # FRAME
    b".": _stop,
    b"(": _mark,
    b"0": lambda m: m.pop(),                                      # POP
    b"1": lambda m: m.pop_mark(),                                 # POP_MARK
    b"2": lambda m: m.stack.append(m.top()),                      # DUP
    b"N": lambda m: m.stack.append(None),
    b"\x88": lambda m: m.stack.append(True),
    b"\x89": lambda m: m.stack.append(False),
    b"J": lambda m: m.stack.append(m.unpack("<i")),               # BININT
    b"K": lambda m: m.stack.append(m.unpack("<B")),               # BININT1
    b"M": lambda m: m.stack.append(m.unpack("<H")),               # BININT2
    b"\x8a": lambda m: m.stack.append(int.from_bytes(m.take(m.unpack("<B")), "little", signed=True)),
    b"G": lambda m: m.stack.append(m.unpack(">d")),               # BINFLOAT
    b"X": lambda m: m.stack.append(_text(m, m.unpack("<I"))),     # BINUNICODE
    b"\x8c": lambda m: m.stack.append(_text(m, m.unpack("<B"))),  # SHORT_BINUNICODE
    b"C": lambda m: m.stack.append(bytes(m.take(m.unpack("<B")))),  # SHORT_BINBYTES
    b"B": lambda m: m.stack.append(bytes(m.take(m.unpack("<I")))),  # BINBYTES
    b"}": lambda m: m.stack.append({}),
    b"]": lambda m: m.stack.append([]),
    b")": lambda m: m.stack.append(()),
    b"t": lambda m: m.stack.append(tuple(m.pop_mark())),
    b"\x85": lambda m: m.stack.append((m.pop(),)),
    b"\x86": lambda m: m.stack.append(tuple(reversed([m.pop(), m.pop()]))),
    b"\x87": lambda m: m.stack.append(tuple(reversed([m.pop(), m.pop(), m.pop()]))),
    b"l": lambda m: m.stack.append(list(m.pop_mark())),          # LIST
    b"d": lambda m: (lambda items: (m.stack.append({}), _setitems(m, items, m.top())))(m.pop_mark()),
    b"a": lambda m: (lambda v: _appends(m, [v], m.top()))(m.pop()),
    b"e": lambda m: (lambda items: _appends(m, items, m.top()))(m.pop_mark()),
    b"s": lambda m: (lambda v, k: _setitems(m, [k, v], m.top()))(m.pop(), m.pop()),
    b"u": lambda m: (lambda items: _setitems(m, items, m.top()))(m.pop_mark()),
    b"c": lambda m: m.stack.append(_global(m, m.line(), m.line())),
    b"\x93": lambda m: (lambda name, mod: m.stack.append(_global(m, mod, name)))(m.pop(), m.pop()),
    b"q": lambda m: m.memo.__setitem__(m.unpack("<B"), m.top()),  # BINPUT
    b"r": lambda m: m.memo.__setitem__(m.unpack("<I"), m.top()),  # LONG_BINPUT
    b"\x94": lambda m: m.memo.__setitem__(len(m.memo), m.top()),  # MEMOIZE
    b"h": lambda m: _memo_get(m, m.unpack("<B")),                 # BINGET
    b"j": lambda m: _memo_get(m, m.unpack("<I")),                 # LONG_BINGET
    b"R": _reduce,
    b"b": _build,
    b"Q": _persid,
}


def _text(m, n):
    try:
        return bytes(m.take(n)).decode("utf-8")
    except UnicodeDecodeError:
        m.fail("a string in the pickle stream is not valid UTF-8")


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise ValueError("the first argument is not a storage")
    if isinstance(size, tuple) and all(isinstance(n, int) for n in size) and \
            int(np.prod(size, dtype=object)) > max(storage.array.size, 1) * 64:
        raise ValueError(f"a tensor of size {size} is far larger than its storage of "
                         f"{storage.array.size} elements")
    if not (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride) <= _MAX_DIMS
            and all(isinstance(v, int) and v >= 0 for v in (offset, *size, *stride))):
        raise ValueError(f"bad tensor geometry offset={offset!r} size={size!r} stride={stride!r}")
    flat = storage.array
    if all(size):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= flat.size:
            raise ValueError(f"tensor of size {size} with stride {stride} at offset {offset} reaches "
                             f"element {last}, beyond its storage of {flat.size} elements")
        a = np.lib.stride_tricks.as_strided(flat[offset:], shape=size,
                                            strides=[s * flat.itemsize for s in stride])
        a = np.array(a, order="C")  # own, C-contiguous memory
    else:
        a = np.zeros(size, flat.dtype)
    t = Tensor._make(a, False, None)
    if requires_grad and a.dtype.kind in "fc":
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data, requires_grad, hooks=None, state=None):
    from ..nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise ValueError("_rebuild_parameter expects a tensor")
    return Parameter(data, requires_grad=bool(requires_grad) and data._data.dtype.kind in "fc")


def _ordered_dict(*args):
    if args:
        raise ValueError("OrderedDict is rebuilt empty, then filled")
    return collections.OrderedDict()


def _codecs_encode(s, encoding="latin1"):
    if not isinstance(s, str) or encoding not in ("latin1", "latin-1"):
        raise ValueError("only latin1 byte strings")
    return s.encode("latin1")


_GLOBALS = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): lambda dims=(): tuple(dims),
    ("_codecs", "encode"): _codecs_encode,
}


def _storage_array(raw, stype, numel, where):
    if stype.dtype == "bfloat16":
        if len(raw) != 2 * numel:
            raise PtFileError(f"{where}: a bfloat16 storage holds {len(raw)} bytes, expected {2 * numel}")
        u = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
        return u.view(np.float32)
    dt = np.dtype(stype.dtype).newbyteorder("<")
    if len(raw) != dt.itemsize * numel:
        raise PtFileError(f"{where}: a storage of {numel} {dt.name} elements holds {len(raw)} bytes, "
                          f"expected {dt.itemsize * numel}; the file is truncated or corrupt")
    return np.frombuffer(raw, dt).astype(dt.newbyteorder("="), copy=True)


def _check_pid(pid, where):
    if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
            and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
            and isinstance(pid[4], int) and 0 <= pid[4] < 2 ** 48):
        raise PtFileError(f"{where}: a persistent id {str(pid)[:80]!r} is not a tensor storage")


def _read_zip(data, where, limit):
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise PtFileError(f"{where}: not a readable zip archive ({e}); the file is truncated or corrupt")
    pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1] or \
          [n for n in names if n == "data.pkl"]
    if len(pkl) != 1:
        raise PtFileError(f"{where}: a zip archive, but not PyTorch's checkpoint format (no single "
                          f"<name>/data.pkl among {names[:6]})")
    prefix = pkl[0][:-len("data.pkl")]
    order = zf.read(prefix + "byteorder").decode("ascii", "replace") if prefix + "byteorder" in names \
        else "little"
    if order != "little":
        raise PtFileError(f"{where}: big-endian PyTorch files are not supported")
    storages = {}

    def persistent_load(pid):
        _check_pid(pid, where)
        _, stype, key, _loc, numel = pid[:5]
        if key not in storages:
            name = f"{prefix}data/{key}"
            if name not in names:
                raise PtFileError(f"{where}: the storage {name!r} named in data.pkl is missing")
            info = zf.getinfo(name)
            size = (2 if stype.dtype == "bfloat16" else np.dtype(stype.dtype).itemsize) * numel
            if info.file_size != size or size > limit:
                raise PtFileError(f"{where}: the storage {name!r} holds {info.file_size} bytes, "
                                  f"expected {size}; the file is truncated or corrupt")
            with zf.open(info) as f:
                raw = f.read(size + 1)
            storages[key] = _Storage(_storage_array(raw, stype, numel, f"{where}:{name}"))
        return storages[key]

    try:
        stream = zf.read(pkl[0])
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise PtFileError(f"{where}: {pkl[0]} cannot be read ({e}); the file is corrupt") from None
    try:
        obj, _ = _Machine(stream, 0, where, persistent_load).run()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as e:
        if isinstance(e, PtFileError):
            raise
        raise PtFileError(f"{where}: a storage cannot be read ({type(e).__name__}: {e}); "
                          "the file is corrupt") from None
    return obj


_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c


class _LazyTensor:
    """A legacy-format tensor: its storage's bytes follow the object's pickle."""

    def __init__(self, build, args):
        self.build, self.args = build, args


# in the legacy format tensors are rebuilt once the storages are read
_LEGACY_GLOBALS = dict(_GLOBALS)
_LEGACY_GLOBALS[("torch._utils", "_rebuild_tensor_v2")] = lambda *a: _LazyTensor(_rebuild_tensor_v2, a)
_LEGACY_GLOBALS[("torch._utils", "_rebuild_parameter")] = lambda *a: _LazyTensor(_rebuild_parameter, a)


def _read_legacy(data, where, limit=None):
    pos = 0
    pending = {}

    def persistent_load(pid):
        _check_pid(pid, where)
        if len(pid) == 6 and pid[5] is not None:
            raise PtFileError(f"{where}: legacy storage views are not supported")
        return pending.setdefault(pid[2], (pid[1], _Storage(None)))[1]

    def one(load=None):
        nonlocal pos
        obj, pos = _Machine(data, pos, where, load or (lambda pid: None), _LEGACY_GLOBALS).run()
        return obj

    if one() != _LEGACY_MAGIC:
        raise PtFileError(f"{where}: not a PyTorch file (bad magic number)")
    if one() != 1001:
        raise PtFileError(f"{where}: unsupported legacy PyTorch protocol version")
    one()  # sys_info: byte order and type sizes
    obj = one(persistent_load)
    keys = one()
    if not isinstance(keys, list) or any(not isinstance(k, str) for k in keys):
        raise PtFileError(f"{where}: the legacy storage key list is malformed")
    for key in keys:
        if key not in pending or pos + 8 > len(data):
            raise PtFileError(f"{where}: the legacy storage data is truncated or corrupt")
        numel = struct.unpack("<q", data[pos:pos + 8])[0]
        stype, st = pending[key]
        size = (2 if stype.dtype == "bfloat16" else np.dtype(stype.dtype).itemsize) * numel
        if numel < 0 or pos + 8 + size > len(data):
            raise PtFileError(f"{where}: the legacy storage data is truncated or corrupt")
        st.array = _storage_array(data[pos + 8:pos + 8 + size], stype, numel, where)
        pos += 8 + size
    if any(st.array is None for _, st in pending.values()):
        raise PtFileError(f"{where}: a storage named in the file has no data")
    return _realise(obj, where)


def _realise(obj, where, depth=0):
    if depth > 200:
        raise PtFileError(f"{where}: the object is nested more than 200 levels deep")
    if isinstance(obj, _LazyTensor):
        try:
            return obj.build(*[_realise(a, where, depth + 1) for a in obj.args])
        except (ValueError, TypeError) as e:
            raise PtFileError(f"{where}: a tensor cannot be rebuilt ({e})") from None
    if isinstance(obj, collections.OrderedDict):
        out = collections.OrderedDict((k, _realise(v, where, depth + 1)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):
            out._metadata = obj._metadata
        return out
    if isinstance(obj, dict):
        return {k: _realise(v, where, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_realise(v, where, depth + 1) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_realise(v, where, depth + 1) for v in obj)
    return obj


def is_pytorch_file(path):
    """True if ``path`` looks like a ``torch.save`` file (zip or legacy), by its first bytes."""
    with open(path, "rb") as f:
        head = f.read(4)
    return head[:2] == b"PK" or head[:2] == b"\x80\x02"


def _map_location_ok(map_location, where):
    from .._device import check
    if map_location is None or callable(map_location) and not isinstance(map_location, (str, dict)):
        return
    if isinstance(map_location, dict):
        for v in map_location.values():
            check(v, f"load_pytorch({where}, map_location=...)")
        return
    check(map_location, f"load_pytorch({where}, map_location=...)")


def load(f, map_location=None, weights_only=True, mmap=None, max_bytes=None):
    """Read a file written by ``torch.save`` (zip format, or the legacy format) or by
    :func:`save`, returning dalam Tensors (``nn.Parameter`` where the file holds one)
    inside the same dicts/lists/tuples.  Never runs pickle code: see the module
    docstring.  ``map_location`` may only name the CPU; ``weights_only=False`` is
    accepted but changes nothing (dalam never unpickles arbitrary objects)."""
    if isinstance(f, (str, os.PathLike)):
        path = pathlib.Path(os.fspath(f))
        where = str(path)
        if not path.is_file():
            raise FileNotFoundError(f"load_pytorch: no such file: {path}")
        data = path.read_bytes()
    else:
        where = getattr(f, "name", "<file object>")
        data = f.read()
    _map_location_ok(map_location, where)
    if not data:
        raise PtFileError(f"{where}: the file is empty (0 bytes)")
    limit = max_bytes if max_bytes is not None else len(data) * 4 + (1 << 20)
    reader = (_read_zip if data[:4] == b"PK\x03\x04" else _read_legacy if data[:2] == b"\x80\x02" else None)
    if reader is not None:
        try:
            return reader(data, where, limit)
        except PtFileError:
            raise
        except (Exception, RecursionError) as e:  # zipfile/zlib/struct on a damaged file: one clear error
            raise PtFileError(f"{where}: the file is truncated or corrupt ({type(e).__name__}: {e})") from None
    if len(data) >= 10 and data[8:9] == b"{":
        from ..io import load as load_safetensors
        return load_safetensors(f if isinstance(f, (str, os.PathLike)) else _tmpfile(data))
    raise PtFileError(f"{where}: neither a PyTorch checkpoint (zip or legacy) nor a safetensors file "
                      f"(first bytes {data[:8]!r})")


def _tmpfile(data):
    import tempfile
    fd, name = tempfile.mkstemp(suffix=".safetensors")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return name


# --------------------------------------------------------------------------- writing

class _Writer:
    """Emits a protocol-2 pickle stream of the opcodes ``torch.save`` itself uses."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")
        self.storages = []  # (key, bytes)
        self.keys = {}      # id(tensor) -> storage key (the same tensor twice shares its storage)

    def glob(self, module, name):
        self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"

    def value(self, v, path):
        out = self.out
        from ..nn.module import Module
        from ..nn.parameter import Parameter
        if v is None:
            out += b"N"
        elif v is True or v is False:
            out += b"\x88" if v else b"\x89"
        elif isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            v = int(v)
            if 0 <= v < 256:
                out += b"K" + struct.pack("<B", v)
            elif 0 <= v < 65536:
                out += b"M" + struct.pack("<H", v)
            elif -2 ** 31 <= v < 2 ** 31:
                out += b"J" + struct.pack("<i", v)
            else:
                b = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
                out += b"\x8a" + struct.pack("<B", len(b)) + b
        elif isinstance(v, (float, np.floating)):
            out += b"G" + struct.pack(">d", float(v))
        elif isinstance(v, str):
            b = v.encode("utf-8")
            out += b"X" + struct.pack("<I", len(b)) + b
        elif isinstance(v, Parameter):
            self.glob("torch._utils", "_rebuild_parameter")
            out += b"("
            self.tensor(v, path)
            out += b"\x88" if v.requires_grad else b"\x89"
            self.empty_ordered_dict()
            out += b"tR"
        elif isinstance(v, Tensor):
            self.tensor(v, path)
        elif isinstance(v, Module):
            raise TypeError(f"save_pytorch: {path or 'the object'} is a whole model "
                            f"({type(v).__name__}); save its weights with model.state_dict() instead "
                            "(torch.save(model.state_dict(), path)); load them into a model built by code")
        elif isinstance(v, np.ndarray):
            raise TypeError(f"save_pytorch: {path or 'the object'} is a NumPy array; wrap it with "
                            "dalam.from_numpy(...) to save it as a tensor")
        elif isinstance(v, collections.OrderedDict):
            self.empty_ordered_dict()
            self.items(v, path)
            meta = getattr(v, "_metadata", None)
            if isinstance(meta, dict):
                out += b"}X" + struct.pack("<I", 9) + b"_metadata"
                self.value(meta, path + "._metadata")
                out += b"sb"
        elif isinstance(v, dict):
            out += b"}"
            self.items(v, path)
        elif isinstance(v, list):
            out += b"]"
            if v:
                out += b"("
                for i, x in enumerate(v):
                    self.value(x, f"{path}[{i}]")
                out += b"e"
        elif isinstance(v, tuple):
            out += b"("
            for i, x in enumerate(v):
                self.value(x, f"{path}[{i}]")
            out += b"t"
        else:
            raise TypeError(f"save_pytorch: {path or 'the object'} is a {type(v).__name__}; PyTorch's "
                            "weights_only loader (and dalam) read only tensors, numbers, strings, None, "
                            "lists, tuples and dicts of these")

    def empty_ordered_dict(self):
        self.glob("collections", "OrderedDict")
        self.out += b")R"

    def items(self, d, path):
        if not d:
            return
        self.out += b"("
        for k, x in d.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save_pytorch: key {k!r} in {path or 'the object'} is a "
                                f"{type(k).__name__}; use strings or integers")
            self.value(k, path)
            self.value(x, f"{path}.{k}" if path else str(k))
        self.out += b"u"

    def tensor(self, t, path):
        a = t._data
        name = _STORAGE_OF.get(a.dtype)
        if name is None:
            raise TypeError(f"save_pytorch: {path}: tensors of dtype {a.dtype} cannot be saved")
        key = self.keys.get(id(t))
        if key is None:
            key = str(len(self.storages))
            self.keys[id(t)] = key
            self.storages.append((key, np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"),
                                                                      copy=False).tobytes()))
        out = self.out
        self.glob("torch._utils", "_rebuild_tensor_v2")
        out += b"((X" + struct.pack("<I", 7) + b"storage"
        self.glob("torch", name)
        self.value(key, path)
        self.value("cpu", path)
        self.value(int(a.size), path)
        out += b"tQ"
        self.value(0, path)
        self.value(tuple(int(n) for n in a.shape), path)
        strides, s = [], 1
        for n in reversed(a.shape):
            strides.append(s)
            s *= int(n)
        self.value(tuple(reversed(strides)), path)
        out += b"\x89"  # requires_grad is restored by _rebuild_parameter, as torch.save does
        self.empty_ordered_dict()
        out += b"tR"


def _zip_bytes(members, prefix="archive"):
    """A stored (uncompressed) zip whose members start on 64-byte boundaries, as PyTorch writes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members:
            full = f"{prefix}/{name}"
            info = zipfile.ZipInfo(full, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            start = buf.tell() + 30 + len(full.encode())
            pad = (-(start + 4)) % 64
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            zf.writestr(info, data)
    return buf.getvalue()


def save(obj, f):
    """Write ``obj`` (a state dict, a tensor, or nested dicts/lists/tuples of tensors,
    numbers and strings) in PyTorch's zip format, atomically: the file loads in PyTorch
    with ``torch.load(f, weights_only=True)``.  A whole ``nn.Module`` is refused with
    an error pointing at ``state_dict()``; nothing is written then."""
    w = _Writer()
    w.value(obj, "")
    w.out += b"."
    members = [("data.pkl", bytes(w.out)), ("byteorder", b"little")]
    members += [(f"data/{k}", b) for k, b in w.storages]
    members += [("version", b"3\n")]
    data = _zip_bytes(members)
    if isinstance(f, (str, os.PathLike)):
        return atomic_write(f, data)
    f.write(data)
    return f
