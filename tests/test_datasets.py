"""dalam.datasets.MNIST / FashionMNIST: the real files (../shared/data), the
folder search order, downloading from a local HTTP server (127.0.0.1 only),
corrupt-file errors, and the embedded subset."""
import gzip
import pathlib
import shutil

import numpy as np
import pytest

import dalam
from dalam.data import DataLoader, default_collate
from dalam.data import transforms as T
from dalam.datasets import MNIST, FashionMNIST, CorruptFileError, mnist_subset, read_idx
from dalam.datasets import mnist as mnist_mod
from dalam.datasets._idx import md5sum, write_idx

TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No $DALAM_DATA, a fresh home (so ~/.cache/dalam is empty) and no dev data folder."""
    monkeypatch.delenv("DALAM_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(mnist_mod, "_DEV_DATA", tmp_path / "no-such-dir")
    return tmp_path


def _copy_test_split(src, dst):
    dst.mkdir(parents=True, exist_ok=True)
    for n in TEST_FILES:
        shutil.copy(pathlib.Path(src) / "mnist" / n, dst / n)


# ---------------------------------------------------------------- real files
def test_mnist_real_files(data_dir):
    tr = MNIST(root=data_dir, train=True, download=False)
    te = MNIST(root=data_dir, train=False, download=False)
    assert tr.data.shape == (60000, 28, 28) and tr.data.dtype == np.uint8
    assert tr.targets.dtype == np.int64 and te.data.shape == (10000, 28, 28)
    assert np.bincount(te.targets).tolist() == MNIST_TEST_COUNTS
    assert np.bincount(tr.targets)[:3].tolist() == [5923, 6742, 5958]
    img, label = te[0]
    assert img.shape == (28, 28) and isinstance(label, int) and label == 7  # the famous first test digit
    x, y = tr.as_tensors()
    assert x.shape == (60000, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert abs(float(x._data.mean())) < 1e-3 and abs(float(x._data.std()) - 1) < 1e-3
    xf, _ = te.as_tensors(normalize=False, flatten=True)
    assert xf.shape == (10000, 784) and float(xf._data.max()) == 1.0 and float(xf._data.min()) == 0.0


def test_fashion_mnist_real_files(data_dir):
    te = FashionMNIST(root=data_dir, train=False, download=False)
    assert te.data.shape == (10000, 28, 28) and np.bincount(te.targets).tolist() == [1000] * 10
    assert te.classes[9] == "Ankle boot"
    assert not np.array_equal(te.data[:10], MNIST(root=data_dir, train=False).data[:10])


def test_loader_fast_path_with_batched_transforms(data_dir):
    tf = T.Compose([T.ToTensor(), T.Normalize((MNIST.mean,), (MNIST.std,))])
    te = MNIST(root=data_dir, train=False, transform=tf)
    fast = DataLoader(te, batch_size=256)
    slow = DataLoader(te, batch_size=256, collate_fn=default_collate)  # per-item path
    (xf, yf), (xs, ys) = next(iter(fast)), next(iter(slow))
    assert xf.shape == (256, 1, 28, 28) and xf.dtype == np.float32 and yf.dtype == np.int64
    np.testing.assert_allclose(xf._data, xs._data, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(yf._data, ys._data)
    x_all, _ = te.as_tensors()
    np.testing.assert_allclose(xf._data, x_all._data[:256], rtol=1e-6, atol=1e-6)
    # target_transform (not batchable) falls back to the per-item path
    te2 = MNIST(root=data_dir, train=False, target_transform=lambda t: t + 1)
    _, y2 = next(iter(DataLoader(te2, batch_size=4)))
    assert y2.tolist() == (te.targets[:4] + 1).tolist()


# ---------------------------------------------------------------- search order
def test_root_env_cache_and_torchvision_layouts(data_dir, isolated, monkeypatch):
    tv = isolated / "tv"
    _copy_test_split(data_dir, tv / "MNIST" / "raw")  # torchvision's layout
    assert len(MNIST(root=tv, train=False, download=False)) == 10000
    with pytest.raises(FileNotFoundError, match="pass download=True"):
        MNIST(train=False, download=False)  # nothing in $DALAM_DATA or the cache
    monkeypatch.setenv("DALAM_DATA", str(tv))
    assert len(MNIST(train=False, download=False)) == 10000
    monkeypatch.delenv("DALAM_DATA")
    cache = isolated / "home" / ".cache" / "dalam" / "mnist"
    _copy_test_split(data_dir, cache)
    # uncompressed files work too
    with gzip.open(cache / TEST_FILES[1]) as f:
        (cache / TEST_FILES[1][:-3]).write_bytes(f.read())
    (cache / TEST_FILES[1]).unlink()
    assert MNIST(train=False, download=False).targets[:3].tolist() == [7, 2, 1]
    # an explicit root is the only place looked at
    with pytest.raises(FileNotFoundError):
        MNIST(root=isolated / "empty", train=False, download=False)
    # files lying loose in a folder are taken only when their MD5 says which dataset they are
    loose = isolated / "loose"
    _copy_test_split(data_dir, loose)
    assert len(MNIST(root=loose, train=False, download=False)) == 10000
    with pytest.raises(FileNotFoundError):
        FashionMNIST(root=loose, train=False, download=False)


# ---------------------------------------------------------------- download
def test_download_from_local_mirror(data_dir, isolated, server, monkeypatch):
    url, www = server
    _copy_test_split(data_dir, www / "good")
    bad = www / "bad"
    bad.mkdir()
    (bad / TEST_FILES[0]).write_bytes(b"not the file")
    (bad / TEST_FILES[1]).write_bytes(b"not the file")
    target = isolated / "dl"
    # a mirror with wrong bytes and one without the files are skipped; the good one is used
    ds = MNIST(root=target, train=False, mirrors=[url("bad"), url("missing"), url("good")])
    assert np.array_equal(ds.data, MNIST(root=data_dir, train=False).data)
    for n, md5 in MNIST.resources["test"]:
        assert md5sum(target / "mnist" / n) == md5
    assert sorted(p.name for p in (target / "mnist").iterdir()) == sorted(TEST_FILES)  # no temp files left
    # downloads without a root go to $DALAM_DATA
    monkeypatch.setenv("DALAM_DATA", str(isolated / "envdir"))
    MNIST(train=False, mirrors=[url("good")])
    assert (isolated / "envdir" / "mnist" / TEST_FILES[0]).is_file()


def test_download_failure_names_file_and_md5(isolated, server):
    url, www = server
    bad = www / "bad"
    bad.mkdir()
    (bad / TEST_FILES[0]).write_bytes(b"x" * 100)
    with pytest.raises(RuntimeError) as e:
        MNIST(root=isolated / "dl", train=False, mirrors=[url("bad"), url("missing")])
    msg = str(e.value)
    assert TEST_FILES[0] in msg and MNIST.resources["test"][0][1] in msg and "404" in msg
    assert not list((isolated / "dl" / "mnist").glob("*"))  # nothing half-written left behind


# ---------------------------------------------------------------- corrupt files
def test_truncated_and_corrupt_files(data_dir, isolated):
    root = isolated / "c"
    _copy_test_split(data_dir, root / "mnist")
    img = root / "mnist" / TEST_FILES[0]
    good = img.read_bytes()
    img.write_bytes(good[:len(good) // 2])  # truncated gzip
    with pytest.raises(CorruptFileError) as e:
        MNIST(root=root, train=False)
    assert str(img) in str(e.value) and "9fb629c4189551a2d022fa330f9573f3" in str(e.value)
    assert "truncated" in str(e.value)
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF  # one corrupt byte in the deflate stream
    img.write_bytes(bytes(flipped))
    with pytest.raises(CorruptFileError, match="9fb629c4189551a2d022fa330f9573f3"):
        MNIST(root=root, train=False)
    # well-formed gzip, wrong IDX content
    write_idx(img, np.zeros((10, 28, 27), np.uint8))
    with pytest.raises(CorruptFileError, match=r"dimensions \(10, 28, 27\), expected \(N, 28, 28\)"):
        MNIST(root=root, train=False)
    with gzip.open(img, "wb") as f:
        f.write(b"\x00\x00\x08\x03" + np.array([10, 28, 28], ">u4").tobytes() + b"\x00" * 100)
    with pytest.raises(CorruptFileError, match="payload has"):
        MNIST(root=root, train=False)
    with gzip.open(img, "wb") as f:
        f.write(b"PK\x03\x04 not idx")
    with pytest.raises(CorruptFileError, match="not an IDX file"):
        read_idx(img)


def test_idx_round_trip(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    write_idx(tmp_path / "a.gz", a)
    write_idx(tmp_path / "a", a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a", shape=(5, 3)), a)


# ---------------------------------------------------------------- embedded subset
def test_embedded_subset(isolated):
    path = mnist_mod._EMBEDDED
    assert path.stat().st_size < 5e6
    tr, te = mnist_subset(train=True), MNIST(train=False, subset=True)  # no data folder needed
    assert tr.data.shape == (5000, 28, 28) and te.data.shape == (1000, 28, 28)
    assert tr.data.dtype == np.uint8 and tr.targets.dtype == np.int64
    assert np.bincount(tr.targets).tolist() == [500] * 10 and np.bincount(te.targets).tolist() == [100] * 10
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == {"x_train", "y_train", "index_train", "x_test", "y_test", "index_test"}
    x, y = tr.as_tensors(flatten=True)
    assert x.shape == (5000, 784) and x.dtype == np.float32
    with pytest.raises(ValueError, match="only available for MNIST"):
        FashionMNIST(subset=True)


def test_embedded_subset_is_real_mnist(data_dir):
    full = MNIST(root=data_dir, train=True)
    with np.load(mnist_mod._EMBEDDED, allow_pickle=False) as z:
        idx, x, y = z["index_train"], z["x_train"], z["y_train"]
    np.testing.assert_array_equal(full.data[idx], x)
    np.testing.assert_array_equal(full.targets[idx], y)
    assert len(np.unique(idx)) == 5000


def test_embedded_subset_trains_with_loader():
    """Smoke: the subset feeds a shuffled, augmented DataLoader."""
    tf = T.Compose([T.ToTensor(), T.RandomCrop(28, padding=2), T.Normalize((0.1307,), (0.3081,))])
    dl = DataLoader(mnist_subset(transform=tf), batch_size=500, shuffle=True,
                    generator=dalam.Generator().manual_seed(0), prefetch=True)
    seen = np.concatenate([yb._data for _, yb in dl])
    assert len(seen) == 5000 and np.bincount(seen).tolist() == [500] * 10
