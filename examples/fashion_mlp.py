"""The MLP of mnist_mlp.py on Fashion-MNIST (target: >= 88.5% test accuracy).

Same model and training (784-512-512-10, ReLU, dropout, Adam, cosine
schedule), a little more dropout and more epochs for the harder dataset.

    python examples/fashion_mlp.py                      # 30 epochs
    python examples/fashion_mlp.py --epochs 1 --limit 5000
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_mlp import main, parser  # noqa: E402

if __name__ == "__main__":
    main(parser(dataset="fashion-mnist", epochs=30, dropout=0.3, out="runs/fashion_mlp").parse_args())
