"""``Trainer`` and ``fit``: the training loop most models need, written once.

Per batch: ``optimizer.zero_grad()``, ``out = model(x)``, ``loss =
loss_fn(out, y)``, ``loss.backward()``, optional gradient clipping,
``optimizer.step()``; the loss and the metrics are accumulated (sample-
weighted) and callbacks run.  Per epoch: the means, a validation pass under
``no_grad`` in eval mode, an entry in the ``History``, callbacks.  Batches
are ``(inputs, targets)`` pairs (inputs may be a tuple: ``model(*inputs)``);
NumPy arrays are wrapped as tensors.

Resume: ``fit(..., resume=path)`` loads a checkpoint written by
``ModelCheckpoint`` (see ``checkpoint.py``) and continues at the exact batch,
with the same random streams, so the result is bit-identical to a run that
was never interrupted.
"""
import copy
import pathlib

import numpy as np

from ..autograd import grad_mode
from ..tensor import Tensor
from ..metrics import get_metric
from . import _dist
from . import checkpoint as _ckpt
from .callbacks import Callback, LearningRateScheduler
from .history import History
from .progress import Progress


def _as_tensor(v):
    if isinstance(v, Tensor):
        return v
    if isinstance(v, np.ndarray):
        return Tensor._make(v, False, None)
    if isinstance(v, (list, tuple)):
        return type(v)(_as_tensor(x) for x in v)
    return v


def _split(batch):
    if isinstance(batch, (list, tuple)):
        if len(batch) == 2:
            return _as_tensor(batch[0]), _as_tensor(batch[1])
        if len(batch) > 2:
            return tuple(_as_tensor(x) for x in batch[:-1]), _as_tensor(batch[-1])
    raise TypeError("fit: each batch must be a pair (inputs, targets) (or (input1, input2, ..., targets)), "
                    f"got {type(batch).__name__}"
                    + (f" of length {len(batch)}" if isinstance(batch, (list, tuple)) else "")
                    + "; wrap the data in a TensorDataset(x, y)")


def _count(y):
    shape = getattr(y, "shape", None)
    return int(shape[0]) if shape else 1


def _data(t):
    if isinstance(t, Tensor):
        return t._data
    if isinstance(t, (list, tuple)) and t:
        return _data(t[0])  # a model with several outputs: metrics look at the first
    return t


class Trainer:
    """Holds what training needs; ``fit`` runs it.

    ``metrics``: names (``"accuracy"``, ``"f1"``, ``"top5_accuracy"``...),
    ``dalam.metrics.Metric`` objects or functions ``fn(output, target)``.
    ``callbacks``: ``Callback`` objects.  ``scheduler``: a
    ``dalam.optim.lr_scheduler`` object, stepped per ``scheduler_interval``
    (``'epoch'`` or ``'batch'``) by a ``LearningRateScheduler`` callback.
    ``max_grad_norm``: clip the gradients' global L2 norm before each step.
    ``verbose``: 0 silent, 1 (or ``'auto'``) a progress bar when stderr is
    a terminal, 2 one line per epoch.

    Attributes callbacks use: ``model``, ``optimizer``, ``history``,
    ``stop_training``, ``epoch`` (0-based, the current one), ``epochs``,
    ``global_step`` (optimiser steps so far), ``batch_in_epoch``, ``logs``
    (the last epoch's), ``resumed`` (this fit continued a checkpoint).
    """

    def __init__(self, model, optimizer, loss_fn, metrics=None, callbacks=None, verbose="auto",
                 scheduler=None, scheduler_interval="epoch", max_grad_norm=None):
        if not callable(loss_fn):
            raise TypeError(f"fit: loss_fn must be callable (e.g. nn.CrossEntropyLoss()), got "
                            f"{type(loss_fn).__name__}")
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
            raise TypeError(f"fit: optimizer must be a dalam.optim optimizer, got {type(optimizer).__name__}")
        if not callable(model):
            raise TypeError(f"fit: model must be a callable Module, got {type(model).__name__}")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        self._metric_specs = list(metrics or [])
        self.metrics = [get_metric(copy.deepcopy(m)) for m in self._metric_specs]
        self.val_metrics = [get_metric(copy.deepcopy(m)) for m in self._metric_specs]
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks must be dalam.train.Callback objects, got "
                                f"{type(cb).__name__}")
        if scheduler is not None:
            callbacks.append(LearningRateScheduler(scheduler, interval=scheduler_interval))
        self.callbacks = sorted(callbacks, key=lambda c: getattr(c, "order", 0))
        self.verbose = verbose
        self.max_grad_norm = max_grad_norm
        self.history = History()
        self.stop_training = False
        self.epoch = 0
        self.epochs = 0
        self.global_step = 0
        self.batch_in_epoch = 0
        self.logs = {}
        self.resumed = False
        self.train_loader = None
        self.val_loader = None
        self._epoch_done = False
        self._n_batches = None
        self._epoch_rng = None
        self._loss_sum = 0.0
        self._seen = 0

    # ---------------------------------------------------------------- callbacks
    def _call(self, hook, *args):
        main = _dist.is_main()
        for cb in self.callbacks:
            if main or not getattr(cb, "rank_zero_only", False):
                getattr(cb, hook)(self, *args)

    def _lr(self):
        return float(self.optimizer.param_groups[0]["lr"])

    # ---------------------------------------------------------------- fit
    def fit(self, train_loader, epochs=1, val_loader=None, resume=None, initial_epoch=0):
        """Train for ``epochs`` epochs in total (a resumed run continues up to
        the same total); returns the ``History``."""
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
        try:
            n_batches = len(train_loader)
        except TypeError:
            n_batches = None
        if n_batches == 0:
            raise ValueError("fit: train_loader yields no batches (empty dataset, or drop_last with a "
                             "dataset smaller than batch_size)")
        self.train_loader, self.val_loader, self.epochs = train_loader, val_loader, epochs
        self._n_batches = n_batches
        self.stop_training = False
        self.resumed = False
        self.epoch, skip, pending = int(initial_epoch), 0, None
        folder = self._resolve_resume(resume)
        if folder is not None:
            pending = self.load_checkpoint(folder)
            self.epoch, skip = pending["epoch"], pending["batch"]
            self.resumed = True
            if pending.get("stopped"):
                self.stop_training = True
        self._call("on_train_begin")
        while self.epoch < epochs and not self.stop_training:
            self._train_epoch(train_loader, n_batches, skip, pending if skip else None)
            skip, pending = 0, None
            if self.stop_training:
                break
            self.epoch += 1
        self._call("on_train_end")
        return self.history

    def _resolve_resume(self, resume):
        if resume is None or resume is False:
            return None
        if resume is True:
            dirs = [cb.directory for cb in self.callbacks if isinstance(cb, _ckpt.ModelCheckpoint)]
            if not dirs:
                raise ValueError("fit(resume=True) looks for checkpoints in a ModelCheckpoint callback's "
                                 "directory, and there is none; pass resume=<checkpoint directory>")
            for d in dirs:
                found = self._choose_checkpoint(d)
                if found is not None:
                    return found
            return None  # nothing saved yet: a fresh start
        found = self._choose_checkpoint(resume)
        if found is None:
            raise FileNotFoundError(f"fit(resume={str(resume)!r}): no checkpoint there (expected a "
                                    "checkpoint folder with progress.json, or a ModelCheckpoint directory "
                                    "with checkpoint.json)")
        return found

    @staticmethod
    def _choose_checkpoint(path):
        """A ModelCheckpoint directory's newest good checkpoint (the pointer's, or
        by scanning, saying why on stderr); never None while one exists."""
        import pathlib
        import sys
        p = pathlib.Path(path)
        if not p.is_dir() or (p / "progress.json").is_file():
            return _ckpt.find_checkpoint(p)
        folder, why = _ckpt.resolve_checkpoint(p, verify=True)
        if folder is None:
            if _ckpt.has_checkpoint_files(p):
                raise RuntimeError(f"resume: {p} holds checkpoint folders but none can be resumed from: "
                                   f"{why}. Move them away (or delete the directory) to start again")
            return None
        if why != f"named by {_ckpt.POINTER}" and _dist.is_main():
            print(f"resume: using {folder} ({why})", file=sys.stderr)
        return folder

    def _train_epoch(self, loader, n_batches, skip, pending):
        model = self.model
        self._epoch_done = False
        if pending is not None:  # continue a saved epoch: same shuffle, skip what was done
            _ckpt.restore_rng(pending["epoch_start_rng"], loader, self.val_loader)
            self._epoch_rng = pending["epoch_start_rng"]
        else:
            self._epoch_rng = _ckpt.capture_rng(loader, self.val_loader)
            self._loss_sum, self._seen = 0.0, 0
            for m in self.metrics:
                m.reset()
        self.batch_in_epoch = skip
        model.train()
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):  # DistributedSampler: a new shuffle per epoch
            sampler.set_epoch(self.epoch)
        self._call("on_epoch_begin", self.epoch)
        it = iter(loader)
        for _ in range(skip):
            if next(it, None) is None:
                break
        if pending is not None:
            _ckpt.restore_rng(pending["rng"], loader, self.val_loader)
        bar = Progress(_dist.verbosity(self.verbose), self.epoch, self.epochs, n_batches, initial=skip)
        try:
            self._run_batches(it, bar)
        except BaseException:
            bar.abort()  # leave the terminal clean when training is interrupted
            raise
        loss_sum, seen = _dist.sum_numbers(self._loss_sum, self._seen)  # over ranks under DDP
        logs = {"loss": loss_sum / seen if seen else float("nan")}
        for m in _dist.reduced_metrics(self.metrics):
            v = m.compute()
            if isinstance(v, (float, int)):
                logs[m.name] = float(v)
        if self.val_loader is not None:
            logs.update(self.evaluate(self.val_loader, prefix="val_"))
        logs["lr"] = self._lr()
        self.history.append(self.epoch, logs)
        self.logs = logs
        self._epoch_done = True
        bar.close(logs)
        self._call("on_epoch_end", self.epoch, logs)

    def _run_batches(self, it, bar):
        model, opt, loss_fn = self.model, self.optimizer, self.loss_fn
        clip = self.max_grad_norm
        if clip is not None:
            from ..nn.utils import clip_grad_norm_
            params = [p for g in opt.param_groups for p in g["params"]]
        metrics = self.metrics
        sync_stop = _dist.needs_stop_sync(self.callbacks)
        for batch in it:
            x, y = _split(batch)
            opt.zero_grad()
            out = model(*x) if isinstance(x, tuple) else model(x)
            loss = loss_fn(out, y)
            if not isinstance(loss, Tensor) or loss._data.ndim != 0:
                raise ValueError("fit: loss_fn must return a scalar Tensor (e.g. a loss with reduction="
                                 f"'mean'), got {type(loss).__name__}"
                                 + (f" of shape {tuple(loss.shape)}" if isinstance(loss, Tensor) else ""))
            loss.backward()
            if clip is not None:
                clip_grad_norm_(params, clip)
            opt.step()
            lv = float(loss._data)
            n = _count(y)
            self._loss_sum += lv * n
            self._seen += n
            if metrics:
                o, t = _data(out), _data(y)
                for m in metrics:
                    m.update(o, t)
            self.batch_in_epoch += 1
            self.global_step += 1
            batch_logs = {"loss": lv, "lr": self._lr()}
            if bar.bar is not None:
                running = {"loss": self._loss_sum / self._seen}
                for m in metrics:
                    v = m.compute()
                    if isinstance(v, float):
                        running[m.name] = v
                bar.update(running)
            self._call("on_batch_end", self.global_step, batch_logs)
            if sync_stop:  # one rank's callback stopped: every rank stops at this batch
                self.stop_training = _dist.sum_numbers(float(self.stop_training))[0] > 0
            if self.stop_training:
                break

    # ---------------------------------------------------------------- evaluate
    def evaluate(self, loader, prefix=""):
        """Mean loss and metrics over ``loader`` (eval mode, no graph); a dict
        with keys ``prefix + 'loss'`` etc."""
        metrics = self.val_metrics if prefix else [get_metric(copy.deepcopy(m)) for m in self._metric_specs]
        return _evaluate(self.model, loader, self.loss_fn, metrics, prefix)

    # ---------------------------------------------------------------- checkpoints
    def save_checkpoint(self, path):
        """Write the complete training state to the folder ``path`` (atomic).
        Under DDP every rank calls it; rank 0 writes, with every rank's random states."""
        if _dist.active():
            self._rank_rng = _dist.gather({"rng": _ckpt.capture_rng(self.train_loader, self.val_loader),
                                           "epoch_start_rng": self._epoch_rng})
            if not _dist.is_main():
                return pathlib.Path(path)
        return _ckpt.save_training_checkpoint(self, pathlib.Path(path))

    def _cb_keys(self):
        seen, keys = {}, []
        for cb in self.callbacks:
            name = type(cb).__name__
            keys.append(f"{name}#{seen.get(name, 0)}")
            seen[name] = seen.get(name, 0) + 1
        return keys

    def _training_state(self):
        cbs = {k: cb.state_dict() for k, cb in zip(self._cb_keys(), self.callbacks)
               if hasattr(cb, "state_dict")}
        state = {"optimizer": self.optimizer.state_dict(), "callbacks": cbs}
        if not self._epoch_done:
            state["metrics"] = [m.state_dict() for m in self.metrics]
        return state

    def _progress_state(self):
        done = self._epoch_done
        p = {"format": _ckpt.FORMAT,
             "epoch": self.epoch + 1 if done else self.epoch,
             "batch": 0 if done else self.batch_in_epoch,
             "global_step": self.global_step,
             "epochs": self.epochs,
             "batches_per_epoch": self._n_batches,
             "stopped": bool(self.stop_training),
             "rng": _ckpt.capture_rng(self.train_loader, self.val_loader),
             "history": self.history.state_dict(),
             "logs": self.logs if done else {}}
        if not done:
            p["epoch_start_rng"] = self._epoch_rng
            p["loss_sum"] = self._loss_sum
            p["seen"] = self._seen
        if _dist.active() and getattr(self, "_rank_rng", None):
            p["ranks"] = self._rank_rng
        return p

    def load_checkpoint(self, path):
        """Restore model, optimizer, callbacks, metrics, history and counters
        from a checkpoint folder (or a ModelCheckpoint directory); returns its
        progress dict.  The random states are applied by ``fit``."""
        from ..io import load
        folder = self._choose_checkpoint(path)
        if folder is None:
            raise FileNotFoundError(f"load_checkpoint: no checkpoint at {path}")
        progress = _dist.this_ranks_progress(_ckpt.read_progress(folder))
        saved_n, n = progress.get("batches_per_epoch"), self._n_batches
        if progress["batch"] and n is not None and saved_n is not None and saved_n != n:
            raise ValueError(f"fit(resume=...): {folder} was saved mid-epoch with {saved_n} batches per "
                             f"epoch, but train_loader has {n}; resume with the same dataset and "
                             "batch_size (or from an end-of-epoch checkpoint)")
        try:
            _dist.unwrap(self.model).load_state_dict(load(folder / "model.safetensors"))
        except RuntimeError as e:
            raise RuntimeError(f"resume from {folder}: the model does not match the checkpoint:\n{e}") from None
        state = load(folder / "training_state.safetensors")
        self.optimizer.load_state_dict(state["optimizer"])
        for key, cb in zip(self._cb_keys(), self.callbacks):
            if hasattr(cb, "load_state_dict") and key in state.get("callbacks", {}):
                cb.load_state_dict(state["callbacks"][key])
        self.history.load_state_dict(progress["history"])
        self.global_step = int(progress["global_step"])
        self.logs = progress.get("logs", {})
        if progress["batch"]:
            saved = state.get("metrics", [])
            if len(saved) != len(self.metrics):
                raise RuntimeError(f"resume from {folder}: the checkpoint was saved mid-epoch with "
                                   f"{len(saved)} metric(s); this fit has {len(self.metrics)}: pass the "
                                   "same metrics as the original run")
            for m, s in zip(self.metrics, saved):
                m.load_state_dict({k: (v._data if isinstance(v, Tensor) else v) for k, v in s.items()})
            self._loss_sum = float(progress["loss_sum"])
            self._seen = int(progress["seen"])
        else:
            _ckpt.restore_rng(progress["rng"], self.train_loader, self.val_loader)
        return progress


def _evaluate(model, loader, loss_fn, metrics, prefix=""):
    was_training = getattr(model, "training", True)
    model.eval()
    for m in metrics:
        m.reset()
    total, seen = 0.0, 0
    try:
        with grad_mode.no_grad():
            for batch in loader:
                x, y = _split(batch)
                out = model(*x) if isinstance(x, tuple) else model(x)
                n = _count(y)
                if loss_fn is not None:
                    total += float(loss_fn(out, y)._data) * n
                seen += n
                if metrics:
                    o, t = _data(out), _data(y)
                    for m in metrics:
                        m.update(o, t)
    finally:
        model.train(was_training)
    total, seen = _dist.sum_numbers(total, seen)  # over ranks under DDP
    if seen == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    res = {prefix + "loss": total / seen} if loss_fn is not None else {}
    for m in _dist.reduced_metrics(metrics):
        v = m.compute()
        if isinstance(v, (float, int)):
            res[prefix + m.name] = float(v)
    return res


def evaluate(model, loader, loss_fn=None, metrics=("accuracy",)):
    """Loss (when ``loss_fn`` is given) and metrics of ``model`` over
    ``loader``, in eval mode without a graph: ``{'loss': ..., 'accuracy': ...}``.
    The model's train/eval mode is restored afterwards."""
    if metrics is not None and not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    return _evaluate(model, loader, loss_fn, [get_metric(copy.deepcopy(m)) for m in metrics or []])


def fit(model, train_loader, loss_fn, optimizer, epochs=1, val_loader=None, metrics=None,
        callbacks=None, verbose="auto", resume=None, scheduler=None, scheduler_interval="epoch",
        max_grad_norm=None, initial_epoch=0):
    """Train ``model`` on ``train_loader`` for ``epochs`` epochs and return a
    ``History`` (``history.history['loss']``, ``['val_accuracy']``...).

        history = dalam.fit(model, train_loader, nn.CrossEntropyLoss(),
                            dalam.optim.Adam(model.parameters()), epochs=5,
                            val_loader=test_loader, metrics=["accuracy"],
                            callbacks=[ModelCheckpoint("ckpt")], resume=True)

    See ``Trainer`` for the arguments; ``resume``: a checkpoint folder or a
    ModelCheckpoint directory to continue from, or True for the
    ModelCheckpoint callback's directory when it holds a checkpoint."""
    trainer = Trainer(model, optimizer, loss_fn, metrics=metrics, callbacks=callbacks, verbose=verbose,
                      scheduler=scheduler, scheduler_interval=scheduler_interval,
                      max_grad_norm=max_grad_norm)
    return trainer.fit(train_loader, epochs=epochs, val_loader=val_loader, resume=resume,
                       initial_epoch=initial_epoch)
