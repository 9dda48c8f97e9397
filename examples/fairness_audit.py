"""A bias audit on real groups with dalam.fairness: does a model serve every group alike?

1. Spoken digits (FSDD): a trained speech run folder (examples/speech_digits.py) on the official
   test split, grouped by speaker and by the speakers' accents (the dataset's metadata.py).
2. MovieLens 100K: biased matrix factorisation trained on u1.base, rating errors on u1.test grouped
   by the users' gender and age band.

    python examples/speech_digits.py --model gru --epochs 12 --out runs/fsdd_gru
    python examples/fairness_audit.py --speech-run runs/fsdd_gru
    python examples/fairness_audit.py --skip-speech            # MovieLens part only (about a minute)
"""
import argparse
import pathlib
import runpy
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import dalam  # noqa: E402
from dalam import fairness  # noqa: E402


def speech_audit(run_dir, data=None):
    from dalam.audio.models import load_run
    from dalam.datasets import FSDD
    from dalam.datasets.fsdd import find_recordings
    model, frontend, cfg = load_run(run_dir)
    test = FSDD(root=data, split="test")
    T = int(cfg["frames"])
    feats, y, spk = [], [], []
    with dalam.no_grad():
        for i in range(len(test)):
            wave, sr, digit, speaker = test[i]
            f = frontend(dalam.tensor(wave)).numpy()
            n = f.shape[-1]
            out = np.zeros((f.shape[0], T), np.float32)
            if n >= T:
                s = (n - T) // 2
                out = f[:, s:s + T]
            else:
                s = (T - n) // 2
                out[:, s:s + n] = f
            feats.append(out)
            y.append(digit)
            spk.append(speaker)
        pred = np.concatenate([model(dalam.tensor(np.stack(feats[i:i + 200]))).argmax(-1).numpy()
                               for i in range(0, len(feats), 200)])
    y, spk = np.array(y), np.array(spk)
    meta = runpy.run_path(str(pathlib.Path(find_recordings(data, download=False)).parent / "metadata.py"))["metadata"]
    accent = np.array([meta[s]["accent"] for s in spk])
    print(f"FSDD official test split ({len(y)} recordings), model {cfg['model']} from {run_dir}")
    for name, groups in (("speaker", spk), ("accent", accent)):
        acc = fairness.by_group(fairness.accuracy, y, pred, groups)
        gap = max(acc.values()) - min(acc.values())
        print(f"  by {name}: " + ", ".join(f"{g} {100 * a:.1f}%" for g, a in sorted(acc.items())))
        print(f"    accuracy gap (best - worst group) {100 * gap:.1f} points")
    return {"speaker": fairness.by_group(fairness.accuracy, y, pred, spk)}


def movielens_audit(data=None, epochs=3):
    from dalam.datasets import MovieLens100K
    from dalam.models import BiasedMF
    from dalam.models.recommend.fit import predict_ratings, train_rating_model
    from dalam.datasets.movielens import AGE_BANDS
    ml = MovieLens100K(root=data)
    train, test = ml.split("u1")
    dalam.manual_seed(0)
    model = BiasedMF(ml.num_users, ml.num_items, dim=32, global_mean=float(train.rating.mean()))
    train_rating_model(model, train, epochs=epochs, seed=0)
    pred = predict_ratings(model, test.user, test.item)
    err = pred - test.rating
    gender = ml.user_gender[test.user]
    band = np.array([AGE_BANDS[b][2] for b in ml.age_band[test.user]])
    print(f"MovieLens 100K, biased MF (dim 32, {epochs} epochs) trained on u1.base, {len(err)} u1.test ratings")
    for name, groups in (("gender", gender), ("age band", band)):
        parts = []
        for g in sorted(set(groups), key=lambda g: [b[2] for b in AGE_BANDS].index(g) if g[0] in "<0123456789"
                        else g):
            m = groups == g
            parts.append(f"{g}: RMSE {np.sqrt(np.mean(err[m] ** 2)):.4f}, mean error {err[m].mean():+.3f} "
                         f"({m.sum()} ratings)")
        print(f"  by {name}: " + "; ".join(parts))
    return {"rmse": float(np.sqrt(np.mean(err ** 2)))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--speech-run", default="runs/fsdd_gru")
    ap.add_argument("--skip-speech", action="store_true")
    ap.add_argument("--skip-movielens", action="store_true")
    ap.add_argument("--data", default=None, help="dataset root (default: $DALAM_DATA or the cache)")
    ap.add_argument("--epochs", type=int, default=3, help="MF epochs (more overfit u1.base at this size)")
    args = ap.parse_args(argv)
    if not args.skip_speech:
        speech_audit(args.speech_run, args.data and str(pathlib.Path(args.data) / "fsdd"))
    if not args.skip_movielens:
        movielens_audit(args.data and str(pathlib.Path(args.data) / "movielens"), args.epochs)


if __name__ == "__main__":
    main()
