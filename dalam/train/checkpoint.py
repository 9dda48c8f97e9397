"""Training checkpoints: what ``fit(resume=...)`` needs to continue a run
exactly where it stopped, and the ``ModelCheckpoint`` callback that writes them.

A checkpoint is a folder (``ckpt-e0003-s0000120``: epoch, global step):
- ``model.safetensors``: the model's state dict, a plain safetensors file that
  ``dalam.load`` and PyTorch's ``safetensors.torch.load_file`` read;
- ``training_state.safetensors``: optimiser state, the state of callbacks
  that have one (LR schedulers, EarlyStopping...) and of the running
  metrics, written with ``dalam.save`` (tensors + JSON, no pickle);
- ``progress.json``: epoch, batch and global step, the history so far, the
  random generators' states (dalam's global one, the DataLoaders' shuffle
  generators, NumPy's and Python's global ones for user code), readable by eye.
The folder is written under a temporary name and renamed into place, then
``checkpoint.json`` (written atomically) is updated to name the ``last`` and
the ``best`` folder, and only then are old folders pruned (each renamed
aside before it is deleted): a run killed at any moment leaves the newest or
the previous checkpoint complete.  Every file carries a SHA-256 (safetensors
metadata, progress.json's ``sha256``).  Resuming trusts the pointer only when
the folder it names is complete and passes its checksums; otherwise the
folders are scanned and the newest good one is used, saying which and why
(``resolve_checkpoint``), and a resume never starts over while a checkpoint
exists.  ``clean_directory`` (run when training starts) removes what killed
runs left behind.

Mid-epoch checkpoints also store the random states from the start of the
epoch: on resume the loader is re-iterated from those states (the same
shuffle order), the batches already trained on are skipped, and then the
states of the moment of saving are put back, so the resumed run continues
bit for bit as the uninterrupted one would have.
"""
import json
import os
import pathlib
import re
import shutil
import time

from .. import backend
from . import _dist
from ..io import atomic_write, fsync_dir
from .callbacks import Callback, _Monitor

FORMAT = "dalam.checkpoint/1"
POINTER = "checkpoint.json"
_NAME = re.compile(r"ckpt-e\d+-s\d+")


# ---------------------------------------------------------------- random states
def _loader_generators(loader):
    """The distinct random generators a DataLoader shuffles with (dalam or NumPy)."""
    gens = []
    if loader is None:
        return gens
    bs = getattr(loader, "batch_sampler", None)
    for obj in (loader, getattr(loader, "sampler", None), getattr(bs, "sampler", None)):
        g = getattr(obj, "generator", None) if obj is not None else None
        if g is not None and all(g is not x for x in gens):
            gens.append(g)
    return gens


def _gen_state(g):
    return g.get_state() if hasattr(g, "get_state") else g.bit_generator.state


def _set_gen_state(g, state):
    if hasattr(g, "set_state"):
        g.set_state(state)
    else:
        g.bit_generator.state = state


def _numpy_state():
    import numpy as np
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return [name, keys.tolist(), int(pos), int(has_gauss), float(cached)]


def _set_numpy_state(s):
    import numpy as np
    np.random.set_state((s[0], np.array(s[1], dtype=np.uint32), s[2], s[3], s[4]))


def capture_rng(loader=None, val_loader=None):
    """The states of every random stream a training run may draw from: dalam's
    global generator, the loaders' shuffle generators, and, for user code,
    NumPy's legacy global generator and Python's ``random``."""
    import random
    version, internal, gauss = random.getstate()
    return {"global": backend.get_rng_state(),
            "loader": [_gen_state(g) for g in _loader_generators(loader)],
            "val_loader": [_gen_state(g) for g in _loader_generators(val_loader)],
            "numpy": _numpy_state(),
            "python": [version, list(internal), gauss]}


def restore_rng(state, loader=None, val_loader=None):
    import random
    backend.set_rng_state(state["global"])
    for key, ld in (("loader", loader), ("val_loader", val_loader)):
        gens = _loader_generators(ld)
        saved = state.get(key, [])
        if len(saved) != len(gens):
            name = "train_loader" if key == "loader" else "val_loader"
            raise ValueError(f"resume: the checkpoint holds {len(saved)} generator state(s) for the "
                             f"{name} but it has {len(gens)} generator(s); build the loader as in the "
                             "original run (same shuffle/generator arguments)")
        for g, s in zip(gens, saved):
            _set_gen_state(g, s)
    if "numpy" in state:
        _set_numpy_state(state["numpy"])
    if "python" in state:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))


# ---------------------------------------------------------------- folders
_FILES = ("model.safetensors", "training_state.safetensors", "progress.json")
_LEFTOVER_DIR = re.compile(r"\.(tmp|old|pruned)-(ckpt-e\d+-s\d+)(-\d+)?")


def _is_complete(folder):
    """Every file a checkpoint needs is there (progress.json is written last)."""
    return all((folder / f).is_file() for f in _FILES)


def _step_of(folder):
    """(global_step, epoch) from progress.json, or None when it cannot be read."""
    try:
        p = json.loads((folder / "progress.json").read_text())
        return int(p["global_step"]), int(p["epoch"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def check_checkpoint(folder):
    """Why ``folder`` cannot be resumed from (a string), or None when it is a
    complete checkpoint whose files all pass their checksums."""
    from ..io import load
    folder = pathlib.Path(folder)
    missing = [f for f in _FILES if not (folder / f).is_file()]
    if missing:
        return f"incomplete (no {', '.join(missing)})"
    try:
        read_progress(folder)
        for f in _FILES[:2]:
            load(folder / f, as_numpy=True)
    except (RuntimeError, ValueError, OSError) as e:
        return f"corrupt ({e})"
    return None


def _candidates(directory):
    """Complete-looking checkpoint folders in a ModelCheckpoint directory, newest
    first: ``ckpt-*`` folders, then the copies a killed re-save left behind
    (``.tmp-ckpt-*`` complete new copy, ``.old-ckpt-*`` the one it replaced)."""
    found = []
    for q in directory.iterdir():
        if not q.is_dir():
            continue
        if _NAME.fullmatch(q.name):
            rank = 2
        else:
            m = _LEFTOVER_DIR.fullmatch(q.name)
            if m is None or m.group(1) == "pruned":
                continue
            rank = 1 if m.group(1) == "tmp" else 0
        if not _is_complete(q):
            continue
        step = _step_of(q)
        found.append(((step or (-1, -1)), rank, q))
    found.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [q for _, _, q in found]


def resolve_checkpoint(directory, verify=True):
    """``(folder, why)``: the checkpoint a resume from the ModelCheckpoint
    ``directory`` should use, and a sentence saying why.  The folder named by
    ``checkpoint.json`` wins when it is complete (and, with ``verify``, passes
    its checksums); otherwise (pointer missing, null, damaged, naming a missing
    or corrupt folder) the folders are scanned and the newest good one is
    chosen.  ``(None, why)`` when there is none."""
    d = pathlib.Path(directory)
    ptr = d / POINTER
    named, trouble = None, None
    if ptr.is_file():
        try:
            named = json.loads(ptr.read_text()).get("last")
            if named is not None and not isinstance(named, str):
                raise ValueError(f"'last' is {named!r}, not a folder name")
        except (ValueError, AttributeError, RecursionError, OSError) as e:
            trouble, named = f"{ptr} is damaged ({e})", None
        if named is None and trouble is None:
            trouble = f"{ptr} names no checkpoint (last: null)"
        elif named is not None:
            problem = check_checkpoint(d / named) if verify else (
                None if _is_complete(d / named) else "incomplete or missing")
            if problem is None:
                return d / named, f"named by {POINTER}"
            trouble = (f"{POINTER} names {named}, which is missing" if not (d / named).exists()
                       else f"{POINTER} names {named}, which is {problem}")
    else:
        trouble = f"no {POINTER}"
    rejected = []
    for q in _candidates(d):
        if named is not None and q.name == named:
            continue
        problem = check_checkpoint(q) if verify else None
        if problem is None:
            why = f"{trouble}; chose the newest complete checkpoint found by scanning {d}"
            if rejected:
                why += f" (skipped {'; '.join(rejected)})"
            return q, why
        rejected.append(f"{q.name}: {problem}")
    why = trouble + (f"; no usable checkpoint ({'; '.join(rejected)})" if rejected else "")
    return None, why


def has_checkpoint_files(directory):
    """Whether ``directory`` holds any complete-looking checkpoint folder
    (usable or corrupt); half-written and half-deleted ones do not count."""
    d = pathlib.Path(directory)
    return d.is_dir() and bool(_candidates(d))


def find_checkpoint(path, verify=False):
    """The checkpoint folder meant by ``path`` (a checkpoint folder, a
    ModelCheckpoint directory, or a file inside either), or None when there is
    none.  A directory's ``checkpoint.json`` is followed when it names a
    complete folder; otherwise the folders are scanned (``resolve_checkpoint``)."""
    p = pathlib.Path(path)
    if p.is_file():
        if p.name == POINTER:
            p = p.parent
        elif (p.parent / "progress.json").is_file():
            return p.parent
        else:
            return None
    if not p.is_dir():
        return None
    if (p / "progress.json").is_file():
        return p
    return resolve_checkpoint(p, verify=verify)[0]


def latest_checkpoint(directory):
    """The newest complete checkpoint folder in a ModelCheckpoint directory, or None."""
    return find_checkpoint(directory)


def clean_directory(directory):
    """Tidy what killed runs left in a ModelCheckpoint directory (only files
    this module writes): a re-save killed between its two renames is finished
    (or undone), half-pruned and half-written folders and stray ``.*.tmp``
    files are deleted.  Returns the names removed or restored."""
    d = pathlib.Path(directory)
    if not d.is_dir():
        return []
    done = []
    # a re-save killed between "final -> .old" and ".tmp -> final": put a complete copy back
    for q in sorted(d.iterdir()):
        m = _LEFTOVER_DIR.fullmatch(q.name)
        if m and m.group(1) in ("tmp", "old") and q.is_dir() and _is_complete(q):
            final = d / m.group(2)
            if not final.exists() and check_checkpoint(q) is None:
                os.replace(q, final)
                done.append(f"restored {final.name} from {q.name}")
    fsync_dir(d)
    for q in sorted(d.iterdir()):
        if q.is_dir() and (_LEFTOVER_DIR.fullmatch(q.name) or q.name.startswith(".tmp-ckpt-")):
            shutil.rmtree(q, ignore_errors=True)
            done.append(f"removed {q.name}")
        elif q.is_dir() and _NAME.fullmatch(q.name) and not _is_complete(q):
            shutil.rmtree(q, ignore_errors=True)  # half-pruned or half-written
            done.append(f"removed incomplete {q.name}")
        elif q.is_file() and q.name.startswith(".") and q.name.endswith(".tmp"):
            q.unlink()  # atomic_write's temporary file
            done.append(f"removed {q.name}")
        elif q.is_dir() and _NAME.fullmatch(q.name):
            for f in q.iterdir():
                if f.name.startswith(".") and f.name.endswith(".tmp"):
                    f.unlink()
                    done.append(f"removed {q.name}/{f.name}")
    return done


def _write_folder(final, files):
    """Write ``files`` ({name: callable(path)}) into ``final`` atomically (tmp
    folder + rename).  Re-saving an existing name moves the old folder aside
    first; a kill between the two renames leaves both complete copies, which
    ``resolve_checkpoint`` finds and ``clean_directory`` puts back."""
    final = pathlib.Path(final)
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".tmp-{final.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    for name, write in files.items():
        write(tmp / name)
    fsync_dir(tmp)
    if final.exists():  # the same step saved again (e.g. after a resume): replace it
        old = parent / f".old-{final.name}-{os.getpid()}"
        os.replace(final, old)
        os.replace(tmp, final)
        fsync_dir(parent)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)
    fsync_dir(parent)
    return final


def remove_folder(folder):
    """Delete a checkpoint folder so that no half-deleted ``ckpt-*`` folder can
    be seen: rename it aside first (atomic), then delete."""
    folder = pathlib.Path(folder)
    aside = folder.parent / f".pruned-{folder.name}-{os.getpid()}"
    os.replace(folder, aside)
    fsync_dir(folder.parent)
    shutil.rmtree(aside, ignore_errors=True)


def save_training_checkpoint(trainer, path):
    """Write ``trainer``'s complete training state to the folder ``path``."""
    from ..io import save
    progress = trainer._progress_state()
    progress["sha256"] = _progress_digest(progress)
    tstate = trainer._training_state()
    model_sd = _dist.unwrap(trainer.model).state_dict()  # DDP or not: the same file
    files = {
        "model.safetensors": lambda p: save(model_sd, p) if model_sd else save({"model": {}}, p),
        "training_state.safetensors": lambda p: save(tstate, p),
        "progress.json": lambda p: atomic_write(p, json.dumps(progress, indent=1, allow_nan=True)),
    }
    return _write_folder(path, files)


def _progress_digest(progress):
    """SHA-256 of progress.json's content (all but this field), canonical JSON."""
    import hashlib
    rest = {k: v for k, v in progress.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, allow_nan=True).encode()).hexdigest()


def read_progress(folder):
    folder = pathlib.Path(folder)
    try:
        progress = json.loads((folder / "progress.json").read_text())
    except (OSError, ValueError, RecursionError) as e:
        raise RuntimeError(f"resume: cannot read {folder / 'progress.json'} ({type(e).__name__}: "
                           f"{str(e)[:200]})") from None
    if not isinstance(progress, dict) or progress.get("format") != FORMAT:
        fmt = progress.get("format") if isinstance(progress, dict) else type(progress).__name__
        raise RuntimeError(f"resume: {folder} is not a dalam training checkpoint (format "
                           f"{fmt!r}, expected {FORMAT!r})")
    if "sha256" in progress and progress["sha256"] != _progress_digest(progress):
        raise RuntimeError(f"resume: {folder / 'progress.json'}: checksum mismatch (the file was changed "
                           "after it was written): the checkpoint is corrupt")
    for key, kind in (("epoch", int), ("batch", int), ("global_step", int), ("history", dict)):
        if not isinstance(progress.get(key), kind) or isinstance(progress.get(key), bool):
            raise RuntimeError(f"resume: {folder / 'progress.json'} is damaged: '{key}' is "
                               f"{str(progress.get(key))[:50]!r}, expected {kind.__name__}")
    return progress


def load_checkpoint(path, model, optimizer=None, strict=True):
    """Load a checkpoint's weights into ``model`` (and its state into
    ``optimizer`` if given); returns the progress dict (epoch, global_step,
    history...).  ``path``: a checkpoint folder or a ModelCheckpoint directory
    (its last checkpoint)."""
    from ..io import load
    folder = find_checkpoint(path)
    if folder is None:
        raise FileNotFoundError(f"load_checkpoint: no checkpoint at {path} (expected a folder with "
                                "progress.json, or a directory with checkpoint.json)")
    progress = read_progress(folder)
    _dist.unwrap(model).load_state_dict(load(folder / "model.safetensors"), strict=strict)
    if optimizer is not None:
        optimizer.load_state_dict(load(folder / "training_state.safetensors")["optimizer"])
    return progress


# ---------------------------------------------------------------- callback
class ModelCheckpoint(Callback):
    """Save resumable checkpoints into ``directory`` during ``fit``.

    ``save_freq``: ``"epoch"`` (after each epoch, validation included) or an
    int N (every N optimiser steps, mid-epoch included).  ``monitor`` /
    ``mode``: the logged value that ranks checkpoints (``'auto'``: max for
    accuracy-like names, else min); the best one is kept and named in
    ``checkpoint.json`` as ``best``.  ``save_best_only``: write only when the
    monitored value improves.  ``keep_last``: how many of the newest
    checkpoints to keep besides the best (older folders are deleted).
    Resume with ``fit(..., resume=directory)`` or ``resume=True``.
    """

    order = 100

    def __init__(self, directory, monitor="val_loss", mode="auto", save_best_only=False,
                 save_freq="epoch", keep_last=1, verbose=0):
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive int (steps), got "
                             f"{save_freq!r}")
        if not isinstance(keep_last, int) or keep_last < 1:
            raise ValueError(f"ModelCheckpoint: keep_last must be an int >= 1, got {keep_last!r}")
        self.directory = pathlib.Path(directory)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.save_freq = save_freq
        self.keep_last = keep_last
        self.verbose = verbose
        self._m = _Monitor(monitor, mode, 0.0, "ModelCheckpoint")
        self.mode = self._m.mode
        self.best_name = None
        self.last_path = None

    @property
    def best(self):
        return self._m.best

    def on_train_begin(self, trainer):
        if _dist.is_main():  # under DDP rank 0 writes, every rank takes part in saving
            self.directory.mkdir(parents=True, exist_ok=True)
            clean_directory(self.directory)  # what a run killed while saving left behind
        if not trainer.resumed:
            self._m.best = float("inf") if self.mode == "min" else float("-inf")
            self.best_name = None

    def on_batch_end(self, trainer, step, logs):
        if self.save_freq != "epoch" and step % self.save_freq == 0:
            self._save(trainer, logs, per_batch=True)

    def on_epoch_end(self, trainer, epoch, logs):
        if self.save_freq == "epoch":
            self._save(trainer, logs)

    def _save(self, trainer, logs, per_batch=False):
        if not self.monitor:
            v = None
        elif per_batch:  # batch logs hold no val_* values: rank only by what is there
            v = logs.get(self.monitor)
            v = None if v is None else float(v)
        else:
            v = self._m.value(logs)
        improved = _dist.from_main(v is not None and self._m.improved(v))  # one decision for all ranks
        if self.save_best_only and not improved:
            return
        name = f"ckpt-e{trainer.epoch + 1:04d}-s{trainer.global_step:07d}"
        if improved:
            self._m.best = v
            self.best_name = name
        t = time.perf_counter()
        self.last_path = trainer.save_checkpoint(self.directory / name)
        if not _dist.is_main():
            return
        pointer = {"last": name, "best": self.best_name, "monitor": self.monitor,
                   "best_value": None if self.best_name is None else self._m.best,
                   "epoch": trainer.epoch + 1, "global_step": trainer.global_step}
        # the pointer moves to the new folder before anything old is deleted
        atomic_write(self.directory / POINTER, json.dumps(pointer, indent=1))
        self._prune(name)
        if self.verbose:
            print(f"ModelCheckpoint: saved {self.last_path} in {time.perf_counter() - t:.2f} s"
                  + (f" ({self.monitor} improved to {v:.6g})" if improved else ""))

    def _prune(self, newest):
        names = sorted(p.name for p in self.directory.iterdir() if p.is_dir() and _NAME.fullmatch(p.name))
        names = [n for n in names if n != newest] + [newest]
        keep = set(names[-self.keep_last:])
        if self.best_name:
            keep.add(self.best_name)
        for n in names:
            if n not in keep:
                remove_folder(self.directory / n)

    def state_dict(self):
        return {"best": self._m.best, "best_name": self.best_name}

    def load_state_dict(self, state):
        self._m.best = float(state["best"])
        self.best_name = state.get("best_name")
