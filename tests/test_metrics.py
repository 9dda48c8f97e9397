"""dalam.metrics: functions and stateful metrics against hand computations."""
import numpy as np
import pytest

import dalam
from dalam import metrics as M

# 3 classes, 8 samples; predictions from scores by argmax
Y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
P = np.array([0, 1, 0, 1, 2, 2, 2, 0])


def scores(pred, c=3, seed=0):
    """Random float32 scores whose argmax is ``pred``."""
    s = np.random.default_rng(seed).random((len(pred), c)).astype(np.float32)
    s[np.arange(len(pred)), pred] += 2
    return s


def hand_prf(y, p, c):
    """Per-class precision/recall/F1 the textbook way, for checking."""
    prec, rec, f1 = [], [], []
    for k in range(c):
        tp = sum(1 for a, b in zip(y, p) if a == k and b == k)
        fp = sum(1 for a, b in zip(y, p) if a != k and b == k)
        fn = sum(1 for a, b in zip(y, p) if a == k and b != k)
        if tp + fp + fn == 0:
            continue
        pk = tp / (tp + fp) if tp + fp else 0.0
        rk = tp / (tp + fn) if tp + fn else 0.0
        prec.append(pk)
        rec.append(rk)
        f1.append(2 * pk * rk / (pk + rk) if pk + rk else 0.0)
    return np.mean(prec), np.mean(rec), np.mean(f1)


def test_accuracy_from_scores_labels_tensors_and_one_hot():
    s = scores(P)
    assert M.accuracy(s, Y) == pytest.approx(5 / 8)
    assert M.accuracy(dalam.tensor(s), dalam.tensor(Y)) == pytest.approx(5 / 8)
    assert M.accuracy(P, Y) == pytest.approx(5 / 8)
    assert M.accuracy(s, np.eye(3, dtype=np.float32)[Y]) == pytest.approx(5 / 8)  # one-hot targets
    assert M.accuracy(list(P), list(Y)) == pytest.approx(5 / 8)
    assert isinstance(M.accuracy(s, Y), float)


def test_binary_scores_threshold_logits_and_probabilities():
    y = np.array([1, 0, 1, 1])
    assert M.accuracy(np.array([2.0, -1.0, -0.5, 3.0]), y) == 0.75   # logits: > 0
    assert M.accuracy(np.array([0.9, 0.2, 0.4, 0.6]), y) == 0.75     # probabilities: > 0.5
    assert M.accuracy(np.array([[0.9], [0.2], [0.4], [0.6]]), y.astype(np.float32)) == 0.75


def test_top_k_accuracy_matches_rank_computation():
    rng = np.random.default_rng(1)
    s = rng.standard_normal((50, 10)).astype(np.float32)
    y = rng.integers(0, 10, 50)
    for k in (1, 3, 5, 10):
        topk = np.argsort(-s, axis=1)[:, :k]
        expected = np.mean([y[i] in topk[i] for i in range(50)])
        assert M.top_k_accuracy(s, y, k=k) == pytest.approx(expected)
    assert M.top_k_accuracy(s, y, k=1) == pytest.approx(M.accuracy(s, y))


def test_top_k_matches_torch_topk():
    import torch
    rng = np.random.default_rng(2)
    s = rng.standard_normal((64, 20)).astype(np.float32)
    y = rng.integers(0, 20, 64)
    top = torch.from_numpy(s).topk(5, dim=1).indices.numpy()
    assert M.top_k_accuracy(s, y, 5) == pytest.approx((top == y[:, None]).any(1).mean())


def test_confusion_matrix_rows_are_true_classes():
    cm = M.confusion_matrix(scores(P), Y)
    expected = np.zeros((3, 3), np.int64)
    for a, b in zip(Y, P):
        expected[a, b] += 1
    assert cm.dtype == np.int64 and np.array_equal(cm, expected)
    assert cm.sum() == 8 and np.trace(cm) == 5
    assert M.confusion_matrix(P, Y, num_classes=5).shape == (5, 5)
    # scores with 4 columns give a 4x4 matrix even if class 3 never occurs
    assert M.confusion_matrix(scores(P, c=4), Y).shape == (4, 4)


@pytest.mark.parametrize("seed", range(4))
def test_precision_recall_f1_macro_match_hand_computation(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, 40)
    p = np.where(rng.random(40) < 0.6, y, rng.integers(0, 5, 40))
    hp, hr, hf = hand_prf(y, p, 5)
    s = scores(p, c=5, seed=seed)
    assert M.precision(s, y) == pytest.approx(hp)
    assert M.recall(s, y) == pytest.approx(hr)
    assert M.f1_score(s, y) == pytest.approx(hf)


def test_micro_average_equals_accuracy_for_single_label():
    s = scores(P)
    acc = M.accuracy(s, Y)
    for f in (M.precision, M.recall, M.f1_score):
        assert f(s, Y, average="micro") == pytest.approx(acc)


def test_known_values_and_zero_division():
    # class 1 is never predicted: its precision counts as 0 (sklearn's zero_division=0)
    y = np.array([0, 1, 1, 0])
    p = np.array([0, 0, 0, 0])
    assert M.precision(p, y) == pytest.approx((0.5 + 0.0) / 2)
    assert M.recall(p, y) == pytest.approx((1.0 + 0.0) / 2)
    assert M.f1_score(p, y) == pytest.approx((2 * 0.5 * 1 / 1.5 + 0) / 2)
    # classes absent from both targets and predictions do not dilute the macro mean
    assert M.precision(p, y, num_classes=10) == pytest.approx(0.25)


def test_stateful_metrics_accumulate_like_the_whole_set():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 100)
    p = np.where(rng.random(100) < 0.7, y, rng.integers(0, 4, 100))
    s = scores(p, c=4)
    for name, whole in [("accuracy", M.accuracy(s, y)), ("top2_accuracy", M.top_k_accuracy(s, y, 2)),
                        ("precision", M.precision(s, y)), ("recall_micro", M.recall(s, y, "micro")),
                        ("f1", M.f1_score(s, y)), ("f1_micro", M.f1_score(s, y, "micro"))]:
        m = M.get_metric(name)
        for i in range(0, 100, 32):
            m.update(s[i:i + 32], y[i:i + 32])
        assert m.compute() == pytest.approx(whole), name
        state = m.state_dict()
        m2 = M.get_metric(name)
        m2.load_state_dict(state)
        assert m2.compute() == pytest.approx(whole)
        m.reset()
        assert m.compute() == 0.0
    cm = M.ConfusionMatrix()
    cm.update(np.array([0, 1]), np.array([0, 1]))
    cm.update(np.array([3]), np.array([2]))  # grows to 4 classes
    assert np.array_equal(cm.compute(), M.confusion_matrix(np.array([0, 1, 3]), np.array([0, 1, 2])))


def test_metric_names_and_functions():
    assert M.get_metric("acc").name == "accuracy"
    assert M.get_metric("top5_accuracy").k == 5 and M.get_metric("top3").k == 3
    assert M.get_metric("precision_micro").name == "precision_micro"
    assert M.get_metric("f1").name == "f1"
    assert M.get_metric(M.Accuracy).name == "accuracy"

    def error_rate(output, target):
        return 1 - M.accuracy(output, target)
    m = M.get_metric(error_rate)
    m.update(P[:4], Y[:4])
    m.update(P[4:], Y[4:])
    assert m.name == "error_rate" and m.compute() == pytest.approx(3 / 8)


def test_metric_errors_are_clear():
    with pytest.raises(ValueError, match="unknown metric 'acuracy'.*accuracy"):
        M.get_metric("acuracy")
    with pytest.raises(ValueError, match="3 predictions but target has 2"):
        M.accuracy(np.array([0, 1, 2]), np.array([0, 1]))
    with pytest.raises(ValueError, match="average must be one of"):
        M.precision(P, Y, average="weighted")
    with pytest.raises(ValueError, match="out of range for num_classes=2"):
        M.confusion_matrix(P, Y, num_classes=2)
    with pytest.raises(ValueError, match="shape \\(N, C\\)"):
        M.accuracy(np.zeros((2, 3, 4), np.float32), np.array([0, 1]))
    with pytest.raises(ValueError, match="whole numbers"):
        M.accuracy(np.array([0, 1]), np.array([0.5, 1.0]))
    with pytest.raises(TypeError, match="a metric must be"):
        M.get_metric(3)
