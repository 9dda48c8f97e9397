"""Gradient flow: mean and max |gradient| per parameter, after a backward.

Vanishing gradients show as values falling by orders of magnitude towards the
first layers; exploding ones as large or non-finite maxima.  Compute the
numbers with ``gradient_flow`` and plot them with ``plot_gradient_flow``
(matplotlib, imported only there).
"""
import math

from ..backend import xp


def gradient_flow(model, weights_only=True):
    """Per parameter with a gradient, in model order: ``(name, mean_abs, max_abs)``.

    ``model``: a Module or an iterable of ``(name, parameter)``.
    ``weights_only``: skip biases and other 1-D parameters (they make the
    picture noisy and are rarely where gradients vanish)."""
    named = model.named_parameters() if hasattr(model, "named_parameters") else model
    rows = []
    for name, p in named:
        if p.grad is None or (weights_only and p.ndim < 2):
            continue
        g = p.grad._data if hasattr(p.grad, "data") else p.grad
        a = xp.abs(g)
        rows.append((name, float(a.mean()), float(a.max())))
    if not rows:
        raise RuntimeError("gradient_flow: no parameter has a gradient; call loss.backward() first")
    return rows


def plot_gradient_flow(model, path=None, ax=None, weights_only=True, title="Gradient flow"):
    """Bar chart of max and mean |grad| per layer on a log scale; returns the Axes.

    ``path``: save the figure there (PNG/SVG/PDF by suffix)."""
    import matplotlib
    if path is not None and ax is None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    rows = gradient_flow(model, weights_only)
    names = [r[0] for r in rows]
    means = [max(r[1], 1e-30) for r in rows]
    maxes = [max(r[2], 1e-30) if math.isfinite(r[2]) else float("nan") for r in rows]
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(rows) + 2), 3.5))
    x = range(len(rows))
    ax.bar(x, maxes, alpha=0.5, color="tab:cyan", label="max |grad|")
    ax.bar(x, means, alpha=0.8, color="tab:blue", label="mean |grad|")
    ax.set_yscale("log")
    ax.set_xticks(list(x))
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("|gradient|")
    ax.set_title(title)
    ax.legend(fontsize=8)
    if fig is not None:
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=100)
            plt.close(fig)
    return ax
