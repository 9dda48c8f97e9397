"""SIGKILL `dalam train` at random moments, resume, and compare with an uninterrupted run.

    python benchmarks/reliability_kills.py --runs 10 --kills 4

Each run trains the same config (MLP on the embedded MNIST subset, a
checkpoint every 3 steps and at every epoch end, keep_last=1) with
``dalam train --resume``; the process is killed with SIGKILL after a random
0.3-2.5 s, up to --kills times, then resumed to the end.  A run passes when
its history.csv and final weights equal the uninterrupted run's bit for bit,
and no resume started over.  Prints the counts.
"""
import argparse
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = """
[dataset]
name = "mnist"
subset = true
limit = 600
val_limit = 100
[model]
name = "mlp"
hidden = [32]
[optimizer]
name = "adam"
lr = 0.002
[train]
epochs = 4
batch_size = 50
save_every = 3
keep_last = 1
checkpoint_dir = "{ckpt}"
"""


def cmd(cfg):
    return [sys.executable, "-m", "dalam.cli", "train", str(cfg), "--quiet", "--resume"]


def weights(folder):
    import numpy as np
    sys.path.insert(0, str(ROOT))
    from dalam.io import load
    from dalam.train import find_checkpoint
    sd = load(find_checkpoint(folder) / "model.safetensors", as_numpy=True)
    return {k: np.asarray(v) for k, v in sd.items()}


def complete_checkpoint_exists(d):
    """A complete checkpoint folder is on disk (judged without dalam's code)."""
    d = pathlib.Path(d)
    return d.is_dir() and any(all((q / f).is_file() for f in ("model.safetensors", "training_state.safetensors",
                                                               "progress.json"))
                              for q in d.glob("ckpt-*"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--kills", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import numpy as np
    rnd = random.Random(a.seed)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    work = pathlib.Path(tempfile.mkdtemp(prefix="dalam-kills-"))
    ref_cfg = work / "ref.toml"
    ref_cfg.write_text(CONFIG.format(ckpt="ref"))
    subprocess.run(cmd(ref_cfg), cwd=work, env=env, check=True, capture_output=True)
    ref_hist = (work / "ref" / "history.csv").read_text()
    ref_w = weights(work / "ref")
    kills = identical = restarted = 0
    for r in range(a.runs):
        cfg = work / f"run{r}.toml"
        cfg.write_text(CONFIG.format(ckpt=f"run{r}"))
        for _ in range(a.kills):
            had = complete_checkpoint_exists(work / f"run{r}")
            p = subprocess.Popen(cmd(cfg), cwd=work, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
            try:
                p.wait(timeout=rnd.uniform(0.3, 2.5))
                err = p.stderr.read()
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
                p.wait()
                err = p.stderr.read()
                kills += 1
            if "starting from scratch" in err and had:
                restarted += 1
            if p.returncode == 0:
                break
        had = complete_checkpoint_exists(work / f"run{r}")
        fin = subprocess.run(cmd(cfg), cwd=work, env=env, capture_output=True, text=True)
        if "starting from scratch" in fin.stderr and had:
            restarted += 1
        same_w = fin.returncode == 0 and all(np.array_equal(ref_w[k], v) for k, v in weights(work / f"run{r}").items())
        same_h = (work / f"run{r}" / "history.csv").read_text() == ref_hist
        identical += bool(same_w and same_h)
        print(f"run {r}: {'identical' if same_w and same_h else 'DIFFERENT'} (kills so far {kills})", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    print(f"summary: {a.runs} runs, {kills} SIGKILLs, {identical}/{a.runs} resumed runs bit-identical to the "
          f"uninterrupted run, {restarted} restarts from scratch while a complete checkpoint existed")


if __name__ == "__main__":
    main()
