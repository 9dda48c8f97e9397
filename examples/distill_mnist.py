"""Knowledge distillation on MNIST: the base CNN (421k parameters, the
teacher) teaches a 16x smaller CNN; compared with the same student trained
alone on the same images, epochs, augmentation, initialisation and order.

Loss: Hinton's ``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE``
(``dalam.compress.distillation_loss``), T = 4, alpha = 0.9 by default.

    OPENBLAS_NUM_THREADS=1 python examples/distill_mnist.py --limit 5000 --epochs 5
    OPENBLAS_NUM_THREADS=1 python examples/distill_mnist.py --limit 0 --epochs 2
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _compress_common as cc  # noqa: E402

import dalam  # noqa: E402
import dalam.nn as nn  # noqa: E402
from dalam import compress  # noqa: E402


def student_net(kind="cnn", w=8, hidden=32):
    """``cnn``: conv 1-8 + ReLU + pool, conv 8-16 + ReLU + pool, FC 784-32-10
    (26,698 parameters); ``mlp``: MLP 784-256-10 (203,530 parameters)."""
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * w * 49, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def main(args):
    xtr, ytr, xte, yte = cc.load()
    teacher = cc.base_model((xtr, ytr, xte, yte)).eval()
    acc_t, _ = cc.evaluate(teacher, xte, yte)
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    res = {"teacher_acc": acc_t, "teacher_params": compress.count_parameters(teacher),
           "train_images": len(xtr), "epochs": args.epochs, "T": args.T, "alpha": args.alpha,
           "student": args.student}
    print(f"teacher: {100 * acc_t:.2f}% test accuracy, {res['teacher_params']:,} parameters; "
          f"students train on {len(xtr)} images for {args.epochs} epochs", flush=True)

    def kd_loss(out, y, x):
        with dalam.no_grad():
            t = teacher(x)
        return compress.distillation_loss(out, t, y, args.T, args.alpha)

    for name, loss_fn in (("alone", None), ("distilled", kd_loss)):
        dalam.manual_seed(args.seed)  # the same initial student both times
        student = student_net(args.student)
        t0 = time.time()
        cc.train(student, xtr, ytr, epochs=args.epochs, lr=args.lr, seed=args.seed,
                 loss_fn=loss_fn, log_every=0)
        acc, loss = cc.evaluate(student, xte, yte)
        res[name] = {"acc": acc, "test_loss": loss, "seconds": time.time() - t0}
        res["student_params"] = compress.count_parameters(student)
        print(f"student {name}: test accuracy {100 * acc:.2f}% (test CE {loss:.4f}), "
              f"{res['student_params']:,} parameters, {time.time() - t0:.0f} s", flush=True)
    gain = 100 * (res["distilled"]["acc"] - res["alone"]["acc"])
    print(f"distillation gain: {gain:+.2f} points")
    os.makedirs(cc.RUNS, exist_ok=True)
    out = os.path.join(cc.RUNS, f"distill_{args.student}_{len(xtr)}_{args.epochs}_T{args.T:g}_a{args.alpha:g}.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print("wrote", out)
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=5000, help="training images (0: all 60,000)")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--T", type=float, default=4.0)
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--student", default="cnn", choices=["cnn", "mlp"])
    main(ap.parse_args())
