"""Resuming training: a run killed with SIGKILL mid-epoch and resumed from its
last checkpoint must end with exactly the weights of an uninterrupted run.

The training script runs in a subprocess (written to a temp folder): an MLP
with dropout (global RNG), a shuffled DataLoader with its own generator, a
validation loader (which draws from the global RNG too), Adam, a per-batch LR
schedule, metrics, EarlyStopping, and ModelCheckpoint every 5 steps.
"""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import dalam
import dalam.nn as nn
from dalam.data import DataLoader, TensorDataset
from dalam.train import EarlyStopping, LambdaCallback, ModelCheckpoint, find_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent('''
    import json, os, sys, time
    import numpy as np
    import dalam, dalam.nn as nn
    from dalam.data import DataLoader, TensorDataset
    from dalam.train import ModelCheckpoint, EarlyStopping, LambdaCallback

    ckpt, out, slow = sys.argv[1], sys.argv[2], float(sys.argv[3])
    dalam.manual_seed(0)
    r = np.random.default_rng(0)
    x = r.standard_normal((480, 20)).astype(np.float32)
    y = (x[:, :4].argmax(1) + (x[:, 4] > 1.5)) % 4
    train = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True,
                       generator=dalam.Generator().manual_seed(3))
    val = DataLoader(TensorDataset(x[:96], y[:96]), batch_size=32, shuffle=True)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 4))
    opt = dalam.optim.Adam(model.parameters(), lr=1e-2)
    sched = dalam.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.9)
    cbs = [ModelCheckpoint(ckpt, save_freq=5), EarlyStopping(patience=5)]
    if slow:
        cbs.append(LambdaCallback(on_batch_end=lambda tr, step, logs: time.sleep(slow)))
    h = dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=3, val_loader=val,
                  metrics=["accuracy", "f1"], callbacks=cbs, verbose=0, scheduler=sched,
                  scheduler_interval="batch", resume=True)
    dalam.save(model.state_dict(), out)
    with open(out + ".json", "w") as f:
        json.dump(h.history, f)
''')


def _run(tmp_path, ckpt, out, slow=0.0, wait=True):
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    p = subprocess.Popen([sys.executable, str(script), str(ckpt), str(out), str(slow)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if wait:
        o, e = p.communicate(timeout=120)
        assert p.returncode == 0, e
    return p


def _weights(path):
    return dalam.load(path, as_numpy=True)


def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path):
    # 1. the uninterrupted run
    _run(tmp_path, tmp_path / "ck_full", tmp_path / "full.safetensors")
    full = _weights(tmp_path / "full.safetensors")

    # 2. the same run, slowed down and killed mid-epoch 2 once a checkpoint of epoch 2 exists
    ck = tmp_path / "ck_killed"
    p = _run(tmp_path, ck, tmp_path / "killed.safetensors", slow=0.03, wait=False)
    deadline = time.time() + 90
    step = 0
    while time.time() < deadline and p.poll() is None:
        try:
            step = json.loads((ck / "checkpoint.json").read_text())["global_step"]
        except (OSError, ValueError, KeyError):
            step = 0
        if step >= 40:  # 30 batches per epoch: step 40 is inside epoch 2
            break
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=30)
    assert p.returncode == -signal.SIGKILL, "the training process ended before it could be killed"
    assert not (tmp_path / "killed.safetensors").exists()
    last = find_checkpoint(ck)
    progress = json.loads((last / "progress.json").read_text())
    assert progress["epoch"] == 1 and 0 < progress["batch"] < 30, progress  # a mid-epoch checkpoint

    # 3. the same command again: resume=True continues from the last checkpoint
    _run(tmp_path, ck, tmp_path / "killed.safetensors")
    resumed = _weights(tmp_path / "killed.safetensors")
    assert list(resumed) == list(full)
    for k in full:
        assert resumed[k].dtype == full[k].dtype
        assert np.array_equal(resumed[k], full[k]), f"{k} differs after resume"
    h_full = json.loads((tmp_path / "full.safetensors.json").read_text())
    h_res = json.loads((tmp_path / "killed.safetensors.json").read_text())
    assert h_full == h_res  # the history (losses, metrics, lr) matches too


def _setup(seed=0, gen=True):
    dalam.manual_seed(seed)
    r = np.random.default_rng(0)
    x = r.standard_normal((200, 10)).astype(np.float32)
    y = r.integers(0, 3, 200)
    g = dalam.Generator().manual_seed(1) if gen else None
    dl = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, generator=g)
    model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Dropout(0.25), nn.Linear(16, 3))
    opt = dalam.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return dl, model, opt


def _train(ckpt, stop_at=None, resume=None, gen=True, save_freq=4, epochs=3):
    dl, model, opt = _setup(gen=gen)
    cbs = [ModelCheckpoint(ckpt, monitor="loss", save_freq=save_freq)]
    if stop_at is not None:
        def interrupt(tr, step, logs):
            if step == stop_at:
                raise KeyboardInterrupt
        cbs.append(LambdaCallback(on_batch_end=interrupt))
    try:
        dalam.fit(model, dl, nn.CrossEntropyLoss(), opt, epochs=epochs, callbacks=cbs, verbose=0,
                  resume=resume)
    except KeyboardInterrupt:
        return None
    return {k: v._data.copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("gen", [True, False], ids=["loader-generator", "global-rng"])
@pytest.mark.parametrize("save_freq,stop_at", [(4, 23), (13, 15), ("epoch", 20)])
def test_in_process_interrupt_and_resume(tmp_path, gen, save_freq, stop_at):
    """Checkpoints mid-epoch and at epoch ends, shuffling by a loader generator
    or by the global RNG: resuming gives the uninterrupted weights."""
    full = _train(tmp_path / "a", gen=gen, save_freq=save_freq)
    assert _train(tmp_path / "b", stop_at=stop_at, gen=gen, save_freq=save_freq) is None
    resumed = _train(tmp_path / "b", resume=tmp_path / "b", gen=gen, save_freq=save_freq)
    for k in full:
        assert np.array_equal(full[k], resumed[k])


def test_resume_without_restoring_rng_would_differ(tmp_path):
    """Control: the shuffle order matters, so the bit-identical result above is
    not an accident of a problem where order does not change the weights."""
    full = _train(tmp_path / "a")
    dl, model, opt = _setup()
    dl.generator.manual_seed(2)  # another shuffle order
    dalam.fit(model, dl, nn.CrossEntropyLoss(), opt, epochs=3, verbose=0)
    assert not all(np.array_equal(full[k], v._data) for k, v in model.state_dict().items())


def test_resume_errors(tmp_path):
    dl, model, opt = _setup()
    with pytest.raises(FileNotFoundError, match="no checkpoint there"):
        dalam.fit(model, dl, nn.CrossEntropyLoss(), opt, epochs=1, verbose=0, resume=tmp_path / "none")
    with pytest.raises(ValueError, match="ModelCheckpoint"):
        dalam.fit(model, dl, nn.CrossEntropyLoss(), opt, epochs=1, verbose=0, resume=True)
    _train(tmp_path / "c", epochs=1)
    # a different model cannot resume this checkpoint: the error names the mismatch
    other = nn.Sequential(nn.Linear(10, 8), nn.Tanh(), nn.Dropout(0.25), nn.Linear(8, 3))
    with pytest.raises(RuntimeError, match="(?s)does not match the checkpoint.*size mismatch"):
        dalam.fit(other, dl, nn.CrossEntropyLoss(), dalam.optim.SGD(other.parameters(), lr=0.1),
                  epochs=2, verbose=0, resume=tmp_path / "c")
    # a mid-epoch checkpoint needs the same batches per epoch
    _train(tmp_path / "d", stop_at=5, save_freq=4)
    _, model3, opt3 = _setup()
    dl3 = DataLoader(dl.dataset, batch_size=8, shuffle=True, generator=dalam.Generator().manual_seed(1))
    with pytest.raises(ValueError, match="13 batches per epoch, but train_loader has 25"):
        dalam.fit(model3, dl3, nn.CrossEntropyLoss(), opt3, epochs=2, verbose=0, resume=tmp_path / "d")
    # a loader built without its generator cannot restore the shuffle state
    _, model2, opt2 = _setup()
    dl2 = _setup(gen=False)[0]
    with pytest.raises(ValueError, match="generator"):
        dalam.fit(model2, dl2, nn.CrossEntropyLoss(), opt2, epochs=2, verbose=0, resume=tmp_path / "c")


def test_resume_true_without_checkpoint_starts_fresh_and_finished_run_does_nothing(tmp_path):
    full = _train(tmp_path / "a", epochs=2, save_freq="epoch")
    again = _train(tmp_path / "b", resume=True, epochs=2, save_freq="epoch")  # empty dir: fresh start
    for k in full:
        assert np.array_equal(full[k], again[k])
    # resuming a run that already finished trains no further
    dl, model, opt = _setup()
    steps = []
    h = dalam.fit(model, dl, nn.CrossEntropyLoss(), opt, epochs=2, verbose=0, resume=tmp_path / "b",
                  callbacks=[LambdaCallback(on_batch_end=lambda tr, s, logs: steps.append(s))])
    assert steps == [] and len(h.epoch) == 2
    for k, v in model.state_dict().items():
        assert np.array_equal(v._data, full[k])


def test_early_stopped_run_stays_stopped_on_resume(tmp_path):
    dl, model, opt = _setup()
    es = EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # stops after epoch 2
    h = dalam.fit(model, dl, nn.CrossEntropyLoss(), opt, epochs=5, verbose=0,
                  callbacks=[es, ModelCheckpoint(tmp_path, monitor="loss")])
    assert len(h.epoch) == 2
    dl, model, opt = _setup()
    h2 = dalam.fit(model, dl, nn.CrossEntropyLoss(), opt, epochs=5, verbose=0, resume=tmp_path,
                   callbacks=[EarlyStopping(monitor="loss", patience=0, min_delta=10.0)])
    assert h2.history == h.history


class _NoisyData(dalam.data.Dataset):
    """Samples jittered by user code drawing from NumPy's and Python's global generators."""

    def __init__(self):
        r = np.random.default_rng(0)
        self.x = r.standard_normal((120, 10)).astype(np.float32)
        self.y = r.integers(0, 3, 120)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        import random
        noise = np.float32(0.1 * np.random.standard_normal() + 0.01 * random.random())
        return self.x[i] + noise, int(self.y[i])


def test_resume_restores_numpy_and_python_global_generators(tmp_path):
    import random

    def run(ckpt, stop_at=None, resume=None, user_seed=7):
        dalam.manual_seed(0)
        np.random.seed(user_seed)
        random.seed(user_seed)
        dl = DataLoader(_NoisyData(), batch_size=10, shuffle=True)
        model = nn.Sequential(nn.Linear(10, 8), nn.Tanh(), nn.Linear(8, 3))
        opt = dalam.optim.Adam(model.parameters(), lr=0.01)
        cbs = [ModelCheckpoint(ckpt, monitor="loss", save_freq=5)]
        if stop_at:
            def interrupt(tr, step, logs):
                if step == stop_at:
                    raise KeyboardInterrupt
            cbs.append(LambdaCallback(on_batch_end=interrupt))
        try:
            dalam.fit(model, dl, nn.CrossEntropyLoss(), opt, epochs=2, callbacks=cbs, verbose=0,
                      resume=resume)
        except KeyboardInterrupt:
            return None
        return {k: v._data.copy() for k, v in model.state_dict().items()}

    full = run(tmp_path / "a")
    assert run(tmp_path / "b", stop_at=8) is None
    # the resumed process starts from other NumPy/Python states: the checkpoint's must win
    resumed = run(tmp_path / "b", resume=tmp_path / "b", user_seed=123)
    for k in full:
        assert np.array_equal(full[k], resumed[k]), k
