"""The older ``nn.utils.weight_norm``/``spectral_norm`` (forward pre-hooks).

They register ``<name>_g``/``<name>_v`` (weight norm) or ``<name>_orig`` plus
the buffers ``<name>_u``/``<name>_v`` (spectral norm) on the module itself and
recompute ``module.<name>`` before every forward, with PyTorch's state_dict
keys. PyTorch deprecates them in favour of ``nn.utils.parametrizations``.
"""
from ...autograd import grad_mode
from ...ops.distance import normalize
from ..parameter import Parameter
from .parametrizations import norm_except_dim


class _WeightNormHook:
    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, self.dim))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute(module))


def weight_norm(module, name="weight", dim=0):
    """``w = g * v / ||v||`` via ``<name>_g`` and ``<name>_v`` parameters and a
    forward pre-hook (PyTorch's deprecated ``torch.nn.utils.weight_norm``)."""
    for h in module._forward_pre_hooks.values():
        if isinstance(h, _WeightNormHook) and h.name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    fn = _WeightNormHook(name, -1 if dim is None else dim)
    weight = module._parameters.pop(name)
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, fn.dim).detach()._data.copy()))
    module.register_parameter(name + "_v", Parameter(weight.detach()._data.copy()))
    setattr(module, name, fn.compute(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name="weight"):
    for hid, h in list(module._forward_pre_hooks.items()):
        if isinstance(h, _WeightNormHook) and h.name == name:
            with grad_mode.no_grad():
                w = h.compute(module)
            del module._forward_pre_hooks[hid]
            module._sync_hooks()
            module.__dict__.pop(name, None)
            del module._parameters[name + "_g"]
            del module._parameters[name + "_v"]
            module.register_parameter(name, Parameter(w._data.copy()))
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


class _SpectralNormHook:
    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, w):
        if self.dim != 0:
            w = w.movedim(self.dim, 0)
        return w.flatten(1)

    def compute(self, module, power):
        w = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        wm = self.matrix(w)
        if power:
            with grad_mode.no_grad():
                m = wm.detach()
                for _ in range(self.n):
                    v._data[...] = normalize(m.mT @ u, dim=0, eps=self.eps)._data
                    u._data[...] = normalize(m @ v, dim=0, eps=self.eps)._data
                u._vc[0] += 1
                v._vc[0] += 1
            if self.n > 0:
                u, v = u.clone(), v.clone()
        sigma = (u * (wm @ v)).sum()
        return w / sigma

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute(module, module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``<name>`` by its spectral norm (power iteration on the buffers
    ``<name>_u``/``<name>_v``; the weight lives in ``<name>_orig``), PyTorch's
    deprecated ``torch.nn.utils.spectral_norm``."""
    for h in module._forward_pre_hooks.values():
        if isinstance(h, _SpectralNormHook) and h.name == name:
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
    if dim is None:
        from ..conv import ConvTranspose1d, ConvTranspose2d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    fn = _SpectralNormHook(name, n_power_iterations, dim, eps)
    weight = module._parameters.pop(name)
    with grad_mode.no_grad():
        wm = fn.matrix(weight.detach())
        h, w = wm.shape
        from ...creation import randn
        u = normalize(randn(h, dtype=wm.dtype), dim=0, eps=eps)
        v = normalize(randn(w, dtype=wm.dtype), dim=0, eps=eps)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name="weight"):
    for hid, h in list(module._forward_pre_hooks.items()):
        if isinstance(h, _SpectralNormHook) and h.name == name:
            with grad_mode.no_grad():
                w = h.compute(module, False)
            del module._forward_pre_hooks[hid]
            module._sync_hooks()
            module.__dict__.pop(name, None)
            orig = module._parameters.pop(name + "_orig")
            del module._buffers[name + "_u"]
            del module._buffers[name + "_v"]
            orig._data = w._data.copy()
            orig._vc[0] += 1
            module.register_parameter(name, orig)
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
