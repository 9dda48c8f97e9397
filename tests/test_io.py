"""dalam.save / dalam.load: safetensors state dicts (both ways with PyTorch),
general checkpoints (tensors + JSON metadata), atomic writes, clear errors
for corrupt files, and no pickle."""
import json
import os
import struct

import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn
import dalam.optim as optim
from dalam.io import atomic_write, read_safetensors
from tests.conftest import assert_close, to_torch


def _header(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n])


def test_state_dict_round_trip_keeps_dtypes_and_order(tmp_path):
    sd = {"z.weight": dalam.randn(3, 4), "a.bias": dalam.zeros(3, dtype=dalam.float64),
          "m.num_batches_tracked": dalam.tensor(5), "ids": dalam.tensor(np.arange(4, dtype=np.int32)),
          "mask": dalam.tensor(np.array([True, False])), "img": np.zeros((2, 2), np.uint8),
          "half": dalam.ones(2, dtype=dalam.float16), "t": dalam.randn(4, 3).t()}  # non-contiguous
    p = dalam.save(sd, tmp_path / "m.safetensors")
    out = dalam.load(p)
    assert list(out) == list(sd)  # order kept although safetensors sorts keys
    for k, v in sd.items():
        a = v._data if isinstance(v, dalam.Tensor) else v
        assert isinstance(out[k], dalam.Tensor) and out[k].dtype == a.dtype and out[k].shape == a.shape
        np.testing.assert_array_equal(out[k]._data, a)
    out[list(out)[0]]._data += 1  # loaded arrays are ordinary writable arrays
    assert _header(p)["__metadata__"]["format"] == "pt"
    assert isinstance(dalam.load(p, as_numpy=True)["ids"], np.ndarray)


def test_checkpoint_with_optimizer_and_progress(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = optim.Adam(model.parameters(), lr=1e-2, betas=(0.8, 0.9))
    x, y = dalam.randn(16, 4), dalam.randn(16, 2)

    def step():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    ck = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "best": float("inf"),
          "rng": dalam.get_rng_state(), "note": None, "shape": (2, 3), "lr_hist": [0.01, np.float32(0.5)]}
    p = dalam.save(ck, tmp_path / "ck.safetensors")
    meta = _header(p)["__metadata__"]
    assert "dalam" in meta and "model/0.weight" in _header(p)
    back = dalam.load(p)
    assert back["epoch"] == 3 and back["best"] == float("inf") and back["note"] is None
    assert back["shape"] == (2, 3) and back["rng"] == ck["rng"]
    assert type(back["lr_hist"][1]) is np.float32
    assert set(back["optimizer"]["state"]) == {0, 1, 2, 3}  # integer keys survive JSON
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.9)

    # resuming from the checkpoint continues exactly like the uninterrupted run
    for _ in range(4):
        step()
    model2 = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    model2.load_state_dict(back["model"])
    opt2.load_state_dict(back["optimizer"])
    for _ in range(4):
        opt2.zero_grad()
        ((model2(x) - y) ** 2).mean().backward()
        opt2.step()
    for (k, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        np.testing.assert_array_equal(a._data, b._data, err_msg=k)


def test_pytorch_state_dict_loads_into_dalam_and_back(tmp_path):
    from safetensors.torch import load_file, save_file
    tm = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    save_file(tm.state_dict(), str(tmp_path / "torch.safetensors"))
    dm = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    dm.load_state_dict(dalam.load(tmp_path / "torch.safetensors"))
    x = dalam.randn(4, 5)
    assert_close(dm(x), tm(to_torch(x)), rtol=1e-5, atol=1e-6)

    dm2 = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    dalam.save(dm2.state_dict(), tmp_path / "dalam.safetensors")
    tm2 = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    tm2.load_state_dict(load_file(str(tmp_path / "dalam.safetensors")))
    assert_close(dm2(x), tm2(to_torch(x)), rtol=1e-5, atol=1e-6)


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "w.safetensors"
    dalam.save({"a": dalam.ones(2)}, p)
    before = p.read_bytes()

    def boom(src, dst):
        raise OSError("disk full (simulated)")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        dalam.save({"a": dalam.zeros(2)}, p)
    monkeypatch.undo()
    assert p.read_bytes() == before and os.listdir(tmp_path) == ["w.safetensors"]  # no temp file left
    # an object that cannot be saved leaves the old file alone too
    with pytest.raises(TypeError, match=r"cannot store a object at 'extra/1'.*never pickles"):
        dalam.save({"w": dalam.ones(1), "extra": [1, object()]}, p)
    assert p.read_bytes() == before
    atomic_write(tmp_path / "sub" / "t.json", '{"x": 1}')
    assert json.loads((tmp_path / "sub" / "t.json").read_text()) == {"x": 1}


def test_save_survives_sigkill_mid_write(tmp_path):
    """A writer killed at any moment leaves either the old or the new file."""
    import subprocess
    import sys
    import time
    p = tmp_path / "k.safetensors"
    dalam.save({"w": dalam.zeros(1000)}, p)
    code = ("import dalam,sys\nfor i in range(1, 10**6):\n"
            f"    dalam.save({{'w': dalam.full((1000,), float(i))}}, {str(p)!r})\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=os.getcwd())
    time.sleep(2.0)
    proc.kill()
    proc.wait()
    w = dalam.load(p)["w"]._data
    assert w.shape == (1000,) and (w == w[0]).all()


def test_corrupt_and_missing_files_are_named(tmp_path):
    p = tmp_path / "ok.safetensors"
    dalam.save({"model": {"w": dalam.randn(50, 50)}, "epoch": 1}, p)
    raw = p.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(raw[:len(raw) - 100])
    with pytest.raises(RuntimeError, match=r"cut\.safetensors.*truncated or corrupt"):
        dalam.load(cut)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x80\x04\x95 this is a pickle, not safetensors")
    with pytest.raises(RuntimeError, match=r"junk\.safetensors"):
        dalam.load(junk)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(RuntimeError, match=r"empty\.safetensors"):
        dalam.load(empty)
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        dalam.load(tmp_path / "nope.safetensors")
    tensors, meta = read_safetensors(p)
    assert list(tensors) == ["model/w"] and json.loads(meta["dalam"])["epoch"] == 1


def test_optimizer_state_dict_from_torch_format(tmp_path):
    """An optimiser state written by dalam.save reloads into a PyTorch-layout dict."""
    m = nn.Linear(3, 2)
    opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    m(dalam.randn(4, 3)).sum().backward()
    opt.step()
    dalam.save({"optimizer": opt.state_dict()}, tmp_path / "o.safetensors")
    sd = dalam.load(tmp_path / "o.safetensors")["optimizer"]
    buf = sd["state"][0]["momentum_buffer"]
    assert isinstance(buf, dalam.Tensor) and buf.shape == (2, 3) and buf.dtype == np.float32
    opt2 = optim.SGD(nn.Linear(3, 2).parameters(), lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    np.testing.assert_array_equal(opt2.state_dict()["state"][0]["momentum_buffer"]._data, buf._data)


def test_saved_files_get_the_usual_permissions(tmp_path):
    """A checkpoint is readable as any file the user writes (mkstemp alone gives 0600)."""
    import os
    import stat
    old = os.umask(0o022)
    try:
        p = tmp_path / "w.safetensors"
        dalam.save({"w": dalam.ones(2)}, p)
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
    finally:
        os.umask(old)
