"""Finite-difference gradient check in float64.

Compares the analytic vector-Jacobian product of ``fn`` for a random
cotangent against central differences, element by element for every input
that requires grad, and reports the worst element when they disagree.
"""
import numpy as np


class GradcheckError(AssertionError):
    pass


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    from ..tensor import Tensor
    from .engine import run_backward
    from . import grad_mode
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise GradcheckError(
                f"gradcheck: input {i} is {t.dtype}; finite differences need float64 inputs "
                "(use .double()).")
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise GradcheckError("gradcheck: no input requires grad")

    def run():
        out = fn(*inputs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]

    rng = np.random.default_rng(seed)
    outs = run()
    cots = [rng.standard_normal(o.shape) for o in outs]

    def scalar():
        with grad_mode.no_grad():
            os_ = run()
        return sum(float((o._data.astype(np.float64) * c).sum()) for o, c in zip(os_, cots))

    # analytic
    roots = [o for o in outs if o.requires_grad]
    rcots = [c.astype(o.dtype) for o, c in zip(outs, cots) if o.requires_grad]
    analytic = {}
    if roots:
        tins = [inputs[i] for i in diff]
        got = run_backward(roots, rcots, inputs=tins, allow_unused=True, accumulate=False)
        for i, g in zip(diff, got):
            analytic[i] = np.zeros(inputs[i].shape) if g is None else g._data
    else:
        for i in diff:
            analytic[i] = np.zeros(inputs[i].shape)

    worst = (0.0, None)
    for i in diff:
        x = inputs[i]._data
        num = np.zeros(x.shape)
        flat = x.reshape(-1)
        if x.size and not np.shares_memory(flat, x):
            raise GradcheckError("gradcheck: inputs must be contiguous")
        for k in range(flat.size):
            old = flat[k]
            flat[k] = old + eps
            fp = scalar()
            flat[k] = old - eps
            fm = scalar()
            flat[k] = old
            num.reshape(-1)[k] = (fp - fm) / (2 * eps)
        a = analytic[i]
        err = np.abs(a - num)
        bad = err > atol + rtol * np.abs(num)
        if bad.any():
            k = int(np.argmax(np.where(bad, err, -1)))
            idx = np.unravel_index(k, x.shape) if x.ndim else ()
            msg = (f"gradcheck failed for input {i} (shape {x.shape}) at element {tuple(int(j) for j in idx)}: "
                   f"analytic {a.reshape(-1)[k]:.10g} vs numerical {num.reshape(-1)[k]:.10g} "
                   f"(abs error {err.reshape(-1)[k]:.3g}; {int(bad.sum())} of {x.size} elements off)")
            if raise_exception:
                raise GradcheckError(msg)
            return False
        if err.size and err.max() > worst[0]:
            worst = (float(err.max()), i)
    return True
