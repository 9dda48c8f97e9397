"""Draw the autograd graph behind a tensor: one box per op (its name, output
shape and dtype), one ellipse per leaf (parameters named when you pass them),
arrows in the direction data flowed.  Output is Graphviz DOT text; the ``dot``
program (if installed) turns it into SVG or PNG.

Draw before calling ``backward()``: backward frees the graph (unless
``retain_graph=True``), exactly as in PyTorch.
"""
import os
import shutil
import subprocess

from ..tensor import Tensor


def _shape(shape):
    return str(tuple(int(d) for d in shape))


def _quote(s):
    """A DOT string literal; real newlines become DOT's line breaks."""
    s = str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + s + '"'


def _param_names(params):
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    elif isinstance(params, dict):
        params = params.items()
    return {id(p): n for n, p in params}


def graph_to_dot(tensor, params=None, show_dtype=True, name="autograd"):
    """The DOT text of the graph that produced ``tensor`` (see ``draw_graph``)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    names = _param_names(params)
    lines = [f"digraph {name} {{", '  rankdir="BT";',
             '  node [fontname="Helvetica", fontsize=10];']
    ids = {}

    def nid(obj):
        k = id(obj)
        if k not in ids:
            ids[k] = f"n{len(ids)}"
        return ids[k]

    def meta(shape, dtype):
        s = _shape(shape)
        return f"{s} {dtype}" if show_dtype else s

    def leaf_node(t):
        k = nid(t)
        label = names.get(id(t))
        kind = "parameter" if label is not None else "leaf"
        text = f"{label}\n{meta(t.shape, t.dtype)}" if label else meta(t.shape, t.dtype)
        color = "lightblue" if kind == "parameter" else "lightgrey"
        return k, f'  {k} [shape=ellipse, style=filled, fillcolor={color}, label={_quote(text)}];'

    if tensor.grad_fn is None:
        k, line = leaf_node(tensor)
        lines.append(line)
        lines.append("}")
        return "\n".join(lines) + "\n"
    if tensor.grad_fn._released or tensor.grad_fn.edges is None:
        raise RuntimeError("draw_graph: the graph of this tensor was freed by backward(); draw it "
                           "before calling backward(), or call backward(retain_graph=True)")

    # output shape of each node: from the root, from tuple-output metadata, or
    # from what its consumers recorded about their inputs (in_meta)
    out_meta = {(id(tensor.grad_fn), tensor._output_nr): (tensor.shape, tensor.dtype)}
    seen = {id(tensor.grad_fn)}
    stack = [tensor.grad_fn]
    nodes, edges, leaves = [], [], {}
    while stack:
        fn = stack.pop()
        nodes.append(fn)
        for i, e in enumerate(fn.edges or ()):
            if e is None:
                continue
            shape_dtype = fn.in_meta[i] if fn.in_meta and fn.in_meta[i] is not None else None
            if isinstance(e, Tensor):
                leaves[id(e)] = e
                edges.append((nid(e), nid(fn), None))
                continue
            parent, nr = e
            if shape_dtype is not None:
                out_meta.setdefault((id(parent), nr), shape_dtype)
            label = f"out {nr}" if getattr(parent, "n_outputs", 1) > 1 else None
            edges.append((nid(parent), nid(fn), label))
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    for fn in nodes:
        k = nid(fn)
        n_out = getattr(fn, "n_outputs", 1)
        om = getattr(fn, "_out_meta", None)
        parts = []
        for j in range(n_out):
            m = om[j] if om else out_meta.get((id(fn), j))
            if m is not None:
                parts.append(meta(*m))
        text = "\n".join([type(fn).__name__] + parts)
        lines.append(f'  {k} [shape=box, style="rounded,filled", fillcolor=lightyellow, label={_quote(text)}];')
    for t in leaves.values():
        lines.append(leaf_node(t)[1])
    root = f"out{nid(tensor)}"
    root_label = _quote("output\n" + meta(tensor.shape, tensor.dtype))
    lines.append(f'  {root} [shape=ellipse, style=filled, fillcolor=palegreen, label={root_label}];')
    edges.append((nid(tensor.grad_fn), root, None))
    for a, b, label in edges:
        lines.append(f"  {a} -> {b}" + (f" [label={_quote(label)}]" if label else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_dot(dot_text, path, format=None):
    """Render DOT text to ``path`` with Graphviz (format from the suffix: svg, png, pdf)."""
    fmt = format or os.path.splitext(str(path))[1].lstrip(".").lower()
    if fmt == "dot" or fmt == "gv":
        with open(path, "w") as f:
            f.write(dot_text)
        return path
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            "draw_graph: Graphviz's 'dot' program was not found on PATH, so the graph cannot be rendered "
            f"to {fmt}. Install Graphviz (apt install graphviz / brew install graphviz / "
            "conda install graphviz), or save the DOT text with a path ending in .dot.")
    res = subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=dot_text.encode(), capture_output=True)
    if res.returncode != 0:
        raise RuntimeError(f"draw_graph: dot -T{fmt} failed: {res.stderr.decode(errors='replace').strip()}")
    return path


def draw_graph(tensor, params=None, path=None, format=None, show_dtype=True):
    """Draw the autograd graph that computed ``tensor``; returns the DOT text.

    ``params``: a Module, a dict ``name -> tensor`` or ``named_parameters()``,
    so leaves are shown by name (``0.weight``) instead of only their shape.
    ``path``: also write the drawing there: ``.dot`` writes the text, ``.svg``/
    ``.png``/``.pdf`` run Graphviz's ``dot`` (a clear error if it is missing)."""
    text = graph_to_dot(tensor, params, show_dtype)
    if path is not None:
        render_dot(text, path, format)
    return text
