"""Crash injection for checkpoint writes (run as a script by test_crash_resume.py).

A small training run saves a checkpoint every 3 steps and again at the end of
every epoch (the same folder name saved twice, as ``dalam train`` does with
``save_every``), keeping only the last one.  Every filesystem call that
writes, renames or deletes (``os.replace``/``rename``/``unlink``/``fsync``,
``shutil.rmtree``) is a boundary; for each boundary N a forked child runs the
training and dies with ``os._exit`` right before call N, then another child
resumes from what is on disk.  Prints one JSON line: boundaries, kills and how
many resumed runs ended with exactly the uninterrupted run's weights.
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np

import dalam
import dalam.nn as nn
from dalam.data import DataLoader, TensorDataset
from dalam.train import Callback, ModelCheckpoint

PATCHED = {(os, "replace"), (os, "rename"), (os, "unlink"), (os, "fsync"), (shutil, "rmtree")}


def train(ckdir, out, resume, log=None):
    dalam.manual_seed(0)
    r = np.random.default_rng(0)
    x = r.standard_normal((36, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    loader = DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True,
                        generator=dalam.Generator().manual_seed(1))
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2))
    opt = dalam.optim.Adam(model.parameters(), lr=1e-2)
    ck = ModelCheckpoint(ckdir, monitor="loss", save_freq=3, keep_last=1)

    class EpochEnd(Callback):
        order = 101

        def on_epoch_end(self, trainer, epoch, logs):
            ck._save(trainer, logs)

    class Start(Callback):
        def on_train_begin(self, trainer):
            if log:
                with open(log, "a") as f:
                    f.write(f"start {trainer.global_step}\n")

    dalam.fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=2, callbacks=[ck, EpochEnd(), Start()],
              verbose=0, resume=resume)
    np.save(out, np.concatenate([p._data.ravel() for p in model.parameters()]))


def _in_child(fn):
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - report and die
            print(f"child error: {type(e).__name__}: {e}", file=sys.stderr)
            code = 1
        os._exit(code)
    return os.waitpid(pid, 0)[1]


def _arm(crash_at, counter_file=None, log=None):
    """Patch the boundary calls: die before call number ``crash_at`` (None:
    count only); ``log`` gets a line for every checkpoint folder completed."""
    from dalam.train import checkpoint as C
    write_folder = C._write_folder

    def logged(final, files):
        r = write_folder(final, files)
        with open(log, "a") as f:
            f.write(f"saved {int(str(final).rsplit('-s', 1)[1])}\n")
        return r
    if log:
        C._write_folder = logged
    count = [0]
    for mod, name in PATCHED:
        real = getattr(mod, name)

        def wrapped(*a, _real=real, **k):
            if crash_at is not None and count[0] == crash_at:
                os._exit(137)
            count[0] += 1
            if counter_file:
                with open(counter_file, "w") as f:
                    f.write(str(count[0]))
            return _real(*a, **k)
        setattr(mod, name, wrapped)


def main():
    base = tempfile.mkdtemp(prefix="dalam-crash-")
    ref = os.path.join(base, "ref.npy")
    assert _in_child(lambda: train(os.path.join(base, "ref"), ref, None)) == 0
    counter = os.path.join(base, "count")

    def counting():
        _arm(None, counter)
        train(os.path.join(base, "count-run"), os.path.join(base, "c.npy"), None)
    assert _in_child(counting) == 0
    total = int(open(counter).read())
    want = np.load(ref)
    kills, same, failed, restarted = 0, 0, [], []
    for n in range(total):
        d = os.path.join(base, f"run{n}")
        out = os.path.join(base, f"out{n}.npy")
        log = os.path.join(base, f"log{n}")
        open(log, "w").close()

        def crashing():
            _arm(n, log=log)
            train(d, out, True)
        status = _in_child(crashing)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 137:
            kills += 1
        status = _in_child(lambda: train(d, out, True, log))
        if status == 0 and np.array_equal(np.load(out), want):
            same += 1
        else:
            failed.append(n)
        lines = open(log).read().split()
        saved = [int(v) for k, v in zip(lines[::2], lines[1::2]) if k == "saved"]
        start = [int(v) for k, v in zip(lines[::2], lines[1::2]) if k == "start"]
        # the resume must start from the newest or the previous completed checkpoint
        if saved and (not start or start[-1] not in saved[-2:]):
            restarted.append((n, saved[-2:], start))
        shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(base, ignore_errors=True)
    print(json.dumps({"boundaries": total, "kills": kills, "identical": same, "failed": failed,
                      "not_from_newest_or_previous": restarted}))


if __name__ == "__main__":
    main()
