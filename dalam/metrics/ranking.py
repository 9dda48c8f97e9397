"""Recommendation metrics, as the field reports them.

Rating prediction: ``rmse``, ``mae``.

Ranking, one held-out item per user (leave-one-out):
  * the NCF protocol (He et al. 2017): the held-out item is ranked among 99
    sampled items the user never rated; ``scores`` is (N, 100) with the
    held-out item in column 0;
  * full ranking: the held-out item is ranked among every item the user has
    not rated in training (``full_ranking_ranks`` masks the seen ones).
From the 0-based rank r of the held-out item: HR@K = mean(r < K),
NDCG@K = mean(1/log2(r + 2) if r < K), MRR = mean(1 / (r + 1)).
Ties count against the model (the item ranks below every equal score).

Lists: ``catalogue_coverage`` (share of items that appear in any top-K list)
and ``popularity_bias`` (mean training popularity percentile of recommended
items: 1.0 means only blockbusters).  ``per_group`` splits any per-user
metric by a group label (gender, age band) to show who is served worse.
"""
import numpy as np


def _arr(x):
    return x._data if hasattr(x, "_data") else np.asarray(x)


def rmse(pred, target):
    p, t = _arr(pred).astype(np.float64), _arr(target).astype(np.float64)
    if p.shape != t.shape:
        raise ValueError(f"rmse: predictions {p.shape} and targets {t.shape} differ in shape")
    return float(np.sqrt(np.mean((p - t) ** 2)))


def mae(pred, target):
    p, t = _arr(pred).astype(np.float64), _arr(target).astype(np.float64)
    if p.shape != t.shape:
        raise ValueError(f"mae: predictions {p.shape} and targets {t.shape} differ in shape")
    return float(np.mean(np.abs(p - t)))


def ranks_of_first(scores):
    """0-based rank of column 0 in each row of (N, C) ``scores`` (ties pessimistic)."""
    s = _arr(scores)
    if s.ndim != 2 or s.shape[1] < 2:
        raise ValueError(f"ranks_of_first: expected (users, 1 + candidates) scores with the "
                         f"held-out item in column 0, got shape {s.shape}")
    return (s[:, 1:] >= s[:, :1]).sum(1)


def full_ranking_ranks(scores, target_items, seen):
    """0-based rank of ``target_items`` among all items not in ``seen`` (the
    training items), from (N, num_items) ``scores`` and (N, num_items) bool
    ``seen``.  The target itself must not be marked seen."""
    s = np.array(_arr(scores), dtype=np.float64, copy=True)
    t = np.asarray(target_items)
    if seen is not None:
        if seen[np.arange(len(t)), t].any():
            raise ValueError("full_ranking_ranks: a target item is marked as seen in training")
        s[seen] = -np.inf
    ts = s[np.arange(len(t)), t]
    return (s >= ts[:, None]).sum(1) - 1


def hit_rate(ranks, k=10):
    return float(np.mean(np.asarray(ranks) < k))


def ndcg(ranks, k=10):
    r = np.asarray(ranks)
    return float(np.mean(np.where(r < k, 1.0 / np.log2(r + 2.0), 0.0)))


def mrr(ranks):
    return float(np.mean(1.0 / (np.asarray(ranks) + 1.0)))


def ranking_report(ranks, k=10):
    """{'HR@k', 'NDCG@k', 'MRR'} from ranks."""
    return {f"HR@{k}": hit_rate(ranks, k), f"NDCG@{k}": ndcg(ranks, k), "MRR": mrr(ranks)}


def top_k(scores, k=10, seen=None):
    """(N, k) item indices of the k best unseen items per row, best first."""
    s = np.array(_arr(scores), dtype=np.float64, copy=True)
    if seen is not None:
        s[seen] = -np.inf
    part = np.argpartition(-s, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)


def catalogue_coverage(top_lists, num_items):
    """Share of the catalogue that appears in at least one list."""
    return float(len(np.unique(np.asarray(top_lists))) / num_items)


def popularity_bias(top_lists, item_counts):
    """Mean popularity percentile (0..1, by training rating count) of the
    recommended items; a popularity recommender scores near 1."""
    c = np.asarray(item_counts, np.float64)
    pct = np.argsort(np.argsort(c, kind="stable"), kind="stable") / max(len(c) - 1, 1)
    return float(pct[np.asarray(top_lists)].mean())


def per_group(values, groups, names=None):
    """Mean of per-user ``values`` for each group label: {name: (mean, count)}."""
    v, g = np.asarray(values, np.float64), np.asarray(groups)
    out = {}
    for lab in np.unique(g):
        m = g == lab
        key = names[lab] if names is not None and not isinstance(names, dict) else \
            (names.get(lab, lab) if isinstance(names, dict) else lab)
        out[key if isinstance(key, str) else str(key)] = (float(v[m].mean()), int(m.sum()))
    return out
