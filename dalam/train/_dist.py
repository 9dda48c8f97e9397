"""What ``fit`` does differently under data parallelism (dalam.distributed),
kept here so the training loop reads as a single-process one.

- only rank 0 shows progress, writes checkpoints and runs callbacks marked
  ``rank_zero_only`` (CSVLogger, TensorBoard); every rank runs the others, so
  schedules and early stopping stay in step;
- epoch losses and metrics are reduced over the ranks (sums of the metrics'
  additive states: counts, sums, confusion matrices), so every rank logs the
  figures of the global batch;
- checkpoints keep every rank's random-generator states, so a resumed job
  continues each rank's streams exactly.
Outside a process group (or with one rank) every function is the identity.
"""
import copy
import sys

import numpy as np


def _state():
    mod = sys.modules.get("dalam.distributed.process_group")
    if mod is None or mod.state.comm is None or mod.state.size == 1:
        return None
    return mod.state


def unwrap(model):
    """The model inside a DistributedDataParallel (checkpoints hold its plain
    state dict, so runs on 1 or N processes read and write the same files)."""
    mod = sys.modules.get("dalam.distributed.ddp")
    if mod is not None and isinstance(model, mod.DistributedDataParallel):
        return model.module
    return model


def active():
    return _state() is not None


def rank():
    st = _state()
    return 0 if st is None else st.rank


def is_main():
    return rank() == 0


def sum_numbers(*values):
    """The sums over ranks of a few floats."""
    if not active():
        return values
    import dalam.distributed as dist
    from ..tensor import Tensor
    t = Tensor._make(np.array(values, np.float64), False, None)
    dist.all_reduce(t)
    return tuple(float(v) for v in t._data)


def gather(obj):
    """Every rank's ``obj`` (small Python values), on every rank."""
    if not active():
        return [obj]
    import dalam.distributed as dist
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def _add(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:  # e.g. confusion matrices that grew to different sizes
            shape = tuple(max(x, y) for x, y in zip(a.shape, b.shape))
            pa, pb = np.zeros(shape, a.dtype), np.zeros(shape, b.dtype)
            pa[tuple(slice(0, s) for s in a.shape)] = a
            pb[tuple(slice(0, s) for s in b.shape)] = b
            a, b = pa, pb
        return a + b
    if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, (int, float)):
        return a + b
    return a  # settings (k, average, num_classes): the same everywhere


def reduced_metrics(metrics):
    """Copies of ``metrics`` holding the sum of every rank's state."""
    if not active():
        return metrics
    out = []
    for m, states in zip(metrics, zip(*gather([m.state_dict() for m in metrics]))):
        merged = dict(states[0])
        for s in states[1:]:
            for k, v in s.items():
                merged[k] = _add(merged[k], v)
        r = copy.deepcopy(m)
        r.load_state_dict(merged)
        out.append(r)
    return out


def verbosity(verbose):
    """Only rank 0 reports; under a launcher stdout is a pipe, so 'auto' means one line per epoch."""
    if not active():
        return verbose
    if not is_main():
        return 0
    return 2 if verbose in ("auto", 1) else verbose


def needs_stop_sync(callbacks):
    """Can a callback stop training mid-epoch (on one rank only)?  Then the
    ranks agree on stopping after each batch (one tiny all-reduce)."""
    if not active():
        return False
    from .callbacks import Callback, LearningRateScheduler
    from .checkpoint import ModelCheckpoint
    quiet = (ModelCheckpoint, LearningRateScheduler)
    return any(type(cb).on_batch_end is not Callback.on_batch_end and not isinstance(cb, quiet)
               and not getattr(cb, "rank_zero_only", False) for cb in callbacks)


def this_ranks_progress(progress):
    """A checkpoint's progress with this rank's own random states put in."""
    ranks = progress.get("ranks")
    if not active() or not ranks:
        return progress
    import dalam.distributed as dist
    if len(ranks) != dist.get_world_size():
        return progress  # resumed with another number of ranks: rank 0's states for all
    mine = ranks[dist.get_rank()]
    progress = dict(progress, rng=mine["rng"])
    if mine.get("epoch_start_rng") is not None and "epoch_start_rng" in progress:
        progress["epoch_start_rng"] = mine["epoch_start_rng"]
    return progress


def from_main(value):
    """Rank 0's ``value`` on every rank (so the ranks take the same decision)."""
    if not active():
        return value
    import dalam.distributed as dist
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
