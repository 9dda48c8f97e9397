"""Collectives on tensors: ``all_reduce``, ``broadcast``, ``all_gather``,
``reduce_scatter``, ``barrier``, with PyTorch's signatures.

Each works in place on the tensors' arrays through MPI's buffer interface (no
pickling).  Before the data moves, the ranks compare what they were asked to
do (the collective, the dtype, the element count, the root or op) in one tiny
``Allgather``: a rank that passes a different size, or calls a different
collective, gets a ``RuntimeError`` naming the ranks on every rank at once,
instead of a hang or silently truncated data.  Set ``DALAM_DIST_CHECKS=0`` to
skip that check (saves one small message per call).  Every wait honours the
process group's timeout.
"""
import os
import time

import numpy as np

from ..tensor import Tensor
from . import process_group as _pg


class ReduceOp:
    """Reduction operations, as ``torch.distributed.ReduceOp``."""
    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


_OPS = ("sum", "product", "min", "max", "avg", "band", "bor", "bxor")
_KINDS = ("all_reduce", "broadcast", "all_gather", "reduce_scatter", "barrier", "object")


def _mpi_op(op):
    MPI = _pg._mpi()
    name = op if isinstance(op, str) else getattr(op, "name", str(op))
    name = str(name).lower().rsplit(".", 1)[-1]
    table = {"sum": MPI.SUM, "avg": MPI.SUM, "product": MPI.PROD, "min": MPI.MIN, "max": MPI.MAX,
             "band": MPI.BAND, "bor": MPI.BOR, "bxor": MPI.BXOR}
    if name not in table:
        raise ValueError(f"unknown reduce op {op!r}; use dalam.distributed.ReduceOp.SUM, PRODUCT, MIN, "
                         "MAX, AVG, BAND, BOR or BXOR")
    return table[name], name


def _array(t, what):
    if isinstance(t, Tensor):
        return t._data
    if isinstance(t, np.ndarray):
        return t
    raise TypeError(f"{what}: expected a dalam Tensor, got {type(t).__name__}")


def wait(req, what):
    """Complete an MPI request, or raise after the process group's timeout.
    Spins on ``Test`` for the first ~2 ms (fast for small messages), then
    sleeps between tests so a rank waiting for a slow peer leaves the CPU to
    it (this machine has fewer cores than some jobs have ranks)."""
    if req.Test():
        return
    t0 = time.monotonic()
    deadline = t0 + _pg.state.timeout
    spin_until = t0 + 0.002
    n = 0
    while not req.Test():
        n += 1
        if n & 63:
            continue
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError(
                f"dalam.distributed: rank {_pg.state.rank} timed out after {_pg.state.timeout:.0f} s in "
                f"{what} waiting for the other ranks: a rank may have died, be stuck, or be calling a "
                "different collective (every rank must call the same collectives in the same order)")
        if now > spin_until:
            time.sleep(5e-5)


def _dtype_code(dt):
    return np.dtype(dt).num


def _check(comm, kind, arr=None, extra=0):
    """Make sure every rank is about to run the same collective on the same
    kind of data; raises the same clear error on every rank when not."""
    if comm.Get_size() == 1 or os.environ.get("DALAM_DIST_CHECKS", "1") == "0":
        return
    mine = np.array([_KINDS.index(kind),
                     -1 if arr is None else _dtype_code(arr.dtype),
                     -1 if arr is None else arr.size, extra], dtype=np.int64)
    everyone = np.empty((comm.Get_size(), 4), dtype=np.int64)
    wait(comm.Iallgather(mine, everyone), kind)
    if (everyone == everyone[0]).all():
        return
    rows = "; ".join(f"rank {r}: {_describe(row)}" for r, row in enumerate(everyone))
    raise RuntimeError(f"dalam.distributed.{kind} on rank {_pg.state.rank}: the ranks do not agree ({rows}); "
                       "every rank must call the same collectives, in the same order, with tensors of the "
                       "same shape and dtype")


def _describe(row):
    kind = _KINDS[row[0]] if 0 <= row[0] < len(_KINDS) else "?"
    if row[1] < 0:
        return kind + (f" from rank {row[3] - 1}" if row[3] else "")
    dt = next((np.dtype(c) for c in np.sctypeDict.values() if np.dtype(c).num == row[1]), "?")
    text = f"{kind} of {row[2]} {dt} element(s)"
    if kind in ("all_reduce", "reduce_scatter") and 0 < row[3] <= len(_OPS):
        text += f", op {_OPS[row[3] - 1]}"
    elif kind == "broadcast" and row[3]:
        text += f" from rank {row[3] - 1}"
    return text


class Work:
    """What ``async_op=True`` returns: ``wait()`` completes the operation."""

    def __init__(self, req, what, after=None):
        self._req, self._what, self._after, self._done = req, what, after, False

    def wait(self, timeout=None):
        if not self._done:
            wait(self._req, self._what)
            if self._after is not None:
                self._after()
            self._done = True
        return True

    def is_completed(self):
        if not self._done and self._req.Test():
            if self._after is not None:
                self._after()
            self._done = True
        return self._done


def _contiguous(a):
    """A C-contiguous array to give MPI (``a`` itself when it already is one)."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across ranks, in place, so every rank holds the result."""
    comm = _pg._require("all_reduce", group)
    a = _array(tensor, "all_reduce")
    mop, name = _mpi_op(op)
    _check(comm, "all_reduce", a, _OPS.index(name) + 1)
    MPI = _pg._mpi()
    buf = _contiguous(a)

    def after():
        if name == "avg":
            if buf.dtype.kind in "iu":
                np.floor_divide(buf, comm.Get_size(), out=buf)
            else:
                buf[...] = buf / comm.Get_size()
        if buf is not a:
            a[...] = buf
    req = comm.Iallreduce(MPI.IN_PLACE, buf, op=mop)
    work = Work(req, "all_reduce", after)
    return work if async_op else (work.wait() and None)


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy ``tensor`` from rank ``src`` into every rank's ``tensor``, in place."""
    comm = _pg._require("broadcast", group)
    if not 0 <= src < comm.Get_size():
        raise ValueError(f"broadcast: src={src} is not a rank (world size {comm.Get_size()})")
    a = _array(tensor, "broadcast")
    _check(comm, "broadcast", a, src + 1)
    buf = _contiguous(a)

    def after():
        if buf is not a:
            a[...] = buf
    work = Work(comm.Ibcast(buf, root=src), "broadcast", after)
    return work if async_op else (work.wait() and None)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor`` (all the same shape)."""
    comm = _pg._require("all_gather", group)
    a = _array(tensor, "all_gather")
    n = comm.Get_size()
    if len(tensor_list) != n:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors, expected one per rank "
                         f"({n})")
    for i, t in enumerate(tensor_list):
        o = _array(t, "all_gather")
        if o.shape != a.shape or o.dtype != a.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {o.shape} and dtype {o.dtype}, "
                             f"expected {a.shape} {a.dtype} (the input's)")
    _check(comm, "all_gather", a)
    out = np.empty((n,) + a.shape, a.dtype)

    def after():
        for t, part in zip(tensor_list, out):
            _array(t, "all_gather")[...] = part
    work = Work(comm.Iallgather(_contiguous(a), out), "all_gather", after)
    return work if async_op else (work.wait() and None)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Rank r's ``input_tensor`` into the r-th slice of ``output_tensor``
    (its first dimension is world_size times the input's)."""
    comm = _pg._require("all_gather_into_tensor", group)
    a, out = _array(input_tensor, "all_gather_into_tensor"), _array(output_tensor, "all_gather_into_tensor")
    if out.size != a.size * comm.Get_size() or out.dtype != a.dtype:
        raise ValueError(f"all_gather_into_tensor: output has {out.size} {out.dtype} elements, expected "
                         f"{a.size * comm.Get_size()} {a.dtype} (world size x input)")
    _check(comm, "all_gather", a)
    buf = _contiguous(out)

    def after():
        if buf is not out:
            out[...] = buf
    work = Work(comm.Iallgather(_contiguous(a), buf), "all_gather_into_tensor", after)
    return work if async_op else (work.wait() and None)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list[r]`` across ranks into rank r's ``output``."""
    comm = _pg._require("reduce_scatter", group)
    n = comm.Get_size()
    o = _array(output, "reduce_scatter")
    if len(input_list) != n:
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors, expected one per rank "
                         f"({n})")
    parts = [_array(t, "reduce_scatter") for t in input_list]
    for i, p in enumerate(parts):
        if p.shape != o.shape or p.dtype != o.dtype:
            raise ValueError(f"reduce_scatter: input_list[{i}] has shape {p.shape} and dtype {p.dtype}, "
                             f"expected {o.shape} {o.dtype} (the output's)")
    mop, name = _mpi_op(op)
    _check(comm, "reduce_scatter", o, _OPS.index(name) + 1)
    send = np.concatenate([p.reshape(-1) for p in parts])
    recv = np.empty(o.size, o.dtype)

    def after():
        if name == "avg":
            recv[...] = recv / n if recv.dtype.kind == "f" else recv // n
        o[...] = recv.reshape(o.shape)
    work = Work(comm.Ireduce_scatter_block(send, recv, op=mop), "reduce_scatter", after)
    return work if async_op else (work.wait() and None)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """``input`` split in world_size equal slices along dim 0; slice r reduced into rank r's ``output``."""
    comm = _pg._require("reduce_scatter_tensor", group)
    a = _array(input, "reduce_scatter_tensor")
    o = _array(output, "reduce_scatter_tensor")
    n = comm.Get_size()
    if a.size != o.size * n:
        raise ValueError(f"reduce_scatter_tensor: input has {a.size} elements, expected world size x "
                         f"output = {o.size * n}")
    parts = [Tensor._make(x, False, None) for x in np.ascontiguousarray(a).reshape((n,) + o.shape)]
    return reduce_scatter(output, parts, op=op, async_op=async_op)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank has reached this point."""
    comm = _pg._require("barrier", group)
    _check(comm, "barrier")
    work = Work(comm.Ibarrier(), "barrier")
    return work if async_op else (work.wait() and None)


def gather_objects(comm, obj, what="all_gather_object"):
    """Every rank's picklable ``obj``, on every rank, through non-blocking MPI
    calls (so the wait honours the timeout).  For small in-memory values
    between the job's own processes, never for files."""
    import pickle
    data = np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), np.uint8)
    sizes = np.empty(comm.Get_size(), np.int64)
    wait(comm.Iallgather(np.array([data.size], np.int64), sizes), what)
    out = np.empty(int(sizes.sum()), np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    MPI = _pg._mpi()
    wait(comm.Iallgatherv(data, [out, sizes, offsets, MPI.BYTE]), what)
    return [pickle.loads(out[o:o + n].tobytes()) for o, n in zip(offsets, sizes)]


def all_gather_object(object_list, obj, group=None):
    """Fill ``object_list[r]`` with rank r's picklable ``obj`` (small Python values: metrics, configs)."""
    comm = _pg._require("all_gather_object", group)
    if len(object_list) != comm.Get_size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries, expected one per "
                         f"rank ({comm.Get_size()})")
    _check(comm, "object")
    object_list[:] = gather_objects(comm, obj)


def broadcast_object_list(object_list, src=0, group=None, device=None):
    """Replace ``object_list``'s entries with rank ``src``'s."""
    comm = _pg._require("broadcast_object_list", group)
    _check(comm, "object", None, src + 1)
    object_list[:] = gather_objects(comm, list(object_list) if comm.Get_rank() == src else None,
                                    "broadcast_object_list")[src]
