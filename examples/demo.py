"""dalam in half a minute: train a network on the MNIST subset that ships
inside the package (5,000 training / 1,000 test digits; no download, no data
folder), then save and reload it.  Good practice shown: 10% of the training
images (a seeded choice) are held out for validation, which picks the best
checkpoint and stops training early; the test images are used once, at the
end, for the figure we report.

What it shows: ``dalam.datasets.MNIST(subset=True)``, a ``DataLoader``, an
``nn.Sequential`` model, ``dalam.fit`` with metrics, a learning-rate
schedule, ``EarlyStopping`` and ``ModelCheckpoint``, the learning curves, and
reloading the checkpoint (safetensors + JSON, no pickle) into a fresh model.

Output folder (default ./demo_output, created): ``curves.png`` (learning
curves), ``log.csv`` (one row per epoch), ``checkpoints/`` (a resumable
checkpoint; ``model.safetensors`` inside loads in PyTorch too).

    python examples/demo.py                 # a small CNN, 6 epochs; prints test accuracy
    python examples/demo.py --epochs 1      # a quick check
    python examples/demo.py --model mlp     # an MLP instead of the CNN (faster, less accurate)
"""
import argparse
import os
import sys
import time

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--epochs", type=int, default=6)
ap.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
ap.add_argument("--out", default="demo_output", help="folder for the curves, log and checkpoint")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--verbose", type=int, default=None, help="0, 1 (progress bar) or 2 (a line per epoch)")


def build(kind):
    import dalam.nn as nn
    if kind == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.25),
                         nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))


def main(args):
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(v, str(args.threads))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import dalam
    import dalam.nn as nn
    from dalam.data import DataLoader, TensorDataset
    from dalam.datasets import MNIST
    from dalam.train import CSVLogger, EarlyStopping, ModelCheckpoint, load_checkpoint

    t0 = time.perf_counter()
    dalam.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train_set, test_set = MNIST(train=True, subset=True), MNIST(train=False, subset=True)
    x, y = train_set.as_tensors()          # float32 (N, 1, 28, 28), normalised; int64 labels
    xt, yt = test_set.as_tensors()
    perm = dalam.randperm(len(x), generator=dalam.Generator().manual_seed(args.seed))
    n_val = len(x) // 10                   # validation: carved from the training images, seeded
    xv, yv, x, y = x[perm[:n_val]], y[perm[:n_val]], x[perm[n_val:]], y[perm[n_val:]]
    train = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True,
                       generator=dalam.Generator().manual_seed(args.seed))
    val = DataLoader(TensorDataset(xv, yv), batch_size=500)
    model = build(args.model)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"MNIST subset (embedded): {len(x)} train / {len(xv)} validation / {len(xt)} test images; "
          f"{args.model.upper()} with {n_params:,} parameters; up to {args.epochs} epochs")

    opt = dalam.optim.Adam(model.parameters(), lr=2e-3)
    sched = dalam.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(args.epochs, 1))
    ckpt_dir = os.path.join(args.out, "checkpoints")
    verbose = args.verbose if args.verbose is not None else (1 if sys.stderr.isatty() else 2)
    history = dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=args.epochs, val_loader=val,
                        metrics=["accuracy", "f1"], scheduler=sched, verbose=verbose,
                        callbacks=[EarlyStopping(monitor="val_loss", patience=3),
                                   ModelCheckpoint(ckpt_dir, monitor="val_accuracy"),
                                   CSVLogger(os.path.join(args.out, "log.csv"))])
    val_acc = history.history["val_accuracy"][-1]
    # the test set, once: the figure to report (validation chose the model, so it is optimistic)
    acc = dalam.train.evaluate(model, DataLoader(TensorDataset(xt, yt), batch_size=500))["accuracy"]
    curves = history.plot(os.path.join(args.out, "curves.png"), title=f"dalam demo: MNIST subset, "
                                                                       f"{args.model.upper()}")

    # reload the checkpoint into a fresh model: same predictions
    fresh = build(args.model)
    info = load_checkpoint(ckpt_dir, fresh)
    fresh.eval()
    with dalam.no_grad():
        reloaded = float((fresh(xt).argmax(1) == yt).to(dalam.float32).mean().item())
    print(f"validation accuracy: {100 * val_acc:.2f}% on {len(xv)} held-out training images")
    print(f"test accuracy: {100 * acc:.2f}% on {len(xt)} test images after {len(history.epoch)} epochs "
          f"({time.perf_counter() - t0:.1f} s)")
    print(f"checkpoint reloaded from {ckpt_dir} (epoch {info['epoch']}, step {info['global_step']}): "
          f"test accuracy {100 * reloaded:.2f}%")
    print(f"learning curves: {curves}; epoch log: {os.path.join(args.out, 'log.csv')}")
    return acc, reloaded


if __name__ == "__main__":
    main(ap.parse_args())
