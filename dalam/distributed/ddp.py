"""``DistributedDataParallel``: the same model on every rank, gradients averaged.

How it works (PyTorch's design, on MPI):
1. At construction the ranks check that they hold the same parameters (names,
   shapes, dtypes), then rank 0's parameters and buffers are broadcast.
2. Parameters are grouped into buckets in *reverse* order (the order backward
   produces their gradients): about 1 MiB for the first bucket, so
   communication starts early, then ``bucket_cap_mb`` (25 MiB) each.
3. A post-accumulate-grad hook on every parameter copies its gradient into its
   bucket's flat buffer; when a bucket is full, a non-blocking ``Iallreduce``
   starts, while backward goes on computing the earlier layers' gradients.
   Buckets start strictly in index order on every rank, as MPI requires.
4. MPI moves data only while someone calls into it, so a small progress
   thread tests the requests in flight every ~0.2 ms while the main thread is
   in NumPy (which releases the GIL).  ``DALAM_DDP_PROGRESS=hooks`` turns the
   thread off (progress then only happens in the hooks and the final wait).
5. When backward ends (an engine callback) the remaining buckets are waited
   for and each ``param.grad`` receives the average, in place, so optimisers
   that keep flat views of the gradients see it.

``no_sync()`` skips step 3-5 (gradients accumulate locally); buffers (BatchNorm
running statistics) are broadcast from rank 0 before each forward with grad
enabled (``broadcast_buffers=True``), as PyTorch does; parameters that get no
gradient raise a clear error unless ``find_unused_parameters=True``, which
reduces zeros for them (and leaves a parameter no rank used untouched).
"""
import contextlib
import os
import threading
import time

import numpy as np

from ..autograd import engine, grad_mode
from ..nn.module import Module
from ..tensor import Tensor
from . import collectives as _c
from . import process_group as _pg

_FIRST_BUCKET_BYTES = 1 << 20  # as PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES
_POLL_S = 2e-4


class _Bucket:
    __slots__ = ("index", "params", "offsets", "buf", "pending", "req", "done", "t_ready", "t_start",
                 "t_done")

    def __init__(self, index, params, offsets, buf):
        self.index, self.params, self.offsets, self.buf = index, params, offsets, buf
        self.pending = len(params)
        self.req = None
        self.done = False
        self.t_ready = self.t_start = self.t_done = None

    @property
    def nbytes(self):
        return self.buf.nbytes


def bucket_groups(params, bucket_cap_mb=25, first_bucket_bytes=_FIRST_BUCKET_BYTES):
    """Indices per bucket for ``params`` = [(nbytes, dtype), ...] in model order:
    filled in reverse order, a bucket closes once it holds ``first_bucket_bytes``
    (the first) or ``bucket_cap_mb`` MiB (the others) or when the dtype changes."""
    cap = int(bucket_cap_mb * (1 << 20))
    groups, cur, cur_bytes, cur_dt = [], [], 0, None
    for i in reversed(range(len(params))):
        nbytes, dt = params[i]
        if cur and dt != cur_dt:
            groups.append(cur)
            cur, cur_bytes = [], 0
        cur.append(i)
        cur_dt = dt
        cur_bytes += nbytes
        if cur_bytes >= (first_bucket_bytes if not groups else cap):
            groups.append(cur)
            cur, cur_bytes = [], 0
    if cur:
        groups.append(cur)
    return groups


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training: each rank runs its share of
    the batch, ``backward()`` averages the gradients over ranks.

        dist.init_process_group("mpi")
        model = DistributedDataParallel(model)
        loss_fn(model(x), y).backward()   # gradients are now the global average
        optimizer.step()

    Arguments as PyTorch's (``device_ids`` and ``output_device`` are accepted
    and ignored: dalam runs on the CPU)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False, **_ignored):
        super().__init__()
        comm = _pg._require("DistributedDataParallel")
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a dalam.nn.Module, got {type(module).__name__}")
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.static_graph = bool(static_graph)
        self.bucket_cap_mb = 25 if bucket_cap_mb is None else float(bucket_cap_mb)
        self.require_backward_grad_sync = True
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._names = [n for n, _ in named]
        self._params = [p for _, p in named]
        # an own communicator: bucket all-reduces never interleave with the user's collectives
        self._comm = comm.Dup()
        self._world = self._comm.Get_size()
        self._rank = self._comm.Get_rank()
        self._verify_same_model()
        self._broadcast_state()
        self._build_buckets()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        mode = os.environ.get("DALAM_DDP_PROGRESS", "thread")
        MPI = _pg._mpi()
        self._use_thread = (mode != "hooks" and self._world > 1
                            and MPI.Query_thread() == MPI.THREAD_MULTIPLE)
        self._trace = None
        self._step = 0
        self._reset_iteration()
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._make_hook(i))
                              for i, p in enumerate(self._params)]

    # ---------------------------------------------------------------- setup
    def _verify_same_model(self):
        """Every rank must hold the same parameters: compare them all at once
        (so every rank raises the same error, none hangs)."""
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in self.module.named_parameters()]
        mine += [(n, tuple(b.shape), str(b.dtype)) for n, b in self.module.named_buffers() if b is not None]
        everyone = _c.gather_objects(self._comm, mine, "DistributedDataParallel model check")
        ref = everyone[0]
        for r, theirs in enumerate(everyone[1:], 1):
            if theirs == ref:
                continue
            a, b = dict((n, (s, d)) for n, s, d in ref), dict((n, (s, d)) for n, s, d in theirs)
            diffs = [f"'{n}' is {a[n][0]} {a[n][1]} on rank 0 but {b[n][0]} {b[n][1]} on rank {r}"
                     for n in a if n in b and a[n] != b[n]]
            diffs += [f"'{n}' exists on rank 0 only" for n in a if n not in b]
            diffs += [f"'{n}' exists on rank {r} only" for n in b if n not in a]
            if not diffs:
                diffs = [f"rank {r} lists the same tensors in a different order"]
            raise RuntimeError("DistributedDataParallel: the model differs between ranks: "
                               + "; ".join(diffs[:5]) + (" ..." if len(diffs) > 5 else "")
                               + ". Every rank must build the same model (same code, same arguments).")

    def _coalesced_bcast(self, tensors):
        """Broadcast ``tensors`` from rank 0, one message per dtype."""
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dt, ts in by_dtype.items():
            flat = np.concatenate([t._data.reshape(-1) for t in ts]) if len(ts) > 1 else \
                np.ascontiguousarray(ts[0]._data).reshape(-1).copy()
            _c.wait(self._comm.Ibcast(flat, root=0), "DistributedDataParallel broadcast")
            o = 0
            for t in ts:
                n = t._data.size
                t._data[...] = flat[o:o + n].reshape(t._data.shape)
                o += n

    def _broadcast_state(self):
        if self._world == 1:
            return
        tensors = list(self.module.parameters()) + self._module_buffers()
        if tensors:
            self._coalesced_bcast(tensors)

    def _module_buffers(self):
        return [b for b in self.module.buffers() if b is not None]

    def _build_buckets(self):
        groups = bucket_groups([(p._data.nbytes, p._data.dtype) for p in self._params], self.bucket_cap_mb)
        self._buckets = []
        self._slot = [None] * len(self._params)
        for bi, idx in enumerate(groups):
            sizes = [self._params[i]._data.size for i in idx]
            offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
            buf = np.zeros(offsets[-1], self._params[idx[0]]._data.dtype)
            b = _Bucket(bi, idx, offsets, buf)
            self._buckets.append(b)
            for k, i in enumerate(idx):
                self._slot[i] = (b, offsets[k], sizes[k])

    @property
    def bucket_sizes(self):
        """Bytes per bucket, in the order they are reduced."""
        return [b.nbytes for b in self._buckets]

    @property
    def bucket_params(self):
        """Parameter names per bucket, in the order they are reduced."""
        return [[self._names[i] for i in b.params] for b in self._buckets]

    # ---------------------------------------------------------------- forward
    def forward(self, *inputs, **kwargs):
        if self._in_backward:
            raise RuntimeError("DistributedDataParallel: forward called while the previous backward's "
                               "gradient reduction has not finished")
        grad_on = grad_mode.state.enabled
        if self.broadcast_buffers and grad_on and self._world > 1:
            bufs = self._module_buffers()
            if bufs:
                self._coalesced_bcast(bufs)
        self._reset_iteration()
        self._expect = grad_on and self.require_backward_grad_sync and self._world > 1
        out = self.module(*inputs, **kwargs)
        self._t_forward_end = time.perf_counter()
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, forward/backward accumulate gradients locally without
        communicating; the first backward after it reduces the sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ---------------------------------------------------------------- backward
    def _reset_iteration(self):
        self._expect = False
        self._in_backward = False
        self._got = [False] * len(self._params)
        self._next = 0
        for b in self._buckets:
            b.pending = len(b.params)
            b.req, b.done = None, False
            b.t_ready = b.t_start = b.t_done = None
        self._t_first_hook = None
        self._t_forward_end = None

    def _make_hook(self, i):
        def hook(p):
            if self._expect:
                self._grad_ready(i, p)
        return hook

    def _grad_ready(self, i, p):
        now = time.perf_counter()
        if not self._in_backward:
            self._in_backward = True
            self._t_first_hook = now
            engine.queue_callback(self._finish)
        if self._got[i]:
            return  # a second backward through the same forward (retain_graph): reduced once
        self._got[i] = True
        b, off, n = self._slot[i]
        g = p.grad._data
        view = b.buf[off:off + n]
        if not np.shares_memory(g, view):
            view[...] = g.reshape(-1)
        b.pending -= 1
        if b.pending == 0:
            b.t_ready = now
            self._launch_ready()
        elif self._use_thread is False and self._next:
            self._poke()

    def _launch_ready(self):
        MPI = _pg._mpi()
        launched = False
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            b = self._buckets[self._next]
            with self._lock:
                b.t_start = time.perf_counter()
                b.req = self._comm.Iallreduce(MPI.IN_PLACE, b.buf, op=MPI.SUM)
            self._next += 1
            launched = True
        if launched:
            if self._use_thread:
                self._start_progress()
            else:
                self._poke()

    def _poke(self):
        """Let MPI move data (progress happens only inside MPI calls)."""
        for b in self._buckets[:self._next]:
            if not b.done and b.req.Test():
                b.done, b.t_done = True, time.perf_counter()

    # progress thread: tests the requests in flight while the main thread computes
    def _start_progress(self):
        with self._lock:
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._progress_loop, name="dalam-ddp-progress",
                                                daemon=True)
                self._thread.start()

    def _progress_loop(self):
        """Test the requests in flight every ~0.2 ms until they are done; park
        between backward passes and end after a second without work (so the
        thread never outlives its DDP object by long)."""
        while True:
            if not self._wake.wait(1.0):
                with self._lock:
                    if not self._wake.is_set():
                        self._thread = None
                        return
                continue
            while True:
                with self._lock:
                    if not self._wake.is_set():
                        break
                    busy = False
                    for b in self._buckets[:self._next]:
                        if b.req is not None and not b.done:
                            if b.req.Test():
                                b.done, b.t_done = True, time.perf_counter()
                            else:
                                busy = True
                    if not busy and self._next == len(self._buckets):
                        self._wake.clear()
                        break
                time.sleep(_POLL_S)

    def _finish(self):
        """End of backward: reduce what is left, wait, write the averaged gradients."""
        t_end = time.perf_counter()
        missing = [i for i, got in enumerate(self._got) if not got]
        if missing and not self.find_unused_parameters:
            self._reset_iteration()
            names = [self._names[i] for i in missing]
            raise RuntimeError(
                f"DistributedDataParallel (rank {self._rank}): parameters {names[:8]}"
                + (" ..." if len(names) > 8 else "")
                + " received no gradient in this backward pass, so the ranks cannot average them. "
                "Pass find_unused_parameters=True if your forward does not use every parameter, or "
                "make sure the loss depends on all of the model's outputs.")
        for i in missing:  # find_unused_parameters: an unused one contributes its current grad or 0
            b, off, n = self._slot[i]
            g = self._params[i].grad
            b.buf[off:off + n] = 0 if g is None else g._data.reshape(-1)
            b.pending -= 1
        if missing:
            self._launch_ready()
        used = None
        if self.find_unused_parameters:
            flags = np.array([got or p.grad is not None for got, p in zip(self._got, self._params)],
                             np.int32)
            used = np.empty_like(flags)
            with self._lock:
                req = self._comm.Iallreduce(flags, used, op=_pg._mpi().MAX)
        with self._lock:
            self._wake.clear()  # park the progress thread: the main thread waits from here
        for b in self._buckets:
            if not b.done:
                _c.wait(b.req, f"DistributedDataParallel gradient all-reduce (bucket {b.index})")
                b.done, b.t_done = True, time.perf_counter()
        if used is not None:
            _c.wait(req, "DistributedDataParallel find_unused_parameters")
        t_wait = time.perf_counter()
        world = self._world
        for b in self._buckets:
            np.divide(b.buf, world, out=b.buf, casting="unsafe")
            for k, i in enumerate(b.params):
                p = self._params[i]
                if used is not None and not used[i]:
                    continue  # no rank used it: leave its .grad as it is
                avg = b.buf[b.offsets[k]:b.offsets[k + 1]].reshape(p._data.shape)
                g = p.grad
                if self.gradient_as_bucket_view:
                    if g is None or g._data is not avg:
                        p.grad = Tensor._make(avg, False, None)
                elif g is None:
                    p.grad = Tensor._make(avg.copy(), False, None)
                elif g._data.shape == avg.shape and g._data.flags.writeable:
                    np.copyto(g._data, avg, casting="unsafe")
                else:
                    g._data = avg.astype(g._data.dtype)
        if self._trace is not None:
            for b in self._buckets:
                self._trace.append({"step": self._step, "bucket": b.index, "bytes": b.nbytes,
                                    "params": len(b.params), "forward_end": self._t_forward_end,
                                    "first_hook": self._t_first_hook,
                                    "ready": b.t_ready, "start": b.t_start, "done": b.t_done,
                                    "backward_end": t_end, "wait_end": t_wait})
        self._step += 1
        self._expect = False
        self._in_backward = False

    # ---------------------------------------------------------------- tracing
    def enable_bucket_trace(self):
        """Record, per backward and bucket, when it was ready, when its
        all-reduce started and finished, and when backward ended
        (``time.perf_counter`` seconds); returns the list that fills up."""
        self._trace = []
        return self._trace

    def __del__(self):
        try:
            for h in self._hook_handles:
                h.remove()
        except Exception:
            pass
