"""Classification metrics: functions on a whole set of predictions, and
stateful ``Metric`` objects that ``fit`` updates batch by batch.

Inputs are dalam Tensors, NumPy arrays or lists.  ``output`` may be
- scores (logits or probabilities) of shape (N, C): the prediction is the argmax;
- binary scores of shape (N,) or (N, 1): the prediction is ``score > 0`` when
  some score lies outside [0, 1] (logits), else ``score > 0.5`` (probabilities);
- integer class labels of shape (N,).
``target`` holds class indices (N,), or one-hot / probability rows (N, C).

Averages follow scikit-learn's conventions: confusion matrices have true
classes as rows and predicted classes as columns; ``macro`` averages over the
classes that occur in the targets or the predictions; a class never predicted
has precision 0 (sklearn's ``zero_division=0``); ``micro`` pools all samples,
which for single-label data equals accuracy.
"""
import re

import numpy as np

_AVERAGES = ("macro", "micro")


def _array(x, what):
    if isinstance(getattr(x, "_data", None), np.ndarray):
        return x._data
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor, without importing torch
        return x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except Exception:
        raise TypeError(f"metrics: {what} must be a Tensor, array or list, got {type(x).__name__}") from None


def predicted_labels(output):
    """Class labels (int64, shape (N,)) from scores or labels; see the module docstring."""
    a = _array(output, "output")
    if a.dtype.kind in "biu":
        if a.ndim != 1:
            raise ValueError(f"metrics: integer predictions must have shape (N,), got {a.shape}")
        return a.astype(np.int64, copy=False)
    if a.dtype.kind != "f":
        raise TypeError(f"metrics: output must be numeric scores or integer labels, got dtype {a.dtype}")
    if a.ndim == 2 and a.shape[1] > 1:
        return a.argmax(axis=1)
    if a.ndim == 1 or (a.ndim == 2 and a.shape[1] == 1):
        a = a.reshape(-1)
        thr = 0.0 if (a.size and (a.min() < 0 or a.max() > 1)) else 0.5
        return (a > thr).astype(np.int64)
    raise ValueError(f"metrics: output must have shape (N, C), (N,) or (N, 1), got {a.shape}; "
                     "flatten extra dimensions first")


def target_labels(target):
    """Class indices (int64, (N,)) from indices, one-hot rows or binary floats."""
    a = _array(target, "target")
    if a.ndim == 2 and a.shape[1] > 1:
        return a.argmax(axis=1)
    a = a.reshape(-1) if a.ndim == 2 else a
    if a.ndim != 1:
        raise ValueError(f"metrics: target must have shape (N,) or (N, C), got {a.shape}")
    if a.dtype.kind == "f":
        r = np.rint(a)
        if not np.array_equal(r, a):
            raise ValueError("metrics: float targets must be whole numbers (class indices or 0/1); "
                             "give one-hot rows as shape (N, C)")
        a = r
    elif a.dtype.kind not in "biu":
        raise TypeError(f"metrics: target must hold class indices, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def _pair(output, target):
    p, t = predicted_labels(output), target_labels(target)
    if p.shape != t.shape:
        raise ValueError(f"metrics: output gives {p.shape[0]} predictions but target has "
                         f"{t.shape[0]} labels; they must describe the same samples")
    return p, t


def _check_average(average, fn):
    if average not in _AVERAGES:
        raise ValueError(f"{fn}: average must be one of {_AVERAGES}, got {average!r}")


# ---------------------------------------------------------------- functions
def accuracy(output, target):
    """Fraction of samples whose predicted class equals the target."""
    p, t = _pair(output, target)
    return float((p == t).mean()) if t.size else 0.0


def _topk_hits(output, target, k):
    s = _array(output, "output")
    if s.ndim != 2 or s.dtype.kind != "f":
        raise ValueError(f"top_k_accuracy: output must be float scores of shape (N, C), got "
                         f"{s.dtype} {s.shape}")
    t = target_labels(target)
    if t.shape[0] != s.shape[0]:
        raise ValueError(f"top_k_accuracy: output has {s.shape[0]} rows but target has {t.shape[0]} labels")
    if not 1 <= k:
        raise ValueError(f"top_k_accuracy: k must be at least 1, got {k}")
    if k >= s.shape[1]:
        return np.ones(t.shape[0], dtype=bool)
    # a hit when fewer than k classes score strictly higher than the target's class
    tgt = s[np.arange(len(t)), t]
    return (s > tgt[:, None]).sum(axis=1) < k


def top_k_accuracy(output, target, k=5):
    """Fraction of samples whose target is among the ``k`` highest scores
    (ties counted in the target's favour, as a strict-rank test)."""
    hits = _topk_hits(output, target, k)
    return float(hits.mean()) if hits.size else 0.0


def confusion_matrix(output, target, num_classes=None):
    """(C, C) int64 counts: row = true class, column = predicted class."""
    p, t = _pair(output, target)
    return _confusion(p, t, num_classes, _num_scores(output))


def _num_scores(output):
    a = _array(output, "output")
    return a.shape[1] if (a.ndim == 2 and a.shape[1] > 1 and a.dtype.kind == "f") else 0


def _confusion(p, t, num_classes, at_least=0):
    if p.size and (p.min() < 0 or t.min() < 0):
        raise ValueError("metrics: class labels must be non-negative")
    hi = int(max(p.max(initial=-1), t.max(initial=-1))) + 1
    c = max(hi, at_least) if num_classes is None else int(num_classes)
    if hi > c:
        raise ValueError(f"metrics: a label {hi - 1} is out of range for num_classes={c}")
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c).astype(np.int64)


def _prf_from_confusion(cm, average):
    """(precision, recall, f1) from a confusion matrix, as floats."""
    cm = np.asarray(cm, dtype=np.int64)
    tp = np.diag(cm).astype(np.float64)
    pred = cm.sum(axis=0).astype(np.float64)
    true = cm.sum(axis=1).astype(np.float64)
    if average == "micro":
        n = cm.sum()
        v = float(tp.sum() / n) if n else 0.0
        return v, v, v
    present = (pred > 0) | (true > 0)
    if not present.any():
        return 0.0, 0.0, 0.0
    tp, pred, true = tp[present], pred[present], true[present]
    prec = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
    rec = np.divide(tp, true, out=np.zeros_like(tp), where=true > 0)
    s = prec + rec
    f1 = np.divide(2 * prec * rec, s, out=np.zeros_like(tp), where=s > 0)
    return float(prec.mean()), float(rec.mean()), float(f1.mean())


def precision(output, target, average="macro", num_classes=None):
    """Precision, ``macro`` (mean over classes) or ``micro`` (pooled)."""
    _check_average(average, "precision")
    return _prf_from_confusion(confusion_matrix(output, target, num_classes), average)[0]


def recall(output, target, average="macro", num_classes=None):
    """Recall, ``macro`` (mean over classes) or ``micro`` (pooled)."""
    _check_average(average, "recall")
    return _prf_from_confusion(confusion_matrix(output, target, num_classes), average)[1]


def f1_score(output, target, average="macro", num_classes=None):
    """F1 (harmonic mean of precision and recall per class), ``macro`` or ``micro``."""
    _check_average(average, "f1_score")
    return _prf_from_confusion(confusion_matrix(output, target, num_classes), average)[2]


# ---------------------------------------------------------------- stateful
class Metric:
    """A metric accumulated over batches: ``reset()``, ``update(output,
    target)`` per batch, ``compute()`` -> float for the samples seen.
    ``state_dict()`` / ``load_state_dict()`` let a checkpoint resume mid-epoch."""

    name = "metric"

    def reset(self):
        raise TypeError(f"{type(self).__name__} must define reset()")

    def update(self, output, target):
        raise TypeError(f"{type(self).__name__} must define update(output, target)")

    def compute(self):
        raise TypeError(f"{type(self).__name__} must define compute()")

    def state_dict(self):
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()
                if not k.startswith("_") and k != "name"}

    def load_state_dict(self, state):
        for k, v in state.items():
            setattr(self, k, np.array(v) if isinstance(v, np.ndarray) else v)

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class Accuracy(Metric):
    name = "accuracy"

    def __init__(self):
        self.reset()

    def reset(self):
        self.correct = 0
        self.total = 0

    def update(self, output, target):
        p, t = _pair(output, target)
        self.correct += int((p == t).sum())
        self.total += int(t.size)

    def compute(self):
        return self.correct / self.total if self.total else 0.0


class TopKAccuracy(Accuracy):
    def __init__(self, k=5):
        self.k = int(k)
        self.name = f"top{self.k}_accuracy"
        self.reset()

    def update(self, output, target):
        hits = _topk_hits(output, target, self.k)
        self.correct += int(hits.sum())
        self.total += int(hits.size)


class ConfusionMatrix(Metric):
    """Accumulates the confusion matrix; ``compute()`` returns it (an array,
    so it is not logged as a number by ``fit``)."""

    name = "confusion_matrix"

    def __init__(self, num_classes=None):
        self.num_classes = num_classes
        self.reset()

    def reset(self):
        c = self.num_classes or 0
        self.matrix = np.zeros((c, c), dtype=np.int64)

    def update(self, output, target):
        p, t = _pair(output, target)
        m = _confusion(p, t, self.num_classes, max(_num_scores(output), self.matrix.shape[0]))
        c = self.matrix.shape[0]
        if m.shape[0] > c:  # a class seen for the first time: grow
            grown = np.zeros_like(m)
            grown[:c, :c] = self.matrix
            self.matrix = grown
        self.matrix += m

    def compute(self):
        return self.matrix.copy()


class _PRF(ConfusionMatrix):
    _index = 0
    _base = ""

    def __init__(self, average="macro", num_classes=None):
        _check_average(average, type(self).__name__)
        self.average = average
        self.name = self._base if average == "macro" else f"{self._base}_{average}"
        super().__init__(num_classes)

    def compute(self):
        return _prf_from_confusion(self.matrix, self.average)[self._index]


class Precision(_PRF):
    _index, _base = 0, "precision"


class Recall(_PRF):
    _index, _base = 1, "recall"


class F1Score(_PRF):
    _index, _base = 2, "f1"


class _FunctionMetric(Metric):
    """A plain ``fn(output, target) -> float``, averaged over samples."""

    def __init__(self, fn, name=None):
        self._fn = fn
        self.name = name or getattr(fn, "__name__", "metric")
        self.reset()

    def reset(self):
        self.sum = 0.0
        self.total = 0

    def update(self, output, target):
        a = _array(target, "target")
        n = int(a.shape[0]) if a.ndim else 1
        self.sum += float(self._fn(output, target)) * n
        self.total += n

    def compute(self):
        return self.sum / self.total if self.total else 0.0


_NAMED = {
    "accuracy": Accuracy, "acc": Accuracy,
    "precision": lambda: Precision("macro"), "precision_macro": lambda: Precision("macro"),
    "precision_micro": lambda: Precision("micro"),
    "recall": lambda: Recall("macro"), "recall_macro": lambda: Recall("macro"),
    "recall_micro": lambda: Recall("micro"),
    "f1": lambda: F1Score("macro"), "f1_macro": lambda: F1Score("macro"),
    "f1_score": lambda: F1Score("macro"), "f1_micro": lambda: F1Score("micro"),
    "top_k_accuracy": lambda: TopKAccuracy(5),
}


def get_metric(spec):
    """A ``Metric`` from a name (``"accuracy"``, ``"top5_accuracy"``,
    ``"f1_micro"``...), a Metric instance, a Metric class or a function
    ``fn(output, target) -> float``."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, type) and issubclass(spec, Metric):
        return spec()
    if isinstance(spec, str):
        key = spec.lower()
        if key in _NAMED:
            return _NAMED[key]()
        m = re.fullmatch(r"top_?(\d+)(?:_acc|_accuracy)?", key)
        if m:
            return TopKAccuracy(int(m.group(1)))
        raise ValueError(f"unknown metric {spec!r}; known names: {', '.join(sorted(_NAMED))}, "
                         "topK_accuracy (e.g. top5_accuracy); or pass a Metric or a function "
                         "fn(output, target) -> float")
    if callable(spec):
        return _FunctionMetric(spec)
    raise TypeError(f"a metric must be a name, a Metric or a function, got {type(spec).__name__}")
