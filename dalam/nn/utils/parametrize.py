"""``nn.utils.parametrize``: a tensor of a module computed from other tensors.

``register_parametrization(module, "weight", P())`` replaces the parameter
``module.weight`` by a property that returns ``P()(original)`` on every access;
the learnable tensor moves to ``module.parametrizations.weight.original`` (or
``original0``, ``original1``, ... when ``P.right_inverse`` returns a tuple), so
``state_dict`` keys are PyTorch's. Assigning ``module.weight = w`` goes through
``right_inverse``. ``remove_parametrizations`` puts a plain Parameter back.
``cached()`` computes each parametrized tensor once inside its block.
"""
import contextlib

from ...autograd import grad_mode
from ...tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..module import Module
from ..parameter import Parameter

_cache_enabled = 0
_cache = {}


@contextlib.contextmanager
def cached():
    """Inside this block a parametrized tensor is computed once and reused."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and its ``original``
    tensor(s)."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        first = modules[0]
        with grad_mode.no_grad():
            new = original
            for m in reversed(list(modules)):
                if hasattr(m, "right_inverse"):
                    new = m.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError(
                    f"When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                    f"original.dtype: {original.dtype}\nright_inverse(original).dtype: {new.dtype}")
            # the Parameter object stays the same (optimisers holding it keep working)
            _set_data(original, new)
            self.register_parameter("original", _as_param(original))
        else:
            for i, t in enumerate(new):
                if not isinstance(t, Tensor):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of type "
                                     f"{type(t).__name__}")
                p = Parameter(t.detach().clone(), original.requires_grad)
                self.register_parameter(f"original{i}", p)
        if not unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(z).__name__}.")
            if z.dtype != original.dtype or tuple(z.shape) != tuple(original.shape):
                raise ValueError(
                    f"Registering a parametrization may not change the shape or dtype of the "
                    f"tensor, unless `unsafe` flag is enabled.\nunparametrized shape "
                    f"{tuple(original.shape)}, dtype {original.dtype}\nparametrized shape "
                    f"{tuple(z.shape)}, dtype {z.dtype}")
        del first

    def right_inverse(self, value):
        """Set the original tensor(s) so that the parametrized value becomes ``value``."""
        with grad_mode.no_grad():
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    value = m.right_inverse(value)
                elif m is not self[0]:
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement "
                                       "right_inverse.")
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                _set_data(self.original, value)
            else:
                if len(value) != self.ntensors:
                    raise ValueError(f"'right_inverse' must return a sequence of tensors of "
                                     f"length {self.ntensors}. Got a sequence of length "
                                     f"{len(value)}.")
                for i, t in enumerate(value):
                    _set_data(getattr(self, f"original{i}"), t)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in list(self)[1:]:
            x = m(x)
        return x


def _set_data(p, value):
    v = value._data if isinstance(value, Tensor) else value
    if p._data.shape == v.shape and p._data.dtype == v.dtype and p._data.flags.writeable:
        p._data[...] = v
    else:
        p._data = v.astype(p._data.dtype, copy=True)
    p._vc[0] += 1


def _as_param(t):
    return t if isinstance(t, Parameter) else Parameter(t.detach(), t.requires_grad)


def _make_property(name):
    def get(self):
        key = (id(self), name)
        if _cache_enabled:
            hit = _cache.get(key)
            if hit is None:
                hit = _cache[key] = self.parametrizations[name]()
            return hit
        return self.parametrizations[name]()

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)
    return property(get, set_)


def _inject_class(module):
    cls = module.__class__
    new = type(f"Parametrized{cls.__name__}", (cls,), {
        "_original_class": cls,
        "__getstate__": lambda self: (_ for _ in ()).throw(RuntimeError(
            "Serialization of parametrized modules is only supported through state_dict()."))})
    module.__class__ = new


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` be ``parametrization(original)`` (see the
    module docstring); returns ``module``."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be an nn.Module, "
                        f"got {type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            y = plist()
            z = parametrization(y)
            if tuple(z.shape) != tuple(y.shape) or z.dtype != y.dtype:
                raise ValueError("Registering a parametrization may not change the shape or "
                                 "dtype of the tensor, unless `unsafe` flag is enabled.")
        plist.append(parametrization)
        plist.unsafe |= unsafe
        return module
    if tensor_name in module._buffers:
        original = module._buffers.pop(tensor_name)
    elif tensor_name in module._parameters:
        original = module._parameters[tensor_name]
        if original is None:
            raise ValueError(f"register_parametrization: module.{tensor_name} is None")
    else:
        raise ValueError(f"Module '{type(module).__name__}' does not have a parameter, a buffer, "
                         f"or a parametrized element with name '{tensor_name}'")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    module._parameters.pop(tensor_name, None)
    if not is_parametrized(module):
        _inject_class(module)
        module.parametrizations = ModuleDict()
    setattr(module.__class__, tensor_name, _make_property(tensor_name))
    module.parametrizations[tensor_name] = plist
    return module


def is_parametrized(module, tensor_name=None):
    """Does ``module`` have parametrizations (on ``tensor_name``)?"""
    pz = module.__dict__.get("_modules", {}).get("parametrizations")
    if pz is None or not isinstance(pz, ModuleDict):
        return False
    return len(pz) > 0 if tensor_name is None else tensor_name in pz


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Put a plain Parameter back under ``tensor_name``: holding the current
    parametrized value (``leave_parametrized=True``) or the original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {type(module).__name__} does not have a parametrization on "
                         f"{tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with grad_mode.no_grad():
                t = getattr(module, tensor_name)
            if t.dtype != original.dtype:
                raise ValueError("remove_parametrizations: the parametrized tensor changed dtype")
            if t.shape == original.shape:
                _set_data(original, t)
            else:  # an unsafe parametrization changed the shape
                original._data = t._data.copy()
                original._vc[0] += 1
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        with grad_mode.no_grad():
            t = getattr(module, tensor_name)
        original = Parameter(t.detach().clone(), t.requires_grad)
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    module.register_parameter(tensor_name, _as_param(original))
    if not is_parametrized(module):
        del module._modules["parametrizations"]
        module.__class__ = module.__class__._original_class
    return module


def type_before_parametrizations(module):
    """The class of ``module`` before any parametrization was registered."""
    if is_parametrized(module):
        return module.__class__._original_class
    return type(module)
