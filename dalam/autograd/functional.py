"""``dalam.autograd.functional``: PyTorch's higher-level derivative functions.

``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp`` and ``hvp`` take a function
of Tensors and its inputs (a Tensor or a tuple of Tensors) and return what
``torch.autograd.functional`` returns, with the same shapes and tuple nesting.
They are built on reverse mode (``autograd.grad``): ``jacobian`` runs one
backward per output element (``vectorize=True`` and ``strategy="forward-mode"``
are accepted and give the same numbers), ``jvp`` uses the double-vjp trick
(falling back to Jacobian rows for ops without double backward), and ``hvp``
equals ``vhp`` because a Hessian is symmetric. ``create_graph=True`` keeps the
results differentiable; ``strict=True`` raises when an output does not depend
on an input (otherwise its derivative is zeros, as in PyTorch).
"""
from ..backend import xp
from . import grad_mode


def _tensor():
    from ..tensor import Tensor
    return Tensor


def _as_tuple(x, name, fn_name):
    T = _tensor()
    if isinstance(x, T):
        return False, (x,)
    if isinstance(x, (tuple, list)):
        for i, el in enumerate(x):
            if not isinstance(el, T):
                raise TypeError(f"The {name} given to {fn_name} must be either a Tensor or a tuple "
                                f"of Tensors but the value at index {i} has type {type(el).__name__}.")
        return True, tuple(x)
    raise TypeError(f"The {name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                    f"but the given {name} has type {type(x).__name__}.")


def _prep(inputs, create_graph):
    """Inputs as graph leaves (or, with create_graph, graph-connected copies)."""
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(x.clone())
        else:
            y = x.detach()
            if y.dtype.kind == "f":
                y.requires_grad_(True)
            out.append(y)
    return tuple(out)


def _post(t, create_graph):
    if t is None:
        return None
    if isinstance(t, tuple):
        return tuple(_post(x, create_graph) for x in t)
    return t if create_graph else t.detach()


def _call(func, inputs, is_tuple, fn_name):
    with grad_mode.enable_grad():
        out = func(*inputs)
    out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", fn_name)
    return out_tuple, outs


def _grads(outputs, inputs, grad_outputs, create_graph, strict, fn_name, what="input"):
    from . import grad as _grad
    T = _tensor()
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not live:
        res = [None] * len(inputs)
    else:
        res = list(_grad([o for o, _ in live], list(inputs), grad_outputs=[g for _, g in live],
                         create_graph=create_graph, retain_graph=True, allow_unused=True))
    out = []
    for i, (g, x) in enumerate(zip(res, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"The output of the user-provided function is independent of {what} {i}. This "
                    f"is not allowed in strict mode.")
            g = T._make(xp.zeros(x.shape, x.dtype), False, None)
        out.append(g)
    return tuple(out)


def _fill_v(v, outputs, fn_name, vname="v", against="outputs"):
    T = _tensor()
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(
                f"The vector {vname} can only be None if the user-provided function returns a "
                "single Tensor with a single element.")
        return (T._make(xp.ones(outputs[0].shape, outputs[0].dtype), False, None),)
    _, vs = _as_tuple(v, vname, fn_name)
    if len(vs) != len(outputs):
        raise RuntimeError(f"{fn_name}: {vname} has {len(vs)} elements but the {against} have "
                           f"{len(outputs)}")
    for i, (a, b) in enumerate(zip(vs, outputs)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(
                f"Mismatch in shape: entry {i} in `{vname}` has shape {tuple(a.shape)} while the "
                f"{against[:-1]} it is paired with has shape {tuple(b.shape)}.")
    return vs


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T J)``: the vector-Jacobian product."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
    ins = _prep(ins, create_graph)
    out_tuple, outs = _call(func, ins, in_tuple, "vjp")
    vs = _fill_v(v, outs, "vjp")
    res = _grads(outs, ins, vs, create_graph, strict, "vjp")
    outs = _post(outs, create_graph)
    return (outs if out_tuple else outs[0]), _post(res if in_tuple else res[0], create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), J v)``: the Jacobian-vector product."""
    T = _tensor()
    in_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
    ins = _prep(ins, create_graph)
    vs = _fill_v(v, ins, "jvp", against="inputs")
    out_tuple, outs = _call(func, ins, in_tuple, "jvp")
    try:  # double-vjp trick: J v = d/du (u^T J) . v
        us = tuple(T._make(xp.zeros(o.shape, o.dtype), False, None).requires_grad_(True)
                   if o.dtype.kind == "f" else None for o in outs)
        with grad_mode.enable_grad():
            g = _grads(outs, ins, us, True, strict, "jvp")
        res = _grads(g, us, vs, create_graph, strict, "jvp", what="input")
    except RuntimeError as e:
        if "double backward" not in str(e):
            raise
        jac = _jacobian_rows(outs, ins, create_graph, strict)
        res = tuple(sum((jac[i][j].reshape(o.numel(), -1) @ vs[j].reshape(-1)).reshape(o.shape)
                        for j in range(len(ins))) for i, o in enumerate(outs))
    outs = _post(outs, create_graph)
    return (outs if out_tuple else outs[0]), _post(res if out_tuple else res[0], create_graph)


def _jacobian_rows(outs, ins, create_graph, strict):
    """jac[i][j]: d outs[i] / d ins[j], shape outs[i].shape + ins[j].shape."""
    from ..ops.shape import stack
    T = _tensor()
    jac = []
    for i, o in enumerate(outs):
        rows = [[] for _ in ins]
        n = o.numel()
        for k in range(n):
            e = xp.zeros(n, o.dtype)
            e[k] = 1
            g = _grads([o], ins, [T._make(e.reshape(o.shape), False, None)], create_graph, strict,
                       "jacobian")
            for j, gj in enumerate(g):
                rows[j].append(gj)
        per_in = []
        for j, x in enumerate(ins):
            if n:
                r = stack(rows[j], 0) if create_graph else T._make(
                    xp.stack([t._data for t in rows[j]]), False, None)
            else:
                r = T._make(xp.zeros((0,) + tuple(x.shape), x.dtype), False, None)
            per_in.append(r.reshape(tuple(o.shape) + tuple(x.shape)))
        jac.append(tuple(per_in))
    return jac


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: a Tensor of shape
    ``output.shape + input.shape``, or tuples of them (outer: outputs, inner:
    inputs) as in PyTorch."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("torch.autograd.functional.jacobian: `strategy=\"forward-mode\"` "
                                  "needs `vectorize=True`, as in PyTorch")
    in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
    ins = _prep(ins, create_graph)
    out_tuple, outs = _call(func, ins, in_tuple, "jacobian")
    jac = _jacobian_rows(outs, ins, create_graph, strict)
    jac = [_post(tuple(r), create_graph) for r in jac]
    if out_tuple:
        return tuple(r if in_tuple else r[0] for r in jac)
    return jac[0] if in_tuple else jac[0][0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: shape ``input.shape + input.shape``, or
    a tuple of tuples for several inputs."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def jac_func(*xs):
        with grad_mode.enable_grad():
            out = func(*xs)
        ot, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if ot or outs[0].numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if outs[0].numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        g = _grads([outs[0].reshape(())], xs, [_tensor()._make(xp.ones((), outs[0].dtype), False, None)],
                   True, strict, "hessian")
        return g
    res = jacobian(jac_func, tuple(ins), create_graph=create_graph, strict=strict)
    if in_tuple:
        return res
    return res[0][0] if isinstance(res[0], tuple) else res[0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T H)`` for a scalar ``func``."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "vhp")
    ins = _prep(ins, create_graph)
    vs = _fill_v(v, ins, "vhp", against="inputs")
    out_tuple, outs = _call(func, ins, in_tuple, "vhp")
    if out_tuple or outs[0].numel() != 1:
        raise RuntimeError("The function given to vhp should return a single Tensor with a single "
                           "element")
    T = _tensor()
    with grad_mode.enable_grad():
        g = _grads(outs, ins, [T._make(xp.ones(outs[0].shape, outs[0].dtype), False, None)], True,
                   strict, "vhp")
    res = _grads(g, ins, vs, create_graph, strict, "vhp")
    return _post(outs[0], create_graph), _post(res if in_tuple else res[0], create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), H v)`` for a scalar ``func`` (equal to ``vhp``: H is symmetric)."""
    return vhp(func, inputs, v, create_graph, strict)
