"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``,
``ParameterDict``.  Children are registered under "0", "1", ... (or the dict
keys) so ``state_dict`` keys match PyTorch's (``layers.0.weight``)."""
from collections import OrderedDict
import operator

from .module import Module, _addindent
from .parameter import Parameter


def _index(idx, n, what):
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range for {what} of length {n}")
    return idx + n if idx < 0 else idx


def _repr_compressed(self):
    """PyTorch's ModuleList repr: runs of identical children shown once
    (``(0-2): 3 x Linear(...)``)."""
    lines = []
    items = list(self._modules.items())
    i = 0
    while i < len(items):
        k, m = items[i]
        r = repr(m)
        j = i + 1
        while j < len(items) and repr(items[j][1]) == r:
            j += 1
        if j - i > 1:
            lines.append(f"({items[i][0]}-{items[j - 1][0]}): {j - i} x " + _addindent(r, 2))
        else:
            lines.append(f"({k}): " + _addindent(r, 2))
        i = j
    s = self._get_name() + "("
    if lines:
        s += "\n  " + "\n  ".join(lines) + "\n"
    return s + ")"


class Sequential(Module):
    """Modules applied one after another; built from positional modules or
    one OrderedDict of named modules."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for k, m in args[0].items():
                self.add_module(k, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        if isinstance(idx, str):
            return self._modules[idx]
        keys = list(self._modules)
        return self._modules[keys[_index(idx, len(keys), "Sequential")]]

    def __setitem__(self, idx, module):
        keys = list(self._modules)
        self.add_module(keys[_index(idx, len(keys), "Sequential")], module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        if isinstance(idx, slice):
            for k in keys[idx]:
                del self._modules[k]
        else:
            del self._modules[keys[_index(idx, len(keys), "Sequential")]]
        # re-number so keys stay 0..n-1, as PyTorch does
        mods = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)
        return self

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class")
        return Sequential(*self, *other)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]


class ModuleList(Module):
    """A list of modules, registered so their parameters are found (a plain
    Python list of layers would hide them from ``parameters()``)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx, module):
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_index(idx, len(mods), "ModuleList")]
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend should be called with an iterable of modules, "
                            f"but got {type(modules).__name__}")
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def forward(self, *args, **kwargs):
        raise RuntimeError("ModuleList is not callable: it has no forward. Iterate over it in "
                           "your module's forward (for layer in self.layers: x = layer(x)).")

    __repr__ = _repr_compressed

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]


class ModuleDict(Module):
    """A dict of modules with string keys, registered as children."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m

    def forward(self, *args, **kwargs):
        raise RuntimeError("ModuleDict is not callable: it has no forward. Index it in your "
                           "module's forward (self.heads['cls'](x)).")


class ParameterList(Module):
    """A list of Parameters registered under "0", "1", ..."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            for v in values:
                self.append(v)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self)[idx])
        return self._parameters[str(_index(idx, len(self), "ParameterList"))]

    def __setitem__(self, idx, p):
        self.register_parameter(str(_index(idx, len(self), "ParameterList")), _as_param(p))

    def append(self, p):
        self.register_parameter(str(len(self)), _as_param(p))
        return self

    def extend(self, ps):
        for p in ps:
            self.append(p)
        return self

    def extra_repr(self):
        from .._size import PREFIX  # PyTorch's wording, "torch.float32" under dalam run
        return "\n".join(f"  ({k}): Parameter containing: [{PREFIX}.{p.dtype} of size "
                         f"{'x'.join(str(n) for n in p.shape)}]"
                         for k, p in self._parameters.items())


class ParameterDict(Module):
    """A dict of Parameters with string keys."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            items = parameters.items() if hasattr(parameters, "items") else parameters
            for k, p in items:
                self[k] = p

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, p):
        self.register_parameter(key, _as_param(p))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def extra_repr(self):
        return "\n".join(f"  ({k}): Parameter containing: [{p.type()} of size "
                         f"{'x'.join(str(n) for n in p.shape)}]"
                         for k, p in self._parameters.items())


def _as_param(p):
    return p if isinstance(p, Parameter) or p is None else Parameter(p)
