"""Single-number fairness criteria over a group column (the same definitions as fairlearn).

- demographic parity: every group is *selected* (predicted positive) at the same rate;
- equalised odds (Hardt et al. 2016): every group has the same true positive rate and the same
  false positive rate; the difference is the larger of the two gaps;
- equal opportunity: the true-positive-rate part alone.
Differences are 0 at parity; ratios are 1 at parity."""
import numpy as np

from .group import group_report


def _report(y_true, y_pred, groups, sample_weight, pos_label, names):
    return group_report(y_true, y_pred, groups, sample_weight=sample_weight, metrics=names, pos_label=pos_label)


def demographic_parity_difference(y_true, y_pred, groups, sample_weight=None, method="between_groups", pos_label=1):
    return _report(y_true, y_pred, groups, sample_weight, pos_label, ["selection_rate"]).difference(
        "selection_rate", method)


def demographic_parity_ratio(y_true, y_pred, groups, sample_weight=None, method="between_groups", pos_label=1):
    return _report(y_true, y_pred, groups, sample_weight, pos_label, ["selection_rate"]).ratio(
        "selection_rate", method)


def equal_opportunity_difference(y_true, y_pred, groups, sample_weight=None, method="between_groups", pos_label=1):
    return _report(y_true, y_pred, groups, sample_weight, pos_label, ["true_positive_rate"]).difference(
        "true_positive_rate", method)


def equalized_odds_difference(y_true, y_pred, groups, sample_weight=None, method="between_groups", agg="worst_case",
                              pos_label=1):
    """max (``agg="worst_case"``) or mean (``agg="mean"``) of the TPR gap and the FPR gap."""
    r = _report(y_true, y_pred, groups, sample_weight, pos_label, ["true_positive_rate", "false_positive_rate"])
    gaps = [r.difference("true_positive_rate", method), r.difference("false_positive_rate", method)]
    if agg == "worst_case":
        return float(max(gaps))
    if agg == "mean":
        return float(np.mean(gaps))
    raise ValueError(f"equalized_odds_difference: agg must be 'worst_case' or 'mean', got {agg!r}")


def equalized_odds_ratio(y_true, y_pred, groups, sample_weight=None, method="between_groups", agg="worst_case",
                         pos_label=1):
    r = _report(y_true, y_pred, groups, sample_weight, pos_label, ["true_positive_rate", "false_positive_rate"])
    ratios = [r.ratio("true_positive_rate", method), r.ratio("false_positive_rate", method)]
    if agg == "worst_case":
        return float(min(ratios))
    if agg == "mean":
        return float(np.mean(ratios))
    raise ValueError(f"equalized_odds_ratio: agg must be 'worst_case' or 'mean', got {agg!r}")


# ---- many classes: every class is a "group" of the true label ------------------------------
def per_class_rates(y_true, y_pred, num_classes=None):
    """One-vs-rest rates for each class c: ``recall[c]`` = P(pred c | true c) (the class's TPR)
    and ``fpr[c]`` = P(pred c | true not c).  Returns ``{"recall": array, "fpr": array, "count": array}``."""
    from .._checks import columns
    y_true, y_pred = columns("per_class_rates", y_true=y_true, y_pred=y_pred)
    k = int(max(y_true.max(), y_pred.max()) + 1) if num_classes is None else num_classes
    recall, fpr, count = np.full(k, np.nan), np.full(k, np.nan), np.zeros(k, np.int64)
    for c in range(k):
        pos = y_true == c
        count[c] = pos.sum()
        if pos.any():
            recall[c] = (y_pred[pos] == c).mean()
        if (~pos).any():
            fpr[c] = (y_pred[~pos] == c).mean()
    return {"recall": recall, "fpr": fpr, "count": count}


def multiclass_equalized_odds_gap(y_true, y_pred, num_classes=None):
    """Equalised odds across classes, one-vs-rest: the larger of (max - min recall) and
    (max - min false positive rate) over the classes present."""
    r = per_class_rates(y_true, y_pred, num_classes)
    rec, fpr = r["recall"][~np.isnan(r["recall"])], r["fpr"][~np.isnan(r["fpr"])]
    return float(max(rec.max() - rec.min(), fpr.max() - fpr.min()))
