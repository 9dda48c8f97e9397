"""Heat-maps of explanations over the image, saved as PNG.  matplotlib is
imported only here, and used through its object API (no pyplot, no global
backend switch), so it is safe in scripts and servers alike."""
import numpy as np

from ..tensor import Tensor


def _img(a):
    a = np.asarray(a._data if isinstance(a, Tensor) else a, np.float64)
    while a.ndim > 3 or (a.ndim == 3 and a.shape[0] == 1 and a.shape[-1] not in (3,)):
        a = a[0]  # drop batch / single channel axes
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = np.moveaxis(a, 0, -1)
    return a


def to_heatmap(attr):
    """A 2-D map in [0, 1] from an attribution of shape (H, W), (C, H, W) or
    (1, C, H, W): magnitude, max over channels, scaled by its maximum."""
    a = np.asarray(attr._data if isinstance(attr, Tensor) else attr, np.float64)
    while a.ndim > 3:
        a = a[0]
    a = np.abs(a)
    if a.ndim == 3:
        a = a.max(0)
    m = a.max()
    return a / m if m > 0 else a


def save_heatmaps(path, image, maps, title=None, cmap="inferno", alpha=0.55, signed=(), dpi=100):
    """Save one row of panels: the image, then each map of ``maps`` (a dict
    name -> attribution) as a heat-map over the greyed image.  Names in
    ``signed`` are drawn with a diverging colour map (red +, blue -) instead
    of by magnitude.  Returns the path."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise ImportError("save_heatmaps needs matplotlib: pip install matplotlib") from None
    img = _img(image)
    n = 1 + len(maps)
    fig = Figure(figsize=(2.0 * n, 2.3 if title else 2.1))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)[0]
    gray = img if img.ndim == 2 else img.mean(-1)
    axes[0].imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
    axes[0].set_title("input", fontsize=9)
    for ax, (name, attr) in zip(axes[1:], maps.items()):
        ax.imshow(gray, cmap="gray", vmin=0, vmax=1)
        if name in signed:
            a = _img(attr)
            a = a if a.ndim == 2 else a.sum(-1)
            lim = np.abs(a).max() or 1.0
            ax.imshow(a, cmap="bwr", vmin=-lim, vmax=lim, alpha=alpha + 0.2)
        else:
            ax.imshow(to_heatmap(attr), cmap=cmap, vmin=0, vmax=1, alpha=alpha)
        ax.set_title(name, fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path
