"""Seeded mutation fuzzing of the file formats dalam reads.

    python tests/fuzz/fuzz_formats.py FORMAT [--cases N] [--seed S]   # one JSON line of counts
    python tests/fuzz/fuzz_formats.py all --cases 300                 # every format, a table

For each format a good file is written, then N mutated copies (bit flips,
random bytes, boundary values, truncation, deleted/inserted/duplicated
chunks; each case seeded by (seed, case)) are loaded the way dalam loads
them.  Every case ends as one of:
  rejected   an exception whose message names the file (what we want),
  unclean    an exception that does not name the file (a defect),
  same       loaded, and equal to the original (the mutation was harmless),
  changed    loaded with different contents: a defect for formats that carry
             a checksum (dalam checkpoints and safetensors, IDX with a known
             MD5, gzip, PyTorch's zip .pt files), unavoidable for the others
             (ONNX, TOML, raw IDX without a known MD5),
  late       loaded, then failed when used (ONNX model call): a defect,
  crash      the process died of a signal, hang: no answer within the limit.
The cases run in a child process (a batch each, restarted after the case
that killed it), so a crash or a hang is counted, never lost.
"""
import argparse
import json
import os
import pathlib
import select
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
FORMATS = ("checkpoint", "safetensors", "idx-raw", "idx-gz", "idx-raw-nomd5", "onnx", "toml", "pt")
CHECKSUMMED = {"checkpoint", "safetensors", "idx-raw", "idx-gz", "pt"}  # SHA-256, MD5, CRC32 (gzip, zip)
HANG_S = 20.0


# ---------------------------------------------------------------- mutations
def mutate(data, rng):
    """A changed copy of ``data`` (bytes) by one to three random operators."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        op = int(rng.integers(0, 8))
        n = len(b)
        if n == 0:
            b += bytes(rng.integers(0, 256, 4, dtype=np.uint8))
            continue
        i = int(rng.integers(0, n))
        if op == 0:  # flip a bit
            b[i] ^= 1 << int(rng.integers(0, 8))
        elif op == 1:  # random bytes
            k = int(rng.integers(1, 9))
            b[i:i + k] = bytes(rng.integers(0, 256, min(k, n - i), dtype=np.uint8))
        elif op == 2:  # boundary values (length fields, signs)
            b[i] = int(rng.choice([0x00, 0xFF, 0x7F, 0x80, 0x01, 0x20, 0x22, 0x5B, 0x7B]))
        elif op == 3:  # truncate
            del b[int(rng.integers(0, n)):]
        elif op == 4:  # delete a chunk
            del b[i:i + int(rng.integers(1, 65))]
        elif op == 5:  # insert random bytes
            b[i:i] = bytes(rng.integers(0, 256, int(rng.integers(1, 33)), dtype=np.uint8))
        elif op == 6:  # duplicate a chunk
            j = min(n, i + int(rng.integers(1, 65)))
            b[i:i] = b[i:j]
        else:  # swap two bytes far apart
            j = int(rng.integers(0, n))
            b[i], b[j] = b[j], b[i]
    if bytes(b) == bytes(data):
        b += b"\0"
    return bytes(b)


# ---------------------------------------------------------------- comparing
def same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if hasattr(a, "_data") and hasattr(b, "_data"):
        return same(a._data, b._data)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------- formats
class Format:
    """``make(folder)`` writes the good file(s) and returns the path to mutate
    and the thing to load; ``load(target)`` loads like dalam does; ``use``
    exercises a loaded object (may raise: a 'late' failure)."""
    def use(self, obj):
        return obj


class Safetensors(Format):
    def make(self, d):
        import dalam
        import dalam.nn as nn
        dalam.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
        opt = dalam.optim.Adam(model.parameters())
        model(dalam.randn(4, 6)).sum().backward()
        opt.step()
        p = d / "ckpt.safetensors"
        dalam.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
                    "pair": (1, 2.5), "rng": dalam.get_rng_state()}, p)
        return p, p

    def load(self, p):
        import dalam
        return dalam.load(p, as_numpy=True)


class Checkpoint(Format):
    def make(self, d):
        import dalam
        import dalam.nn as nn
        from dalam.data import DataLoader, TensorDataset
        from dalam.train import ModelCheckpoint
        dalam.manual_seed(0)
        x = np.random.default_rng(0).standard_normal((20, 4)).astype(np.float32)
        loader = DataLoader(TensorDataset(x, (x[:, 0] > 0).astype(np.int64)), batch_size=10, shuffle=True)
        model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
        opt = dalam.optim.Adam(model.parameters())
        ck = d / "run"
        dalam.fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=1, verbose=0,
                  callbacks=[ModelCheckpoint(ck, monitor="loss", save_freq=1)])
        self.folder = dalam.train.find_checkpoint(ck)
        return self.folder, self.folder

    def files(self):
        return sorted(p.name for p in self.folder.iterdir())

    def load(self, folder):
        from dalam.io import load
        from dalam.train.checkpoint import read_progress
        return (load(folder / "model.safetensors", as_numpy=True),
                load(folder / "training_state.safetensors", as_numpy=True), read_progress(folder))


class Idx(Format):
    def __init__(self, gz, md5=True):
        self.gz, self.md5 = gz, md5

    def make(self, d):
        from dalam.datasets._idx import md5sum, write_idx
        p = d / ("images-idx3-ubyte" + (".gz" if self.gz else ""))
        write_idx(p, np.random.default_rng(0).integers(0, 256, (20, 7, 7), dtype=np.uint8))
        self.sum = md5sum(p) if self.md5 else None
        return p, p

    def load(self, p):
        from dalam.datasets import read_idx
        return read_idx(p, md5=self.sum, shape=(7, 7))


class Onnx(Format):
    def make(self, d):
        import dalam
        import dalam.nn as nn
        dalam.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
        p = d / "model.onnx"
        dalam.onnx.export(model, dalam.randn(1, 1, 6, 6), p)
        self.x = dalam.randn(2, 1, 6, 6)
        return p, p

    def load(self, p):
        import dalam
        return dalam.onnx.load(p)

    def use(self, m):
        import dalam
        with dalam.no_grad():
            return m(self.x).numpy()


class Toml(Format):
    TEXT = """# a training config
[dataset]
name = "mnist"
subset = true
limit = 500
val_limit = 100

[model]
name = "mlp"
hidden = [64, 32]
dropout = 0.1

[optimizer]
name = "adamw"
lr = 3e-3
betas = [0.9, 0.99]
weight_decay = 0.01

[schedule]
name = "cosine"

[train]
epochs = 2
batch_size = 32
save_every = 10
keep_last = 2
max_grad_norm = 1.0
checkpoint_dir = "runs/fuzz"
"""

    def make(self, d):
        p = d / "config.toml"
        p.write_text(self.TEXT)
        return p, p

    def load(self, p):
        from dalam.cli.config import load_config
        return load_config(p)


class Pt(Format):
    """PyTorch's zip checkpoint format, as torch.save writes it (dalam.compat.ptfile)."""

    def make(self, d):
        import dalam
        import dalam.nn as nn
        from dalam.compat import ptfile
        dalam.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
        opt = dalam.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        model(dalam.randn(4, 6)).sum().backward()
        opt.step()
        p = d / "model.pt"
        ptfile.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, p)
        return p, p

    def load(self, p):
        from dalam.compat import ptfile
        return ptfile.load(p)


def make_format(name):
    return {"checkpoint": Checkpoint, "safetensors": Safetensors, "onnx": Onnx, "toml": Toml,
            "idx-raw": lambda: Idx(False), "idx-gz": lambda: Idx(True),
            "idx-raw-nomd5": lambda: Idx(False, md5=False), "pt": Pt}[name]()


# ---------------------------------------------------------------- the child
def child(fmt_name, seed, first, last, work):
    """Run cases first..last-1, one line per case start and end on stdout."""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a bomb is a MemoryError, not an OOM kill
    work = pathlib.Path(work)
    fmt = make_format(fmt_name)
    good_dir = work / "good"
    good_dir.mkdir(parents=True, exist_ok=True)
    target, loadable = fmt.make(good_dir)
    original = fmt.use(fmt.load(loadable))
    multi = target.is_dir()
    for case in range(first, last):
        rng = np.random.default_rng([seed, case])
        case_dir = work / f"case{case}"
        if multi:
            shutil.copytree(target, case_dir)
            names = sorted(p.name for p in case_dir.iterdir())
            victim = case_dir / names[int(rng.integers(0, len(names)))]
            t = case_dir
        else:
            case_dir.mkdir()
            victim = case_dir / target.name
            shutil.copy(target, victim)
            t = victim
        victim.write_bytes(mutate(victim.read_bytes(), rng))
        print(f"start {case}", flush=True)
        try:
            obj = fmt.load(t)
        except Exception as e:  # noqa: BLE001 - classifying is the point
            msg = str(e)
            named = str(t) in msg or victim.name in msg or str(victim) in msg
            outcome = "rejected" if named else "unclean"
            detail = f"{type(e).__name__}: {msg[:300]}"
        else:
            try:
                used = fmt.use(obj)
            except Exception as e:  # noqa: BLE001
                outcome, detail = "late", f"{type(e).__name__}: {str(e)[:300]}"
            else:
                outcome, detail = ("same", "") if same(used, original) else ("changed", victim.name)
        print("end " + json.dumps({"case": case, "outcome": outcome, "detail": detail}), flush=True)
        shutil.rmtree(case_dir, ignore_errors=True)


# ---------------------------------------------------------------- the parent
def run_format(fmt_name, cases, seed=0, batch=None):
    """Counts per outcome for ``cases`` mutations of one format, and examples."""
    counts = {k: 0 for k in ("rejected", "same", "changed", "unclean", "late", "crash", "hang")}
    examples = {}
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    nxt = 0
    t0 = time.perf_counter()
    while nxt < cases:
        work = tempfile.mkdtemp(prefix=f"dalam-fuzz-{fmt_name}-")
        proc = subprocess.Popen([sys.executable, __file__, "--child", fmt_name, "--seed", str(seed),
                                 "--first", str(nxt), "--last", str(cases), "--work", work],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        current, last_news = None, time.monotonic()
        buf = ""
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                line = proc.stdout.readline()
                if not line:
                    break
                last_news = time.monotonic()
                if line.startswith("start "):
                    current = int(line.split()[1])
                elif line.startswith("end "):
                    r = json.loads(line[4:])
                    counts[r["outcome"]] += 1
                    if r["outcome"] not in ("rejected", "same"):
                        examples.setdefault(r["outcome"], []).append((r["case"], r["detail"]))
                    nxt, current = r["case"] + 1, None
            elif time.monotonic() - last_news > HANG_S + (30 if current is None else 0):
                proc.kill()
                break
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)
        if current is not None:  # died or hung in the middle of a case
            kind = "hang" if proc.returncode in (-9,) and time.monotonic() - last_news > HANG_S else "crash"
            counts[kind] += 1
            examples.setdefault(kind, []).append((current, f"returncode {proc.returncode}"))
            nxt = current + 1
        elif proc.returncode != 0 and nxt < cases:
            raise RuntimeError(f"fuzz child for {fmt_name} failed before any case (exit {proc.returncode})")
    return {"format": fmt_name, "cases": cases, "seed": seed, **counts,
            "seconds": round(time.perf_counter() - t0, 1),
            "examples": {k: v[:5] for k, v in examples.items()}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("format", choices=FORMATS + ("all",))
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--last", type=int, default=0)
    ap.add_argument("--work")
    a = ap.parse_args()
    if a.child:
        return child(a.format, a.seed, a.first, a.last, a.work)
    names = FORMATS if a.format == "all" else (a.format,)
    for n in names:
        r = run_format(n, a.cases, a.seed)
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
