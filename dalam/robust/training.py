"""Adversarial training (Madry et al. 2018): minimise the loss on the
worst-case inputs that an attack (PGD by default) finds inside the eps ball,
instead of on the clean inputs.  ``clean_weight`` mixes in the clean loss
(Goodfellow et al. 2015 used 0.5); 0 is Madry's pure min-max.

Three ways in: ``adversarial_step`` (one batch, for your own loop),
``adversarial_training`` (a whole loop over arrays or a loader) and
``AdversarialLoader`` (wraps a loader so that ``dalam.fit`` trains on
adversarial batches; ``fit``'s callbacks cannot replace a batch, a loader can)."""
import time

import numpy as np

from .. import backend
from ..ops.loss import cross_entropy
from ..tensor import Tensor
from .attacks import fgsm, pgd


def adversarial_examples(model, x, y, eps, attack="pgd", **attack_kwargs):
    """The adversarial batch the training step fits (numpy arrays in and out)."""
    if attack == "pgd":
        return pgd(model, x, y, eps, **attack_kwargs)
    if attack == "fgsm":
        return fgsm(model, x, y, eps, **attack_kwargs)
    if callable(attack):
        return attack(model, x, y, eps, **attack_kwargs)
    raise ValueError(f"adversarial training: unknown attack {attack!r}; use 'pgd', 'fgsm' or a callable")


def adversarial_step(model, optimizer, x, y, eps, *, attack="pgd", clean_weight=0.0, loss_fn=None,
                     **attack_kwargs):
    """One optimiser step on an adversarial batch; returns floats: ``loss``
    and ``adv_accuracy`` (accuracy on the adversarial inputs, before the step)."""
    xa = x._data if isinstance(x, Tensor) else np.asarray(x)
    ya = (y._data if isinstance(y, Tensor) else np.asarray(y)).astype(np.int64)
    x_adv = adversarial_examples(model, xa, ya, eps, attack, **attack_kwargs)
    loss_fn = loss_fn or cross_entropy
    yt = Tensor._make(ya, False, None)
    out = model(Tensor._make(x_adv, False, None))
    loss = loss_fn(out, yt)
    if clean_weight:
        loss = loss * (1.0 - clean_weight) + loss_fn(model(Tensor._make(xa, False, None)), yt) * clean_weight
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"loss": float(loss.item()), "adv_accuracy": float((out._data.argmax(1) == ya).mean())}


def _batches(data, batch_size, rng):
    if isinstance(data, tuple) and len(data) == 2:
        x, y = (d._data if isinstance(d, Tensor) else np.asarray(d) for d in data)
        perm = rng.permutation(len(x))
        for i in range(0, len(x), batch_size):
            idx = perm[i:i + batch_size]
            yield x[idx], y[idx]
    else:  # any iterable of (x, y) batches, e.g. a DataLoader
        yield from data


def adversarial_training(model, optimizer, data, *, epochs=1, eps=0.3, attack="pgd", batch_size=128,
                         clean_weight=0.0, eps_warmup=0, scheduler=None, transform=None,
                         on_epoch_end=None, seed=None, log_every=0, **attack_kwargs):
    """Train ``model`` adversarially for ``epochs`` passes over ``data``:
    ``(x, y)`` arrays (shuffled, batches of ``batch_size``) or an iterable of
    batches.  ``attack_kwargs`` go to the attack (PGD: ``norm``, ``steps``,
    ``step_size``, ``random_start``, ``clip``).  ``eps_warmup`` steps ramp eps
    linearly from 0 (helps at large eps), ``scheduler.step()`` runs per
    batch if given, ``transform(xb, rng)`` augments a batch,
    ``on_epoch_end(epoch, logs)`` may return True to stop.  The model is in
    train mode for the updates and back in its own mode at the end.  Returns
    a list of per-epoch logs (mean loss and adversarial accuracy, seconds)."""
    rng = np.random.default_rng(seed) if seed is not None else backend.rng()
    was_training = model.training
    model.train()
    history, step = [], 0
    try:
        for epoch in range(1, epochs + 1):
            t0, tot_loss, tot_acc, n = time.time(), 0.0, 0.0, 0
            for xb, yb in _batches(data, batch_size, rng):
                xb = xb._data if isinstance(xb, Tensor) else np.asarray(xb)
                if transform is not None:
                    xb = transform(xb, rng)
                e = eps * min(1.0, (step + 1) / eps_warmup) if eps_warmup else eps
                logs = adversarial_step(model, optimizer, xb, yb, e, attack=attack,
                                        clean_weight=clean_weight, **attack_kwargs)
                if scheduler is not None:
                    scheduler.step()
                step += 1
                tot_loss += logs["loss"] * len(xb)
                tot_acc += logs["adv_accuracy"] * len(xb)
                n += len(xb)
                if log_every and step % log_every == 0:
                    print(f"  step {step}: loss {logs['loss']:.4f} adv acc {logs['adv_accuracy']:.3f} "
                          f"eps {e:.3f}", flush=True)
            logs = {"epoch": epoch, "loss": tot_loss / max(n, 1), "adv_accuracy": tot_acc / max(n, 1),
                    "seconds": time.time() - t0}
            history.append(logs)
            if on_epoch_end is not None and on_epoch_end(epoch, logs):
                break
    finally:
        model.train(was_training)
    return history


class AdversarialLoader:
    """Wraps a loader of ``(x, y)`` batches so that it yields adversarial
    batches ``(attack(model, x, y), y)`` crafted against ``model`` as it is at
    that moment: adversarial training with any loop, ``dalam.fit`` included::

        fit(model, AdversarialLoader(train_loader, model, eps=0.1, steps=7), loss_fn, opt)

    ``include_clean=True`` yields the clean and the adversarial halves
    together (Goodfellow et al.'s 50/50 mix).  Length, ``sampler``,
    ``generator`` and other attributes are the wrapped loader's (so ``fit``'s
    exact resume still works: the attack's random start draws from dalam's
    global generator, which checkpoints save)."""

    def __init__(self, loader, model, eps, attack="pgd", include_clean=False, **attack_kwargs):
        self.loader, self.model, self.eps = loader, model, eps
        self.attack, self.include_clean, self.attack_kwargs = attack, include_clean, attack_kwargs
        if not (attack in ("pgd", "fgsm") or callable(attack)):
            raise ValueError(f"AdversarialLoader: unknown attack {attack!r}; use 'pgd', 'fgsm' or a callable")

    def __len__(self):
        return len(self.loader)

    def __getattr__(self, name):
        if name == "loader":
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __iter__(self):
        for batch in self.loader:
            if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
                raise ValueError("AdversarialLoader: the wrapped loader must yield (inputs, targets) pairs, "
                                 f"got {type(batch).__name__}")
            x, y = batch
            xa = x._data if isinstance(x, Tensor) else np.asarray(x)
            ya = (y._data if isinstance(y, Tensor) else np.asarray(y)).astype(np.int64)
            adv = adversarial_examples(self.model, xa, ya, self.eps, self.attack, **self.attack_kwargs)
            if self.include_clean:
                adv, ya = np.concatenate([xa, adv]), np.concatenate([ya, ya])
            yield Tensor._make(adv, False, None), Tensor._make(ya, False, None)
