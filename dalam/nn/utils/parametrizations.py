"""``nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and
``orthogonal``-free basics, written as parametrizations (``parametrize.py``),
so their state_dict keys are PyTorch's
(``parametrizations.weight.original0``/``original1`` for weight norm;
``parametrizations.weight.original`` plus the ``0._u``/``0._v`` buffers for
spectral norm)."""
from ...autograd import grad_mode
from ...ops.distance import normalize
from ..module import Module
from . import parametrize


def norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every dim but ``dim`` (kept as size 1), or over
    all of it when ``dim == -1`` (PyTorch's ``torch.norm_except_dim``)."""
    if dim == -1:
        return v.norm()
    dims = tuple(i for i in range(v.ndim) if i != dim)
    return (v * v).sum(dims, keepdim=True).sqrt() if dims else v.abs()


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """``w = g * v / ||v||`` (norm over every dim but ``dim``; ``dim=None``: the
    whole tensor): ``g`` is ``parametrizations.<name>.original0``, ``v`` is
    ``original1``, as ``torch.nn.utils.parametrizations.weight_norm``."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            with grad_mode.no_grad():
                w = self._matrix(weight)
                h, wd = w.shape
                from ...creation import randn
                u = randn(h, dtype=w.dtype)
                v = randn(wd, dtype=w.dtype)
                self.register_buffer("_u", normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", normalize(v, dim=0, eps=self.eps))
                self._power_method(w, 15)

    def _matrix(self, weight):
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)
        return weight.flatten(1)

    def _power_method(self, w, n):
        for _ in range(n):
            self._u._data[...] = normalize(w @ self._v, dim=0, eps=self.eps)._data
            self._v._data[...] = normalize(w.mT @ self._u, dim=0, eps=self.eps)._data
        self._u._vc[0] += 1
        self._v._vc[0] += 1

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        w = self._matrix(weight)
        if self.training:
            with grad_mode.no_grad():
                self._power_method(w.detach(), self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * (w @ v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``<name>`` by its largest singular value, estimated by power
    iteration (buffers ``_u``, ``_v``, updated in training mode), as
    ``torch.nn.utils.parametrizations.spectral_norm``."""
    weight = getattr(module, name, None)
    from ...tensor import Tensor
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from ..conv import ConvTranspose1d, ConvTranspose2d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
