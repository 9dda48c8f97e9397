"""Isolated spoken-digit recognition on FSDD (real recordings, 6 speakers):
a log-mel spectrogram CNN or an MFCC + bidirectional GRU/LSTM classifier.

    python examples/speech_digits.py --model cnn --out runs/fsdd_cnn           # official split
    python examples/speech_digits.py --model gru --out runs/fsdd_gru
    python examples/speech_digits.py --model gru --holdout all --out runs/fsdd_gru_folds  # 6 held-out speakers
    python examples/speech_digits.py --quick                                     # seconds, for tests

Features are computed once with dalam.audio (waveform -> log-mel or MFCC,
normalised per utterance), kept in memory, then cropped/padded to a fixed
number of frames; training adds seeded augmentation (speed perturbation
0.9/1.1 precomputed, random time shift by cropping, SpecAugment masks).
Writes model.safetensors + config.json (for `dalam predict`), metrics.json,
and confusion.png / per-speaker accuracy."""
import argparse
import json
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import dalam  # noqa: E402
from dalam import nn  # noqa: E402
from dalam.nn import functional as F  # noqa: E402
from dalam.datasets import FSDD  # noqa: E402
from dalam.datasets.fsdd import SPEAKERS  # noqa: E402
from dalam.audio.models import LogMel, SpectrogramCNN, MFCCRNN, save_run  # noqa: E402
from dalam.audio.augment import speed  # noqa: E402
from dalam.audio.transforms import TimeMasking, FrequencyMasking  # noqa: E402


def features(frontend, waves):
    with dalam.no_grad():
        return [frontend(dalam.tensor(w)).numpy() for w in waves]


def fix_length(f, T, offset=None, rng=None):
    """Crop (centre, or at a random offset) or zero-pad (centred) to T frames."""
    n = f.shape[-1]
    if n >= T:
        s = (n - T) // 2 if rng is None else int(rng.integers(0, n - T + 1))
        return f[:, s:s + T]
    out = np.zeros((f.shape[0], T), np.float32)
    s = (T - n) // 2 if rng is None else int(rng.integers(0, T - n + 1))
    out[:, s:s + n] = f
    return out


def make_model(kind, n_feat):
    if kind == "cnn":
        return SpectrogramCNN(n_mels=n_feat, width=16), dict(n_mels=n_feat, width=16)
    return MFCCRNN(n_in=n_feat, hidden=64, cell=kind), dict(n_in=n_feat, hidden=64, cell=kind)


def evaluate(model, X, T, batch=200):
    model.eval()
    preds = []
    with dalam.no_grad():
        for i in range(0, len(X), batch):
            xb = np.stack([fix_length(f, T) for f in X[i:i + batch]])
            preds.append(model(dalam.tensor(xb)).argmax(-1).numpy())
    return np.concatenate(preds)


def train_one(args, kind, frontend, train_sets, y_train, X_test, seed):
    dalam.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n_feat = train_sets[0][0].shape[0]
    model, margs = make_model(kind, n_feat)
    opt = dalam.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-3)
    n = len(y_train)
    steps = args.epochs * ((n + args.batch - 1) // args.batch)
    sched = dalam.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)
    gen = dalam.Generator().manual_seed(seed)
    fmask, tmask = FrequencyMasking(args.freq_mask, iid_masks=True, generator=gen), TimeMasking(8, iid_masks=True, generator=gen)
    for ep in range(args.epochs):
        model.train()
        perm = rng.permutation(n)
        t0, tot = time.time(), 0.0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            variant = rng.integers(0, len(train_sets), len(idx))
            xb = np.stack([fix_length(train_sets[v][j], args.frames, rng=rng) for v, j in zip(variant, idx)])
            x = tmask(fmask(dalam.tensor(xb)))
            loss = F.cross_entropy(model(x), dalam.tensor(y_train[idx]), label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
        print(f"  epoch {ep + 1}/{args.epochs} loss {tot / n:.4f} ({time.time() - t0:.1f}s)", flush=True)
    return model, margs


def confusion_png(cm, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 4.4))
    ax.imshow(cm, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("spoken digit")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["cnn", "gru", "lstm"], default="cnn")
    p.add_argument("--holdout", default=None, help="a speaker name, or 'all' for the 6 folds")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--features", choices=["auto", "logmel", "mfcc"], default="auto",
                   help="auto: log-mel for the CNN, 20 MFCCs for the RNNs")
    p.add_argument("--no-speed", action="store_true", help="no speed-perturbed copies of the training set")
    p.add_argument("--speeds", default="0.9,1.1", help="speed factors of the precomputed training copies")
    p.add_argument("--freq-mask", type=int, default=6, help="SpecAugment frequency mask width")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default=None)
    p.add_argument("--out", default="runs/fsdd_digits")
    p.add_argument("--quick", action="store_true", help="tiny run for tests (seconds)")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.frames = 1, 48
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    use_mfcc = args.features == "mfcc" or (args.features == "auto" and args.model != "cnn")
    frontend = LogMel(n_mfcc=20 if use_mfcc else 0)
    rec = []  # every recording once: (waveform, digit, speaker, index)
    for split in ("train", "test"):
        ds = FSDD(args.root, split)
        for i, (path, digit, speaker, idx) in enumerate(ds.files):
            if args.quick and idx not in (0, 5, 6, 7):
                continue
            rec.append((ds[i][0].numpy(), digit, speaker, idx))
    t0 = time.time()
    waves = [r[0] for r in rec]
    feats = [features(frontend, waves)]
    if not args.no_speed and not args.quick:
        for fac in [float(v) for v in args.speeds.split(",")]:
            feats.append(features(frontend, [speed(dalam.tensor(w), 8000, fac)[0].numpy() for w in waves]))
    print(f"features of {len(rec)} recordings x {len(feats)} speeds in {time.time() - t0:.1f}s", flush=True)
    digits = np.array([r[1] for r in rec])
    speakers = np.array([r[2] for r in rec])
    index = np.array([r[3] for r in rec])
    folds = [None] if args.holdout is None else (list(SPEAKERS) if args.holdout == "all" else [args.holdout])
    results = {}
    for k, held in enumerate(folds):
        test = (index < 5) if held is None else (speakers == held)
        tr, te = np.where(~test)[0], np.where(test)[0]
        name = "official" if held is None else f"holdout_{held}"
        print(f"[{name}] train {len(tr)} test {len(te)}", flush=True)
        t1 = time.time()
        model, margs = train_one(args, args.model, frontend, [[f[i] for i in tr] for f in feats],
                                 digits[tr], None, args.seed + k)
        pred = evaluate(model, [feats[0][i] for i in te], args.frames)
        acc = float((pred == digits[te]).mean())
        cm = np.zeros((10, 10), np.int64)
        np.add.at(cm, (digits[te], pred), 1)
        per_spk = {str(s): float((pred[speakers[te] == s] == digits[te][speakers[te] == s]).mean())
                   for s in sorted(set(speakers[te]))}
        results[name] = {"accuracy": acc, "per_speaker": per_spk, "n_test": int(len(te)),
                         "train_seconds": round(time.time() - t1, 1), "confusion": cm.tolist()}
        print(f"[{name}] test accuracy {acc:.4f}  per speaker {per_spk}", flush=True)
        sub = out if len(folds) == 1 else out / name
        save_run(sub, model, frontend, "digits", margs, {"frames": args.frames, "labels": list(range(10))})
        confusion_png(cm, sub / "confusion.png", f"FSDD {name}, {args.model}: accuracy {acc:.1%} (n={len(te)})")
    summary = {"model": args.model, "epochs": args.epochs, "folds": results}
    if len(folds) > 1:
        accs = [r["accuracy"] for r in results.values()]
        summary["mean_accuracy"], summary["worst_accuracy"] = float(np.mean(accs)), float(np.min(accs))
        print(f"held-out speakers: mean {np.mean(accs):.4f} worst {np.min(accs):.4f}", flush=True)
    (out / "metrics.json").write_text(json.dumps(summary, indent=1))
    return summary


if __name__ == "__main__":
    main()
