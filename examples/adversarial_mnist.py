"""Adversarial robustness of an MNIST CNN: clean accuracy, accuracy under FGSM
and PGD-40 (L-inf, pixels in [0, 1]) at eps 0.1 and 0.3, before and after
adversarial training (Madry et al. 2018, PGD-7 during training).

    python examples/adversarial_mnist.py                       # full run (~40 min on 2 busy shared cores)
    python examples/adversarial_mnist.py --limit 3000 --adv-epochs 1 --n-eval 200   # smoke run

The model is the W2 CNN of DESIGN.md (conv 32 - conv 64 - fc 128) with the
input normalisation inside it.  PGD-40 (step 2.5*eps/40, random start) is
evaluated on a fixed subset: the first --n-eval test images; clean accuracy on
the full test set.  Robust = right on the clean image and on its attack.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import _mnist01 as M  # noqa: E402
import dalam  # noqa: E402
from dalam.robust import adversarial_training, robust_accuracy  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--epochs", type=int, default=2, help="clean training epochs")
ap.add_argument("--adv-epochs", type=int, default=1)
ap.add_argument("--init", default="clean", choices=["clean", "scratch"],
                help="adversarial training starts from the clean model's weights (fine-tuning) or anew")
ap.add_argument("--train-eps", type=float, default=0.1)
ap.add_argument("--train-steps", type=int, default=7)
ap.add_argument("--lr", type=float, default=5e-4)
ap.add_argument("--width", type=int, default=32)
ap.add_argument("--limit", type=int, default=0, help="use only this many training images")
ap.add_argument("--n-eval", type=int, default=1000, help="test images attacked (the first N)")
ap.add_argument("--eval-steps", type=int, default=40)
ap.add_argument("--skip-standard", action="store_true", help="do not attack the standard model")
ap.add_argument("--out", default="runs/adversarial_mnist", help="checkpoints and results.json here")
ap.add_argument("--data", default=None)
ap.add_argument("--seed", type=int, default=0)


def attack_table(model, x, y, eval_steps, seed):
    rows = []
    for eps in (0.1, 0.3):
        r = robust_accuracy(model, x, y, "fgsm", eps=eps)
        rows.append(("FGSM", eps, r["robust_accuracy"]))
        print(f"    FGSM    eps {eps}: {100 * r['robust_accuracy']:.2f}%", flush=True)
        t0 = time.time()
        r = robust_accuracy(model, x, y, "pgd", eps=eps, steps=eval_steps,
                            generator=np.random.default_rng(seed))
        rows.append((f"PGD-{eval_steps}", eps, r["robust_accuracy"]))
        print(f"    PGD-{eval_steps}  eps {eps}: {100 * r['robust_accuracy']:.2f}%  "
              f"({time.time() - t0:.0f} s)", flush=True)
    return rows


def main(args):
    t_start = time.time()
    os.makedirs(args.out, exist_ok=True)
    xtr, ytr, xte, yte = M.load01(args.data)
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    xev, yev = xte[:args.n_eval], yte[:args.n_eval]
    print(f"MNIST: {len(xtr)} train, {len(xte)} test; attacks on the first {len(xev)} test images")
    results = {"n_eval": len(xev), "eval_steps": args.eval_steps}

    clean = M.clean_model(os.path.join(args.out, f"clean_w{args.width}.safetensors"), xtr, ytr,
                          epochs=args.epochs, width=args.width, seed=args.seed)
    acc = M.accuracy(clean, xte, yte)
    print(f"standard model: clean test accuracy {100 * acc:.2f}% (10,000 images)")
    results["standard"] = {"clean_full": acc, "attacks": [] if args.skip_standard else
                           attack_table(clean, xev, yev, args.eval_steps, args.seed)}

    path = os.path.join(args.out, f"adv_w{args.width}_eps{args.train_eps}_{args.init}.safetensors")
    dalam.manual_seed(args.seed)
    robust = M.build(args.width)
    if args.init == "clean":
        robust.load_state_dict(clean.state_dict())
    if os.path.exists(path):
        robust.load_state_dict(dalam.load(path))
        print(f"loaded the adversarially trained model from {path}")
    else:
        print(f"adversarial training from the {args.init} model: PGD-{args.train_steps} at eps {args.train_eps} "
              f"(step {2.5 * args.train_eps / args.train_steps:.4f}), {args.adv_epochs} epochs, Adam lr "
              f"{args.lr} with cosine decay", flush=True)
        opt = dalam.optim.Adam(robust.parameters(), lr=args.lr)
        steps_total = args.adv_epochs * ((len(xtr) + 127) // 128)
        sched = dalam.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps_total)

        def report(epoch, logs):
            print(f"  adv epoch {epoch}: loss {logs['loss']:.4f}  train adv acc "
                  f"{100 * logs['adv_accuracy']:.2f}%  ({logs['seconds']:.0f} s); test clean "
                  f"{100 * M.accuracy(robust, xte, yte):.2f}%", flush=True)
            dalam.save(robust.state_dict(), path + ".partial")

        adversarial_training(robust, opt, (xtr, ytr), epochs=args.adv_epochs, eps=args.train_eps,
                             steps=args.train_steps, batch_size=128, scheduler=sched, seed=args.seed,
                             on_epoch_end=report)
        os.replace(path + ".partial", path)
    robust.eval()
    acc = M.accuracy(robust, xte, yte)
    print(f"adversarially trained model: clean test accuracy {100 * acc:.2f}%")
    results["adversarial"] = {"clean_full": acc, "train_eps": args.train_eps, "init": args.init,
                              "train_steps": args.train_steps, "epochs": args.adv_epochs,
                              "attacks": attack_table(robust, xev, yev, args.eval_steps, args.seed)}

    cols = results["adversarial"]["attacks"]
    print("\n| model | clean (10k) | " + " | ".join(f"{a} eps {e}" for a, e, _ in cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for name in ("standard", "adversarial"):
        r = results[name]
        accs = [v for _, _, v in r["attacks"]] or [float("nan")] * len(cols)
        print(f"| {name} | {100 * r['clean_full']:.2f}% | " + " | ".join(f"{100 * v:.2f}%" for v in accs) + " |")
    results["seconds"] = time.time() - t_start
    with open(os.path.join(args.out, f"results_{args.init}.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"total {results['seconds']:.0f} s")
    return results


if __name__ == "__main__":
    main(ap.parse_args())
