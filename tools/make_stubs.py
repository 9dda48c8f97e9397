"""Make the type stubs (.pyi) of dalam's public API from the running package.

    python tools/make_stubs.py            write the stubs next to the modules
    python tools/make_stubs.py --check    exit 1 if a stub is missing or out of date

Why: ``Tensor`` gets most of its methods by ``setattr`` from the op modules, so editors
and type checkers cannot see them in the source.  The stubs list every public function,
class and method with its real parameter names and defaults (from ``inspect.signature``),
return types where they are known (``Tensor`` for the ops), and ``Any`` elsewhere, so that
completion works and ``mypy --strict`` accepts a user's script.  The test suite checks
that the stubs match the package (tests/test_stubs.py)."""
import importlib
import inspect
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODULES = ["dalam", "dalam.tensor", "dalam.creation", "dalam.nn", "dalam.nn.functional", "dalam.nn.init", "dalam.nn.utils",
           "dalam.optim", "dalam.optim.lr_scheduler", "dalam.data", "dalam.train", "dalam.autograd"]

# Tensor methods and dalam functions that do not return one Tensor
NOT_TENSOR = {
    "item": "builtins.float", "tolist": "Any", "numpy": "Any", "size": "Any", "stride": "Any", "type": "Any",
    "dim": "builtins.int", "ndimension": "builtins.int", "numel": "builtins.int", "nelement": "builtins.int", "element_size": "builtins.int",
    "get_device": "builtins.int", "storage_offset": "builtins.int", "data_ptr": "builtins.int", "backward": "None",
    "register_hook": "Any", "register_post_accumulate_grad_hook": "Any", "untyped_storage": "Any",
    "storage": "Any", "equal": "builtins.bool", "allclose": "builtins.bool", "is_nonzero": "builtins.bool", "is_complex": "builtins.bool",
    "is_floating_point": "builtins.bool", "is_contiguous": "builtins.bool", "is_set_to": "builtins.bool", "is_same_size": "builtins.bool",
    "is_shared": "builtins.bool", "is_pinned": "builtins.bool", "is_signed": "builtins.bool", "is_inference": "builtins.bool",
    "split": "Any", "chunk": "Any", "unbind": "Any", "tensor_split": "Any", "hsplit": "Any",
    "vsplit": "Any", "dsplit": "Any", "sort": "Any", "topk": "Any", "kthvalue": "Any", "median": "Any",
    "mode": "Any", "max": "Any", "min": "Any", "aminmax": "Any", "cummax": "Any", "cummin": "Any",
    "std_mean": "Any", "var_mean": "Any", "unique": "Any", "unique_consecutive": "Any", "slogdet": "Any",
    "frexp": "Any", "histogram": "Any", "broadcast_tensors": "Any", "meshgrid": "Any", "nanmedian": "Any",
    "finfo": "Any", "iinfo": "Any", "result_type": "Any", "promote_types": "Any",
    "broadcast_shapes": "Any", "manual_seed": "Any", "initial_seed": "builtins.int", "seed": "builtins.int",
    "get_default_dtype": "Any", "set_default_dtype": "None", "get_rng_state": "Any",
    "set_rng_state": "None", "compile": "Any", "set_num_threads": "None", "get_num_threads": "builtins.int",
    "set_num_interop_threads": "None", "get_num_interop_threads": "builtins.int",
    "use_deterministic_algorithms": "None", "are_deterministic_algorithms_enabled": "builtins.bool",
    "is_deterministic_algorithms_warn_only_enabled": "builtins.bool", "set_printoptions": "None",
    "is_grad_enabled": "builtins.bool", "save": "Any", "load": "Any", "fit": "Any", "summary": "Any",
    "get_default_device": "Any", "set_default_device": "None", "is_tensor": "builtins.bool",
    "is_storage": "builtins.bool", "numel_": "builtins.int", "share_memory_": "Any", "requires_grad_": "Tensor",
    "apply_": "Tensor", "map_": "Tensor", "__len__": "builtins.int", "__bool__": "builtins.bool", "__float__": "builtins.float",
    "__int__": "builtins.int", "__index__": "builtins.int", "__complex__": "builtins.complex", "__repr__": "builtins.str", "__str__": "builtins.str",
    "__format__": "builtins.str", "__hash__": "builtins.int", "__iter__": "Iterator[Tensor]", "__array__": "Any",
    "__contains__": "builtins.bool", "__reduce_ex__": "Any", "__deepcopy__": "Tensor", "__setitem__": "None",
    "__dlpack__": "Any", "__dlpack_device__": "Any", "_repr_html_": "builtins.str", "dim_order": "Any",
    "nonzero": "Any", "where": "Any", "gradcheck": "builtins.bool", "gradgradcheck": "builtins.bool", "grad": "Any",
    "clip_grad_norm_": "Tensor", "clip_grad_value_": "None", "__array_priority__": "Any",
}
# Tensor-returning top-level names come from these modules (the ops and creation functions)
TENSOR_MODULES = ("dalam.ops", "dalam.creation", "dalam.nn.functional", "dalam.linalg", "dalam.nn.init")
# layers whose forward returns something other than one Tensor
TUPLE_LAYERS = {"RNN", "LSTM", "GRU", "RNNBase", "MultiheadAttention", "Module", "Sequential", "ModuleList",
                "ModuleDict", "ParameterList", "ParameterDict", "Identity", "DataParallel",
                "DistributedDataParallel", "TransformerDecoder", "Transformer"}
DUNDERS = {"__init__", "__call__", "__enter__", "__exit__", "__iter__", "__next__", "__len__",
           "__getitem__", "__setitem__", "__contains__", "__add__", "__radd__", "__iadd__", "__sub__",
           "__rsub__", "__isub__", "__mul__", "__rmul__", "__imul__", "__truediv__", "__rtruediv__",
           "__itruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
           "__matmul__", "__rmatmul__", "__neg__", "__pos__", "__abs__", "__invert__", "__and__",
           "__or__", "__xor__", "__rand__", "__ror__", "__rxor__", "__lt__", "__le__", "__gt__",
           "__ge__", "__eq__", "__ne__", "__bool__", "__float__", "__int__", "__index__", "__lshift__",
           "__rshift__", "__ipow__", "__imatmul__", "__iand__", "__ior__", "__ixor__"}


def _public_names(mod):
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_")]
    if mod.__name__ == "dalam":
        names = sorted(set(names) | set(mod._LAZY) | set(mod._LAZY_ATTRS))
    return [n for n in names if not n.startswith("_")]


def _resolve(mod, name):
    try:
        return getattr(mod, name)
    except Exception:  # a lazy attribute whose optional dependency is missing
        return None


class Stub:
    """The text of one stub module."""

    def __init__(self, modname, exported):
        self.modname, self.exported = modname, exported
        self.imports, self.body = set(), []

    def type_ref(self, cls):
        """How this stub names a class defined in another stub (imported under a private alias)."""
        where = self.exported.get((cls.__module__, cls.__qualname__))
        if where is None:
            return None
        smod, sname = where
        if smod == self.modname:
            return sname
        alias = f"_{smod.replace('.', '_')}_{sname}"
        self.imports.add(f"from {smod} import {sname} as {alias}")
        return alias

    def tensor(self):
        return self.type_ref(importlib.import_module("dalam.tensor").Tensor) or "Any"


def _params(fn, skip_first=False):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ["*args: Any", "**kwargs: Any"]
    out, saw_kwonly, saw_posonly = [], False, False
    params = list(sig.parameters.values())
    for i, p in enumerate(params):
        if skip_first and i == 0:
            out.append(p.name if p.kind != p.VAR_POSITIONAL else "self")
            if p.kind == p.POSITIONAL_ONLY:
                saw_posonly = True
            if p.kind == p.VAR_POSITIONAL:
                out[-1] = "self"
                out.append("*args: Any")
                saw_kwonly = True
            continue
        if saw_posonly and p.kind != p.POSITIONAL_ONLY:
            out.append("/")
            saw_posonly = False
        if p.kind == p.POSITIONAL_ONLY:
            saw_posonly = True
        if p.kind == p.VAR_POSITIONAL:
            out.append(f"*{p.name}: Any")
            saw_kwonly = True
            continue
        if p.kind == p.VAR_KEYWORD:
            out.append(f"**{p.name}: Any")
            continue
        if p.kind == p.KEYWORD_ONLY and not saw_kwonly:
            out.append("*")
            saw_kwonly = True
        out.append(f"{p.name}: Any" + (" = ..." if p.default is not p.empty else ""))
    if saw_posonly:
        out.append("/")
    return out


def _returns(name, owner, stub, in_class=None):
    if name == "__init__":
        return "None"
    if in_class == "Tensor" or (in_class is None and (owner.startswith(TENSOR_MODULES) or owner == "dalam")):
        r = NOT_TENSOR.get(name)
        if r is None:
            return stub.tensor()
        if "Tensor" in r:
            return r.replace("Tensor", stub.tensor())
        return r
    return NOT_TENSOR.get(name, "Any") if name.startswith("__") else "Any"


def _function(stub, name, fn, indent="", method=False, in_class=None, ret=None):
    owner = getattr(fn, "__module__", "") or ""
    ret = ret or _returns(name, owner, stub, in_class)
    params = _params(fn, skip_first=method)
    if method and not params:
        params = ["self"]
    ignore = "  # type: ignore[override]" if name in ("__eq__", "__ne__", "__hash__") else ""
    return f"{indent}def {name}({', '.join(params)}) -> {ret}: ...{ignore}"


def _class(stub, name, cls):
    bases, own = [], []
    for b in cls.__mro__[1:]:
        if b is object:
            break
        ref = stub.type_ref(b)
        if ref is not None:
            bases.append(ref)
            break
        own.append(b)  # a private base: its members are listed here
    lines = [f"class {name}({', '.join(bases)}):" if bases else f"class {name}:"]
    members = {}
    for c in reversed([cls] + own):
        for k, v in vars(c).items():
            if k.startswith("_") and k not in DUNDERS and k != "_repr_html_":
                continue
            members[k] = v
    is_module = any(getattr(b, "__name__", "") == "Module" and b.__module__ == "dalam.nn.module"
                    for b in cls.__mro__)
    tensor_like = name in ("Tensor", "Parameter", "Buffer")
    for k, v in sorted(members.items()):
        if k == "forward" and is_module:
            continue
        if isinstance(v, staticmethod):
            lines += ["    @staticmethod", _function(stub, k, v.__func__, "    ", in_class="Tensor" if tensor_like else "other")]
        elif isinstance(v, classmethod):
            lines += ["    @classmethod", _function(stub, k, v.__func__, "    ", method=True)]
        elif isinstance(v, property):
            ret = _returns(k, "", stub, "Tensor") if tensor_like and k in ("T", "mT", "H", "mH", "data", "real",
                                                                             "imag") else \
                {"ndim": "builtins.int", "is_leaf": "builtins.bool", "requires_grad": "builtins.bool",
                 "is_cuda": "builtins.bool"}.get(k, "Any")
            lines += ["    @property", f"    def {k}(self) -> {ret}: ..."]
            if v.fset is not None:
                lines += [f"    @{k}.setter", f"    def {k}(self, value: Any) -> None: ..."]
        elif inspect.isfunction(v) or inspect.isbuiltin(v) or inspect.ismethoddescriptor(v):
            if k == "__call__" and is_module:
                continue
            lines.append(_function(stub, k, v, "    ", method=True, in_class="Tensor" if tensor_like else "other"))
        elif not k.startswith("_"):
            lines.append(f"    {k}: Any")
    if tensor_like:  # attributes set per instance (grad, grad_fn, ...)
        for attr in ("grad", "grad_fn"):
            if attr not in members:
                lines.append(f"    {attr}: Any")
    if is_module:
        if name == "Module":
            lines += ["    forward: Callable[..., Any]", "    training: builtins.bool",
                      "    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...",
                      "    def __getattr__(self, name: builtins.str) -> Any: ...",
                      "    def __setattr__(self, name: builtins.str, value: Any) -> None: ..."]
        else:
            ret = "Any" if name in TUPLE_LAYERS or any(b.__name__ in TUPLE_LAYERS - {"Module"}
                                                       for b in cls.__mro__[1:]) else stub.tensor()
            fwd = vars(cls).get("forward") or next((vars(b)["forward"] for b in cls.__mro__ if "forward" in vars(b)),
                                                   None)
            params = _params(fwd, skip_first=True) if fwd else ["self", "*args: Any", "**kwargs: Any"]
            lines.append(f"    def __call__({', '.join(params)}) -> {ret}: ...")
    if len(lines) == 1:
        lines.append("    ...")
    return "\n".join(lines)


def build():
    """{module name: stub text} for MODULES."""
    mods = {m: importlib.import_module(m) for m in MODULES}
    exported = {}  # (runtime module, qualname) -> (stub module, public name), first seen wins
    for m in MODULES:
        for n in _public_names(mods[m]):
            obj = _resolve(mods[m], n)
            if inspect.isclass(obj):
                exported.setdefault((obj.__module__, obj.__qualname__), (m, n))
    tensor_cls = mods["dalam.tensor"].Tensor
    exported[(tensor_cls.__module__, tensor_cls.__qualname__)] = ("dalam.tensor", "Tensor")
    out = {}
    for m in MODULES:
        stub = Stub(m, exported)
        names = ["Tensor"] if m == "dalam.tensor" else _public_names(mods[m])
        for n in names:
            obj = _resolve(mods[m], n)
            if inspect.ismodule(obj):
                rel = obj.__name__
                stub.body.append(f"import {rel} as {n}" if rel != f"{m}.{n}" else f"from {m} import {n} as {n}")
            elif inspect.isclass(obj):
                where = exported.get((obj.__module__, obj.__qualname__))
                if where == (m, n):
                    stub.body.append(_class(stub, n, obj))
                else:
                    stub.body.append(f"from {where[0]} import {where[1]} as {n}")
            elif callable(obj) and not isinstance(obj, type) and m == "dalam" and \
                    (ROOT / "dalam" / f"{n}.py").is_file() and obj.__module__ in MODULES:
                # a function named like a submodule (dalam.tensor): an import, so that documentation
                # tools still see the submodule dalam.tensor behind the name
                stub.body.append(f"from {obj.__module__} import {n} as {n}")
            elif callable(obj) and not isinstance(obj, type):
                stub.body.append(_function(stub, n, obj))
            else:
                stub.body.append(f"{n}: Any")
        all_line = "__all__ = [" + ", ".join(repr(n) for n in names) + "]"
        head = ["# Generated by tools/make_stubs.py from the running package: do not edit by hand.",
                "import builtins", "from typing import Any, Callable, Iterator", *sorted(stub.imports), "", all_line, ""]
        out[m] = "\n".join(head + stub.body) + "\n"
    return out


def path_of(modname):
    mod = importlib.import_module(modname)
    p = pathlib.Path(mod.__file__)
    return p.with_suffix(".pyi")


def main(argv):
    check = "--check" in argv
    stale = []
    for m, text in build().items():
        p = path_of(m)
        if check:
            if not p.is_file() or p.read_text() != text:
                stale.append(str(p.relative_to(ROOT)))
        else:
            p.write_text(text)
    if stale:
        print("out of date: " + ", ".join(stale) + "; run python tools/make_stubs.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
