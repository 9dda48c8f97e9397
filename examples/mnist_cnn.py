"""Train a CNN on MNIST with dalam and report test accuracy (target: >= 99.3%).

Model (``--model cnn``, default): two conv blocks (conv 3x3 + BatchNorm + ReLU +
max-pool 2), dropout, FC 3136-128-10; ``--model lenet`` is LeNet-5 and
``--model resnet`` the small ResNet.  Training: Adam with a one-cycle learning
rate, random shifts of +-2 pixels as augmentation.

    python examples/mnist_cnn.py                      # 8 epochs, 99.42%
    python examples/mnist_cnn.py --epochs 1 --limit 5000   # a quick smoke run
"""
import argparse
import os
import sys
import time

_ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_ap.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
_ap.add_argument("--model", default="cnn", choices=["cnn", "lenet", "resnet"])
_ap.add_argument("--epochs", type=int, default=8)
_ap.add_argument("--batch", type=int, default=128)
_ap.add_argument("--lr", type=float, default=3e-3)
_ap.add_argument("--width", type=int, default=32, help="channels of the first conv (cnn model)")
_ap.add_argument("--flip", action="store_true", help="random horizontal flips (Fashion-MNIST)")
_ap.add_argument("--limit", type=int, default=0, help="use only this many training images")
_ap.add_argument("--threads", type=int, default=1)
_ap.add_argument("--data", default=None)
_ap.add_argument("--seed", type=int, default=0)
_ap.add_argument("--save", default=None, help="write the trained weights here (safetensors)")


def build(kind, width=32):
    import dalam.nn as nn
    from dalam.models import LeNet5, resnet8
    if kind == "lenet":
        return LeNet5()
    if kind == "resnet":
        return resnet8(in_channels=1)
    w = width
    return nn.Sequential(
        nn.Conv2d(1, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding=1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(2 * w * 49, 128), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(128, 10))


def evaluate(model, x, y, batch=1000):
    import dalam
    model.eval()
    correct = 0
    with dalam.no_grad():
        for i in range(0, len(x), batch):
            correct += int((model(dalam.tensor(x[i:i + batch])).detach().numpy().argmax(1) == y[i:i + batch]).sum())
    model.train()
    return correct / len(x)


def main(args):
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    import numpy as np
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import dalam
    import dalam.nn.functional as F
    from dalam.data import DataLoader, Subset, transforms as T
    from dalam.datasets import MNIST, FashionMNIST

    dalam.manual_seed(args.seed)
    Dataset = MNIST if args.dataset == "mnist" else FashionMNIST
    # augmentation runs inside the DataLoader, batched: a random crop of the image padded by
    # 2 pixels (a shift of up to +-2 px), and left-right flips for Fashion-MNIST
    aug = [T.ToTensor(), T.RandomCrop(28, padding=2)]
    if args.flip:
        aug.append(T.RandomHorizontalFlip())
    aug.append(T.Normalize((Dataset.mean,), (Dataset.std,)))
    train_set = Dataset(root=args.data, train=True, transform=T.Compose(aug))
    xte, yte = Dataset(root=args.data, train=False).as_tensors()
    xte, yte = xte.numpy(), yte.numpy()
    if args.limit:
        train_set = Subset(train_set, range(args.limit))
    loader = DataLoader(train_set, batch_size=args.batch, shuffle=True,
                        generator=dalam.Generator().manual_seed(args.seed))
    model = build(args.model, args.width)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{args.dataset}: {len(train_set)} train / {len(xte)} test images; model {args.model} "
          f"({n_params:,} parameters); {args.epochs} epochs, batch {args.batch}")
    opt = dalam.optim.Adam(model.parameters(), lr=args.lr)
    total = args.epochs * len(loader)
    # one-cycle: linear warm-up over 15% of the steps, then cosine decay to zero
    sched = dalam.optim.lr_scheduler.LambdaLR(
        opt, lambda step: step / total / 0.15 if step < 0.15 * total else
        0.5 * (1 + np.cos(np.pi * (step / total - 0.15) / 0.85)))
    best = 0.0
    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        tl, tc, seen = 0.0, 0, 0
        for xb, yb in loader:
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tl += loss.item() * len(yb)
            tc += int((out.detach().numpy().argmax(1) == yb.detach().numpy()).sum())
            seen += len(yb)
        acc = evaluate(model, xte, yte)
        best = max(best, acc)
        print(f"epoch {epoch:2d}  loss {tl / seen:.4f}  train acc {100 * tc / seen:.2f}%  "
              f"test acc {100 * acc:.2f}%  ({time.time() - t0:.0f} s)", flush=True)
    print(f"final test accuracy {100 * acc:.2f}% (best epoch {100 * best:.2f}%) in "
          f"{time.time() - t0:.0f} s")
    if args.save:
        try:
            dalam.save(model.state_dict(), args.save)
            print("saved", args.save)
        except Exception as e:  # the io package is optional here
            print("could not save:", e)
    return acc


if __name__ == "__main__":
    main(_ap.parse_args())
