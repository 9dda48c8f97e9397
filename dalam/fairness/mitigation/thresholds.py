"""Per-group decision thresholds: post-processing that leaves the model alone.

A score model (probability of the positive class) is usually thresholded at 0.5 for everyone.
If the scores mean different things for different groups (a group under-represented in
training gets lower scores for its positives), one threshold per group, chosen on validation
data, can equalise an error rate across groups (Hardt et al. 2016 do this with randomised
thresholds; these are deterministic ones).

    th = GroupThresholds(objective="true_positive_rate").fit(val_scores, val_y, val_groups)
    y_hat = th.predict(test_scores, test_groups)

With many classes, the same idea is one additive offset per class on the logits
(:func:`fit_class_offsets`): a class the model rarely saw gets a bonus chosen on validation data.
"""
import numpy as np

from .._checks import columns

OBJECTIVES = ("accuracy", "balanced_accuracy", "true_positive_rate", "selection_rate")


def _candidates(s):
    u = np.unique(s)
    mids = (u[:-1] + u[1:]) / 2 if len(u) > 1 else u
    return np.concatenate([[u[0] - 1e-6], mids, [u[-1] + 1e-6]])


class GroupThresholds:
    """One threshold per group on a binary score; predict ``score >= threshold[group]``.

    ``objective``:
    - ``"accuracy"`` / ``"balanced_accuracy"``: each group's threshold maximises that metric in the group;
    - ``"true_positive_rate"`` (equal opportunity): each group's highest threshold whose TPR reaches
      ``target`` (default: the TPR of one 0.5 threshold over all the validation data);
    - ``"selection_rate"`` (demographic parity): each group's threshold selecting closest to ``target``
      (default: the overall selection rate at 0.5).
    Groups never seen in ``fit`` use ``default_threshold`` at predict time, or raise if it is None.
    """

    def __init__(self, objective="true_positive_rate", target=None, default_threshold=None, pos_label=1):
        if objective not in OBJECTIVES:
            raise ValueError(f"GroupThresholds: objective must be one of {OBJECTIVES}, got {objective!r}")
        self.objective, self.target, self.default_threshold, self.pos_label = objective, target, default_threshold, pos_label
        self.thresholds_ = None

    def fit(self, scores, y_true, groups):
        scores, y_true, groups = columns("GroupThresholds.fit", scores=scores, y_true=y_true, groups=groups)
        scores = scores.astype(np.float64)
        pos = y_true == self.pos_label
        target = self.target
        if target is None and self.objective == "true_positive_rate":
            if not pos.any():
                raise ValueError("GroupThresholds.fit: no positive examples, cannot measure a true positive rate")
            target = float((scores[pos] >= 0.5).mean())
        if target is None and self.objective == "selection_rate":
            target = float((scores >= 0.5).mean())
        self.target_ = target
        self.thresholds_ = {}
        for g in np.unique(groups):
            m = groups == g
            s, p = scores[m], pos[m]
            cand = _candidates(s)
            pred = s[None, :] >= cand[:, None]                         # (thresholds, samples)
            if self.objective == "accuracy":
                best = int(np.argmax((pred == p).mean(1)))
            elif self.objective == "balanced_accuracy":
                tpr = pred[:, p].mean(1) if p.any() else np.zeros(len(cand))
                tnr = (~pred[:, ~p]).mean(1) if (~p).any() else np.zeros(len(cand))
                best = int(np.argmax((tpr + tnr) / 2))
            elif self.objective == "true_positive_rate":
                if not p.any():
                    raise ValueError(f"GroupThresholds.fit: group {g!r} has no positive examples in the "
                                     "validation data, so its true positive rate cannot be set")
                tpr = pred[:, p].mean(1)                                # decreasing in the threshold
                ok = np.flatnonzero(tpr >= target - 1e-12)
                best = int(ok.max()) if len(ok) else 0
            else:
                best = int(np.argmin(np.abs(pred.mean(1) - target)))
            self.thresholds_[g.item() if hasattr(g, "item") else g] = float(cand[best])
        return self

    def predict(self, scores, groups):
        if self.thresholds_ is None:
            raise RuntimeError("GroupThresholds.predict: call fit(scores, y_true, groups) first")
        scores, groups = columns("GroupThresholds.predict", scores=scores, groups=groups)
        th = np.empty(len(scores))
        for g in np.unique(groups):
            key = g.item() if hasattr(g, "item") else g
            if key not in self.thresholds_:
                if self.default_threshold is None:
                    raise ValueError(f"GroupThresholds.predict: group {key!r} was not in the fitting data "
                                     f"(known: {sorted(self.thresholds_)}); pass default_threshold= to allow it")
                th[groups == g] = self.default_threshold
            else:
                th[groups == g] = self.thresholds_[key]
        pred = scores >= th
        return pred.astype(np.int64) if self.pos_label == 1 else np.where(pred, self.pos_label, -1)


def _balanced_accuracy(y, pred, k):
    rec = [(pred[y == c] == c).mean() for c in range(k) if (y == c).any()]
    return float(np.mean(rec))


def fit_class_offsets(logits, y_true, objective="balanced_accuracy", grid=None, sweeps=3):
    """Additive per-class offsets ``b`` so that ``argmax(logits + b)`` maximises ``objective`` on
    the given (validation) data: ``"balanced_accuracy"`` (mean per-class recall) or
    ``"worst_recall"`` (the smallest per-class recall, ties broken by balanced accuracy).
    Coordinate ascent over ``grid`` (default -4..4 in steps of 0.25), ``sweeps`` passes."""
    logits = np.asarray(getattr(logits, "_data", logits), np.float64)
    (y_true,) = columns("fit_class_offsets", y_true=y_true)
    if logits.ndim != 2 or logits.shape[0] != len(y_true):
        raise ValueError(f"fit_class_offsets: expected logits (N, classes) with N = {len(y_true)} labels, "
                         f"got {logits.shape}")
    if objective not in ("balanced_accuracy", "worst_recall"):
        raise ValueError(f"fit_class_offsets: objective must be 'balanced_accuracy' or 'worst_recall', got {objective!r}")
    k = logits.shape[1]
    grid = np.arange(-4, 4.001, 0.25) if grid is None else np.asarray(grid, np.float64)

    def score(b):
        pred = (logits + b).argmax(1)
        bal = _balanced_accuracy(y_true, pred, k)
        if objective == "balanced_accuracy":
            return (bal,)
        rec = [(pred[y_true == c] == c).mean() for c in range(k) if (y_true == c).any()]
        return (min(rec), bal)

    b = np.zeros(k)
    best = score(b)
    for _ in range(sweeps):
        changed = False
        for c in range(k):
            for v in grid:
                trial = b.copy()
                trial[c] = v
                s = score(trial)
                if s > best:
                    best, b, changed = s, trial, True
        if not changed:
            break
    return b.astype(np.float32)
