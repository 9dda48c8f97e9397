"""Table and figure of the few-shot runs (``examples/fewshot_omniglot.py --out
runs/fewshot/METHOD_SETS``): the original one-shot task's error per method and
training set against Lake et al.'s published figures, and N-way K-shot
accuracies with 95% intervals.

    python examples/fewshot_report.py runs/fewshot --figure docs/figures/fewshot_omniglot.png
"""
import argparse
import glob
import json
import os

# Lake, Salakhutdinov & Tenenbaum, Science 2015 (minimal background sets 1 / 2)
PUBLISHED = {"people": (4.5, 4.5), "BPL": (4.3, 4.0), "deep convnet": (24.0, 22.3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--figure", default=None)
    args = ap.parse_args()
    rows = []
    for p in sorted(glob.glob(os.path.join(args.folder, "*", "results.json"))):
        with open(p) as f:
            r = json.load(f)
        r["name"] = os.path.basename(os.path.dirname(p))
        rows.append(r)
    if not rows:
        raise SystemExit(f"no */results.json under {args.folder}")

    def pc(v):
        return f"{100 * v[0]:.1f} +- {100 * v[1]:.1f}" if v else "-"
    print("| run | method | trained on | episodes | train time | original task error (400 items) | "
          "5-way 1-shot (eval chars) | 20-way 1-shot (eval chars) | held-out set 5w1s / 5w5s / 20w1s / 20w5s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        held = " / ".join(pc(r.get(f"heldout_set_{w}way_{s}shot")) for w, s in ((5, 1), (5, 5), (20, 1), (20, 5)))
        print(f"| {r['name']} | {r['method']} | {r['sets']} | {r['episodes_trained']} | "
              f"{r['train_seconds'] / 60:.1f} min | **{100 * r['runs_error']:.1f}%** | "
              f"{pc(r.get('eval_chars_5way_1shot'))} | {pc(r.get('eval_chars_20way_1shot'))} | "
              f"{held if r['sets'] != 'both' else '-'} |")
    if args.figure:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        labels = [r['name'].replace('_', '\n', 1).replace('_', ' ') for r in rows] + [f"{k}\n(published)" for k in PUBLISHED]
        vals = [100 * r["runs_error"] for r in rows] + [sum(v) / 2 for v in PUBLISHED.values()]
        colors = ["C0"] * len(rows) + ["0.6"] * len(PUBLISHED)
        fig, ax = plt.subplots(figsize=(1.1 * len(labels) + 1, 3.6))
        ax.bar(range(len(vals)), vals, color=colors)
        for i, v in enumerate(vals):
            ax.text(i, v + 0.5, f"{v:.1f}", ha="center", fontsize=8)
        ax.axhline(15, color="C3", ls="--", lw=1, label="goal: 15%")
        ax.set_xticks(range(len(vals)), labels, fontsize=8)
        ax.set_ylabel("error on the 20 runs (%)")
        ax.set_title("Omniglot one-shot task (20-way, within alphabet), trained on minimal sets", fontsize=9)
        ax.legend(fontsize=8)
        fig.savefig(args.figure, dpi=90, bbox_inches="tight")
        print("wrote", args.figure)


if __name__ == "__main__":
    main()
