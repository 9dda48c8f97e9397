"""Shared test helpers: PyTorch comparison and the data directory.

PyTorch is a test-only dependency; it and OpenBLAS are pinned to one thread
so the suite behaves the same on a shared 2-core machine (with two pytest
workers, more BLAS threads only fight over the cores: small GEMMs ran 10x
slower that way).
"""
import functools
import http.server
import os
import pathlib
import threading

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS, where it still can

import numpy as np
import pytest
import torch

import dalam

torch.set_num_threads(1)

ROOT = pathlib.Path(__file__).resolve().parents[1]
_shared = ROOT.parent / "shared" / "data"
DATA_DIR = os.environ.get("DALAM_DATA") or (str(_shared) if _shared.is_dir() else None)


def to_torch(t, requires_grad=None):
    """A torch tensor with the same values and dtype as a dalam tensor/array."""
    a = t._data if isinstance(t, dalam.Tensor) else np.asarray(t)
    tt = torch.from_numpy(np.array(a, copy=True))
    rg = (t.requires_grad if isinstance(t, dalam.Tensor) else False) if requires_grad is None else requires_grad
    if rg:
        tt.requires_grad_(True)
    return tt


def assert_close(ours, theirs, rtol=1e-5, atol=1e-6, check_dtype=True, msg=""):
    """Compare a dalam tensor (or array) with a torch tensor (or array)."""
    a = ours._data if isinstance(ours, dalam.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    if check_dtype:
        assert a.dtype == b.dtype, f"{msg} dtype mismatch: dalam {a.dtype} vs torch {b.dtype}"
    assert a.shape == b.shape, f"{msg} shape mismatch: dalam {a.shape} vs torch {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=msg)


@pytest.fixture(scope="session")
def data_dir():
    """The real datasets: $DALAM_DATA or ../shared/data when present; otherwise
    the loaders download them (with checksums) into ~/.cache/dalam, as a user's
    machine would, so the real-data tests run everywhere instead of skipping."""
    if DATA_DIR is not None:
        return DATA_DIR
    import pathlib
    from dalam.datasets import MNIST, FashionMNIST, TinyShakespeare, SST2
    root = pathlib.Path("~/.cache/dalam").expanduser()
    for train in (True, False):
        MNIST(root=root, train=train, download=True)
        FashionMNIST(root=root, train=train, download=True)
    TinyShakespeare(root=root, split="train", download=True)
    SST2(root=root, split="train", download=True)
    return str(root)


@pytest.fixture(autouse=True)
def _seed():
    dalam.manual_seed(0)
    torch.manual_seed(0)
    np.random.seed(0)
    yield


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 (never the internet) for download tests;
    returns (url_for(folder_name), root folder to fill)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    port = httpd.server_address[1]
    yield (lambda name: f"http://127.0.0.1:{port}/{name}/"), root
    httpd.shutdown()
    httpd.server_close()
