"""Resume never starts over while a complete checkpoint exists (issue 23).

- the crash-injection script (tests/crash_inject.py) kills a training run
  right before every write/rename/delete/fsync of its checkpoints and checks
  that each resumed run starts from the newest or the previous checkpoint and
  ends with exactly the weights of an uninterrupted run;
- a pointer that is missing, ``{"last": null}``, damaged or names a missing
  or corrupt folder: the folders are scanned, the choice and the reason said;
- a corrupt newest checkpoint falls back to the previous one;
- leftovers of killed runs (``.old-ckpt-*``, ``.*.tmp``, half-pruned folders)
  are cleaned at startup; ``dalam train --resume`` follows the same rules.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import dalam
import dalam.nn as nn
from dalam.data import DataLoader, TensorDataset
from dalam.train import ModelCheckpoint, find_checkpoint
from dalam.train.checkpoint import resolve_checkpoint

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_crash_at_every_write_rename_delete_boundary():
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "crash_inject.py")], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["boundaries"] >= 50  # 4 saves (two of them re-saves of the same name), ~15 calls each
    assert res["kills"] == res["boundaries"]
    assert res["failed"] == [] and res["identical"] == res["boundaries"]
    assert res["not_from_newest_or_previous"] == []


def _run(ckdir, epochs=2, keep_last=2):
    dalam.manual_seed(0)
    r = np.random.default_rng(0)
    x = r.standard_normal((40, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    loader = DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True,
                        generator=dalam.Generator().manual_seed(1))
    model = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 2))
    opt = dalam.optim.SGD(model.parameters(), lr=0.1)
    ck = ModelCheckpoint(ckdir, monitor="loss", save_freq=2, keep_last=keep_last)
    trained = []
    cb = dalam.train.LambdaCallback(on_batch_end=lambda tr, step, logs: trained.append(step))
    dalam.fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=epochs, callbacks=[ck, cb], verbose=0,
              resume=True)
    return model, trained


def _weights(model):
    return np.concatenate([p._data.ravel() for p in model.parameters()])


@pytest.fixture
def done_run(tmp_path):
    """A finished 2-epoch run (8 steps, a checkpoint every 2, the last 2 kept) and its weights."""
    model, _ = _run(tmp_path / "ref")
    return tmp_path / "ref", _weights(model)


def _partial(tmp_path):
    """A run stopped after 1 epoch: ckpt-e0001-s0000002 and -s0000004 on disk."""
    d = tmp_path / "part"
    _run(d, epochs=1)
    names = sorted(p.name for p in d.iterdir() if p.name.startswith("ckpt-"))
    assert names == ["ckpt-e0001-s0000002", "ckpt-e0001-s0000004"]
    return d


@pytest.mark.parametrize("pointer", [None, '{"last": null}', '{"last": "ckpt-e0009-s0000099"}',
                                     "{not json", '{"last": 5}'])
def test_pointer_missing_null_damaged_or_dangling_scans(tmp_path, done_run, capsys, pointer):
    _, want = done_run
    d = _partial(tmp_path)
    ptr = d / "checkpoint.json"
    if pointer is None:
        ptr.unlink()
    else:
        ptr.write_text(pointer)
    folder, why = resolve_checkpoint(d)
    assert folder.name == "ckpt-e0001-s0000004" and "scanning" in why
    model, trained = _run(d)
    assert trained[0] == 5  # continued after step 4, did not start over
    assert np.array_equal(_weights(model), want)
    assert "resume: using" in capsys.readouterr().err


def test_corrupt_newest_falls_back_to_previous(tmp_path, done_run, capsys):
    _, want = done_run
    d = _partial(tmp_path)
    f = d / "ckpt-e0001-s0000004" / "model.safetensors"
    b = bytearray(f.read_bytes())
    b[-3] ^= 0x10  # one flipped bit in a weight: only the checksum can tell
    f.write_bytes(bytes(b))
    folder, why = resolve_checkpoint(d)
    assert folder.name == "ckpt-e0001-s0000002"
    assert "ckpt-e0001-s0000004" in why and "checksum" in why
    model, trained = _run(d)
    assert trained[0] == 3
    assert np.array_equal(_weights(model), want)
    err = capsys.readouterr().err
    assert "ckpt-e0001-s0000002" in err and "corrupt" in err


def test_all_corrupt_refuses_to_start_over(tmp_path):
    d = _partial(tmp_path)
    for q in d.glob("ckpt-*/progress.json"):
        q.write_text("{")
    with pytest.raises(RuntimeError, match="none can be resumed from"):
        _run(d)


def test_killed_resave_between_renames(tmp_path, done_run):
    """The same name saved again, killed between 'final -> .old' and '.tmp -> final'."""
    _, want = done_run
    d = _partial(tmp_path)
    last = d / "ckpt-e0001-s0000004"
    shutil.copytree(last, d / ".tmp-ckpt-e0001-s0000004-123")
    os.replace(last, d / ".old-ckpt-e0001-s0000004-123")
    assert find_checkpoint(d) is not None
    model, trained = _run(d)
    assert trained[0] == 5 and np.array_equal(_weights(model), want)
    assert not list(d.glob(".old-*")) and not list(d.glob(".tmp-*"))


def test_startup_cleans_leftovers(tmp_path):
    d = _partial(tmp_path)
    shutil.copytree(d / "ckpt-e0001-s0000002", d / ".old-ckpt-e0001-s0000002-77")
    (d / ".checkpoint.json.abc123.tmp").write_text("{")
    (d / "ckpt-e0001-s0000004" / ".progress.json.x.tmp").write_text("{")
    half = d / "ckpt-e0000-s0000001"  # a prune killed half way: progress.json already gone
    shutil.copytree(d / "ckpt-e0001-s0000002", half)
    (half / "progress.json").unlink()
    (d / "notes.txt").write_text("the user's own file")
    _run(d)
    names = sorted(p.name for p in d.iterdir())
    assert not any(n.startswith(".") for n in names), names
    assert "ckpt-e0000-s0000001" not in names and "notes.txt" in names
    assert not list((d / "ckpt-e0002-s0000008").glob(".*"))


def test_prune_never_leaves_half_deleted_folders(tmp_path, monkeypatch):
    """Pruning renames a folder aside before deleting it: a kill inside rmtree
    leaves only a hidden .pruned-* folder, never an incomplete ckpt-*."""
    from dalam.train import checkpoint as C
    real = shutil.rmtree

    def dies_half_way(path, *a, **k):
        p = pathlib.Path(path)
        if ".pruned-" in p.name:
            (p / "progress.json").unlink()
            raise KeyboardInterrupt("killed")
        return real(path, *a, **k)
    monkeypatch.setattr(C.shutil, "rmtree", dies_half_way)
    d = tmp_path / "prune"
    with pytest.raises(KeyboardInterrupt):
        _run(d, keep_last=1)
    monkeypatch.setattr(C.shutil, "rmtree", real)
    assert all(C._is_complete(q) for q in d.glob("ckpt-*"))
    assert list(d.glob(".pruned-*"))
    _run(d, keep_last=1)
    assert not list(d.glob(".pruned-*"))


MLP = """
[dataset]
name = "mnist"
subset = true
limit = 200
val_limit = 50
[model]
name = "mlp"
hidden = [8]
[train]
epochs = {epochs}
batch_size = 50
save_every = 2
keep_last = 2
checkpoint_dir = "run"
"""


def test_cli_resume_with_null_pointer_does_not_start_over(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "dalam.cli", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
    cfg = tmp_path / "c.toml"
    cfg.write_text(MLP.format(epochs=1))
    assert cli("train", str(cfg), "--quiet").returncode == 0
    (tmp_path / "run" / "checkpoint.json").write_text('{"last": null}')
    cfg.write_text(MLP.format(epochs=2))
    r = cli("train", str(cfg), "--quiet", "--resume")
    assert r.returncode == 0, r.stderr
    assert "starting from scratch" not in r.stderr
    assert "resuming from" in r.stderr and "ckpt-e0001-s0000004" in r.stderr and "null" in r.stderr
