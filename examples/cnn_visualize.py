"""What a CNN "sees": save as PNG the learned first-layer filters and the feature
maps that one test image produces in the first and second conv layers.

Trains the MNIST CNN of examples/mnist_cnn.py briefly (``--steps`` Adam steps)
with a forward hook collecting the activations, then plots with matplotlib.

    python examples/cnn_visualize.py --out docs/figures     # writes 2 PNGs
"""
import argparse
import os
import sys

_ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_ap.add_argument("--out", default="docs/figures")
_ap.add_argument("--steps", type=int, default=300)
_ap.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
_ap.add_argument("--data", default=None)
_ap.add_argument("--index", type=int, default=0, help="which test image to show")


def main(args):
    import numpy as np
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    sys.path.insert(0, os.path.join(here, ".."))
    import dalam
    import dalam.nn as nn
    import dalam.nn.functional as F
    from _cnn_data import load, augment
    from mnist_cnn import build, evaluate

    dalam.manual_seed(0)
    rng = np.random.default_rng(0)
    xtr, ytr, xte, yte = load(args.dataset, args.data)
    model = build("cnn")
    opt = dalam.optim.Adam(model.parameters(), lr=2e-3)
    for step in range(args.steps):
        idx = rng.integers(0, len(xtr), 128)
        loss = F.cross_entropy(model(dalam.tensor(augment(xtr[idx], rng))), dalam.tensor(ytr[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = evaluate(model, xte[:2000], yte[:2000])
    print(f"trained {args.steps} steps: test accuracy on 2000 images {100 * acc:.2f}%")

    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    maps = {}
    hooks = [c.register_forward_hook(lambda m, a, out, i=i: maps.__setitem__(i, out.detach().numpy().copy()))
             for i, c in enumerate(convs)]
    model.eval()
    img = xte[args.index:args.index + 1]
    with dalam.no_grad():
        pred = int(model(dalam.tensor(img)).detach().numpy().argmax())
    for h in hooks:
        h.remove()
    os.makedirs(args.out, exist_ok=True)

    w = convs[0].weight.detach().numpy()[:, 0]  # (32, 3, 3)
    fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
    for ax, f in zip(axes.flat, w):
        ax.imshow(f, cmap="RdBu_r", vmin=-np.abs(w).max(), vmax=np.abs(w).max())
        ax.axis("off")
    fig.suptitle("First-layer 3x3 filters (red +, blue -)")
    p1 = os.path.join(args.out, "cnn_filters.png")
    fig.savefig(p1, dpi=110, bbox_inches="tight")
    plt.close(fig)

    fig = plt.figure(figsize=(12, 6.5))
    ax = fig.add_subplot(3, 9, 1)
    ax.imshow(img[0, 0], cmap="gray")
    ax.set_title(f"input (label {yte[args.index]}, pred {pred})", fontsize=7)
    ax.axis("off")
    for j in range(8):
        ax = fig.add_subplot(3, 9, 2 + j)
        ax.imshow(maps[0][0, j], cmap="viridis")
        ax.set_title(f"conv1 map {j}", fontsize=7)
        ax.axis("off")
    for j in range(16):
        ax = fig.add_subplot(3, 9, 11 + j + (1 if j >= 8 else 0))
        ax.imshow(maps[1][0, j], cmap="viridis")
        ax.set_title(f"conv2 map {j}", fontsize=7)
        ax.axis("off")
    fig.suptitle("Feature maps of one test image (before BatchNorm/ReLU)")
    p2 = os.path.join(args.out, "cnn_feature_maps.png")
    fig.savefig(p2, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print("wrote", p1, "and", p2)


if __name__ == "__main__":
    main(_ap.parse_args())
