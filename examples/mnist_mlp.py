"""A multi-layer perceptron on MNIST (or Fashion-MNIST) trained with ``dalam.fit``.

Model: 784-512-512-10 with ReLU and dropout; Adam with a cosine learning-rate
schedule stepped per batch; cross-entropy.  The full datasets are read by
``dalam.datasets`` (from ../shared/data, $DALAM_DATA or ~/.cache/dalam;
downloaded with checksums when missing).  Prints the test accuracy
(target: >= 98.0% on MNIST), and writes learning curves, a CSV log and a
resumable checkpoint into --out.

    python examples/mnist_mlp.py                       # MNIST, 20 epochs
    python examples/mnist_mlp.py --epochs 1 --limit 5000   # a quick smoke run
    python examples/mnist_mlp.py --resume              # continue an interrupted run
"""
import argparse
import os
import sys
import time


def parser(dataset="mnist", epochs=20, dropout=0.2, out="runs/mnist_mlp"):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default=dataset, choices=["mnist", "fashion-mnist"])
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--dropout", type=float, default=dropout)
    ap.add_argument("--limit", type=int, default=0, help="use only this many training images")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None, help="folder holding mnist/ or fashion-mnist/")
    ap.add_argument("--out", default=out, help="checkpoints, CSV log and learning curves go here")
    ap.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    ap.add_argument("--verbose", type=int, default=None, help="0, 1 (progress bar) or 2 (a line per epoch)")
    return ap


def main(args):
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import dalam
    import dalam.nn as nn
    from dalam.data import DataLoader, TensorDataset
    from dalam.datasets import MNIST, FashionMNIST
    from dalam.train import CSVLogger, ModelCheckpoint

    dalam.manual_seed(args.seed)
    Data = MNIST if args.dataset == "mnist" else FashionMNIST
    x, y = Data(root=args.data, train=True).as_tensors(flatten=True)
    xt, yt = Data(root=args.data, train=False).as_tensors(flatten=True)
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    # validation: 10% of the training images (seeded); the test set is used once, at the end
    perm = dalam.randperm(len(x), generator=dalam.Generator().manual_seed(args.seed))
    n_val = len(x) // 10
    xv, yv, x, y = x[perm[:n_val]], y[perm[:n_val]], x[perm[n_val:]], y[perm[n_val:]]
    train = DataLoader(TensorDataset(x, y), batch_size=args.batch, shuffle=True,
                       generator=dalam.Generator().manual_seed(args.seed))
    val = DataLoader(TensorDataset(xv, yv), batch_size=1000)
    test = DataLoader(TensorDataset(xt, yt), batch_size=1000)

    h, p = args.hidden, args.dropout
    model = nn.Sequential(nn.Linear(784, h), nn.ReLU(), nn.Dropout(p),
                          nn.Linear(h, h), nn.ReLU(), nn.Dropout(p),
                          nn.Linear(h, 10))
    opt = dalam.optim.Adam(model.parameters(), lr=args.lr)
    sched = dalam.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * len(train))
    n_params = sum(q.numel() for q in model.parameters())
    print(f"{args.dataset}: {len(x)} train / {len(xv)} validation / {len(xt)} test images; MLP 784-{h}-{h}-10 "
          f"({n_params:,} parameters), dropout {p}; {args.epochs} epochs, batch {args.batch}, Adam "
          f"lr {args.lr} cosine", flush=True)
    verbose = args.verbose if args.verbose is not None else (1 if sys.stderr.isatty() else 2)
    t0 = time.perf_counter()
    history = dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=args.epochs, val_loader=val,
                        metrics=["accuracy"], scheduler=sched, scheduler_interval="batch",
                        callbacks=[ModelCheckpoint(os.path.join(args.out, "checkpoints"),
                                                   monitor="val_accuracy"),
                                   CSVLogger(os.path.join(args.out, "log.csv"))],
                        verbose=verbose, resume=args.resume or None)
    wall = time.perf_counter() - t0
    val_acc = history.history["val_accuracy"][-1]
    acc = dalam.train.evaluate(model, test)["accuracy"]  # once, after training
    curve = history.plot(os.path.join(args.out, "curves.png"), title=f"{args.dataset} MLP")
    print(f"validation accuracy: {100 * val_acc:.2f}% on {len(xv)} held-out training images")
    print(f"test accuracy: {100 * acc:.2f}% after {len(history.epoch)} epochs; train wall time {wall:.0f} s "
          f"(this process)")
    print(f"learning curves: {curve}; checkpoint: {os.path.join(args.out, 'checkpoints')}")
    return acc


if __name__ == "__main__":
    main(parser().parse_args())
