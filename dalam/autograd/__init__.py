"""Reverse-mode automatic differentiation: Function, the engine, grad modes,
``grad`` and ``gradcheck``."""
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode


def __getattr__(name):
    # imported lazily: dalam.tensor imports grad_mode from this package first
    if name in ("Function", "FunctionCtx", "once_differentiable"):
        from . import function as _f
        return getattr(_f, name)
    if name == "functional":
        import importlib
        return importlib.import_module(".functional", __name__)
    if name in ("gradcheck", "GradcheckError"):
        from . import checks as _gc
        return getattr(_gc, name)
    raise AttributeError(name)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs`` (returned, not
    accumulated into ``.grad``), as ``torch.autograd.grad``."""
    from ..tensor import Tensor
    from ..backend import xp
    from .engine import run_backward
    single_out = isinstance(outputs, Tensor)
    outs = [outputs] if single_out else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    gs = []
    for o, g in zip(outs, grad_outputs):
        if g is None:
            if o.numel() != 1:
                raise RuntimeError(
                    f"grad: grad can be implicitly created only for scalar outputs; output has shape "
                    f"{tuple(o.shape)}. Pass grad_outputs.")
            g = xp.ones(o.shape, o.dtype)
            g = Tensor._make(g, False, None) if create_graph else g
        else:
            g = g if create_graph else g._data
        gs.append(g)
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError("grad: one of the inputs does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    return run_backward(outs, gs, retain_graph=retain_graph, create_graph=create_graph,
                        inputs=ins, allow_unused=allow_unused, accumulate=False)


__all__ = ["Function", "FunctionCtx", "once_differentiable", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "inference_mode", "grad", "gradcheck", "GradcheckError"]
