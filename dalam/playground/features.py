"""Input features computed from a 2-D point (x1, x2): the network sees only
the ones the learner switches on.  Coordinates are scaled by 1/3 first so the
inputs are of order one; the sines use the raw coordinate (two periods across
the plane), as in the TensorFlow Playground."""
import numpy as np

FEATURES = {
    "x1": lambda a, b, x, y: a,
    "x2": lambda a, b, x, y: b,
    "x1^2": lambda a, b, x, y: a * a,
    "x2^2": lambda a, b, x, y: b * b,
    "x1x2": lambda a, b, x, y: a * b,
    "sin(x1)": lambda a, b, x, y: np.sin(x),
    "sin(x2)": lambda a, b, x, y: np.sin(y),
}
# the same formulas as Python source, for exported scripts
SOURCE = {
    "x1": "a", "x2": "b", "x1^2": "a * a", "x2^2": "b * b", "x1x2": "a * b",
    "sin(x1)": "np.sin(X[:, 0])", "sin(x2)": "np.sin(X[:, 1])",
}


def compute(X, names):
    """(n, 2) points -> (n, len(names)) float32 inputs in the order of ``names``."""
    x, y = X[:, 0], X[:, 1]
    a, b = x / 3.0, y / 3.0
    return np.stack([FEATURES[n](a, b, x, y) for n in names], 1).astype(np.float32)
