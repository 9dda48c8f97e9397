"""One sigmoid neuron, its gradient derived by hand next to autograd's.

Neuron: ``p = sigmoid(w . x + b)``; loss: binary cross-entropy
``L = -mean(t log p + (1 - t) log(1 - p))`` over N examples.
By the chain rule, with ``z = w . x + b`` and ``sigmoid' = p (1 - p)``:
    dL/dp = (p - t) / (p (1 - p)) / N    so    dL/dz = (p - t) / N
    dL/dw = X^T (p - t) / N              dL/db = sum(p - t) / N
The script computes these by hand and with ``loss.backward()`` (float64),
prints both and their largest difference, then trains the neuron with its
hand-written gradient on a linearly separable problem.

    python examples/single_neuron.py
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import numpy as np  # noqa: E402

import dalam  # noqa: E402


def hand_gradient(w, b, x, t):
    """The chain rule, written out with NumPy arrays."""
    z = x @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    dz = (p - t) / len(t)
    return loss, x.T @ dz, dz.sum()


def autograd_gradient(w, b, x, t):
    wt = dalam.tensor(w, requires_grad=True)
    bt = dalam.tensor(b, dtype=dalam.float64, requires_grad=True)
    p = dalam.sigmoid(dalam.tensor(x) @ wt + bt)
    tt = dalam.tensor(t)
    loss = -(tt * dalam.log(p) + (1 - tt) * dalam.log(1 - p)).mean()
    loss.backward()
    return loss.item(), wt.grad.numpy(), bt.grad.item()


def main(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((8, 3))                  # float64: exact comparisons
    t = (x @ np.array([1.5, -2.0, 0.5]) > 0).astype(np.float64)
    w = rng.standard_normal(3)
    b = np.float64(0.1)

    loss_h, gw_h, gb_h = hand_gradient(w, b, x, t)
    loss_a, gw_a, gb_a = autograd_gradient(w, b, x, t)
    print(f"loss:        by hand {loss_h:.12f}   autograd {loss_a:.12f}")
    print(f"dL/dw:       by hand {np.array2string(gw_h, precision=12)}")
    print(f"             autograd {np.array2string(gw_a, precision=12)}")
    print(f"dL/db:       by hand {gb_h:.12f}   autograd {gb_a:.12f}")
    diff = max(np.abs(gw_h - gw_a).max(), abs(gb_h - gb_a), abs(loss_h - loss_a))
    print(f"max |hand - autograd| = {diff:.3e}  ->  {'equal' if diff < 1e-12 else 'DIFFERENT'}")

    for step in range(200):  # gradient descent with the hand-written gradient
        loss, gw, gb = hand_gradient(w, b, x, t)
        w -= 1.0 * gw
        b -= 1.0 * gb
    acc = np.mean(((x @ w + b) > 0) == (t > 0.5))
    print(f"after 200 steps of gradient descent: loss {loss:.4f}, training accuracy {acc:.0%}")
    return diff, acc


if __name__ == "__main__":
    main()
