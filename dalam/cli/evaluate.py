"""Evaluate a checkpoint on its dataset's held-out split (the test split of
an image dataset; the validation part of a text).

    dalam eval runs/mnist_cnn
    dalam eval runs/char_lstm --limit 200 --json

Prints loss and accuracy (image models) or loss, perplexity and
next-character accuracy (character models)."""
import json
import math

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


def evaluate(model, x, y, batch_size, task):
    from ..autograd.grad_mode import no_grad
    from ..nn import functional as F
    from ..tensor import Tensor
    total, correct, count = 0.0, 0, 0
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
    if count == 0:
        raise CLIError("nothing to evaluate: the split is empty")
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
    res = evaluate(model, np.asarray(x), np.asarray(y), args.batch_size, meta["task"])
    res = {"checkpoint": str(weights.parent if weights.name == "model.safetensors" else weights),
           "model": meta["model"]["name"], "dataset": ds["name"], **res}
    if args.json:
        print(json.dumps(res))
    else:
        extra = f"  perplexity {res['perplexity']:.3f}" if "perplexity" in res else ""
        print(f"{res['model']} on {res['dataset']} ({res['examples']} examples): loss {res['loss']:.4f}  "
              f"accuracy {res['accuracy']:.4f}{extra}  [{res['checkpoint']}]")
    return 0
