"""Shared pieces of the generative-model examples: MNIST in [0, 1], the MNIST-FID
evaluation (dalam.metrics.fid) and a results printer."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def load_mnist01(root=None, subset=False):
    """(x_train, y_train, x_test, y_test): x float32 (N, 1, 28, 28) in [0, 1], y int64."""
    from dalam.datasets import MNIST
    out = []
    for train in (True, False):
        ds = MNIST(root=root, train=train, subset=subset)
        x, y = ds.as_tensors(normalize=False)
        out += [x.numpy(), y.numpy()]
    return tuple(out)


def add_common_args(ap, out):
    ap.add_argument("--out", default=out, help="folder for PNGs, weights and results.json")
    ap.add_argument("--data", default=None, help="MNIST folder (default: dalam's search path)")
    ap.add_argument("--subset", action="store_true", help="use the embedded 5k/1k MNIST subset")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--classifier", default=None,
                    help="FID classifier weights (default ~/.cache/dalam/mnist_fid_lenet5.safetensors; "
                         "trained on first use)")
    ap.add_argument("--eval-samples", type=int, default=5000)


class FIDJudge:
    """MNIST-FID against the statistics of ``n`` training images, plus the
    classifier's confidence and digit histogram."""

    def __init__(self, x_train, classifier=None, n=10000, root=None):
        from dalam.metrics.fid import feature_stats, load_mnist_classifier, mnist_features
        self.model = load_mnist_classifier(classifier, train_if_missing=True, root=root)
        self.ref = feature_stats(mnist_features(x_train[:n], self.model)[0])

    def __call__(self, images01):
        from dalam.metrics.fid import classifier_report, mnist_fid
        rep = classifier_report(images01, self.model)
        return {"fid": mnist_fid(images01, self.ref, self.model), "confidence": rep["confidence"],
                "histogram": [round(float(h), 4) for h in rep["histogram"]],
                "predictions": rep["predictions"]}


def save_results(out, results):
    os.makedirs(out, exist_ok=True)
    clean = {k: v for k, v in results.items() if not isinstance(v, np.ndarray)}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(clean, f, indent=1, default=float)
    print(json.dumps(clean, indent=1, default=float))
