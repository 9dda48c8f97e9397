"""Overfitting control on a small-data MNIST task, one technique at a time.

Task: 1,000 MNIST training images (the first 1,000 of the training set),
validation on 5,000 held-out training images (50,000-54,999), the 10,000 test
images for the final score.  Model: MLP 784-512-512-10 (ReLU), Adam lr 1e-3,
batch 50, up to 60 epochs, trained with ``dalam.fit``.  Runs:

- baseline: no regularisation (it overfits: validation loss turns up);
- weight decay: L2 penalty through Adam's ``weight_decay``;
- dropout: ``nn.Dropout(0.5)`` after each hidden layer;
- early stopping: ``EarlyStopping(patience=5, restore_best_weights=True)``;
- augmentation: random shifts (+-2 px crop) and small rotations/scales
  (``RandomAffine``) applied per batch by the DataLoader;
- all four together.

Prints a table (validation loss and accuracy of the model training ended
with -- for early stopping the restored best epoch's -- the best epoch's
validation loss and accuracy, test accuracy) and
saves the train-vs-validation loss curves to docs/figures/overfitting_curves.png.

    OPENBLAS_NUM_THREADS=1 python examples/overfitting_mnist.py
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import dalam  # noqa: E402
import dalam.nn as nn  # noqa: E402
from dalam.data import DataLoader, Subset, TensorDataset, transforms as T  # noqa: E402
from dalam.datasets import MNIST  # noqa: E402
from dalam.train import EarlyStopping  # noqa: E402

FIG = os.path.join(HERE, "..", "docs", "figures", "overfitting_curves.png")


def mlp(dropout=0.0):
    layers = [nn.Flatten(), nn.Linear(784, 512), nn.ReLU()]
    layers += [nn.Dropout(dropout)] if dropout else []
    layers += [nn.Linear(512, 512), nn.ReLU()]
    layers += [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(*layers, nn.Linear(512, 10))


def run(name, args, weight_decay=0.0, dropout=0.0, early=False, augment=False):
    dalam.manual_seed(args.seed)  # the same initial weights and batch order for every run
    steps = [T.ToTensor()]
    if augment:
        steps += [T.RandomCrop(28, padding=2), T.RandomAffine(degrees=10, scale=(0.9, 1.1))]
    steps.append(T.Normalize((MNIST.mean,), (MNIST.std,)))
    train_set = Subset(MNIST(root=args.data, train=True, transform=T.Compose(steps)),
                       range(args.n_train))
    full = MNIST(root=args.data, train=True)
    x, y = full.as_tensors()
    val = TensorDataset(x[50000:55000], y[50000:55000])
    loader = DataLoader(train_set, batch_size=args.batch, shuffle=True,
                        generator=dalam.Generator().manual_seed(args.seed))
    val_loader = DataLoader(val, batch_size=1000)
    model = mlp(dropout)
    opt = dalam.optim.Adam(model.parameters(), lr=args.lr, weight_decay=weight_decay)
    cbs = [EarlyStopping("val_loss", patience=args.patience, restore_best_weights=True)] if early else []
    t0 = time.time()
    hist = dalam.fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=args.epochs,
                     val_loader=val_loader, metrics=["accuracy"], callbacks=cbs, verbose=0)
    h = hist.history
    xte, yte = MNIST(root=args.data, train=False).as_tensors()
    model.eval()
    with dalam.no_grad():  # the model training ended with (the restored best one for early stopping)
        test_acc = float((model(xte).detach().numpy().argmax(1) == yte.detach().numpy()).mean())
        out = model(x[50000:55000])
        val_loss = float(nn.functional.cross_entropy(out, y[50000:55000]).item())
        val_acc = float((out.detach().numpy().argmax(1) == y.detach().numpy()[50000:55000]).mean())
    best = int(np.argmin(h["val_loss"]))
    row = {"name": name, "epochs_run": len(h["val_loss"]), "final_train_loss": h["loss"][-1],
           "final_val_loss": val_loss, "final_val_acc": val_acc,
           "best_val_loss": h["val_loss"][best], "best_epoch": best + 1,
           "best_val_acc": max(h["val_accuracy"]), "test_acc": test_acc,
           "curves": {"loss": h["loss"], "val_loss": h["val_loss"],
                      "val_accuracy": h["val_accuracy"]}, "seconds": time.time() - t0}
    print(f"{name:15s} epochs {row['epochs_run']:2d}  train loss {row['final_train_loss']:.4f}  "
          f"val loss final {row['final_val_loss']:.4f} / best {row['best_val_loss']:.4f} "
          f"(epoch {row['best_epoch']})  val acc final {100 * row['final_val_acc']:.2f}% / best "
          f"{100 * row['best_val_acc']:.2f}%  test acc {100 * test_acc:.2f}%  "
          f"({row['seconds']:.0f} s)", flush=True)
    return row


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 3, figsize=(9, 5.2), sharex=True, sharey=True)
    top = max(max(r["curves"]["val_loss"]) for r in rows)
    for ax, r in zip(axes.ravel(), rows):
        ep = np.arange(1, len(r["curves"]["loss"]) + 1)
        ax.plot(ep, r["curves"]["loss"], label="train", color="tab:blue")
        ax.plot(ep, r["curves"]["val_loss"], label="validation", color="tab:red")
        ax.axvline(r["best_epoch"], color="gray", lw=0.8, ls=":")
        ax.set_title(f"{r['name']}: val {100 * r['final_val_acc']:.1f}%", fontsize=9)
        ax.set_ylim(0, min(top * 1.05, 1.2))
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("cross-entropy")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("MLP on 1,000 MNIST images: train vs validation loss", fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=72)
    print("wrote", path, os.path.getsize(path), "bytes")


def main(args):
    runs = [("baseline", {}), ("weight decay", {"weight_decay": args.wd}),
            ("dropout", {"dropout": 0.5}), ("early stopping", {"early": True}),
            ("augmentation", {"augment": True}),
            ("all four", {"weight_decay": args.wd, "dropout": 0.5, "early": True, "augment": True})]
    rows = [run(name, args, **kw) for name, kw in runs]
    print("\n| technique | epochs run | last train loss | final model val loss | best val loss "
          "(epoch) | final model val acc | best val acc | test acc |\n|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['epochs_run']} | {r['final_train_loss']:.4f} | "
              f"{r['final_val_loss']:.4f} | {r['best_val_loss']:.4f} ({r['best_epoch']}) | "
              f"{100 * r['final_val_acc']:.2f}% | {100 * r['best_val_acc']:.2f}% | "
              f"{100 * r['test_acc']:.2f}% |")
    if args.plot:
        plot(rows, args.out)
    os.makedirs(os.path.join(HERE, "..", "runs", "compress"), exist_ok=True)
    with open(os.path.join(HERE, "..", "runs", "compress", "overfitting.json"), "w") as f:
        json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-train", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=1e-3, help="L2 weight decay (Adam)")
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None)
    ap.add_argument("--out", default=FIG)
    ap.add_argument("--no-plot", dest="plot", action="store_false")
    main(ap.parse_args())
