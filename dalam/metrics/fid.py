"""Judging generated digits without eyes: Frechet distance and an "MNIST FID".

``frechet_distance(mu1, sigma1, mu2, sigma2)`` is the Frechet (2-Wasserstein)
distance between two Gaussians:
``||mu1 - mu2||^2 + tr(s1 + s2 - 2 (s1 s2)^{1/2})``.  The trace of the matrix
square root is computed without scipy: with ``r = s1^{1/2}`` (symmetric, from
``eigh``), ``s1 s2`` is similar to the symmetric PSD ``r s2 r``, so
``tr (s1 s2)^{1/2} = sum sqrt(eigvalsh(r s2 r))``; small negative eigenvalues
from rounding are clipped to zero.

The Inception network of the usual FID knows nothing of digits; instead we use
the penultimate (84-unit) features of a LeNet-5 trained on MNIST
(``train_mnist_classifier``, cached as safetensors in ~/.cache/dalam), and
report the FID of real held-out test images as the floor to compare with.
The classifier also gives its confidence on generated samples and the
histogram of predicted digits (mode collapse shows as a skew).

Images passed to these helpers are (N, 1, 28, 28) arrays/Tensors in [0, 1].
"""
import os

import numpy as np

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
DEFAULT_PATH = os.path.join("~", ".cache", "dalam", "mnist_fid_lenet5.safetensors")


# ----------------------------------------------------------------- Frechet distance
def sqrtm_psd(a):
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition."""
    a = np.asarray(a, np.float64)
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (float)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"frechet_distance: expected means (D,) and covariances (D, D) of one D; got "
                         f"{mu1.shape}, {s1.shape}, {mu2.shape}, {s2.shape}")
    r = sqrtm_psd(s1)
    m = r @ s2 @ r
    eig = np.linalg.eigvalsh((m + m.T) / 2)
    tr_sqrt = float(np.sqrt(np.clip(eig, 0, None)).sum())
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def feature_stats(features):
    """(mean, covariance) of features (N, D), in float64 (unbiased covariance)."""
    f = np.asarray(features, np.float64)
    return f.mean(0), np.cov(f, rowvar=False)


# ----------------------------------------------------------------- the MNIST classifier
def _path(path):
    return os.path.expanduser(path if path is not None else DEFAULT_PATH)


def _to_input(images):
    a = images.detach().numpy() if hasattr(images, "detach") else images
    a = np.asarray(a, np.float32)
    if a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4 or a.shape[1:] != (1, 28, 28):
        raise ValueError(f"mnist_fid: expected images (N, 1, 28, 28) in [0, 1], got shape {a.shape}")
    return (a - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)


def train_mnist_classifier(path=None, epochs=2, batch_size=128, lr=1e-3, seed=0, root=None,
                           log=print):
    """Train a LeNet-5 on the MNIST training set and save it (safetensors) to
    ``path`` (default ~/.cache/dalam/mnist_fid_lenet5.safetensors); returns
    (model, test accuracy)."""
    import dalam
    from dalam.datasets import MNIST
    from dalam.models import LeNet5
    from dalam.nn import functional as F
    dalam.manual_seed(seed)
    x, y = (t.numpy() for t in MNIST(root=root, train=True).as_tensors(normalize=False))
    xt, yt = (t.numpy() for t in MNIST(root=root, train=False).as_tensors(normalize=False))
    x, xt = _to_input(x), _to_input(xt)
    model = LeNet5()
    opt = dalam.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            loss = F.cross_entropy(model(dalam.tensor(x[idx])), dalam.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        acc = _accuracy(model, xt, yt)
        if log:
            log(f"classifier epoch {epoch + 1}: test accuracy {acc:.4f}")
    p = _path(path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    dalam.save(model.state_dict(), p, metadata={"model": "LeNet5", "test_accuracy": f"{acc:.4f}"})
    return model, acc


def _accuracy(model, x, y):
    logits = _run(model, x, features=False)
    return float((logits.argmax(1) == y).mean())


def load_mnist_classifier(path=None, train_if_missing=False, **train_kw):
    """The cached LeNet-5 (eval mode); trains it first when missing and asked to."""
    import dalam
    from dalam.models import LeNet5
    p = _path(path)
    if not os.path.exists(p):
        if not train_if_missing:
            raise FileNotFoundError(
                f"mnist_fid: no classifier weights at {p}; train them once with "
                "dalam.metrics.fid.train_mnist_classifier() (or examples/mnist_fid_classifier.py)")
        model, _ = train_mnist_classifier(path, **train_kw)
    else:
        model = LeNet5()
        model.load_state_dict(dalam.load(p))
    return model.eval()


def _run(model, x, features=True, batch_size=1000):
    """Penultimate features (N, 84) or logits (N, 10) of normalised inputs x."""
    import dalam
    out = []
    mods = list(model.classifier.children())
    with dalam.no_grad():
        for i in range(0, len(x), batch_size):
            h = model.features(dalam.tensor(x[i:i + batch_size]))
            for m in (mods[:-1] if features else mods):
                h = m(h)
            out.append(h.numpy())
    return np.concatenate(out) if out else np.zeros((0, 84 if features else 10), np.float32)


def mnist_features(images, model):
    """(features (N, 84), logits (N, 10)) of images in [0, 1]."""
    x = _to_input(images)
    f = _run(model, x, features=True)
    mods = list(model.classifier.children())
    import dalam
    with dalam.no_grad():
        logits = mods[-1](dalam.tensor(f)).numpy()
    return f, logits


def mnist_fid(images, reference, model):
    """FID between ``images`` and ``reference`` (both (N, 1, 28, 28) in [0, 1],
    or ``reference`` given as precomputed (mu, sigma)) on the classifier's
    penultimate features."""
    f, _ = mnist_features(images, model)
    if isinstance(reference, tuple):
        mu2, s2 = reference
    else:
        mu2, s2 = feature_stats(mnist_features(reference, model)[0])
    mu1, s1 = feature_stats(f)
    return frechet_distance(mu1, s1, mu2, s2)


def classifier_report(images, model, num_classes=10):
    """Mean confidence (max softmax probability), predicted labels and the
    histogram of predicted digits (fractions) of images in [0, 1]."""
    _, logits = mnist_features(images, model)
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    pred = p.argmax(1)
    hist = np.bincount(pred, minlength=num_classes) / max(len(pred), 1)
    return {"confidence": float(p.max(1).mean()), "predictions": pred, "histogram": hist}
