"""Top-N recommendation on MovieLens 100K, measured the way the field does.

Split: each user's latest rating is held out (leave-one-out by timestamp);
every rating is an implicit positive.  Models: most-popular (baseline), GMF,
MLP and NeuMF (He et al. 2017; 4 sampled negatives per positive, fresh each
epoch, BCE) and a SASRec-style sequence model (causal self-attention over the
user's history).  The epoch of each model is chosen on a validation item
(each user's second-latest rating, held out of fitting), then the model is
trained again for that many epochs on all the training data.  Two protocols: NCF's (the held-out item among 99 sampled
unrated items; HR@10, NDCG@10, MRR) and full ranking over every item the
user has not rated.  Also catalogue coverage and popularity bias of the
top-10 lists, and HR@10 per gender and age band.

    nice python examples/movielens_ranking.py                # all models (~15 min on 1 core)
    python examples/movielens_ranking.py --models neumf --epochs 1 --limit-users 100   # smoke run
"""
import argparse
import json
import os
import sys
import time


def parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="pop,gmf,mlp,neumf,sasrec")
    ap.add_argument("--epochs", type=int, default=12, help="GMF/MLP/NeuMF epochs (validation)")
    ap.add_argument("--sasrec-epochs", type=int, default=30)
    ap.add_argument("--dim", type=int, default=32, help="GMF / NeuMF factor size")
    ap.add_argument("--layers", default="128,64,32")
    ap.add_argument("--negatives", type=int, default=4)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--limit-users", type=int, default=0, help="evaluate only this many users")
    ap.add_argument("--refit", type=int, default=1,
                    help="1: after choosing the epoch on validation, retrain on all training data")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None)
    ap.add_argument("--out", default="runs/movielens_ranking", help="results JSON and the NeuMF run")
    ap.add_argument("--threads", type=int, default=1)
    return ap


def leave_last_out(ratings, Ratings):
    """(rest, last): each user's latest rating of ``ratings`` split off."""
    import numpy as np
    raw = ratings.raw()
    order = np.lexsort((np.arange(len(raw)), raw[:, 3], raw[:, 0]))
    last = np.r_[raw[order, 0][1:] != raw[order, 0][:-1], True]
    mask = np.zeros(len(raw), bool)
    mask[order[last]] = True
    return Ratings(raw[~mask]), Ratings(raw[mask])


def main(args):
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(v, str(args.threads))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import numpy as np
    import dalam
    from dalam import metrics as M
    from dalam.datasets import MovieLens100K
    from dalam.datasets.movielens import NegativeSampler, ncf_candidates, AGE_BANDS, Ratings
    from dalam.models import GMF, MLPRec, NeuMF, SASRec
    from dalam.models.recommend import fit

    dalam.manual_seed(args.seed)
    ds = MovieLens100K(root=args.data)
    train, test = ds.leave_one_out()
    seen = ds.seen(train)
    # validation, for choosing the epoch: each user's second-latest rating, held out of fitting
    fit_part, val = leave_last_out(train, Ratings)
    fit_seen = ds.seen(fit_part)
    vusers, vcand = ncf_candidates(val, seen, 99, seed=args.seed + 1)
    users, cand = ncf_candidates(test, seen, 99, seed=args.seed)
    if args.limit_users:
        users, cand = users[:args.limit_users], cand[:args.limit_users]
    targets = cand[:, 0]
    counts = np.bincount(train.item, minlength=ds.num_items)
    layers = tuple(int(x) for x in args.layers.split(","))
    results = {}

    def report(name, full_scores, ncf_scores, seconds):
        r_ncf = M.ranks_of_first(ncf_scores)
        r_full = M.full_ranking_ranks(full_scores, targets, seen[users])
        top = M.top_k(full_scores, 10, seen[users])
        res = {**{f"ncf {k}": v for k, v in M.ranking_report(r_ncf, 10).items()},
               **{f"full {k}": v for k, v in M.ranking_report(r_full, 10).items()},
               "coverage@10": M.catalogue_coverage(top, ds.num_items),
               "popularity@10": M.popularity_bias(top, counts), "seconds": seconds}
        hit = (r_ncf < 10).astype(float)
        res["ncf HR@10 by gender"] = M.per_group(hit, ds.user_gender[users])
        res["ncf HR@10 by age"] = M.per_group(hit, ds.age_band[users], [b[2] for b in AGE_BANDS])
        results[name] = res
        print(f"{name}: " + "  ".join(f"{k} {v:.4f}" for k, v in res.items()
                                      if isinstance(v, float) and k != "seconds"), flush=True)

    names = args.models.split(",")
    if "pop" in names:
        t = time.time()
        full = np.tile(counts.astype(np.float64), (len(users), 1))
        report("MostPopular", full, counts[cand].astype(np.float64), time.time() - t)
    sampler = NegativeSampler(fit_part, ds.num_users, ds.num_items, args.negatives, seed=args.seed,
                              seen=fit_seen)

    full_sampler = NegativeSampler(train, ds.num_users, ds.num_items, args.negatives,
                                   seed=args.seed + 7, seen=seen)

    def ncf_eval(m):  # on the validation items: picks the epoch, never sees the test items
        r = M.ranking_report(M.ranks_of_first(fit.score_candidates(m, vusers, vcand)), 10)
        return {f"val {k}": v for k, v in r.items()}

    for key, make in (("gmf", lambda: GMF(ds.num_users, ds.num_items, args.dim)),
                      ("mlp", lambda: MLPRec(ds.num_users, ds.num_items, (2 * args.dim,) + layers)),
                      ("neumf", lambda: NeuMF(ds.num_users, ds.num_items, args.dim,
                                              (2 * args.dim,) + layers))):
        if key not in names:
            continue
        t = time.time()
        model = make()
        hist = []
        fit.train_implicit(model, sampler, args.epochs, args.lr, args.batch, args.seed,
                           log=lambda s: print(f"  {key} {s}", flush=True), evaluate=ncf_eval,
                           history=hist)
        if args.refit:  # the chosen number of epochs again, on all the training data
            best_ep = 1 + int(np.argmax([h["val HR@10"] for h in hist]))
            print(f"  {key}: refit on all training data for {best_ep} epochs", flush=True)
            dalam.manual_seed(args.seed)
            model = make()
            fit.train_implicit(model, full_sampler, best_ep, args.lr, args.batch, args.seed,
                               log=lambda s: print(f"  {key} refit {s}", flush=True))
        report(type(model).__name__, model.score_all(users), fit.score_candidates(model, users, cand),
               time.time() - t)
        if key == "neumf":
            fit.save_run(os.path.join(args.out, "neumf"), model,
                         dict(num_users=ds.num_users, num_items=ds.num_items, mf_dim=args.dim,
                              layers=list((2 * args.dim,) + layers)),
                         {"dataset": "MovieLens100K", "split": "leave-one-out",
                          "metrics": {k: v for k, v in results["NeuMF"].items()
                                      if isinstance(v, float)}})
    if "sasrec" in names:
        t = time.time()
        hist = fit.user_histories(train, ds.num_users)
        model = SASRec(ds.num_items, max_len=50, dim=64, heads=2, layers=2, dropout=0.2)

        fhist = fit.user_histories(fit_part, ds.num_users)

        def seq_eval(m):
            s = m.score_next([fhist[u] for u in vusers])
            r = M.ranking_report(M.ranks_of_first(np.take_along_axis(s, vcand, 1)), 10)
            return {f"val {k}": v for k, v in r.items()}
        shist = []
        fit.train_sasrec(model, fhist, args.sasrec_epochs, 1e-3, 128, args.seed,
                         log=lambda s: print(f"  sasrec {s}", flush=True), evaluate=seq_eval,
                         history=shist)
        if args.refit and shist:
            best_ep = max(shist, key=lambda h: h[1]["val HR@10"])[0]
            print(f"  sasrec: refit on all training data for {best_ep} epochs", flush=True)
            dalam.manual_seed(args.seed)
            model = SASRec(ds.num_items, max_len=50, dim=64, heads=2, layers=2, dropout=0.2)
            fit.train_sasrec(model, hist, best_ep, 1e-3, 128, args.seed,
                             log=lambda s: print(f"  sasrec refit {s}", flush=True))
        full = model.score_next([hist[u] for u in users])
        report("SASRec", full, np.take_along_axis(full, cand, 1), time.time() - t)

    print("\n| model | NCF HR@10 | NCF NDCG@10 | NCF MRR | full HR@10 | full NDCG@10 | full MRR | "
          "coverage@10 | popularity@10 | x popular (NCF HR@10) | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    base = results.get("MostPopular", {}).get("ncf HR@10")
    for name, r in results.items():
        ratio = f"{r['ncf HR@10'] / base:.2f}" if base else "-"
        print(f"| {name} | {r['ncf HR@10']:.4f} | {r['ncf NDCG@10']:.4f} | {r['ncf MRR']:.4f} | "
              f"{r['full HR@10']:.4f} | {r['full NDCG@10']:.4f} | {r['full MRR']:.4f} | "
              f"{r['coverage@10']:.3f} | {r['popularity@10']:.3f} | {ratio} | {r['seconds']:.0f} |")
    print("\nNCF HR@10 per group (mean, users):")
    for name, r in results.items():
        g = ", ".join(f"{k} {v[0]:.3f} ({v[1]})" for k, v in {**r["ncf HR@10 by gender"],
                                                               **r["ncf HR@10 by age"]}.items())
        print(f"  {name}: {g}")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main(parser().parse_args())
