"""Average the predicted probabilities of several speech_digits.py runs (each
with its own front-end) on the same test recordings: per held-out-speaker fold,
or on the official split.

    python examples/speech_ensemble.py runs/fsdd_gru_folds runs/fsdd_gru_logmel_folds runs/fsdd_gru_folds_s1

Each run folder holds config.json + model.safetensors (one per fold in
holdout_NAME/ sub-folders); prints each run's accuracy and the ensemble's."""
import argparse
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import dalam  # noqa: E402
from dalam.datasets import FSDD  # noqa: E402
from dalam.datasets.fsdd import SPEAKERS  # noqa: E402
from dalam.audio.models import load_run  # noqa: E402
from dalam.cli.transcribe import classify  # noqa: E402


def probs(run_dir, waves):
    model, frontend, cfg = load_run(run_dir)
    return np.stack([classify(model, frontend, cfg, dalam.tensor(w)) for w in waves])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--root", default=None)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    runs = [pathlib.Path(r) for r in args.runs]
    folds = SPEAKERS if (runs[0] / "holdout_george").is_dir() else [None]
    res = {}
    for sp in folds:
        ds = FSDD(args.root, "test", holdout_speaker=sp)
        waves = [ds[i][0].numpy() for i in range(len(ds))]
        y = ds.digits
        P = [probs(r / f"holdout_{sp}" if sp else r, waves) for r in runs]
        accs = [float((q.argmax(1) == y).mean()) for q in P]
        ens = float((np.mean(P, 0).argmax(1) == y).mean())
        name = sp or "official"
        res[name] = {"runs": accs, "ensemble": ens}
        print(f"{name}: " + "  ".join(f"{a:.1%}" for a in accs) + f"  -> ensemble {ens:.1%}", flush=True)
    ens = [v["ensemble"] for v in res.values()]
    print(f"ensemble of {len(runs)}: mean {np.mean(ens):.1%}, worst {np.min(ens):.1%}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
