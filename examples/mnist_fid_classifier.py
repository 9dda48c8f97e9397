"""Train (once) the LeNet-5 whose penultimate features define the "MNIST FID"
of dalam.metrics.fid, and cache it as safetensors (default
~/.cache/dalam/mnist_fid_lenet5.safetensors).

    python examples/mnist_fid_classifier.py [--epochs 2] [--path FILE]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--path", default=None)
    ap.add_argument("--data", default=None, help="MNIST folder (default: dalam's search path)")
    args = ap.parse_args()
    from dalam.metrics.fid import train_mnist_classifier, _path
    t = time.time()
    _, acc = train_mnist_classifier(args.path, epochs=args.epochs, root=args.data)
    print(f"MNIST FID classifier: test accuracy {acc:.4f}, saved to {_path(args.path)} "
          f"({time.time() - t:.0f} s)")


if __name__ == "__main__":
    main()
