"""``dalam.func``: the simple cases of ``torch.func``, built on reverse mode.

- ``grad(f, argnums=0, has_aux=False)`` / ``grad_and_value``: the gradient of a
  scalar ``f`` with respect to argument(s) ``argnums``; an argument may be a
  Tensor or a dict/list/tuple of Tensors (e.g. a module's parameters) and the
  gradient has the same structure. Nesting (``grad(grad(f))``) gives higher
  derivatives.
- ``vmap(f, in_dims=0, out_dims=0)``: maps ``f`` over a batch dimension.
- ``jacrev``/``jacfwd``/``hessian``: Jacobians and Hessians of a Tensor function.
- ``functional_call(module, params_and_buffers, args)``: runs a module with the
  given tensors in place of its own (so ``grad``/``vmap`` can differentiate a
  model, e.g. for per-sample gradients).

Limits (differences from torch.func): ``vmap`` runs ``f`` once per batch
element in a Python loop and stacks the results (so it is as slow as a loop,
but data-dependent Python control flow inside ``f`` works); ``in_dims`` and
``out_dims`` are ints, None, or one per argument/output, not nested pytrees;
``randomness`` is accepted and each call draws fresh random numbers (torch's
'different'). ``jacfwd`` computes with reverse mode (same numbers).
``chunk_size`` is accepted and ignored. There is no ``jvp``/``linearize``
forward mode; use ``dalam.autograd.functional.jvp``.
"""
from .autograd import grad_mode
from .autograd import functional as _F

__all__ = ["grad", "grad_and_value", "vmap", "jacrev", "jacfwd", "hessian", "functional_call"]


def _tensor_cls():
    from .tensor import Tensor
    return Tensor


def _flatten(tree):
    """(leaves, rebuild) for a Tensor or a dict/list/tuple of them."""
    T = _tensor_cls()
    if isinstance(tree, T):
        return [tree], lambda xs: xs[0]
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_flatten(tree[k]) for k in keys]
        return _join(parts, lambda vals: dict(zip(keys, vals)))
    if isinstance(tree, (list, tuple)):
        parts = [_flatten(v) for v in tree]
        kind = type(tree)
        return _join(parts, lambda vals: kind(vals) if kind in (list, tuple) else kind(*vals))
    raise TypeError(f"dalam.func: expected a Tensor or a dict/list/tuple of Tensors, got "
                    f"{type(tree).__name__}")


def _join(parts, make):
    leaves, sizes = [], []
    for lv, _ in parts:
        leaves += lv
        sizes.append(len(lv))

    def rebuild(xs):
        vals, i = [], 0
        for (_, rb), n in zip(parts, sizes):
            vals.append(rb(xs[i:i + n]))
            i += n
        return make(vals)
    return leaves, rebuild


def grad_and_value(func, argnums=0, has_aux=False):
    """``grad_and_value(f)(*args)`` -> ``(gradient, f(*args))`` (with ``has_aux``:
    ``((gradient, (value, aux)))`` as torch.func)."""
    def wrapper(*args, **kwargs):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        for n in nums:
            if not -len(args) <= n < len(args):
                raise RuntimeError(f"grad: Got argnums={argnums}, but only {len(args)} positional "
                                   "inputs")
        args = list(args)
        nested = False
        flat_in = []
        rebuilds = []
        for n in nums:
            leaves, rebuild = _flatten(args[n])
            new = []
            for x in leaves:
                if x.requires_grad:  # an outer transform differentiates through us
                    nested = True
                    new.append(x.clone())
                else:
                    new.append(x.detach().requires_grad_(True))
            flat_in.append(new)
            rebuilds.append(rebuild)
            args[n] = rebuild(new)
        with grad_mode.enable_grad():
            out = func(*args, **kwargs)
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise RuntimeError("grad_and_value(f)(*args): output of function f should be a "
                                   "tuple: (output, aux) if has_aux is True")
            out, aux = out
        T = _tensor_cls()
        if not isinstance(out, T):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, "
                               f"got {type(out).__name__}")
        if out.numel() != 1 or out.ndim != 0:
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar "
                               f"Tensor, got tensor with {out.ndim} dims. Maybe you wanted to use "
                               "the vjp or jacrev APIs instead?")
        leaves = [x for group in flat_in for x in group]
        if out.requires_grad:
            from .autograd import grad as _grad
            gs = _grad(out, leaves, create_graph=nested, allow_unused=True)
        else:
            gs = [None] * len(leaves)
        from .creation import zeros_like
        gs = [zeros_like(x) if g is None else (g if nested else g.detach()) for g, x in zip(gs, leaves)]
        res, i = [], 0
        for group, rebuild in zip(flat_in, rebuilds):
            res.append(rebuild(gs[i:i + len(group)]))
            i += len(group)
        g = res[0] if isinstance(argnums, int) else tuple(res)
        value = out if nested else out.detach()
        if has_aux:
            return g, (value, aux)
        return g, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``grad(f)(*args)``: the gradient of scalar ``f`` w.r.t. ``args[argnums]``
    (with ``has_aux``: ``(gradient, aux)``)."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, v = gv(*args, **kwargs)
        if has_aux:
            return g, v[1]
        return g
    return wrapper


def _dims(dims, n, name):
    if dims is None or isinstance(dims, int):
        return [dims] * n
    dims = list(dims)
    if len(dims) != n:
        raise ValueError(f"vmap: {name}={tuple(dims)} has {len(dims)} entries for {n} "
                         f"{'arguments' if name == 'in_dims' else 'outputs'}")
    return dims


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``vmap(f)(x)`` stacks ``f(x[i])`` over the batch dim (see the module
    docstring for the limits)."""
    def wrapper(*args, **kwargs):
        from .ops.shape import stack
        T = _tensor_cls()
        dims = _dims(in_dims, len(args), "in_dims")
        size = None
        for a, d in zip(args, dims):
            if d is None:
                continue
            if not isinstance(a, T):
                raise ValueError(f"vmap: in_dim={d} given for an argument of type "
                                 f"{type(a).__name__}; only Tensors can be mapped (use None)")
            n = a.shape[d]
            if size is not None and n != size:
                raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                                 f"dimension, got sizes {size} and {n}")
            size = n
        if size is None:
            raise ValueError("vmap: at least one argument must be mapped over (in_dims all None)")
        outs = []
        for i in range(size):
            call = [a if d is None else a.select(d, i) for a, d in zip(args, dims)]
            outs.append(func(*call, **kwargs))
        first = outs[0]
        if isinstance(first, T):
            return stack(outs, 0 if out_dims is None else _one(out_dims))
        if isinstance(first, dict):
            return {k: stack([o[k] for o in outs], _one(out_dims)) for k in first}
        if isinstance(first, (tuple, list)):
            od = _dims(out_dims, len(first), "out_dims")
            return type(first)(stack([o[j] for o in outs], od[j]) for j in range(len(first)))
        raise ValueError(f"vmap: f must return Tensors (or a tuple/dict of them), got "
                         f"{type(first).__name__}")
    return wrapper


def _one(d):
    if isinstance(d, (tuple, list)):
        if len(d) != 1:
            raise ValueError(f"vmap: out_dims={d} for a single output")
        return d[0]
    return d


def jacrev(func, argnums=0, has_aux=False, *, chunk_size=None):
    """``jacrev(f)(x)``: the Jacobian of ``f`` at ``x``, shape ``f(x).shape + x.shape``."""
    def wrapper(*args):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        aux_box = []

        def f(*xs):
            a = list(args)
            for n, x in zip(nums, xs):
                a[n] = x
            out = func(*a)
            if has_aux:
                out, aux = out
                aux_box.append(aux)
            return out
        nested = any(args[n].requires_grad for n in nums)
        jac = _F.jacobian(f, tuple(args[n] for n in nums), create_graph=nested)
        if isinstance(argnums, int):
            jac = tuple(j[0] for j in jac) if isinstance(jac[0], tuple) else jac[0]
        if has_aux:
            return jac, aux_box[0]
        return jac
    return wrapper


jacfwd = jacrev


def hessian(func, argnums=0):
    """``hessian(f)(x)``: second derivatives, shape ``f(x).shape + x.shape + x.shape``."""
    return jacrev(jacrev(func, argnums), argnums)


def functional_call(module, parameter_and_buffer_dicts, args=(), kwargs=None, *, tie_weights=True,
                    strict=False):
    """Call ``module(*args, **kwargs)`` with the tensors of ``parameter_and_buffer_dicts``
    (names as in ``state_dict``) standing in for its own; the module is restored after."""
    if isinstance(parameter_and_buffer_dicts, (list, tuple)):
        merged = {}
        for d in parameter_and_buffer_dicts:
            merged.update(d)
        parameter_and_buffer_dicts = merged
    if not isinstance(args, tuple):
        args = (args,)
    kwargs = kwargs or {}
    if strict:
        expected = set(dict(module.named_parameters())) | set(dict(module.named_buffers()))
        missing = expected - set(parameter_and_buffer_dicts)
        unexpected = set(parameter_and_buffer_dicts) - expected
        if missing or unexpected:
            raise RuntimeError(f"functional_call: missing keys {sorted(missing)}, unexpected keys "
                               f"{sorted(unexpected)}")
    saved = []
    try:
        for name, t in parameter_and_buffer_dicts.items():
            owner, _, attr = name.rpartition(".")
            m = module.get_submodule(owner) if owner else module
            if attr in m._parameters:
                saved.append((m, "_parameters", attr, m._parameters[attr]))
                m._parameters[attr] = t
            elif attr in m._buffers:
                saved.append((m, "_buffers", attr, m._buffers[attr]))
                m._buffers[attr] = t
            else:
                raise AttributeError(f"functional_call: the module has no parameter or buffer "
                                     f"named {name!r}")
        return module(*args, **kwargs)
    finally:
        for m, where, attr, old in reversed(saved):
            getattr(m, where)[attr] = old
