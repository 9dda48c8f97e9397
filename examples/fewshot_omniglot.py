"""Few-shot learning on Omniglot: train on the minimal background sets only,
then score Lake et al.'s original one-shot task (20 runs, 20-way 1-shot
within one alphabet, error over 400 items) and N-way K-shot episodes.

    python examples/fewshot_omniglot.py --method protonet --sets small1
    python examples/fewshot_omniglot.py --method siamese --sets both
    python examples/fewshot_omniglot.py --method maml --sets small1 --way 5 --shot 1
    python examples/fewshot_omniglot.py --quick          # a few seconds, smoke test

Training data: ``--sets small1`` / ``small2`` (one minimal background set) or
``both``; every rotation by 90 degrees is a class of its own; random shifts of
+-``--shift`` pixels.  Evaluation: the 20 runs; 5/20-way 1-shot episodes on
the runs' 400 evaluation characters (they have 2 drawings each, so 1-shot
only); 5/20-way 1/5-shot episodes on the *other* minimal set's characters
(20 drawings each) when one set is trained on.  Writes ``results.json`` and
``model.safetensors`` to ``--out``.
"""
import argparse
import json
import math
import os
import sys
import time

_ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_ap.add_argument("--method", default="protonet", choices=["protonet", "siamese", "maml"])
_ap.add_argument("--sets", default="small1", choices=["small1", "small2", "both"])
_ap.add_argument("--episodes", type=int, default=2000, help="training episodes (meta-batches for MAML)")
_ap.add_argument("--minutes", type=float, default=0, help="stop training after this many minutes (0: no limit)")
_ap.add_argument("--way", type=int, default=20)
_ap.add_argument("--shot", type=int, default=5)
_ap.add_argument("--query", type=int, default=5)
_ap.add_argument("--within-alphabet", type=int, default=1, help="draw each episode's classes from one alphabet")
_ap.add_argument("--rotations", type=int, default=4, choices=[1, 2, 4])
_ap.add_argument("--shift", type=int, default=2)
_ap.add_argument("--hidden", type=int, default=64)
_ap.add_argument("--lr", type=float, default=1e-3)
_ap.add_argument("--pairs", type=int, default=128, help="Siamese: pairs per batch")
_ap.add_argument("--tasks", type=int, default=4, help="MAML: tasks per meta-batch")
_ap.add_argument("--inner-steps", type=int, default=1)
_ap.add_argument("--inner-lr", type=float, default=0.4)
_ap.add_argument("--test-steps", type=int, default=0, help="MAML: adaptation steps at test time (0: as training)")
_ap.add_argument("--test-batch", default="query", choices=["query", "episode"],
                 help="MAML: batch-norm statistics of queries at test time from the queries alone or the whole episode")
_ap.add_argument("--first-order", action="store_true")
_ap.add_argument("--zero-head", type=int, default=1, help="MAML: every task starts from a zero head (any n-way)")
_ap.add_argument("--eval-episodes", type=int, default=600)
_ap.add_argument("--seed", type=int, default=0)
_ap.add_argument("--data", default=None)
_ap.add_argument("--out", default=None)
_ap.add_argument("--quick", action="store_true", help="tiny run (seconds) for tests")
_ap.add_argument("--init", default=None, help="start from these weights (a model.safetensors of an earlier run)")
_ap.add_argument("--eval-only", action="store_true",
                 help="load --out/model.safetensors and evaluate it again (training figures kept from results.json)")


def build(args):
    from dalam.fewshot import PrototypicalNetwork, SiameseNetwork, MAML, conv4
    if args.method == "protonet":
        return PrototypicalNetwork(conv4(hidden=args.hidden))
    if args.method == "siamese":
        return SiameseNetwork(conv4(hidden=args.hidden))
    return MAML(conv4(hidden=args.hidden, track_running_stats=False), args.hidden, max_way=max(args.way, 20),
                inner_lr=args.inner_lr, inner_steps=args.inner_steps, first_order=args.first_order,
                zero_head=bool(args.zero_head), test_steps=args.test_steps or args.inner_steps)


def main(args):
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy as np
    import dalam
    from dalam.datasets import Omniglot, OmniglotRuns
    from dalam.data import EpisodeSampler
    from dalam.fewshot import random_shift, evaluate_runs, episode_accuracy

    if args.quick:
        args.episodes, args.eval_episodes, args.hidden = 3, 5, 8
        args.way, args.shot, args.query, args.pairs, args.tasks = 5, 1, 2, 16, 2
    dalam.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    split = {"small1": "background_small1", "small2": "background_small2", "both": "background_small"}[args.sets]
    rots = {1: (0,), 2: (0, 180), 4: (0, 90, 180, 270)}[args.rotations]
    train = Omniglot(args.data, split=split, rotations=rots)
    runs = OmniglotRuns(args.data)
    print(f"{train.num_classes} training classes ({len(train)} images) from {split}; data {time.time() - t0:.1f}s",
          flush=True)
    model = build(args)
    if args.method == "maml":
        model.test_batch = args.test_batch
    if args.init:
        model.load_state_dict(dalam.load(args.init))
    opt = dalam.optim.Adam(model.parameters(), lr=args.lr)
    groups = train.alphabets if args.within_alphabet else None
    n_way = args.way
    sampler = EpisodeSampler(train.targets, n_way, args.shot, args.query, episodes=args.episodes,
                             seed=args.seed, groups=groups, same_group=bool(args.within_alphabet))
    sy = dalam.tensor(np.repeat(np.arange(n_way), args.shot))
    qy = dalam.tensor(np.repeat(np.arange(n_way), args.query))
    ns = n_way * args.shot
    t_train, log, ep = time.time(), [], 0
    model.train()
    if args.eval_only:
        model.load_state_dict(dalam.load(os.path.join(args.out, "model.safetensors")))
        with open(os.path.join(args.out, "results.json")) as f:
            old = json.load(f)
        ep, t_train = old["episodes_trained"] - 1, time.time() - old["train_seconds"]
    for ep in (range(args.episodes) if not args.eval_only else ()):
        # cosine learning rate over the run; with --minutes, progress is the larger of
        # episodes done and time used, so a time-limited run still anneals to zero
        progress = ep / args.episodes
        if args.minutes:
            progress = max(progress, (time.time() - t_train) / (60 * args.minutes))
            if progress >= 1:
                print(f"time budget reached after {ep} episodes", flush=True)
                ep -= 1
                break
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * progress))
        for g in opt.param_groups:
            g["lr"] = lr
        if args.method == "protonet":
            batch = random_shift(train.data[sampler.episode(ep)], args.shift, rng)
            loss, logits = model.loss(batch[:ns], sy, batch[ns:], qy, n_way)
            acc = float((logits.detach().numpy().argmax(1) == qy.numpy()).mean())
        elif args.method == "siamese":
            x1, x2, same = model.sample_pairs(train.targets, args.pairs, rng, groups=groups)
            loss, logits = model.loss(random_shift(train.data[x1], args.shift, rng),
                                      random_shift(train.data[x2], args.shift, rng), same)
            acc = float(((logits.detach().numpy() > 0) == (same > 0.5)).mean())
        else:
            tasks = []
            for t in range(args.tasks):
                batch = random_shift(train.data[sampler.episode(ep * args.tasks + t)], args.shift, rng)
                tasks.append((batch[:ns], sy, batch[ns:], qy, n_way))
            loss, acc = model.meta_loss(tasks)
        opt.zero_grad()
        loss.backward()
        opt.step()
        log.append((float(loss.item()), acc))
        if (ep + 1) % 50 == 0 or ep == args.episodes - 1:
            l, a = np.mean(log[-50:], 0)
            print(f"episode {ep + 1}/{args.episodes}  loss {l:.3f}  train acc {a:.3f}  lr {lr:.2e}  "
                  f"{time.time() - t_train:.0f}s", flush=True)
    train_s = old["train_seconds"] if args.eval_only else time.time() - t_train
    if args.out and not args.eval_only:  # weights first: evaluation can take a while
        os.makedirs(args.out, exist_ok=True)
        dalam.save(model.state_dict(), os.path.join(args.out, "model.safetensors"))
    t_eval = time.time()
    res = {"method": args.method, "sets": args.sets, "episodes_trained": ep + 1, "train_seconds": round(train_s, 1),
           "args": {k: v for k, v in vars(args).items()}}
    r = evaluate_runs(model, runs)
    res["runs_error"], res["runs_errors_per_run"] = r["error"], r["errors_per_run"]
    print(f"original task (20 runs, 20-way 1-shot within alphabet): error {100 * r['error']:.2f}% "
          f"over {r['items']} items", flush=True)
    cx, cy = runs.characters()
    for way in (5, 20):
        m, ci, _ = episode_accuracy(model, cx, cy, way, 1, 1, args.eval_episodes, seed=1)
        res[f"eval_chars_{way}way_1shot"] = [m, ci]
        print(f"runs' evaluation characters, {way}-way 1-shot: {100 * m:.2f} +- {100 * ci:.2f}%", flush=True)
    if args.sets != "both":
        other = Omniglot(args.data, split="background_small2" if args.sets == "small1" else "background_small1")
        # the minimal sets share Greek and Latin: keep only alphabets never trained on
        new = [i for i, a in enumerate(other.alphabet_names) if a not in train.alphabet_names]
        keep = np.isin(other.alphabets, new)
        hx, hy = other.data[keep], other.targets[keep]
        res["heldout_alphabets"] = [other.alphabet_names[i] for i in new]
        print(f"held-out alphabets: {', '.join(res['heldout_alphabets'])} ({len(np.unique(hy))} characters)")
        for way in (5, 20):
            for shot in (1, 5):
                m, ci, _ = episode_accuracy(model, hx, hy, way, shot, 5, args.eval_episodes, seed=2)
                res[f"heldout_set_{way}way_{shot}shot"] = [m, ci]
                print(f"held-out alphabets of {other.split}, {way}-way {shot}-shot: {100 * m:.2f} +- "
                      f"{100 * ci:.2f}%", flush=True)
    res["eval_seconds"] = round(time.time() - t_eval, 1)
    res["total_seconds"] = round(time.time() - t0 + (train_s if args.eval_only else 0), 1)
    print(f"train {train_s:.0f}s, eval {res['eval_seconds']:.0f}s, total {res['total_seconds']:.0f}s", flush=True)
    if args.out:
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(res, f, indent=1)
    return res


if __name__ == "__main__":
    sys.exit(0 if main(_ap.parse_args()) else 1)
