"""Train a CNN on Fashion-MNIST with dalam (target: >= 92.0% test accuracy).

The same two-block CNN as examples/mnist_cnn.py (conv 3x3 + BatchNorm + ReLU +
max-pool, twice; dropout; FC head), with random shifts and horizontal flips.

    python examples/fashion_cnn.py                    # 14 epochs, ~92.3%
    python examples/fashion_cnn.py --epochs 1 --limit 5000
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist_cnn  # noqa: E402

if __name__ == "__main__":
    ap = mnist_cnn._ap
    ap.set_defaults(dataset="fashion-mnist", flip=True, epochs=14)
    mnist_cnn.main(ap.parse_args())
