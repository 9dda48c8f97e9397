"""Data hungry and bias: make one MNIST digit rare in training, measure the gap, close it.

Keep only a fraction of one class's training images (all the other classes stay whole), train
the same classifier, and audit it per class with dalam.fairness: the rare class's recall, the
gap to the other classes, and an equalised-odds-style gap (largest minus smallest per-class
recall or false positive rate).  Then two mitigations:
  - re-weighting (pre-processing): balanced class weights in the loss, so the rare class's few
    examples count as much in total as any other class;
  - per-class decision thresholds (post-processing): additive logit offsets fitted on a small
    balanced validation set to maximise the mean per-class recall;
and both together.  The test set is MNIST's own (balanced) test set.

    python examples/fairness_mnist.py                          # full sweep (see docs/RESULTS.md)
    python examples/fairness_mnist.py --quick                  # seconds, small sizes
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import numpy as np

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--rare", type=int, default=8, help="the digit made rare in training")
ap.add_argument("--fractions", default="1,0.1,0.03,0.01", help="fractions of the rare digit kept")
ap.add_argument("--seeds", type=int, default=2)
ap.add_argument("--epochs", type=int, default=5)
ap.add_argument("--hidden", type=int, default=256)
ap.add_argument("--batch", type=int, default=128)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--val-per-class", type=int, default=100, help="balanced validation set for the thresholds")
ap.add_argument("--limit", type=int, default=0, help="use only this many training images (before the cut)")
ap.add_argument("--quick", action="store_true")
ap.add_argument("--replot", default=None, help="redraw --figure from a metrics.json of an earlier run")
ap.add_argument("--data", default=None, help="MNIST folder (default: $DALAM_DATA)")
ap.add_argument("--out", default=None, help="metrics.json goes here")
ap.add_argument("--figure", default=None, help="PNG: rare-class recall vs examples, per-class recall")

METHODS = ["plain", "reweighted", "thresholds", "reweighted+thresholds"]


def train(x, y, w, args, seed):
    import dalam
    import dalam.nn as nn
    import dalam.nn.functional as F
    dalam.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 10))
    opt = dalam.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(seed)
    yt, wt = dalam.tensor(y), dalam.tensor(w)
    for _ in range(args.epochs):
        order = rng.permutation(len(y))
        for i in range(0, len(y), args.batch):
            idx = order[i:i + args.batch]
            loss = (F.cross_entropy(model(x[idx]), yt[idx], reduction="none") * wt[idx]).sum() / wt[idx].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def logits_of(model, x):
    import dalam
    with dalam.no_grad():
        return model(x).numpy()


def audit(y, pred, rare):
    from dalam import fairness
    report = fairness.group_report(y, pred, groups=y)  # group = true digit: accuracy per group = recall
    rec = np.array([report.by_group["accuracy"][c] for c in range(10)])
    rates = fairness.per_class_rates(y, pred, 10)
    others = np.delete(rec, rare)
    return {"accuracy": report.overall["accuracy"], "rare_recall": float(rec[rare]),
            "others_recall": float(others.mean()), "recall_gap": float(others.mean() - rec[rare]),
            "eo_gap": fairness.multiclass_equalized_odds_gap(y, pred, 10),
            "rare_fpr": float(rates["fpr"][rare]), "recall": rec.tolist()}


def draw(path, results, fractions, counts, rare):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for m in METHODS:
        mean = [np.mean([r[m]["rare_recall"] for r in results[f]]) for f in fractions]
        a.plot(counts, mean, "o-", label=m)
    a.set_xscale("log")
    a.set_xlabel(f"training images of digit {rare}")
    a.set_ylabel(f"test recall of digit {rare}")
    a.set_title("data hungry: recall of the rare digit")
    a.grid(alpha=0.3)
    a.legend()
    f = min(fractions)
    width = 0.2
    for i, m in enumerate(METHODS):
        rec = np.mean([r[m]["recall"] for r in results[f]], 0)
        b.bar(np.arange(10) + (i - 1.5) * width, rec, width, label=m)
    b.set_xticks(range(10))
    b.set_ylim(max(0, min(np.mean([r["plain"]["recall"] for r in results[f]], 0)) - 0.1), 1.0)
    b.set_xlabel("digit")
    b.set_ylabel("test recall")
    b.set_title(f"per-class recall with {counts[fractions.index(f)]} images of digit {rare}")
    b.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(args):
    from dalam import fairness
    from dalam.datasets import MNIST
    if args.replot:  # redraw only, from the saved per-run results
        with open(args.replot) as fh:
            saved = json.load(fh)
        fractions = [float(f) for f in saved["runs"]]
        results = {float(f): r for f, r in saved["runs"].items()}
        counts = [saved["summary"][f"{f:g}/plain"]["rare_images"] for f in fractions]
        draw(args.figure, results, fractions, counts, args.rare)
        return saved["summary"]
    if args.quick:
        args.fractions, args.seeds, args.epochs, args.limit, args.hidden = "1,0.02", 1, 2, 6000, 64
    t_start = time.time()
    fractions = [float(f) for f in args.fractions.split(",")]
    x_all, y_all = MNIST(root=args.data, train=True).as_tensors(flatten=True)
    x_te, y_te = MNIST(root=args.data, train=False).as_tensors(flatten=True)
    y_all, y_te = y_all.numpy(), y_te.numpy()
    rng = np.random.default_rng(0)
    # a small balanced validation set, set aside before anything else
    val = np.concatenate([rng.choice(np.flatnonzero(y_all == c), args.val_per_class, replace=False)
                          for c in range(10)])
    pool = np.setdiff1d(np.arange(len(y_all)), val)
    if args.limit:
        pool = rng.permutation(pool)[:args.limit]
    rare_pool = rng.permutation(pool[y_all[pool] == args.rare])
    rest = pool[y_all[pool] != args.rare]
    results, counts = {}, []
    for f in fractions:
        n_rare = max(1, int(round(f * len(rare_pool))))
        counts.append(n_rare)
        tr = np.concatenate([rest, rare_pool[:n_rare]])
        x, y = x_all[tr], y_all[tr]
        results[f] = []
        for seed in range(args.seeds):
            t0 = time.time()
            row = {}
            for name, w in (("plain", np.ones(len(y), np.float32)), ("reweighted", fairness.balanced_weights(y))):
                model = train(x, y, w, args, seed)
                test_logits, val_logits = logits_of(model, x_te), logits_of(model, x_all[val])
                row[name] = audit(y_te, test_logits.argmax(1), args.rare)
                b = fairness.fit_class_offsets(val_logits, y_all[val])
                key = "thresholds" if name == "plain" else "reweighted+thresholds"
                row[key] = audit(y_te, (test_logits + b).argmax(1), args.rare)
                row[key]["offsets"] = b.tolist()
            results[f].append(row)
            print(f"digit {args.rare} kept {n_rare:5d} ({f:g}) seed {seed}: " + "  ".join(
                f"{m} acc {row[m]['accuracy']:.4f} rare {row[m]['rare_recall']:.3f} gap {row[m]['recall_gap']:.3f} "
                f"EO {row[m]['eo_gap']:.3f}" for m in METHODS) + f"  ({time.time() - t0:.0f} s)", flush=True)
    summary = {}
    print(f"\nmean over {args.seeds} seed(s); test set: 10,000 MNIST test images")
    print("| rare images | method | accuracy | recall of the rare digit | mean recall of the others | recall gap | "
          "equalised-odds gap |")
    print("|---|---|---|---|---|---|---|")
    for f, n in zip(fractions, counts):
        for m in METHODS:
            s = {k: float(np.mean([r[m][k] for r in results[f]])) for k in
                 ("accuracy", "rare_recall", "others_recall", "recall_gap", "eo_gap", "rare_fpr")}
            summary[f"{f:g}/{m}"] = dict(s, rare_images=n)
            print(f"| {n} ({f:g}) | {m} | {100 * s['accuracy']:.2f}% | {100 * s['rare_recall']:.1f}% | "
                  f"{100 * s['others_recall']:.1f}% | {100 * s['recall_gap']:.1f} | {100 * s['eo_gap']:.1f} |")
    if args.figure:
        draw(args.figure, results, fractions, counts, args.rare)
    wall = time.time() - t_start
    print(f"wall time {wall:.0f} s")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "metrics.json"), "w") as fh:
            json.dump({"summary": summary, "runs": {f"{f:g}": results[f] for f in fractions},
                       "wall_seconds": wall}, fh, indent=1)
    return summary


if __name__ == "__main__":
    main(ap.parse_args())
