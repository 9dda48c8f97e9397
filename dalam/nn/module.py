"""``Module``: the base class of every layer and model.

Assigning a Parameter, a Module or a registered buffer to an attribute files
it into ordered dicts (``_parameters``, ``_buffers``, ``_modules``), exactly
as PyTorch does, so traversal order, ``state_dict`` keys (``fc1.weight``,
``layers.0.bias`` ...) and ``repr`` match PyTorch's.  ``__call__`` is kept
short because batch-1 inference pays it once per layer.
"""
from collections import OrderedDict, namedtuple
import itertools

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from .parameter import Parameter, Buffer


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: (missing_keys, unexpected_keys)."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """Returned by ``register_*_hook``; ``handle.remove()`` unregisters it."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict, owner=None):
        self._hooks = hooks_dict
        self._owner = owner
        self.id = next(RemovableHandle._next_id)

    def remove(self):
        self._hooks.pop(self.id, None)
        if self._owner is not None:
            self._owner._sync_hooks()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class LayerInputError(RuntimeError):
    """A bad input to a layer.  While it propagates up through the parents'
    ``__call__`` the layer's qualified name is filled in, so the message reads
    ``Linear 'encoder.fc1' (in_features=...): expected ... got ...``."""

    def __init__(self, layer, detail, original=None):
        self.layer, self.detail, self.path, self._last = layer, detail, "", layer
        self.original = original  # the message of the error this one wraps (shown when there is no path)
        super().__init__(self._render())

    def _render(self):
        name = type(self.layer).__name__
        if self.path:
            return f"{name} '{self.path}'{self.detail}"
        return self.original if self.original is not None else name + self.detail

    def __reduce__(self):  # picklable (worker processes, object collectives): the message only
        return _rebuild_layer_error, (type(self), str(self))

    def _climb(self, parent):
        if parent is self._last:
            return
        for name, m in parent.named_modules():
            if m is self._last and name:
                self.path = name + ("." + self.path if self.path else "")
                self._last = parent
                self.args = (self._render(),)
                return


def _rebuild_layer_error(cls, message):
    e = cls.__new__(cls)
    Exception.__init__(e, message)
    e.layer = e._last = None
    e.detail, e.path, e.original = "", "", message
    return e


class LayerInputTypeError(LayerInputError, TypeError):
    """A layer got an input of the wrong type (e.g. a NumPy array)."""


class LayerInputValueError(LayerInputError, ValueError):
    """A ValueError raised inside a layer, with the layer's path added."""


class LayerInputIndexError(LayerInputError, IndexError):
    """An IndexError raised inside a layer (e.g. an embedding index), with the layer's path."""


# the plain error types a layer's forward raises, and the path-carrying type each becomes
_WITH_PATH = {RuntimeError: LayerInputError, ValueError: LayerInputValueError,
              TypeError: LayerInputTypeError, IndexError: LayerInputIndexError}


def _with_path(layer, e):
    """``e`` (raised inside ``layer``'s forward) as a LayerInputError that gets
    the layer's path in the model while it climbs, keeping its type (a
    ValueError stays a ValueError) and its message."""
    msg = str(e)
    name = type(layer).__name__
    if msg.startswith(name + "(") or msg.startswith(name + ":") or msg.startswith(name + " "):
        detail = msg[len(name):]
        detail = (" " + detail) if detail.startswith("(") else detail
    else:
        detail = ": " + msg
    err = _WITH_PATH[type(e)](layer, detail, original=msg)
    return err.with_traceback(e.__traceback__)


class _HookIdentity(Function):
    """Identity on several tensors whose backward calls a hook: marks where
    a module's output gradients arrive and where its input gradients leave."""

    is_view = False

    def forward(self, *xs, on_backward):
        self.on_backward = on_backward
        return tuple(xs)

    def backward(self, *gs):
        return self.on_backward(gs)


class _BackwardHookState:
    """One forward call's bookkeeping for full backward hooks."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_in = 0
        self.in_pos = ()
        self.inputs_tracked = False

    def wrap_inputs(self, args):
        pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_in = len(pos)
        self.in_pos = pos
        if not any(args[i].requires_grad for i in pos):
            return args
        self.inputs_tracked = True
        outs = _HookIdentity.apply(*[args[i] for i in pos], on_backward=self._input_grads)
        args = list(args)
        for i, o in zip(pos, outs):
            args[i] = o
        return tuple(args)

    def wrap_outputs(self, out):
        single = isinstance(out, Tensor)
        items = (out,) if single else out
        if not isinstance(items, (tuple, list)):
            return out
        pos = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not pos:
            return out
        outs = _HookIdentity.apply(*[items[i] for i in pos], on_backward=self._output_grads)
        items = list(items)
        for i, o in zip(pos, outs):
            items[i] = o
        return items[0] if single else type(out)(items)

    def _output_grads(self, gs):
        gs = tuple(_wrap_grad(g) for g in gs)
        for hook in list(self.module._backward_pre_hooks.values()):
            r = hook(self.module, gs)
            if r is not None:
                gs = tuple(_wrap_grad(g) for g in (r if isinstance(r, tuple) else (r,)))
        self.grad_output = gs
        if not self.inputs_tracked:  # no input needs a gradient: call the hooks now
            self._call_hooks((None,) * self.n_in)
        return tuple(None if g is None else g._data for g in gs)

    def _input_grads(self, gs):
        gin = self._call_hooks(tuple(_wrap_grad(g) for g in gs))
        return tuple(None if g is None else (g._data if isinstance(g, Tensor) else g) for g in gin)

    def _call_hooks(self, grad_input):
        for hook in list(self.module._backward_hooks.values()):
            r = hook(self.module, grad_input, self.grad_output)
            if r is not None:
                grad_input = tuple(r) if isinstance(r, (tuple, list)) else (r,)
        return grad_input


def _wrap_grad(g):
    if g is None or isinstance(g, Tensor):
        return g
    return Tensor._make(g, False, None)


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(" " * n + line for line in lines)


def _shape(a):
    return tuple(np.shape(a))


def _as_array(v):
    """A state_dict value (dalam Tensor, numpy array, torch tensor...) as an array."""
    if isinstance(v, Tensor):
        return v._data
    if isinstance(v, np.ndarray):
        return v
    if hasattr(v, "detach") and hasattr(v, "numpy"):  # a torch tensor, without importing torch
        return v.detach().cpu().numpy()
    return np.asarray(v)


class Module:
    """Base class for layers and models: subclass it, create layers in
    ``__init__`` (after ``super().__init__()``) and write ``forward``."""

    training = True
    _version = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments "
                            f"{args or ''}{kwargs or ''} (Module.__init__ takes none)")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = set()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = set()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_any_hooks"] = False

    # ------------------------------------------------------------------ call
    def forward(self, *args, **kwargs):
        raise RuntimeError(
            f'Module [{type(self).__name__}] is missing the required "forward" function: define '
            f"`def forward(self, ...)` in {type(self).__name__}.")

    def __call__(self, *args, **kwargs):
        try:  # free unless raised (Python >= 3.11)
            if self._any_hooks:
                return self._call_with_hooks(args, kwargs)
            return self.forward(*args, **kwargs)
        except LayerInputError as e:
            e._climb(self)
            raise
        except (RuntimeError, ValueError, TypeError, IndexError) as e:
            if type(e) not in _WITH_PATH:  # a library's own error type: leave it alone
                raise
            raise _with_path(self, e) from None

    def _sync_hooks(self):
        d = self.__dict__
        d["_any_hooks"] = bool(d["_forward_hooks"] or d["_forward_pre_hooks"] or
                               d["_backward_hooks"] or d["_backward_pre_hooks"])

    def _call_with_hooks(self, args, kwargs):
        bw = None
        if (self._backward_hooks or self._backward_pre_hooks) and grad_mode.is_grad_enabled():
            bw = _BackwardHookState(self)
            args = bw.wrap_inputs(args)
        for hid, hook in list(self._forward_pre_hooks.items()):
            if hid in self._forward_pre_hooks_with_kwargs:
                r = hook(self, args, kwargs)
                if r is not None:
                    if not (isinstance(r, tuple) and len(r) == 2):
                        raise RuntimeError("forward pre-hook with_kwargs must return None or a "
                                           "tuple (new_args, new_kwargs)")
                    args, kwargs = r
            else:
                r = hook(self, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        out = self.forward(*args, **kwargs)
        for hid, hook in list(self._forward_hooks.items()):
            if hid in self._forward_hooks_with_kwargs:
                r = hook(self, args, kwargs, out)
            else:
                r = hook(self, args, out)
            if r is not None:
                out = r
        if bw is not None:
            out = bw.wrap_outputs(out)
        return out

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` runs before forward; returning a value replaces args."""
        h = RemovableHandle(self._forward_pre_hooks, self)
        self._forward_pre_hooks[h.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(h.id)
        if prepend:
            self._forward_pre_hooks.move_to_end(h.id, last=False)
        self._sync_hooks()
        return h

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args, output)`` runs after forward (feature maps,
        activation statistics); returning a value replaces the output."""
        h = RemovableHandle(self._forward_hooks, self)
        self._forward_hooks[h.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(h.id)
        if prepend:
            self._forward_hooks.move_to_end(h.id, last=False)
        self._sync_hooks()
        return h

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs when the gradients
        w.r.t. the module's inputs are computed (saliency, Grad-CAM); it may
        return a tuple replacing grad_input.  Entries are None for inputs
        that need no gradient."""
        h = RemovableHandle(self._backward_hooks, self)
        self._backward_hooks[h.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(h.id, last=False)
        self._sync_hooks()
        return h

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the gradients w.r.t. the
        module's outputs are known; it may return a tuple replacing them."""
        h = RemovableHandle(self._backward_pre_hooks, self)
        self._backward_pre_hooks[h.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(h.id, last=False)
        self._sync_hooks()
        return h

    def register_backward_hook(self, hook):
        """PyTorch's deprecated name; behaves as register_full_backward_hook."""
        return self.register_full_backward_hook(hook)

    # ------------------------------------------------------------------ registration
    def _check_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call: call super().__init__() "
                f"first in {type(self).__name__}.__init__")

    def register_parameter(self, name, param):
        """Add a Parameter (or None, e.g. a missing bias) under ``name``."""
        self._check_init("parameter")
        if not isinstance(name, str):
            raise TypeError(f"parameter name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"parameter name can't contain '.' or be empty, got {name!r}")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(dalam.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not learnable (e.g. BatchNorm's
        running_mean); ``persistent=False`` keeps it out of state_dict."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"buffer name can't contain '.' or be empty, got {name!r}")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(dalam.Tensor or None required)")
        if isinstance(tensor, Buffer):
            tensor = Tensor._make(tensor._data, tensor.requires_grad, None, 0, tensor._vc)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module under ``name`` (used by containers)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string, got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name or name == "":
            raise KeyError(f"module name can't contain '.' or be empty, got {name!r}")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                self._check_init("parameters")
            self._remove_from(name, d, "_buffers", "_modules")
            self._non_persistent_buffers_set.discard(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(dalam.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call: call "
                                     f"super().__init__() first in {type(self).__name__}.__init__")
            self._remove_from(name, d, "_parameters", "_buffers")
            self._non_persistent_buffers_set.discard(name)
            d["_modules"][name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(dalam.nn.Module or None expected)")
            d["_modules"][name] = None
        elif isinstance(value, Buffer):
            self._remove_from(name, d, "_parameters", "_modules")
            self.register_buffer(name, value, value.persistent)
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(dalam.Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name, d, *dicts):
        d.pop(name, None)
        for k in dicts:
            dd = d.get(k)
            if dd is not None:
                dd.pop(name, None)

    def __getattr__(self, name):
        # only called when normal lookup fails: parameters, buffers, children
        d = self.__dict__
        if "_parameters" in d:
            p = d["_parameters"]
            if name in p:
                return p[name]
            b = d["_buffers"]
            if name in b:
                return b[name]
            m = d["_modules"]
            if name in m:
                return m[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for k in ("_parameters", "_buffers", "_modules"):
            if name in d.get(k, ()):
                del d[k][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(super().__dir__())
        keys.update(self._parameters, self._buffers, self._modules)
        return sorted(k for k in keys if not k[0].isdigit())

    # ------------------------------------------------------------------ traversal
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mprefix, m in mods:
            for k, v in get_members(m):
                if v is None:
                    continue
                if remove_duplicate:
                    if id(v) in memo:
                        continue
                    memo.add(id(v))
                yield (mprefix + "." + k if mprefix else k), v

    def parameters(self, recurse=True):
        """All parameters, in registration order (each shared one once)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                   remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_children(self):
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(qualified name, module) for self and every descendant, depth first."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from m.named_modules(memo, sub, remove_duplicate)

    def get_submodule(self, target):
        """The module at dotted path ``target`` (e.g. ``"encoder.layers.0"``)."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if item not in mod._modules:
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}` "
                                     f"(looking up submodule {target!r})")
            mod = mod._modules[item]
        return mod

    def get_parameter(self, target):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{mod._get_name()} has no parameter `{name}`")
        return mod._parameters[name]

    def get_buffer(self, target):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._buffers:
            raise AttributeError(f"{mod._get_name()} has no buffer `{name}`")
        return mod._buffers[name]

    # ------------------------------------------------------------------ modes & maintenance
    def train(self, mode=True):
        """Set training mode (Dropout active, BatchNorm uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.__dict__["training"] = mode
        for m in self.children():
            m.train(mode)  # each child's own train(), so overrides (frozen BatchNorm...) apply
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none or p.grad.is_sparse:
                p.grad = None
            else:
                p.grad.grad_fn = None
                p.grad.requires_grad = False
                p.grad._data[...] = 0

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and then on self,
        e.g. ``model.apply(init_weights)``."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _apply(self, fn, buffers_too=True):
        """Replace each parameter's (and buffer's) array by ``fn(array)``,
        keeping the Parameter objects, so optimisers keep their references."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                new = fn(p._data)
                if new is not p._data:
                    p._data = new
                    p._vc[0] += 1
                    if p.grad is not None:
                        p.grad._data = fn(p.grad._data)
            if buffers_too:
                for k, b in m._buffers.items():
                    if b is not None:
                        new = fn(b._data)
                        if new is not b._data:
                            b._data = new
                            b._vc[0] += 1
        return self

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``:
        converts floating parameters and buffers in place of the arrays (the
        Parameter objects stay). The device must be the CPU; a GPU raises the
        error a CPU-only PyTorch raises."""
        from ..tensor import _parse_to
        from .._device import check
        dev, dtype, _, _ = _parse_to(args, dict(kwargs), "Module.to")
        if dev is not None:
            check(dev, f"Module.to({dev!r})" if isinstance(dev, str) else "Module.to()")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired "
                            f"dtype={dtype}")
        return self._apply(lambda a: a.astype(dtype) if a.dtype.kind == "f" and a.dtype != dtype
                           else a)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def type(self, dst_type):
        from .._legacy import dtype_of
        return self.to(dtype_of(dst_type))

    def cpu(self):
        return self

    def cuda(self, device=None):
        from .._device import unavailable
        raise unavailable("Module.cuda()", "cuda")

    def mps(self, device=None):
        from .._device import unavailable
        raise unavailable("Module.mps()", "mps")

    def share_memory(self):
        """Put every parameter and buffer in shared memory (``Tensor.share_memory_``)
        so processes forked afterwards train the same weights (Hogwild)."""
        for t in list(self.parameters()) + list(self.buffers()):
            t.share_memory_()
        return self

    # ------------------------------------------------------------------ state dict
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Ordered dict of name -> tensor (parameters and persistent buffers),
        keys and layouts as PyTorch's; values share memory with the model."""
        if args:  # torch's deprecated positional form (destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Copy this module's own entries (prefix + name) from ``state_dict``;
        subclasses override it to adapt old formats."""
        persistent = [(k, v) for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set]
        local = itertools.chain(self._parameters.items(), persistent)
        for name, t in local:
            if t is None:
                continue
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            src = _as_array(state_dict[key])
            if _shape(src) != t._data.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {_shape(src)} from "
                    f"checkpoint, the shape in current model is {t._data.shape}.")
                continue
            try:
                src = np.asarray(src)
                if t._data.dtype.kind in "fc" or src.dtype.kind not in "fc":
                    t._data[...] = src.astype(t._data.dtype, copy=False)
                else:
                    t._data[...] = src
            except (ValueError, TypeError) as e:
                error_msgs.append(f'While copying the parameter named "{key}", whose shape in '
                                  f"the model is {t._data.shape} and whose shape in the "
                                  f"checkpoint is {_shape(src)}, an exception occurred: {e}")
                continue
            t._vc[0] += 1

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values from ``state_dict`` into the existing parameters and
        buffers (converting dtype); returns ``(missing_keys, unexpected_keys)``.

        With ``strict=True`` any missing or unexpected key raises; shape
        mismatches always raise, listing every problem at once.  ``assign`` is
        accepted for PyTorch compatibility; values are always copied in place
        so optimisers keep their references."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        missing, unexpected, errors = [], [], []
        sd = dict(state_dict)
        with grad_mode.no_grad():
            for prefix, m in self.named_modules(prefix="", remove_duplicate=False):
                pre = prefix + "." if prefix else ""
                m._load_from_state_dict(sd, pre, {}, True, missing, unexpected, errors)
        # an unexpected key is one no module claimed
        known = set(self.state_dict().keys())
        unexpected = [k for k in sd if k not in known]
        missing = list(dict.fromkeys(missing))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self._get_name(), "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """One line of this module's settings, shown inside its repr."""
        return ""

    def _repr_html_(self):
        """Jupyter's rich view: a table of the layers, their settings and parameter counts."""
        from .._repr import module_repr_html
        return module_repr_html(self)

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({k}): " + _addindent(repr(m), 2) for k, m in self._modules.items()]
        lines = extra_lines + child_lines
        s = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += "\n  " + "\n  ".join(lines) + "\n"
        return s + ")"
