"""Accuracy under attack: how many inputs the model still classifies
correctly when an adversary may move each one within an eps ball."""
import numpy as np

from ..autograd import grad_mode
from ..explain._grad import as_array, logits_of, model_state
from ..tensor import Tensor
from .attacks import fgsm, pgd

ATTACKS = {"fgsm": fgsm, "pgd": pgd}


def _predict(model, x):
    with grad_mode.no_grad():
        return logits_of(model(Tensor._make(x, False, None)), "robust_accuracy")._data.argmax(1)


def robust_accuracy(model, x, y, attack="pgd", eps=0.3, batch_size=256, **attack_kwargs):
    """Clean and robust accuracy of ``model`` on (x, y) under ``attack``
    ('fgsm', 'pgd' or a callable ``attack(model, x, y, eps, **kw)``).

    An input counts as robust when the model is right on it *and* on its
    adversarial version (the clean point lies in its own eps ball, so it is
    one the adversary may pick).  Returns a dict with ``clean_accuracy``,
    ``robust_accuracy`` (fractions), ``n`` and the attack settings.  The model
    is evaluated in eval mode and left in the mode it had."""
    caller = "robust_accuracy"
    atk = ATTACKS.get(attack) if isinstance(attack, str) else attack
    if atk is None:
        raise ValueError(f"{caller}: unknown attack {attack!r}; use one of {sorted(ATTACKS)} or a callable")
    xa = as_array(x, "x", caller)
    ya = (y._data if isinstance(y, Tensor) else np.asarray(y)).astype(np.int64).reshape(-1)
    if len(ya) != len(xa):
        raise ValueError(f"{caller}: {len(xa)} inputs but {len(ya)} labels")
    clean = robust = 0
    for i in range(0, len(xa), batch_size):
        xb, yb = xa[i:i + batch_size], ya[i:i + batch_size]
        with model_state(model, train=False, freeze=False):
            ok = _predict(model, xb) == yb
        xadv = atk(model, xb, yb, eps, **attack_kwargs)
        with model_state(model, train=False, freeze=False):
            ok_adv = _predict(model, np.asarray(xadv._data if isinstance(xadv, Tensor) else xadv)) == yb
        clean += int(ok.sum())
        robust += int((ok & ok_adv).sum())
    n = len(xa)
    name = attack if isinstance(attack, str) else getattr(attack, "__name__", "attack")
    return {"attack": name, "eps": float(eps), "n": n, "clean_accuracy": clean / max(n, 1),
            "robust_accuracy": robust / max(n, 1), **{k: v for k, v in attack_kwargs.items()
                                                        if isinstance(v, (int, float, str))}}
