"""Write dalam/datasets/_embedded/mnist_subset.npz: a balanced, seeded subset of
MNIST (500 training images per digit, 100 test images per digit) as uint8
arrays in a compressed .npz (no pickle; loaded with allow_pickle=False).

Usage: python tools/make_embedded_mnist.py [--root DIR] [--seed 0]
(DIR holds the MNIST .gz files, as for dalam.datasets.MNIST)."""
import argparse
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dalam.datasets import MNIST  # noqa: E402

OUT = ROOT / "dalam" / "datasets" / "_embedded" / "mnist_subset.npz"


def balanced(targets, per_class, rng):
    """``per_class`` indices of each class, drawn without replacement, in sorted order."""
    idx = [rng.choice(np.flatnonzero(targets == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(idx))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-per-class", type=int, default=500)
    ap.add_argument("--test-per-class", type=int, default=100)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    arrays = {}
    for split, per in (("train", args.train_per_class), ("test", args.test_per_class)):
        ds = MNIST(root=args.root, train=split == "train", download=False)
        idx = balanced(ds.targets, per, rng)
        arrays[f"x_{split}"] = ds.data[idx].astype(np.uint8)
        arrays[f"y_{split}"] = ds.targets[idx].astype(np.uint8)
        arrays[f"index_{split}"] = idx.astype(np.int32)  # positions in the full split, for provenance
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB): "
          + ", ".join(f"{k} {v.shape}" for k, v in arrays.items()))


if __name__ == "__main__":
    main()
