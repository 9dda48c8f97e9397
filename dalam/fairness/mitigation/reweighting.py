"""Sample re-weighting: change how much each example counts, not the examples themselves.

Kamiran & Calders (2012), "Data preprocessing techniques for classification without
discrimination": weight each (group, label) cell by expected / observed frequency,

    w(g, y) = P(g) P(y) / P(g, y),

so that in the weighted data the label is independent of the group.  Without a group column,
:func:`balanced_weights` gives each class the same total weight (scikit-learn's "balanced"):
the fix for a class that is rare in training.

Use the weights either in the loss,

    loss = (F.cross_entropy(model(x), y, reduction="none") * w[idx]).mean()

or in the sampler, so rare cells are drawn more often:

    loader = DataLoader(ds, batch_size=64, sampler=weighted_sampler(w))
"""
import numpy as np

from .._checks import columns


def reweighing(y, groups):
    """Kamiran-Calders weights, one per sample (float32, mean 1 when every cell is populated)."""
    y, groups = columns("reweighing", y=y, groups=groups)
    n = len(y)
    ys, y_idx = np.unique(y, return_inverse=True)
    gs, g_idx = np.unique(groups, return_inverse=True)
    cell = np.zeros((len(gs), len(ys)))
    np.add.at(cell, (g_idx, y_idx), 1)
    p_g, p_y = cell.sum(1) / n, cell.sum(0) / n
    w = p_g[g_idx] * p_y[y_idx] / (cell[g_idx, y_idx] / n)
    return w.astype(np.float32)


def balanced_weights(y, groups=None):
    """Weights that give every class (or every group, if ``groups`` is given) the same total
    weight: n / (k * n_c).  Mean 1."""
    y, groups = columns("balanced_weights", y=y, groups=groups)
    key = y if groups is None else groups
    vals, idx, count = np.unique(key, return_inverse=True, return_counts=True)
    return (len(key) / (len(vals) * count[idx])).astype(np.float32)


def weighted_sampler(weights, num_samples=None, replacement=True, generator=None):
    """A ``dalam.data.WeightedRandomSampler`` drawing sample i with probability proportional to ``weights[i]``."""
    from ...data.sampler import WeightedRandomSampler
    (w,) = columns("weighted_sampler", weights=weights)
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError("weighted_sampler: weights must be finite, non-negative and not all zero")
    return WeightedRandomSampler(w.astype(np.float64).tolist(), len(w) if num_samples is None else num_samples,
                                 replacement=replacement, generator=generator)
