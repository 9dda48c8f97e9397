"""Connected spoken digits ("phone numbers") with CTC: sequences of 1-7 FSDD
recordings joined with random gaps and background noise; a conv + BiLSTM
model trained with nn.CTCLoss, decoded greedily and by prefix beam search.

    python examples/speech_ctc.py --out runs/fsdd_ctc          # ~20 min on one core
    python examples/speech_ctc.py --quick                        # seconds, for tests

Training sequences use only training recordings (index 5-49), the 1,000 test
sequences only test recordings (index 0-4), so no recording is heard in both.
Each sequence: 0.05-0.3 s of silence at the ends, 0.05-0.35 s gaps, every
recording at a random gain (-6..+3 dB) and speed (0.9/1.0/1.1), then white
or brown noise at 5-30 dB SNR. Features: dalam.audio log-mel (40 bins, 10 ms
hop), computed once and kept in memory (float16). Reports digit error rate
(DER) and whole-sequence accuracy; writes alignment.png and metrics.json,
and model.safetensors + config.json for `dalam transcribe`."""
import argparse
import json
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import dalam  # noqa: E402
from dalam import nn  # noqa: E402
from dalam.datasets import FSDD  # noqa: E402
from dalam.audio.models import LogMel, CTCDigits, save_run  # noqa: E402
from dalam.audio.augment import speed  # noqa: E402
from dalam.audio.transforms import TimeMasking, FrequencyMasking  # noqa: E402
from dalam.audio.decoding import ctc_greedy_decode, ctc_prefix_beam_search  # noqa: E402
from dalam.metrics import digit_error_rate, sequence_accuracy  # noqa: E402

SR = 8000


def load_recordings(root, split, quick):
    ds = FSDD(root, split)
    keep = [i for i, f in enumerate(ds.files) if not quick or f[3] in (0, 5, 6)]
    return [ds[i][0].numpy() for i in keep], np.array([ds.files[i][1] for i in keep])


def make_sequence(rng, waves, digits, pools=None, max_len=7):
    n = int(rng.integers(1, max_len + 1))
    pick = rng.integers(0, len(waves), n)
    parts = [np.zeros(int(rng.uniform(0.05, 0.3) * SR), np.float32)]
    for k, i in enumerate(pick):
        w = waves[i] if pools is None else pools[int(rng.integers(len(pools)))][i]
        w = w / (np.abs(w).max() + 1e-6) * 0.5 * 10 ** (rng.uniform(-6, 3) / 20)
        parts.append(w.astype(np.float32))
        parts.append(np.zeros(int(rng.uniform(0.05, 0.35) * SR) if k < n - 1
                              else int(rng.uniform(0.05, 0.3) * SR), np.float32))
    x = np.concatenate(parts)
    noise = rng.standard_normal(len(x)).astype(np.float32)
    if rng.random() < 0.5:                                   # brown noise: integrated white noise
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(400) / 400, "same")
    snr = rng.uniform(5, 30)
    p_sig = np.mean(np.concatenate(parts[1::2]) ** 2)
    noise *= np.sqrt(p_sig / (np.mean(noise ** 2) * 10 ** (snr / 10)))
    return (x + noise).astype(np.float32), [int(digits[i]) for i in pick]


def featurize(frontend, seqs):
    with dalam.no_grad():
        return [frontend(dalam.tensor(x)).numpy().astype(np.float16) for x, _ in seqs]


def batches(feats, labels, batch, rng):
    """Length-bucketed batches: sort by length within shuffled chunks."""
    order = rng.permutation(len(feats))
    chunks = [order[i:i + batch * 20] for i in range(0, len(order), batch * 20)]
    out = []
    for ch in chunks:
        ch = sorted(ch, key=lambda i: feats[i].shape[1])
        out += [ch[i:i + batch] for i in range(0, len(ch), batch)]
    rng.shuffle(out)
    return out


def collate(feats, labels, idx):
    lens = np.array([feats[i].shape[1] for i in idx])
    x = np.zeros((len(idx), feats[idx[0]].shape[0], lens.max()), np.float32)
    for k, i in enumerate(idx):
        x[k, :, :lens[k]] = feats[i]
    tl = np.array([len(labels[i]) for i in idx])
    tg = np.zeros((len(idx), tl.max()), np.int64)
    for k, i in enumerate(idx):
        tg[k, :tl[k]] = np.array(labels[i]) + 1              # class 0 is the blank
    return x, lens, tg, tl


def decode_all(model, feats, beam=0, batch=50):
    model.eval()
    hyps = []
    with dalam.no_grad():
        order = sorted(range(len(feats)), key=lambda i: feats[i].shape[1])
        res = {}
        for b in range(0, len(order), batch):
            idx = order[b:b + batch]
            x, lens, _, _ = collate(feats, [[0]] * len(feats), idx)
            lp = model(dalam.tensor(x)).numpy()
            olen = CTCDigits.output_lengths(lens)
            for k, i in enumerate(idx):
                if beam:
                    labs, _ = ctc_prefix_beam_search(lp[:olen[k], k], beam)
                else:
                    labs = ctc_greedy_decode(lp[:olen[k], k])
                res[i] = [c - 1 for c in labs]
        hyps = [res[i] for i in range(len(feats))]
    return hyps


def alignment_png(model, feat, wave, ref, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    model.eval()
    with dalam.no_grad():
        lp = model(dalam.tensor(feat[None].astype(np.float32))).numpy()[:, 0]
    post = np.exp(lp)
    hyp = [c - 1 for c in ctc_greedy_decode(lp)]
    best = lp.argmax(-1)
    t_out = np.arange(len(best)) * 4 * 0.01                  # 4x subsampling of 10 ms frames
    fig, axes = plt.subplots(3, 1, figsize=(9, 6.5), sharex=True,
                             gridspec_kw={"height_ratios": [1, 2, 1.6]})
    t_w = np.arange(len(wave)) / SR
    axes[0].plot(t_w, wave, lw=0.4, color="0.3")
    axes[0].set_ylabel("waveform")
    axes[0].set_title(f"reference {''.join(map(str, ref))}   transcribed {''.join(map(str, hyp))}", fontsize=10)
    axes[1].imshow(feat.astype(np.float32), origin="lower", aspect="auto", cmap="magma",
                   extent=[0, feat.shape[1] * 0.01, 0, feat.shape[0]])
    axes[1].set_ylabel("log-mel bin")
    cmap = plt.get_cmap("tab10")
    axes[2].fill_between(t_out, post[:, 0], color="0.85", step="mid", label="blank")
    for d in range(10):
        if post[:, d + 1].max() > 0.2:
            axes[2].plot(t_out, post[:, d + 1], color=cmap(d), lw=1.2, label=str(d))
    for k, c in enumerate(best):
        if c != 0 and (k == 0 or best[k - 1] != c):
            axes[2].text(t_out[k], 1.04, str(c - 1), ha="center", fontsize=9, color=cmap(c - 1))
            axes[1].axvline(t_out[k], color="white", lw=0.6, ls="--")
    axes[2].set_ylim(0, 1.15)
    axes[2].set_ylabel("CTC posterior")
    axes[2].set_xlabel("time (s)")
    axes[2].legend(ncol=11, fontsize=7, loc="upper right", bbox_to_anchor=(1, -0.28))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-seqs", type=int, default=4000)
    p.add_argument("--test-seqs", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=14)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--beam", type=int, default=8)
    p.add_argument("--channels", type=int, default=96)
    p.add_argument("--hidden", type=int, default=96)
    p.add_argument("--warmup", type=float, default=0.2, help="fraction of steps warming the learning rate up")
    p.add_argument("--mask-from", type=int, default=1, help="first epoch (1-based) with SpecAugment masks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default=None)
    p.add_argument("--out", default="runs/fsdd_ctc")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.train_seqs, args.test_seqs, args.epochs, args.beam = 64, 16, 1, 4
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    dalam.manual_seed(args.seed)
    t0 = time.time()
    tr_w, tr_d = load_recordings(args.root, "train", args.quick)
    te_w, te_d = load_recordings(args.root, "test", args.quick)
    pools = [tr_w] if args.quick else [tr_w] + [[speed(dalam.tensor(w), SR, f)[0].numpy() for w in tr_w]
                                                for f in (0.9, 1.1)]
    train = [make_sequence(rng, tr_w, tr_d, pools) for _ in range(args.train_seqs)]
    test = [make_sequence(np.random.default_rng(10_000 + k), te_w, te_d) for k in range(args.test_seqs)]
    frontend = LogMel()
    Xtr, Ytr = featurize(frontend, train), [s[1] for s in train]
    Xte, Yte = featurize(frontend, test), [s[1] for s in test]
    print(f"{len(train)} train / {len(test)} test sequences, features in {time.time() - t0:.1f}s "
          f"(mean length {np.mean([x.shape[1] for x in Xtr]) / 100:.2f} s)", flush=True)
    margs = dict(n_mels=40, channels=args.channels, hidden=args.hidden)
    model = CTCDigits(**margs)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    opt = dalam.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-3)
    n_batches = len(batches(Xtr, Ytr, args.batch, np.random.default_rng(0)))
    sched = dalam.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * n_batches,
                                                pct_start=args.warmup)
    gen = dalam.Generator().manual_seed(args.seed)
    fmask, tmask = FrequencyMasking(6, iid_masks=True, generator=gen), TimeMasking(10, True, 0.1, generator=gen)
    hist = []
    for ep in range(args.epochs):
        model.train()
        t1, tot, nb = time.time(), 0.0, 0
        for idx in batches(Xtr, Ytr, args.batch, rng):
            x, lens, tg, tl = collate(Xtr, Ytr, idx)
            xb = dalam.tensor(x)
            lp = model(tmask(fmask(xb)) if ep + 1 >= args.mask_from else xb)
            loss = ctc(lp, dalam.tensor(tg), dalam.tensor(CTCDigits.output_lengths(lens)), dalam.tensor(tl))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            tot += loss.item()
            nb += 1
        hyp = decode_all(model, Xte[:200])
        der = digit_error_rate(Yte[:200], hyp)
        hist.append({"epoch": ep + 1, "loss": tot / nb, "der_200": der})
        print(f"epoch {ep + 1}/{args.epochs} ctc loss {tot / nb:.4f}  DER(200 test) {der:.4f} "
              f"({time.time() - t1:.0f}s)", flush=True)
    hyp_g = decode_all(model, Xte)
    hyp_b = decode_all(model, Xte, beam=args.beam)
    res = {"n_test": len(Xte), "greedy": {"der": digit_error_rate(Yte, hyp_g),
                                          "sequence_accuracy": sequence_accuracy(Yte, hyp_g)},
           f"beam{args.beam}": {"der": digit_error_rate(Yte, hyp_b),
                                "sequence_accuracy": sequence_accuracy(Yte, hyp_b)},
           "epochs": args.epochs, "train_seqs": len(Xtr), "history": hist,
           "train_seconds": round(time.time() - t0, 1)}
    print(json.dumps({k: v for k, v in res.items() if k != "history"}), flush=True)
    save_run(out, model, frontend, "ctc_digits", margs, {"blank": 0, "labels": list(range(10))})
    (out / "metrics.json").write_text(json.dumps(res, indent=1))
    k = int(np.argmax([len(y) for y in Yte[:50]]))
    alignment_png(model, Xte[k], test[k][0], Yte[k], out / "alignment.png")
    return res


if __name__ == "__main__":
    main()
