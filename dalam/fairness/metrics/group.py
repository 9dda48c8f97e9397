"""Metrics disaggregated by group: one row per value of the group column.

    report = group_report(y_true, y_pred, groups)
    print(report)                              # a table: count, accuracy, TPR, FPR, ... per group
    report.by_group["accuracy"]                # {group: value}
    report.difference("true_positive_rate")    # largest minus smallest over groups
"""
import numpy as np

from .._checks import columns, weights_or_ones
from .rates import BINARY_ONLY, RATES


def _groups_of(groups):
    keys = np.unique(groups)
    return keys, [groups == k for k in keys]


def _key(k):
    return k.item() if hasattr(k, "item") else k


def by_group(metric, y_true, y_pred, groups, sample_weight=None, **kwargs):
    """``{group: metric(y_true[g], y_pred[g], sample_weight[g], **kwargs)}`` for each group value;
    ``metric`` is a callable or the name of a rate in :mod:`dalam.fairness.metrics.rates`."""
    fn = RATES[metric] if isinstance(metric, str) else metric
    y_true, y_pred, groups, sw = columns("by_group", y_true=y_true, y_pred=y_pred, groups=groups,
                                         sample_weight=sample_weight)
    keys, masks = _groups_of(groups)
    return {_key(k): fn(y_true[m], y_pred[m], None if sw is None else sw[m], **kwargs) for k, m in zip(keys, masks)}


def _is_binary(y_true, y_pred, pos_label):
    vals = np.union1d(np.unique(y_true), np.unique(y_pred))
    return len(vals) <= 2 and (pos_label in vals or len(vals) <= 1)


class GroupReport:
    """Metrics overall and per group (``overall[name]``, ``by_group[name][group]``, ``count``)."""

    def __init__(self, overall, by_group_values, count, metrics):
        self.overall, self.by_group, self.count, self.metrics = overall, by_group_values, count, metrics

    @property
    def groups(self):
        return list(self.count)

    def difference(self, metric, method="between_groups"):
        """Largest gap: max - min over groups, or (``method="to_overall"``) the largest distance
        of a group from the overall value (fairlearn's two methods)."""
        vals = np.array([v for v in self.by_group[metric].values() if not np.isnan(v)])
        if len(vals) == 0:
            return float("nan")
        if method == "between_groups":
            return float(vals.max() - vals.min())
        if method == "to_overall":
            return float(np.abs(vals - self.overall[metric]).max())
        raise ValueError(f"GroupReport.difference: method must be 'between_groups' or 'to_overall', got {method!r}")

    def ratio(self, metric, method="between_groups"):
        """Smallest over largest (1 = parity); ``to_overall``: the smallest of group/overall and overall/group."""
        vals = np.array([v for v in self.by_group[metric].values() if not np.isnan(v)])
        if len(vals) == 0:
            return float("nan")
        if method == "between_groups":
            return float(vals.min() / vals.max()) if vals.max() > 0 else float("nan")
        if method == "to_overall":
            o = self.overall[metric]
            r = [min(v / o, o / v) if v > 0 and o > 0 else 0.0 for v in vals]
            return float(min(r))
        raise ValueError(f"GroupReport.ratio: method must be 'between_groups' or 'to_overall', got {method!r}")

    def worst(self, metric, higher_is_better=True):
        """(group, value) of the group doing worst on ``metric``."""
        items = [(g, v) for g, v in self.by_group[metric].items() if not np.isnan(v)]
        return (min if higher_is_better else max)(items, key=lambda gv: gv[1])

    def as_rows(self):
        return [{"group": g, "count": self.count[g], **{m: self.by_group[m][g] for m in self.metrics}}
                for g in self.groups]

    def __str__(self):
        short = {"accuracy": "acc", "error_rate": "err", "selection_rate": "sel", "true_positive_rate": "TPR",
                 "false_positive_rate": "FPR", "false_negative_rate": "FNR", "true_negative_rate": "TNR"}
        head = ["group", "n"] + [short.get(m, m) for m in self.metrics]
        rows = [[str(g), str(self.count[g])] + [f"{self.by_group[m][g]:.3f}" for m in self.metrics]
                for g in self.groups]
        rows.append(["overall", str(sum(self.count.values()))] + [f"{self.overall[m]:.3f}" for m in self.metrics])
        widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
        fmt = lambda r: "  ".join(c.rjust(w) for c, w in zip(r, widths))  # noqa: E731
        return "\n".join([fmt(head)] + [fmt(r) for r in rows])

    __repr__ = __str__


def group_report(y_true, y_pred, groups, sample_weight=None, metrics=None, pos_label=1):
    """Per-group accuracy and error rate, and for binary predictions also the selection rate and
    the true/false positive/negative rates.  ``metrics``: names or ``{name: callable}`` to choose."""
    y_true, y_pred, groups, sw = columns("group_report", y_true=y_true, y_pred=y_pred, groups=groups,
                                         sample_weight=sample_weight)
    if metrics is None:
        names = list(RATES) if _is_binary(y_true, y_pred, pos_label) else ["accuracy", "error_rate"]
        metrics = {n: RATES[n] for n in names}
    elif not isinstance(metrics, dict):
        unknown = [m for m in metrics if m not in RATES]
        if unknown:
            raise ValueError(f"group_report: unknown metrics {unknown}; known: {sorted(RATES)} "
                             "(or pass {name: callable})")
        if not _is_binary(y_true, y_pred, pos_label) and any(m in BINARY_ONLY for m in metrics):
            raise ValueError(f"group_report: {[m for m in metrics if m in BINARY_ONLY]} need binary labels with "
                             f"pos_label={pos_label!r}; got classes {np.unique(y_true)[:10]}")
        metrics = {n: RATES[n] for n in metrics}
    keys, masks = _groups_of(groups)
    w = weights_or_ones(sw, len(y_true))
    overall = {n: fn(y_true, y_pred, w, pos_label=pos_label) for n, fn in metrics.items()}
    values = {n: {_key(k): fn(y_true[m], y_pred[m], w[m], pos_label=pos_label) for k, m in zip(keys, masks)}
              for n, fn in metrics.items()}
    count = {_key(k): int(m.sum()) for k, m in zip(keys, masks)}
    return GroupReport(overall, values, count, list(metrics))
