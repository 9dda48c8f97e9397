"""PyTorch-like printing: ``tensor([1.0000, 2.5000], requires_grad=True)``."""
import numpy as np

from . import backend

_PRINT = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, sci_mode=None):
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth), ("sci_mode", sci_mode)):
        if v is not None:
            _PRINT[k] = v


def _float_formatter(a):
    p = _PRINT["precision"]
    finite = a[np.isfinite(a)] if a.size else a
    if finite.size == 0:
        return lambda x: f"{x}"
    absf = np.abs(finite.astype(np.float64))
    nz = absf[absf > 0]
    all_int = bool(np.all(np.floor(finite) == finite))
    sci = _PRINT["sci_mode"]
    if sci is None:
        if all_int:
            sci = nz.size > 0 and (nz.max() / nz.min() > 1000.0 or nz.max() > 1e8)
        else:
            sci = nz.size > 0 and (nz.max() / nz.min() > 1000.0 or nz.max() > 1e8 or nz.min() < 1e-4)
    if sci:
        f = lambda x: _special(x) or f"{x:.{p}e}"
    elif all_int:
        f = lambda x: _special(x) or f"{x:.0f}."
    else:
        f = lambda x: _special(x) or f"{x:.{p}f}"
    sample = finite.reshape(-1)  # as torch: the width comes from finite values only
    if sample.size > _PRINT["threshold"]:
        e = _PRINT["edgeitems"]
        sample = np.concatenate([sample[:e * 50], sample[-e * 50:]])
    width = np.max([len(f(v)) for v in sample])
    return lambda x: f(x).rjust(width)


def _special(x):
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None


def tensor_repr(t):
    a = t._data
    prefix = "tensor("
    if a.dtype.kind == "f":
        fmt = {"float_kind": _float_formatter(a)}
    elif a.dtype.kind == "b":
        w = 5 if (a.size and not a.all()) else 4  # torch right-aligns True beside False
        fmt = {"bool": lambda x: ("True" if x else "False").rjust(w)}
    else:
        fmt = None
    if a.size == 0:
        body = "[]" if a.ndim == 1 else f"[], size={a.shape}"
    else:
        body = np.array2string(a, separator=", ", prefix=prefix, formatter=fmt,
                               threshold=_PRINT["threshold"], edgeitems=_PRINT["edgeitems"],
                               max_line_width=_PRINT["linewidth"])
    extras = []
    default_dt = {backend.get_default_dtype(), np.dtype(np.int64), np.dtype(np.bool_)}
    if a.dtype not in default_dt or a.size == 0 and a.dtype != backend.get_default_dtype():
        from ._size import PREFIX  # "torch" under dalam run, as the script's PyTorch would print
        extras.append(f"dtype={PREFIX}.{a.dtype}")
    if t.grad_fn is not None:
        fn = t.grad_fn
        name = fn.backward_name() if hasattr(fn, "backward_name") else f"{type(fn).__name__}Backward0"
        extras.append(f"grad_fn=<{name}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"


def _esc(s):
    import html
    return html.escape(str(s))


def tensor_repr_html(t):
    """A notebook cell's view of a tensor: shape, dtype, grad state and summary statistics
    over the values (finite ones), then the values as repr shows them."""
    import numpy as np
    a = t._data
    rows = [("shape", tuple(int(d) for d in a.shape)), ("dtype", t.dtype), ("requires_grad", t.requires_grad)]
    if t.grad_fn is not None:
        rows.append(("grad_fn", type(t.grad_fn).__name__))
    if getattr(t, "grad", None) is not None:
        rows.append(("grad", f"{tuple(t.grad.shape)}, norm {float(np.linalg.norm(t.grad._data)):.4g}"))
    if a.size and a.dtype.kind in "fiub":
        f = a[np.isfinite(a)] if a.dtype.kind == "f" else a
        if f.size:
            rows.append(("min / mean / max", f"{f.min():.4g} / {f.astype(np.float64).mean():.4g} / "
                                             f"{f.max():.4g}"))
        if a.dtype.kind == "f" and f.size < a.size:
            rows.append(("non-finite", int(a.size - f.size)))
    table = "".join(f"<tr><th style='text-align:left'>{_esc(k)}</th><td style='text-align:left'>{_esc(v)}</td>"
                    f"</tr>" for k, v in rows)
    return (f"<div><b>{_esc(type(t).__name__)}</b><table>{table}</table>"
            f"<pre>{_esc(tensor_repr(t))}</pre></div>")


def module_repr_html(m):
    """A notebook cell's view of a module: one row per submodule with its own parameters."""
    rows = []
    total = 0
    for name, mod in m.named_modules():
        own = list(mod.named_parameters(recurse=False))
        n = sum(p.numel() for _, p in own)
        total += n
        shapes = ", ".join(f"{k} {tuple(p.shape)}" for k, p in own)
        extra = mod.extra_repr()
        rows.append(f"<tr><td style='text-align:left'>{_esc(name or '(top)')}</td>"
                    f"<td style='text-align:left'>{_esc(type(mod).__name__)}</td>"
                    f"<td style='text-align:left'>{_esc(extra)}</td>"
                    f"<td style='text-align:left'>{_esc(shapes)}</td><td>{n:,}</td></tr>")
    trainable = sum(p.numel() for p in m.parameters() if p.requires_grad)
    head = ("<tr><th>name</th><th>layer</th><th>settings</th><th>parameters</th><th>count</th></tr>")
    return (f"<div><b>{_esc(type(m).__name__)}</b>: {total:,} parameters ({trainable:,} trainable), "
            f"{'training' if m.training else 'eval'} mode<table>{head}{''.join(rows)}</table></div>")
