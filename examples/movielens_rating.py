"""Rating prediction on MovieLens 100K: 5-fold cross-validation on the
dataset's own u1..u5 splits (rebuilt as its mku.sh builds them).

Models: biased matrix factorisation (the Netflix-prize "SVD": mu + b_u + b_i +
p_u.q_i, Adam, per-rating L2 as Surprise's SVD), item-based AutoRec, and their
average (a blend).  Prints RMSE / MAE per fold, the mean and the spread, and
writes the u1 biased-MF model as a run folder for ``dalam recommend``.

    nice python examples/movielens_rating.py                  # 5 folds (~15 min on 1 core)
    python examples/movielens_rating.py --folds u1 --epochs 1 --autorec-epochs 1   # smoke run
"""
import argparse
import json
import os
import sys
import time


def parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folds", default="u1,u2,u3,u4,u5")
    ap.add_argument("--models", default="mf,autorec")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--reg", type=float, default=0.1)
    ap.add_argument("--bias-reg", type=float, default=0.01)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--autorec-epochs", type=int, default=40)
    ap.add_argument("--autorec-hidden", type=int, default=500)
    ap.add_argument("--autorec-reg", type=float, default=400.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None)
    ap.add_argument("--out", default="runs/movielens_rating")
    ap.add_argument("--threads", type=int, default=1)
    return ap


def main(args):
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(v, str(args.threads))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import numpy as np
    import dalam
    from dalam.datasets import MovieLens100K
    from dalam.metrics import mae, rmse
    from dalam.models import AutoRec, BiasedMF
    from dalam.models.recommend import fit

    ds = MovieLens100K(root=args.data)
    names = args.models.split(",")
    rows = {}
    for fold in args.folds.split(","):
        train, test = ds.split(fold)
        preds = {}
        if "mf" in names:
            dalam.manual_seed(args.seed)
            t = time.time()
            cfg = dict(num_users=ds.num_users, num_items=ds.num_items, dim=args.dim,
                       global_mean=float(train.rating.mean()))
            mf = BiasedMF(**cfg)
            fit.train_rating_model(mf, train, args.epochs, args.lr, args.reg, args.batch, args.seed,
                                   args.bias_reg)
            preds["BiasedMF"] = (fit.predict_ratings(mf, test.user, test.item), time.time() - t)
            if fold == "u1":
                fit.save_run(os.path.join(args.out, "mf_u1"), mf, cfg,
                             {"dataset": "MovieLens100K", "split": "u1",
                              "rmse": rmse(preds["BiasedMF"][0], test.rating)})
        if "autorec" in names:
            dalam.manual_seed(args.seed)
            t = time.time()
            ar = AutoRec(ds.num_users, ds.num_items, args.autorec_hidden)
            R = fit.train_autorec(ar, train, args.autorec_epochs, 1e-3, reg=args.autorec_reg,
                                  seed=args.seed)
            preds["AutoRec"] = (ar.predict(R, test.user, test.item, float(train.rating.mean())),
                                time.time() - t)
        if len(preds) == 2:
            (a, ta), (b, tb) = preds.values()
            preds["Blend (MF+AutoRec)/2"] = ((a + b) / 2, ta + tb)
        for name, (p, sec) in preds.items():
            rows.setdefault(name, []).append((fold, rmse(p, test.rating), mae(p, test.rating), sec))
            print(f"{fold} {name}: RMSE {rows[name][-1][1]:.4f}  MAE {rows[name][-1][2]:.4f}  "
                  f"({sec:.0f} s)", flush=True)
    print("\n| model | " + " | ".join(f"{f} RMSE" for f in args.folds.split(",")) +
          " | mean RMSE (± std) | mean MAE |")
    print("|---|" + "---|" * (len(args.folds.split(",")) + 2))
    summary = {}
    for name, r in rows.items():
        rm = np.array([x[1] for x in r])
        ma = np.array([x[2] for x in r])
        summary[name] = {"folds": {x[0]: {"rmse": x[1], "mae": x[2]} for x in r},
                         "rmse_mean": float(rm.mean()), "rmse_std": float(rm.std()),
                         "mae_mean": float(ma.mean())}
        print(f"| {name} | " + " | ".join(f"{v:.4f}" for v in rm) +
              f" | {rm.mean():.4f} ± {rm.std():.4f} | {ma.mean():.4f} |")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


if __name__ == "__main__":
    main(parser().parse_args())
