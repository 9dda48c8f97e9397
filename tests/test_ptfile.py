"""PyTorch checkpoint files: dalam.save_pytorch writes what torch.load(weights_only=True)
reads, dalam.load_pytorch reads what torch.save writes (zip and legacy formats), and the
restricted reader refuses hostile or corrupt files with a clear error, never running code."""
import collections
import io
import os
import pickle
import random
import struct
import zipfile

import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn
from dalam.compat.ptfile import PtFileError

DTYPES = [torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.int16,
          torch.int8, torch.uint8, torch.bool]


def _np(t):
    return t.numpy() if isinstance(t, dalam.Tensor) else t.detach().numpy()


@pytest.mark.parametrize("zipped", [True, False])
def test_reads_what_torch_saves(tmp_path, zipped):
    g = torch.Generator().manual_seed(0)
    obj = {"model": torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3)).state_dict(),
           "epoch": 7, "lr": 1e-3, "name": "run-1", "flags": [True, None, (1, 2)],
           "param": torch.nn.Parameter(torch.randn(2, 3, generator=g)),
           "view": torch.arange(12.).view(3, 4).t()[1:],  # strided view with an offset
           "bf16": torch.tensor([1.5, -2.25], dtype=torch.bfloat16),
           "empty": torch.zeros(0, 5)}
    for dt in DTYPES:
        obj[str(dt)] = (torch.randn(3, 2, generator=g) * 50).to(dt)
    path = tmp_path / "ckpt.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=zipped)
    got = dalam.load_pytorch(path)
    assert isinstance(got["model"], collections.OrderedDict)
    assert list(got["model"]) == list(obj["model"])
    for k, v in obj["model"].items():
        np.testing.assert_array_equal(_np(got["model"][k]), v.numpy())
        assert got["model"][k].dtype == dalam.float32 or got["model"][k].dtype == dalam.int64
    assert got["epoch"] == 7 and got["lr"] == 1e-3 and got["name"] == "run-1"
    assert got["flags"] == [True, None, (1, 2)]
    assert isinstance(got["param"], nn.Parameter) and got["param"].requires_grad
    np.testing.assert_array_equal(_np(got["view"]), obj["view"].numpy())
    assert got["view"].is_contiguous()
    np.testing.assert_array_equal(_np(got["bf16"]), np.array([1.5, -2.25], np.float32))
    assert tuple(got["empty"].shape) == (0, 5)
    for dt in DTYPES:
        np.testing.assert_array_equal(_np(got[str(dt)]), obj[str(dt)].numpy())


def test_torch_reads_what_dalam_saves(tmp_path):
    dalam.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    opt = dalam.optim.Adam(model.parameters(), lr=1e-2)
    x = dalam.randn(2, 1, 6, 6)
    model(x).sum().backward()
    opt.step()
    path = tmp_path / "model.pt"
    dalam.save_pytorch({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, path)
    ck = torch.load(path, weights_only=True)  # PyTorch's own restricted loader accepts it
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                             torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 3))
    tm.load_state_dict(ck["model"])
    topt = torch.optim.Adam(tm.parameters(), lr=1e-2)
    topt.load_state_dict(ck["optimizer"])
    model.eval(), tm.eval()
    np.testing.assert_allclose(tm(torch.from_numpy(x.numpy())).detach().numpy(), model(x).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert ck["epoch"] == 1
    # and back: dalam reads its own file into an equal state dict
    back = dalam.load_pytorch(path)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())


def test_single_tensor_and_shared_tensor(tmp_path):
    t = dalam.arange(6.0).view(2, 3)
    dalam.save_pytorch(t, tmp_path / "t.pt")
    np.testing.assert_array_equal(torch.load(tmp_path / "t.pt", weights_only=True).numpy(), t.numpy())
    np.testing.assert_array_equal(dalam.load_pytorch(tmp_path / "t.pt").numpy(), t.numpy())
    dalam.save_pytorch({"a": t, "b": t}, tmp_path / "tied.pt")  # tied weights share one storage
    with zipfile.ZipFile(tmp_path / "tied.pt") as zf:
        assert sum(n.split("/")[-2] == "data" for n in zf.namelist()) == 1


def test_whole_model_refused_and_nothing_written(tmp_path):
    path = tmp_path / "m.pt"
    with pytest.raises(TypeError, match="state_dict"):
        dalam.save_pytorch(nn.Linear(2, 2), path)
    with pytest.raises(TypeError, match="NumPy"):
        dalam.save_pytorch({"w": np.zeros(3)}, path)
    with pytest.raises(TypeError, match="set"):
        dalam.save_pytorch({"s": {1, 2}}, path)
    assert list(tmp_path.iterdir()) == []


def test_reads_safetensors_and_refuses_others(tmp_path):
    sd = nn.Linear(3, 2).state_dict()
    dalam.save(sd, tmp_path / "w.safetensors")
    got = dalam.load_pytorch(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(got["weight"].numpy(), sd["weight"].numpy())
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(PtFileError, match="empty"):
        dalam.load_pytorch(tmp_path / "empty.pt")
    (tmp_path / "text.pt").write_text("hello world, not a checkpoint")
    with pytest.raises(PtFileError, match="text.pt"):
        dalam.load_pytorch(tmp_path / "text.pt")
    with pytest.raises(FileNotFoundError):
        dalam.load_pytorch(tmp_path / "missing.pt")
    with pytest.raises(RuntimeError, match="cuda|CUDA"):
        dalam.load_pytorch(tmp_path / "w.safetensors", map_location="cuda")


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _zip_with(pkl, extra=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/version", "3\n")
        for name, data in extra:
            zf.writestr(name, data)
    return buf.getvalue()


def test_hostile_files_never_run_code(tmp_path):
    marker = tmp_path / "pwned"
    cases = {
        "system.pt": _zip_with(pickle.dumps({"w": _Evil(marker)}, protocol=2)),
        "legacy.pt": b"".join(pickle.dumps(x, protocol=2) for x in
                              (0x1950a86a20f9469cfc6c, 1001, {}, _Evil(marker))),
        "eval.pt": _zip_with(b"\x80\x02cbuiltins\neval\nX\x0b\x00\x00\x00print('hi')\x85R."),
        "getattr.pt": _zip_with(b"\x80\x02cbuiltins\ngetattr\n."),
        "numpy.pt": _zip_with(b"\x80\x04\x8c\x15numpy.core.multiarray\x8c\x0c_reconstruct\x93."),
        "inst.pt": _zip_with(b"\x80\x02(cos\nsystem\nX\x02\x00\x00\x00lsi."),
    }
    # a storage far larger than the file, and one that is missing
    pid = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
           b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpu\x8a\x06\x00\x00\x00\x00\x00\x01tQK\x00\x8a\x06\x00\x00\x00"
           b"\x00\x00\x01\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR.")
    cases["huge.pt"] = _zip_with(pid, [("archive/data/0", b"\0" * 16)])
    cases["missing.pt"] = _zip_with(pid)
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(PtFileError) as e:
            dalam.load_pytorch(tmp_path / name)
        assert name in str(e.value), (name, str(e.value))
    assert not marker.exists()


def test_mutation_fuzz_clean_errors_only(tmp_path):
    """Random byte mutations and truncations of real files: each either loads the same
    values (the mutation hit padding) or raises PtFileError naming the file."""
    dalam.manual_seed(0)
    sd = nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 2)).state_dict()
    good = tmp_path / "good.pt"
    dalam.save_pytorch({"sd": sd, "epoch": 3, "hist": [0.5, 0.25]}, good)
    legacy = tmp_path / "legacy.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), legacy, _use_new_zipfile_serialization=False)
    rng = random.Random(0)
    outcomes = collections.Counter()
    for src in (good, legacy):
        data = src.read_bytes()
        ref = dalam.load_pytorch(src)
        for i in range(150):
            b = bytearray(data)
            if i % 5 == 0:
                b = b[:rng.randrange(len(b))]
            else:
                for _ in range(rng.randint(1, 4)):
                    b[rng.randrange(len(b))] = rng.randrange(256)
            p = tmp_path / f"mut{i}.pt"
            p.write_bytes(bytes(b))
            try:
                got = dalam.load_pytorch(p)
            except PtFileError as e:
                assert p.name in str(e)
                outcomes["error"] += 1
                continue
            # loaded: it must be the same content, or the mutation hit an unchecked byte of the pickle
            # (legacy files carry no checksum); never a crash or a foreign exception type
            outcomes["same" if _same(got, ref) else "changed"] += 1
    print(dict(outcomes))
    assert outcomes["error"] > 200
    assert outcomes["changed"] <= 20, outcomes  # only legacy files (no CRC) can change silently


def _same(a, b):
    if isinstance(a, dalam.Tensor) and isinstance(b, dalam.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy())
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and type(a) is type(b):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def test_zip_members_are_aligned_like_torch(tmp_path):
    dalam.save_pytorch({"w": dalam.ones(3)}, tmp_path / "a.pt")
    data = (tmp_path / "a.pt").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.pt") as zf:
        for info in zf.infolist():
            n, e = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
            assert (info.header_offset + 30 + n + e) % 64 == 0, info.filename
