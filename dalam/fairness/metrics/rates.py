"""Per-sample rates of a classifier: each takes ``(y_true, y_pred, sample_weight=None)`` and
returns one number, so any of them can be computed per group by :func:`by_group`.

Binary rates treat ``pos_label`` (default 1) as the positive outcome.  A rate whose
denominator is empty in a group (no positives, say) is NaN, not 0: it was not measured."""
import numpy as np


def _wmean(hit, w):
    s = w.sum()
    return float((hit * w).sum() / s) if s > 0 else float("nan")


def accuracy(y_true, y_pred, sample_weight=None, pos_label=1):
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    return _wmean(np.asarray(y_true) == np.asarray(y_pred), w)


def error_rate(y_true, y_pred, sample_weight=None, pos_label=1):
    return 1.0 - accuracy(y_true, y_pred, sample_weight)


def selection_rate(y_true, y_pred, sample_weight=None, pos_label=1):
    """Fraction predicted positive (what demographic parity compares)."""
    w = np.ones(len(y_pred)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    return _wmean(np.asarray(y_pred) == pos_label, w)


def _conditional(y_true, y_pred, sample_weight, pos_label, actual_pos, predicted_pos):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    given = (y_true == pos_label) if actual_pos else (y_true != pos_label)
    hit = (y_pred == pos_label) if predicted_pos else (y_pred != pos_label)
    return _wmean(hit[given], w[given])


def true_positive_rate(y_true, y_pred, sample_weight=None, pos_label=1):
    """Recall: P(pred positive | actually positive)."""
    return _conditional(y_true, y_pred, sample_weight, pos_label, True, True)


def false_negative_rate(y_true, y_pred, sample_weight=None, pos_label=1):
    return _conditional(y_true, y_pred, sample_weight, pos_label, True, False)


def false_positive_rate(y_true, y_pred, sample_weight=None, pos_label=1):
    """P(pred positive | actually negative)."""
    return _conditional(y_true, y_pred, sample_weight, pos_label, False, True)


def true_negative_rate(y_true, y_pred, sample_weight=None, pos_label=1):
    return _conditional(y_true, y_pred, sample_weight, pos_label, False, False)


RATES = {"accuracy": accuracy, "error_rate": error_rate, "selection_rate": selection_rate,
         "true_positive_rate": true_positive_rate, "false_positive_rate": false_positive_rate,
         "false_negative_rate": false_negative_rate, "true_negative_rate": true_negative_rate}
BINARY_ONLY = ("selection_rate", "true_positive_rate", "false_positive_rate", "false_negative_rate",
               "true_negative_rate")
