"""Figures for docs/RESULTS.md from the speech runs' metrics.json files.

    python examples/speech_figures.py --official runs/fsdd_cnn runs/fsdd_gru \
        --folds runs/fsdd_gru_folds --out docs/figures

Writes speech_fsdd_heldout.png (accuracy per held-out speaker with the mean,
beside the 6 folds' confusions summed) and prints the tables RESULTS.md shows."""
import argparse
import json
import pathlib

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--official", nargs="*", default=[])
    p.add_argument("--folds", default=None)
    p.add_argument("--out", default="docs/figures")
    args = p.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = pathlib.Path(args.out)
    print("| model | test accuracy (300) | " + " | ".join(
        ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]) + " |")
    print("|---|---|" + "---|" * 6)
    for run in args.official:
        m = json.loads((pathlib.Path(run) / "metrics.json").read_text())
        r = m["folds"]["official"]
        print(f"| {m['model']} ({m['epochs']} epochs) | {r['accuracy']:.1%} | "
              + " | ".join(f"{v:.0%}" for v in r["per_speaker"].values()) + " |")
    if args.folds:
        m = json.loads((pathlib.Path(args.folds) / "metrics.json").read_text())
        names = [k.replace("holdout_", "") for k in m["folds"]]
        accs = [v["accuracy"] for v in m["folds"].values()]
        print(f"\nheld-out speakers ({m['model']}, {m['epochs']} epochs): " +
              ", ".join(f"{n} {a:.1%}" for n, a in zip(names, accs)) +
              f"; mean {np.mean(accs):.1%}, worst {np.min(accs):.1%}")
        cm = np.sum([np.array(v["confusion"]) for v in m["folds"].values()], axis=0)
        fig, ax = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1, 1.1]})
        ax[0].bar(names, accs, color="#4477aa")
        ax[0].axhline(np.mean(accs), color="k", ls="--", lw=1, label=f"mean {np.mean(accs):.1%}")
        for i, a in enumerate(accs):
            ax[0].text(i, a + 0.01, f"{a:.0%}", ha="center", fontsize=8)
        ax[0].set_ylim(0, 1.05)
        ax[0].set_ylabel("accuracy on the held-out speaker (500 recordings)")
        ax[0].set_title(f"FSDD speaker-independent: {m['model']}, 6 folds", fontsize=10)
        ax[0].legend(loc="lower right")
        ax[1].imshow(cm, cmap="Blues")
        for i in range(10):
            for j in range(10):
                if cm[i, j]:
                    ax[1].text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=6.5,
                               color="white" if cm[i, j] > cm.max() / 2 else "black")
        ax[1].set_xticks(range(10))
        ax[1].set_yticks(range(10))
        ax[1].set_xlabel("predicted digit")
        ax[1].set_ylabel("spoken digit")
        ax[1].set_title("confusions of the 6 held-out folds, summed", fontsize=10)
        fig.tight_layout()
        fig.savefig(out / "speech_fsdd_heldout.png", dpi=100)
        plt.close(fig)


if __name__ == "__main__":
    main()
