"""Calibration per group: are the predicted probabilities right *for each group*?

A model can be calibrated overall and still over-confident for a small group.  For binary
probabilities of the positive class, ``calibration_by_group`` gives each group's expected
calibration error (ECE: the mean |observed rate - mean predicted probability| over equal-width
probability bins, weighted by the bin's size), Brier score, mean predicted probability and
observed positive rate, and the reliability curve (per bin: mean prediction, observed rate, count)."""
import numpy as np

from .._checks import columns


def reliability(y_true, y_prob, n_bins=10, pos_label=1):
    """Per equal-width bin of ``y_prob``: (mean predicted, observed positive rate, count); empty bins dropped."""
    y = (np.asarray(y_true) == pos_label).astype(np.float64)
    p = np.asarray(y_prob, np.float64)
    idx = np.clip((p * n_bins).astype(int), 0, n_bins - 1)  # right edge 1.0 goes in the last bin
    count = np.bincount(idx, minlength=n_bins)
    s_p = np.bincount(idx, weights=p, minlength=n_bins)
    s_y = np.bincount(idx, weights=y, minlength=n_bins)
    keep = count > 0
    return s_p[keep] / count[keep], s_y[keep] / count[keep], count[keep]


def expected_calibration_error(y_true, y_prob, n_bins=10, pos_label=1):
    mean_p, rate, count = reliability(y_true, y_prob, n_bins, pos_label)
    return float((np.abs(rate - mean_p) * count).sum() / count.sum())


def calibration_by_group(y_true, y_prob, groups, n_bins=10, pos_label=1):
    """``{group: {"count", "ece", "brier", "mean_prob", "positive_rate", "curve"}}`` plus an
    ``"overall"`` entry; ``y_prob`` is the predicted probability of ``pos_label``."""
    y_true, y_prob, groups = columns("calibration_by_group", y_true=y_true, y_prob=y_prob, groups=groups)
    y_prob = y_prob.astype(np.float64)
    if y_prob.size and (np.nanmin(y_prob) < 0 or np.nanmax(y_prob) > 1):
        raise ValueError(f"calibration_by_group: y_prob must be probabilities in [0, 1], got range "
                         f"[{y_prob.min():.3g}, {y_prob.max():.3g}]; apply a sigmoid/softmax to the scores first")

    def one(m):
        y = (y_true[m] == pos_label).astype(np.float64)
        return {"count": int(m.sum()), "ece": expected_calibration_error(y_true[m], y_prob[m], n_bins, pos_label),
                "brier": float(((y_prob[m] - y) ** 2).mean()), "mean_prob": float(y_prob[m].mean()),
                "positive_rate": float(y.mean()), "curve": reliability(y_true[m], y_prob[m], n_bins, pos_label)}

    out = {(k.item() if hasattr(k, "item") else k): one(groups == k) for k in np.unique(groups)}
    out["overall"] = one(np.ones(len(y_true), bool))
    return out


def calibration_gap(y_true, y_prob, groups, n_bins=10, pos_label=1):
    """Largest minus smallest per-group ECE."""
    per = calibration_by_group(y_true, y_prob, groups, n_bins, pos_label)
    eces = [v["ece"] for k, v in per.items() if k != "overall"]
    return float(max(eces) - min(eces))
