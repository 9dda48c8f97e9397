"""Evaluate a checkpoint on its dataset's held-out split (the test split of
an image dataset; the validation part of a text).

    dalam eval runs/mnist_cnn
    dalam eval runs/char_lstm --limit 200 --json

Prints loss and accuracy (image models) or loss, perplexity and
next-character accuracy (character models).  For image models it also prints
the confusion matrix and writes confusion.png and worst_mistakes.png (the
misclassified test images the model was most sure about) to --out (by
default the checkpoint's run folder)."""
import json
import math
import pathlib
import sys

import numpy as np

from .main import CLIError


def add_arguments(p):
    p.add_argument("checkpoint", help="checkpoint directory written by 'dalam train' (or a .safetensors "
                                      "file from 'dalam export --safetensors')")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--limit", type=int, default=None, help="evaluate on the first N examples only")
    p.add_argument("--best", action="store_true", help="use the best checkpoint instead of the last")
    p.add_argument("--data-root", default=None, help="where the dataset files are (overrides the "
                                                     "checkpoint's [dataset] root)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--out", default=None, help="folder for confusion.png and worst_mistakes.png (image "
                                               "models; default: the run folder)")
    p.add_argument("--no-plots", action="store_true", help="do not write the PNGs")


def evaluate(model, x, y, batch_size, task, details=None):
    """Loss and accuracy over (x, y); ``details`` (a dict), when given, receives the
    predictions and per-example confidence of image models."""
    from ..autograd.grad_mode import no_grad
    from ..nn import functional as F
    from ..tensor import Tensor
    total, correct, count = 0.0, 0, 0
    preds, conf = [], []
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            for i in range(0, len(x), batch_size):
                xb, yb = x[i:i + batch_size], y[i:i + batch_size]
                out = model(Tensor._make(xb, False, None))
                logits = out[0] if isinstance(out, (tuple, list)) else out
                z = logits.reshape(-1, logits.shape[-1])
                t = yb.reshape(-1)
                total += float(F.cross_entropy(z, Tensor._make(t, False, None), reduction="sum")._data)
                correct += int((z._data.argmax(-1) == t).sum())
                count += t.size
                if details is not None and task == "image":
                    p = F.softmax(z, dim=-1)._data
                    preds.append(p.argmax(-1))
                    conf.append(p.max(-1))
    finally:
        model.train(was_training)
    if count == 0:
        raise CLIError("nothing to evaluate: the split is empty")
    if details is not None and preds:
        details["pred"], details["confidence"] = np.concatenate(preds), np.concatenate(conf)
    res = {"examples": int(len(x)), "loss": total / count, "accuracy": correct / count}
    if task == "chars":
        res["perplexity"] = math.exp(min(res["loss"], 700.0))
        res["tokens"] = count
    return res


def run(args):
    from .checkpoint import load_model
    from .data import test_split
    model, meta, weights = load_model(args.checkpoint, "best" if args.best else "last")
    ds = dict(meta["dataset"])
    if args.data_root:
        ds["root"] = args.data_root
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be >= 1, got {args.batch_size}")
    x, y = test_split(ds, meta["preprocess"], args.limit)
    x, y = np.asarray(x), np.asarray(y)
    details = {}
    res = evaluate(model, x, y, args.batch_size, meta["task"], details)
    ckpt = weights.parent if weights.name == "model.safetensors" else weights
    res = {"checkpoint": str(ckpt), "model": meta["model"]["name"], "dataset": ds["name"], **res}
    if "pred" in details:
        classes = meta["preprocess"].get("classes") or list(range(int(y.max()) + 1))
        cm = confusion(y, details["pred"], len(classes))
        res["confusion_matrix"] = cm.tolist()
    if args.json:
        print(json.dumps(res))
    else:
        extra = f"  perplexity {res['perplexity']:.3f}" if "perplexity" in res else ""
        print(f"{res['model']} on {res['dataset']} ({res['examples']} examples): loss {res['loss']:.4f}  "
              f"accuracy {res['accuracy']:.4f}{extra}  [{res['checkpoint']}]")
        if "pred" in details:
            print(format_confusion(cm, classes))
    if "pred" in details and not args.no_plots:
        out = pathlib.Path(args.out) if args.out else _run_folder(ckpt)
        written = write_plots(out, cm, classes, x, y, details, meta["preprocess"])
        if written and not args.json:
            print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _run_folder(ckpt):
    """The folder holding dalam.json (a run), else the checkpoint's own folder."""
    p = pathlib.Path(ckpt)
    for q in (p, *p.parents[:2]):
        if (q / "dalam.json").is_file():
            return q
    return p if p.is_dir() else p.parent


def confusion(y, pred, k):
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (np.asarray(y).reshape(-1), np.asarray(pred).reshape(-1)), 1)
    return cm


def format_confusion(cm, classes):
    """The confusion matrix as text: rows are the true classes, columns the predictions."""
    names = [str(c)[:10] for c in classes]
    w = max(5, max(len(n) for n in names), len(str(int(cm.max(initial=0))))) + 1
    lines = ["confusion matrix (rows: true class, columns: predicted)",
             " " * w + "".join(n.rjust(w) for n in names)]
    for n, row in zip(names, cm):
        lines.append(n.rjust(w) + "".join(str(int(v)).rjust(w) for v in row))
    return "\n".join(lines)


def write_plots(out, cm, classes, x, y, details, pre):
    """confusion.png and worst_mistakes.png; [] (with a note) without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("dalam eval: no PNGs without matplotlib (pip install matplotlib)", file=sys.stderr)
        return []
    out.mkdir(parents=True, exist_ok=True)
    names = [str(c) for c in classes]
    fig, ax = plt.subplots(figsize=(1 + 0.55 * len(names), 0.8 + 0.5 * len(names)))
    ax.imshow(cm, cmap="Blues")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (test set)")
    fig.tight_layout()
    conf_path = out / "confusion.png"
    fig.savefig(conf_path, dpi=110)
    plt.close(fig)
    pred, c = details["pred"], details["confidence"]
    wrong = np.flatnonzero(pred != y)
    wrong = wrong[np.argsort(-c[wrong])][:24]
    paths = [conf_path]
    if len(wrong):
        cols = min(8, len(wrong))
        rows = (len(wrong) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols, 1.85 * rows), squeeze=False)
        for a in axes.flat:
            a.axis("off")
        for a, i in zip(axes.flat, wrong):
            img = x[i] * pre.get("std", 1.0) + pre.get("mean", 0.0)
            img = img[0] if img.shape[0] == 1 else np.moveaxis(img, 0, -1)
            a.imshow(np.clip(img, 0, 1), cmap="gray" if img.ndim == 2 else None)
            a.set_title(f"true {names[int(y[i])][:10]}\npred {names[int(pred[i])][:10]} {c[i]:.0%}", fontsize=6)
        fig.suptitle("most confident mistakes", fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "worst_mistakes.png", dpi=110)
        plt.close(fig)
        paths.append(out / "worst_mistakes.png")
    return paths
