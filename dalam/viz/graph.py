"""Draw the autograd graph behind a tensor: one box per op (its name, output
shape and dtype), one ellipse per leaf (parameters named when you pass them),
arrows in the direction data flowed.  Output is Graphviz DOT text; the ``dot``
program (if installed) turns it into SVG or PNG, and matplotlib draws it when
Graphviz is missing.

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


def collect_graph(tensor, params=None, show_dtype=True):
    """The graph as data: ``(nodes, edges)`` with nodes ``(key, kind, text)`` (kind is
    ``op``, ``parameter``, ``leaf`` or ``output``) and edges ``(from, to, label)``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    names = _param_names(params)
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
        label = names.get(id(t))
        text = f"{label}\n{meta(t.shape, t.dtype)}" if label else meta(t.shape, t.dtype)
        return nid(t), "parameter" if label is not None else "leaf", text

    if tensor.grad_fn is None:
        return [leaf_node(tensor)], []
    if tensor.grad_fn._released or tensor.grad_fn.edges is None:
        raise RuntimeError("draw_graph: the graph of this tensor was freed by backward(); draw it "
                           "before calling backward(), or call backward(retain_graph=True)")

    # output shape of each node: from the root, from tuple-output metadata, or
    # from what its consumers recorded about their inputs (in_meta)
    out_meta = {(id(tensor.grad_fn), tensor._output_nr): (tensor.shape, tensor.dtype)}
    seen = {id(tensor.grad_fn)}
    stack = [tensor.grad_fn]
    fns, edges, leaves = [], [], {}
    while stack:
        fn = stack.pop()
        fns.append(fn)
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
    nodes = []
    for fn in fns:
        n_out = getattr(fn, "n_outputs", 1)
        om = getattr(fn, "_out_meta", None)
        parts = []
        for j in range(n_out):
            m = om[j] if om else out_meta.get((id(fn), j))
            if m is not None:
                parts.append(meta(*m))
        nodes.append((nid(fn), "op", "\n".join([type(fn).__name__] + parts)))
    nodes += [leaf_node(t) for t in leaves.values()]
    root = f"out{nid(tensor)}"
    nodes.append((root, "output", "output\n" + meta(tensor.shape, tensor.dtype)))
    edges.append((nid(tensor.grad_fn), root, None))
    return nodes, edges


_DOT_STYLE = {"op": 'shape=box, style="rounded,filled", fillcolor=lightyellow',
              "parameter": "shape=ellipse, style=filled, fillcolor=lightblue",
              "leaf": "shape=ellipse, style=filled, fillcolor=lightgrey",
              "output": "shape=ellipse, style=filled, fillcolor=palegreen"}


def graph_to_dot(tensor, params=None, show_dtype=True, name="autograd"):
    """The DOT text of the graph that produced ``tensor`` (see ``draw_graph``)."""
    nodes, edges = collect_graph(tensor, params, show_dtype)
    lines = [f"digraph {name} {{", '  rankdir="BT";',
             '  node [fontname="Helvetica", fontsize=10];']
    order = {"op": 0, "parameter": 1, "leaf": 1, "output": 2}  # ops, then leaves, then the output
    for key, kind, text in sorted(nodes, key=lambda n: order[n[1]]):
        lines.append(f"  {key} [{_DOT_STYLE[kind]}, label={_quote(text)}];")
    for a, b, label in edges:
        lines.append(f"  {a} -> {b}" + (f" [label={_quote(label)}]" if label else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layers(nodes, edges):
    """A layered layout: each node one row above its highest input (inputs at the bottom)."""
    preds = {k: [] for k, _, _ in nodes}
    for a, b, _ in edges:
        preds[b].append(a)
    level = {}
    for k in preds:  # iterative longest path from the leaves (no recursion: graphs can be deep)
        stack = [k]
        while stack:
            n = stack[-1]
            todo = [p for p in preds[n] if p not in level]
            if todo:
                stack.extend(todo)
                continue
            level[n] = 1 + max((level[p] for p in preds[n]), default=-1)
            stack.pop()
    succs = {}
    for a, b, _ in edges:
        succs.setdefault(a, []).append(level[b])
    for k in preds:  # a leaf sits just below the op that uses it
        if not preds[k] and k in succs:
            level[k] = min(succs[k]) - 1
    rows = {}
    for k, _, _ in nodes:
        rows.setdefault(level[k], []).append(k)
    x = {}
    for lv in sorted(rows):  # order each row by the mean position of its inputs
        row = sorted(rows[lv], key=lambda n: sum(x[p] for p in preds[n]) / len(preds[n]) if preds[n] else 0)
        for i, n in enumerate(row):
            x[n] = i - (len(row) - 1) / 2
    return x, level


def render_matplotlib(tensor_or_graph, path, params=None, show_dtype=True):
    """Draw the graph with matplotlib (no Graphviz needed): a layered picture, inputs at the
    bottom, the output at the top, in the same colours as the DOT rendering."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    nodes, edges = (tensor_or_graph if isinstance(tensor_or_graph, tuple)
                    else collect_graph(tensor_or_graph, params, show_dtype))
    x, level = _layers(nodes, edges)
    width = max(3.0, 2.2 * (max(x.values()) - min(x.values()) + 1))
    height = max(2.0, 1.1 * (max(level.values()) + 1))
    fig, ax = plt.subplots(figsize=(width, height))
    colours = {"op": "lightyellow", "parameter": "lightblue", "leaf": "lightgrey", "output": "palegreen"}
    for a, b, label in edges:
        ax.annotate("", xy=(x[b], level[b] - 0.28), xytext=(x[a], level[a] + 0.28),
                    arrowprops=dict(arrowstyle="->", color="0.35", lw=0.9))
        if label:
            ax.text((x[a] + x[b]) / 2, (level[a] + level[b]) / 2, label, fontsize=7, color="0.3")
    for key, kind, text in nodes:
        box = "round,pad=0.3" if kind == "op" else "round4,pad=0.3"
        ax.text(x[key], level[key], text, ha="center", va="center", fontsize=8, family="sans-serif",
                bbox=dict(boxstyle=box, fc=colours[kind], ec="0.4", lw=0.8))
    ax.set_xlim(min(x.values()) - 0.8, max(x.values()) + 0.8)
    ax.set_ylim(-0.6, max(level.values()) + 0.6)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def render_dot(dot_text, path, format=None, graph=None):
    """Render DOT text to ``path`` with Graphviz (format from the suffix: svg, png, pdf);
    without Graphviz, ``graph`` (from ``collect_graph``) is drawn with matplotlib instead."""
    fmt = format or os.path.splitext(str(path))[1].lstrip(".").lower()
    if fmt == "dot" or fmt == "gv":
        with open(path, "w") as f:
            f.write(dot_text)
        return path
    exe = shutil.which("dot")
    if exe is None and graph is not None and fmt in ("svg", "png", "pdf"):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            pass
        else:  # no Graphviz: matplotlib draws the same graph (a simpler layout)
            return render_matplotlib(graph, path)
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
    ``.png``/``.pdf`` run Graphviz's ``dot``, or draw with matplotlib when Graphviz is not
    installed (a clear error when neither is)."""
    graph = collect_graph(tensor, params, show_dtype)
    text = graph_to_dot(tensor, params, show_dtype)
    if path is not None:
        render_dot(text, path, format, graph=graph)
    return text
