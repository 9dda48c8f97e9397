"""Callbacks: code that ``fit`` runs at fixed points of training.

The protocol (fixed; other modules write callbacks against it): a subclass of
``Callback`` overrides any of
    on_train_begin(trainer)                  on_train_end(trainer)
    on_epoch_begin(trainer, epoch)           on_epoch_end(trainer, epoch, logs)
    on_batch_end(trainer, step, logs)
``epoch`` counts from 0; ``step`` is ``trainer.global_step``, the number of
optimiser steps taken so far, this one included (1 after the first batch);
``logs`` is a dict of floats: per batch ``loss`` (this batch's) and ``lr``,
per epoch the epoch means ``loss``, each metric (``accuracy``...), ``val_*``
and ``lr``.  A callback sees ``trainer.model``, ``trainer.optimizer``,
``trainer.history``, ``trainer.epoch``, ``trainer.global_step`` and sets
``trainer.stop_training = True`` to stop after the current batch.

Callbacks run in the order given, stably sorted by their ``order`` attribute
(default 0): learning-rate schedules (-10) first, ``ModelCheckpoint`` (100)
last, so that a checkpoint holds the state after every other callback ran.
A callback with state worth resuming defines ``state_dict()`` /
``load_state_dict()``; checkpoints store it.
"""
import csv
import math
import os
import pathlib
import warnings


class Callback:
    """Base class: every hook is a no-op."""

    order = 0

    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_batch_end(self, trainer, step, logs):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=f)``."""

    def __init__(self, on_train_begin=None, on_epoch_begin=None, on_batch_end=None,
                 on_epoch_end=None, on_train_end=None):
        for name, fn in (("on_train_begin", on_train_begin), ("on_epoch_begin", on_epoch_begin),
                         ("on_batch_end", on_batch_end), ("on_epoch_end", on_epoch_end),
                         ("on_train_end", on_train_end)):
            if fn is not None:
                setattr(self, name, fn)


def _monitor_mode(monitor, mode, who):
    """'min' or 'max' for ``monitor``; 'auto' picks max for accuracy-like names."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    higher = ("acc", "accuracy", "precision", "recall", "f1", "auc")
    return "max" if (name in higher or name.startswith(("top", "f1", "precision", "recall"))
                     or name.endswith("accuracy")) else "min"


class _Monitor:
    """Tracks the best value of a logged quantity."""

    def __init__(self, monitor, mode, min_delta, who):
        self.monitor = monitor
        self.mode = _monitor_mode(monitor, mode, who)
        self.min_delta = abs(float(min_delta))
        self.best = math.inf if self.mode == "min" else -math.inf
        self.who = who
        self._warned = False

    def value(self, logs):
        v = logs.get(self.monitor)
        if v is None:
            if not self._warned:
                warnings.warn(f"{self.who}: the monitored quantity '{self.monitor}' is not in the logs "
                              f"(available: {', '.join(sorted(logs)) or 'none'}); pass monitor= one of "
                              "them (val_* needs a val_loader)", RuntimeWarning, stacklevel=3)
                self._warned = True
            return None
        return float(v)

    def improved(self, v):
        if math.isnan(v):
            return False
        if self.mode == "min":
            return v < self.best - self.min_delta
        return v > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs (Keras' semantics: with ``patience=0`` the first epoch
    without improvement stops).  ``restore_best_weights``: at the end of
    training, put back the weights of the best epoch.  ``baseline``: the
    patience counter restarts only on epochs that also beat it.
    ``start_from_epoch``: epochs before it are not watched (warm-up)."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0, verbose=0):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.patience = int(patience)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.verbose = verbose
        self._m = _Monitor(monitor, mode, min_delta, "EarlyStopping")
        self.mode = self._m.mode
        self.min_delta = self._m.min_delta
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = -1
        self.best_epoch = -1
        self.best_weights = None
        self._m.best = math.inf if self.mode == "min" else -math.inf

    def _beats_baseline(self, v):
        d = self.min_delta
        return v < self.baseline - d if self.mode == "min" else v > self.baseline + d

    @property
    def best(self):
        return self._m.best

    def on_train_begin(self, trainer):
        if trainer.resumed:
            return  # keep the state restored from the checkpoint
        self._reset()

    def on_epoch_end(self, trainer, epoch, logs):
        v = self._m.value(logs)
        if v is None or epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self._m.improved(v):
            self._m.best = v
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = {k: t._data.copy() for k, t in trainer.model.state_dict().items()}
            if self.baseline is None or self._beats_baseline(v):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            if self.verbose:
                print(f"EarlyStopping: {self.monitor} did not improve for {self.wait} epoch(s); "
                      f"stopping after epoch {epoch + 1} (best {self._m.best:.6g} at epoch "
                      f"{self.best_epoch + 1})")

    def on_train_end(self, trainer):
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)
            if self.verbose:
                print(f"EarlyStopping: restored the weights of epoch {self.best_epoch + 1}")

    def state_dict(self):
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self._m.best,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self._m.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        bw = state.get("best_weights")
        self.best_weights = None if bw is None else {k: getattr(v, "_data", v) for k, v in bw.items()}


class CSVLogger(Callback):
    """Write one CSV row per epoch (``epoch`` then the logged values) to
    ``filename``, flushed every epoch.  Epochs are numbered from 1 as the
    progress lines show them (epoch 1 is the first), not from 0 as the
    callbacks' ``epoch`` argument.  ``append``: keep an existing file's
    rows.  When training resumes from a checkpoint the file is rewritten from
    the restored history, so it never holds an epoch twice."""

    rank_zero_only = True  # under DDP only rank 0 writes the file

    def __init__(self, filename, separator=",", append=False):
        self.filename = pathlib.Path(filename)
        self.separator = separator
        self.append = append
        self._file = None
        self._keys = None

    def on_train_begin(self, trainer):
        self.filename.parent.mkdir(parents=True, exist_ok=True)
        self._keys = None
        if trainer.resumed:
            self._file = open(self.filename, "w", newline="")
            h = trainer.history
            if h.epoch:
                self._keys = list(h.history)
                self._writer().writerow(["epoch"] + self._keys)
                for i, e in enumerate(h.epoch):
                    self._writer().writerow([e + 1] + [h.history[k][i] for k in self._keys])
                self._file.flush()
            return
        if self.append and self.filename.is_file() and self.filename.stat().st_size > 0:
            with open(self.filename, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self._keys = header[1:] if header else None
            self._file = open(self.filename, "a", newline="")
        else:
            self._file = open(self.filename, "w", newline="")

    def _writer(self):
        return csv.writer(self._file, delimiter=self.separator)

    def on_epoch_end(self, trainer, epoch, logs):
        if self._keys is None:
            self._keys = list(logs)
            self._writer().writerow(["epoch"] + self._keys)
        self._writer().writerow([epoch + 1] + [logs.get(k, "") for k in self._keys])
        self._file.flush()
        os.fsync(self._file.fileno())

    def on_train_end(self, trainer):
        if self._file is not None:
            self._file.close()
            self._file = None


class LearningRateScheduler(Callback):
    """Drive the learning rate during ``fit``.

    ``schedule`` is a ``dalam.optim.lr_scheduler`` object (stepped after
    every epoch, or after every batch with ``interval='batch'``;
    ``ReduceLROnPlateau`` is stepped with the epoch's ``monitor`` value), or a
    function ``epoch -> lr`` (Keras style; ``epoch -> lr`` or
    ``(epoch, lr) -> lr``) applied at the start of each epoch to every
    parameter group."""

    order = -10

    def __init__(self, schedule, interval="epoch", monitor="val_loss", verbose=0):
        if interval not in ("epoch", "batch"):
            raise ValueError(f"LearningRateScheduler: interval must be 'epoch' or 'batch', got {interval!r}")
        self.interval = interval
        self.monitor = monitor
        self.verbose = verbose
        self.scheduler = None
        self.fn = None
        if hasattr(schedule, "step") and hasattr(schedule, "optimizer"):
            self.scheduler = schedule
        elif callable(schedule):
            if interval != "epoch":
                raise ValueError("LearningRateScheduler: a function schedule (epoch -> lr) runs per "
                                 "epoch; use a dalam.optim.lr_scheduler for interval='batch'")
            self.fn = schedule
        else:
            raise TypeError("LearningRateScheduler: schedule must be a dalam.optim.lr_scheduler object or "
                            f"a function epoch -> lr, got {type(schedule).__name__}")
        self._plateau = type(schedule).__name__ == "ReduceLROnPlateau"
        if self._plateau and interval != "epoch":
            raise ValueError("LearningRateScheduler: ReduceLROnPlateau steps once per epoch "
                             "(interval='epoch')")

    def on_train_begin(self, trainer):
        if self.scheduler is not None and self.scheduler.optimizer is not trainer.optimizer:
            raise ValueError("LearningRateScheduler: the scheduler was built on a different optimizer "
                             "than the one given to fit")

    def on_epoch_begin(self, trainer, epoch):
        if self.fn is None:
            return
        try:
            lr = self.fn(epoch, trainer.optimizer.param_groups[0]["lr"])
        except TypeError:
            lr = self.fn(epoch)
        lr = float(lr)
        if not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: the schedule returned lr={lr} for epoch {epoch}")
        for g in trainer.optimizer.param_groups:
            g["lr"] = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate set to {lr:.6g}")

    def on_batch_end(self, trainer, step, logs):
        if self.scheduler is not None and self.interval == "batch":
            self.scheduler.step()

    def on_epoch_end(self, trainer, epoch, logs):
        if self.scheduler is None or self.interval != "epoch":
            return
        if self._plateau:
            v = logs.get(self.monitor)
            if v is None:
                raise KeyError(f"LearningRateScheduler(ReduceLROnPlateau): '{self.monitor}' is not in "
                               f"the epoch logs {sorted(logs)}; pass monitor=")
            self.scheduler.step(v)
        else:
            self.scheduler.step()

    def state_dict(self):
        return {"scheduler": self.scheduler.state_dict()} if self.scheduler is not None else {}

    def load_state_dict(self, state):
        if self.scheduler is not None and "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite."""

    def on_batch_end(self, trainer, step, logs):
        v = logs.get("loss")
        if v is not None and not math.isfinite(v):
            print(f"TerminateOnNaN: loss is {v} at step {step}; stopping")
            trainer.stop_training = True
