"""Corrupt files raise, naming the file; nothing loads changed values (issue 23).

safetensors written by dalam carry a SHA-256 checked on load; PyTorch's
files (no hash) still load; bf16/float8 say "dtype not supported"; crafted
JSON trees and progress.json are refused with the file named; MNIST files
are checked against their known MD5s (gz and raw); a gzip bomb is refused
before it is inflated; empty/garbage/mismatched ONNX files name the file."""
import gzip
import os
import pathlib
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

import dalam
import dalam.nn as nn
from dalam.datasets import MNIST, CorruptFileError, read_idx
from dalam.datasets import mnist as mnist_mod
from dalam.datasets._idx import write_idx

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _flip(path, pos, bit=0x01):
    b = bytearray(pathlib.Path(path).read_bytes())
    b[pos] ^= bit
    pathlib.Path(path).write_bytes(bytes(b))


# ---------------------------------------------------------------- safetensors
def test_flipped_weight_bit_is_caught(tmp_path):
    p = tmp_path / "m.safetensors"
    sd = nn.Linear(4, 3).state_dict()
    dalam.save(sd, p)
    _flip(p, os.path.getsize(p) - 2, 0x04)  # inside the last float
    with pytest.raises(RuntimeError, match="checksum mismatch") as e:
        dalam.load(p)
    assert str(p) in str(e.value)
    loose = dalam.load(p, verify=False)  # the escape hatch, for speed or forensics
    assert not all(np.array_equal(loose[k].numpy(), sd[k].numpy()) for k in sd)


def test_checkpoint_object_metadata_is_covered(tmp_path):
    p = tmp_path / "c.safetensors"
    dalam.save({"epoch": 3, "w": dalam.ones(2)}, p)
    raw = p.read_bytes().replace(b'\\"epoch\\": 3', b'\\"epoch\\": 4')
    assert raw != p.read_bytes()
    p.write_bytes(raw)
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        dalam.load(p)


def test_pytorch_safetensors_without_hash_still_load(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file
    p = tmp_path / "t.safetensors"
    save_file({"w": torch.arange(6.0).reshape(2, 3)}, str(p))
    np.testing.assert_array_equal(dalam.load(p)["w"].numpy(), np.arange(6.0, dtype=np.float32).reshape(2, 3))


@pytest.mark.parametrize("dtype", ["bfloat16", "float8_e4m3fn", "float8_e5m2"])
def test_bf16_and_float8_say_dtype_not_supported(tmp_path, dtype):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file
    p = tmp_path / f"{dtype}.safetensors"
    save_file({"ok": torch.ones(2), "layer.weight": torch.ones(2, 2).to(getattr(torch, dtype))}, str(p))
    with pytest.raises(RuntimeError, match="dtype not supported") as e:
        dalam.load(p)
    assert str(p) in str(e.value) and "layer.weight" in str(e.value) and "truncated" not in str(e.value)


def _raw_safetensors(path, meta, tensors=None):
    """A hand-made safetensors file (no hash), to craft metadata trees."""
    from safetensors.numpy import save
    pathlib.Path(path).write_bytes(save(tensors or {"x": np.zeros(1, np.float32)}, metadata=meta))


@pytest.mark.parametrize("tree", ['{"__dict__": 5}', '{"a": {"__tensor__": "nope"}}', '{"__tuple__": 3}',
                                  '{"__scalar__": 1, "dtype": "object"}', '{"__dict__": [[{"a": 1}, 2]]}',
                                  "[" * 100000 + "]" * 100000, '{"a":' * 5000 + "1" + "}" * 5000])
def test_crafted_json_tree_names_the_file(tmp_path, tree):
    p = tmp_path / "crafted.safetensors"
    _raw_safetensors(p, {"dalam": tree})
    with pytest.raises(RuntimeError) as e:
        dalam.load(p)
    assert str(p) in str(e.value) and "metadata" in str(e.value)


def test_header_lies_are_caught_before_reading(tmp_path):
    p = tmp_path / "h.safetensors"
    dalam.save({"w": dalam.ones(3)}, p)
    raw = bytearray(p.read_bytes())
    raw[:8] = struct.pack("<Q", 1 << 40)  # a header length of 1 TB
    p.write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="header claims") as e:
        dalam.load(p)
    assert str(p) in str(e.value)


def test_crafted_progress_json_names_the_file(tmp_path):
    from dalam.train.checkpoint import read_progress
    (tmp_path / "progress.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(RuntimeError, match="progress.json"):
        read_progress(tmp_path)
    (tmp_path / "progress.json").write_text('{"format": "dalam.checkpoint/1", "epoch": "x"}')
    with pytest.raises(RuntimeError, match="'epoch'"):
        read_progress(tmp_path)


# ---------------------------------------------------------------- IDX and MNIST
def _isolated_copy(data_dir, tmp_path, monkeypatch, gz=True):
    monkeypatch.delenv("DALAM_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(mnist_mod, "_DEV_DATA", tmp_path / "none")
    d = tmp_path / "root" / "mnist"
    d.mkdir(parents=True)
    for n in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        src = pathlib.Path(data_dir) / "mnist" / n
        if gz:
            shutil.copy(src, d / n)
        else:
            with gzip.open(src) as f:
                (d / n[:-3]).write_bytes(f.read())
    return d


def test_mnist_raw_files_are_checked_against_their_md5(data_dir, tmp_path, monkeypatch):
    d = _isolated_copy(data_dir, tmp_path, monkeypatch, gz=False)
    assert len(MNIST(root=d.parent, train=False)) == 10000  # the real raw files pass
    _flip(d / "t10k-images-idx3-ubyte", 5000, 0x40)  # one pixel changed: the structure is still fine
    with pytest.raises(CorruptFileError, match="MD5") as e:
        MNIST(root=d.parent, train=False)
    assert "t10k-images-idx3-ubyte" in str(e.value) and "2646ac647ad5339dbf082846283269ea" in str(e.value)


def test_mnist_regzipped_changed_file_is_refused(data_dir, tmp_path, monkeypatch):
    """A valid gzip (good CRC) of changed data: only the known MD5 can tell."""
    d = _isolated_copy(data_dir, tmp_path, monkeypatch)
    lab = d / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(lab) as f:
        raw = bytearray(f.read())
    raw[100] = (raw[100] + 1) % 10
    with gzip.open(lab, "wb") as f:
        f.write(bytes(raw))
    with pytest.raises(CorruptFileError, match="MD5 checksum mismatch"):
        MNIST(root=d.parent, train=False)


BOMB = r'''
import sys
from dalam.datasets import read_idx, CorruptFileError
try:
    read_idx(sys.argv[1])
    print("LOADED")
except CorruptFileError as e:
    print("REFUSED", str(e)[:300].replace("\n", " "))
# VmHWM: this process's peak RSS (ru_maxrss would include the parent's, kept across exec)
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print("RSS_MB", hwm // 1024)
'''


def _bomb(path, claim_n, members=1024):
    """~1 MB of gzip members inflating to 1 GiB of zeros after an IDX header
    claiming ``claim_n`` 28x28 images; the last member's size field (the one a
    reader sees) says exactly what the header needs when ``match``."""
    chunk = b"\0" * (1 << 20)
    z = gzip.compress(chunk, compresslevel=9)
    head = bytes([0, 0, 8, 3]) + np.array([claim_n, 28, 28], ">u4").tobytes()
    with open(path, "wb") as f:
        f.write(gzip.compress(head))
        for _ in range(members):
            f.write(z)
    return path


@pytest.mark.parametrize("claim_n", [10, 6_000_000])
def test_gzip_bomb_is_refused_without_inflating(tmp_path, claim_n):
    p = _bomb(tmp_path / "bomb-idx3-ubyte.gz", claim_n)
    assert os.path.getsize(p) < 2 << 20
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-c", BOMB, str(p)], env=env, capture_output=True, text=True,
                       timeout=120, preexec_fn=lambda: __import__("resource").setrlimit(
                           __import__("resource").RLIMIT_AS, (3 << 30, 3 << 30)))
    out = r.stdout
    assert "REFUSED" in out and str(p) in out, (out, r.stderr[-2000:])
    rss = int(out.split("RSS_MB")[1])
    assert rss < 300, f"{rss} MB of RSS to refuse a {os.path.getsize(p)}-byte file"


def test_idx_gz_longer_than_its_header_stops_early(tmp_path):
    """The trailer matches the header but the stream goes on: inflation stops one byte past."""
    p = tmp_path / "long-idx1-ubyte.gz"
    head = bytes([0, 0, 8, 1]) + np.array([1 << 20], ">u4").tobytes()
    with open(p, "wb") as f:
        f.write(gzip.compress(head + b"\1" * 100))
        f.write(gzip.compress(b"\0" * ((1 << 20) + 8)))  # last member: size == what the header needs
    with pytest.raises(CorruptFileError, match="or more bytes"):
        read_idx(p)


def test_idx_max_bytes(tmp_path):
    write_idx(tmp_path / "a.gz", np.zeros((50, 4), np.uint8))
    with pytest.raises(CorruptFileError, match="limit"):
        read_idx(tmp_path / "a.gz", max_bytes=100)
    assert read_idx(tmp_path / "a.gz").shape == (50, 4)


# ---------------------------------------------------------------- ONNX
@pytest.fixture
def onnx_file(tmp_path):
    pytest.importorskip("onnx")
    p = tmp_path / "mlp.onnx"
    dalam.onnx.export(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), dalam.randn(1, 4), p)
    return p


def test_empty_and_garbage_onnx_name_the_file(tmp_path, onnx_file):
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty") as e:
        dalam.onnx.load(empty)
    assert str(empty) in str(e.value)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(np.random.default_rng(0).bytes(3000))
    with pytest.raises(ValueError) as e:
        dalam.onnx.load(junk)
    assert str(junk) in str(e.value)


def test_mismatched_onnx_initializer_names_the_file(tmp_path, onnx_file):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(str(onnx_file))
    init = m.graph.initializer[1]  # the first bias: 3 values
    init.CopyFrom(numpy_helper.from_array(np.zeros(5, np.float32), init.name))
    bad = tmp_path / "bad.onnx"
    onnx.save(m, str(bad))
    with pytest.raises(ValueError) as e:
        dalam.onnx.load(bad)
    assert str(bad) in str(e.value)


def test_tinyshakespeare_local_file_is_checked(data_dir, tmp_path, monkeypatch):
    from dalam.datasets import shakespeare
    monkeypatch.delenv("DALAM_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    d = tmp_path / "root" / "tinyshakespeare"
    d.mkdir(parents=True)
    raw = bytearray((pathlib.Path(data_dir) / "tinyshakespeare" / "input.txt").read_bytes())
    (d / "input.txt").write_bytes(bytes(raw))
    assert len(shakespeare.load_text(d.parent, download=False)) == 1115394
    raw[1000] = ord("#")  # one character changed
    (d / "input.txt").write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="MD5") as e:
        shakespeare.load_text(d.parent, download=False)
    assert str(d / "input.txt") in str(e.value)
