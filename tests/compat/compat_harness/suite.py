"""The compatibility suite's plumbing: working directories with the data, the
environment, and the PyTorch reference run started once in the background."""
import os
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parents[1]
ROOT = HERE.parents[1]
PROGRAMS = sorted((HERE / "programs").glob("*.py"))
DATA_FILES = {"MNIST": "mnist", "FashionMNIST": "fashion-mnist"}


def _data_dir(folder):
    """Where the IDX files of one dataset are ($DALAM_DATA, ~/.cache/dalam, ../shared/data)."""
    for d in (os.environ.get("DALAM_DATA"), "~/.cache/dalam", ROOT.parent / "shared" / "data",
              ROOT.parents[1] / "shared" / "data"):
        p = pathlib.Path(d).expanduser() / folder if d else None
        if p is not None and len(list(p.glob("*-ubyte.gz"))) == 4:
            return p
    return None


def make_workdir(path):
    """A program's working directory: ``data/MNIST/raw`` (torchvision's layout) linked
    to the shared IDX files, so ``datasets.MNIST("data")`` finds them in both runs."""
    path.mkdir(parents=True, exist_ok=True)
    for tv, ours in DATA_FILES.items():
        src = _data_dir(ours)
        if src is not None:
            raw = path / "data" / tv / "raw"
            raw.mkdir(parents=True, exist_ok=True)
            for f in src.glob("*-ubyte.gz"):
                if not (raw / f.name).exists():
                    os.symlink(f, raw / f.name)
    return path


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e["OPENBLAS_NUM_THREADS"] = "1"
    e["OMP_NUM_THREADS"] = "1"
    e["PYTHONWARNINGS"] = "ignore"
    return e


class TorchRuns:
    """The reference run, started once in the background (run_torch.py)."""

    def __init__(self, tmp):
        self.out = tmp / "torch_out"
        self.out.mkdir()
        work = tmp / "torch_work"
        for p in PROGRAMS:
            make_workdir(work / p.stem)
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "compat_harness" / "run_torch.py"), str(self.out), str(work)]
            + [str(p) for p in PROGRAMS], env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def result(self, name, timeout=300):
        rc = self.out / f"{name}.rc"
        t0 = time.monotonic()
        while not rc.exists():
            if self.proc.poll() is not None and not rc.exists():
                raise RuntimeError(f"the PyTorch reference run ended early: {self.proc.stderr.read().decode()}")
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"no PyTorch result for {name} after {timeout} s")
            time.sleep(0.05)
        return (int(rc.read_text()), (self.out / f"{name}.out").read_text(),
                (self.out / f"{name}.err").read_text())

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

