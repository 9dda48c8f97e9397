"""Recurrent benchmarks, dalam vs PyTorch (CPU, float32, same thread count):

- W3: char-LSTM training (vocab 65, embedding 64, LSTM 256, seq 64, batch 32,
  cross-entropy, Adam): tokens/s, ratio to PyTorch, achieved GFLOP/s against a
  large GEMM's rate.
- LSTM generation one token at a time (batch 1, the same model, no grad):
  microseconds per token.
- The fused LSTM, GRU and RNN layers alone (forward + backward, T=64, B=32,
  64 -> 256).

    python benchmarks/bench_rnn.py                  # 1 thread
    python benchmarks/bench_rnn.py --threads 2 --repeats 5

Each figure is the best of ``--repeats`` timed runs (shared machines are noisy).
"""
import argparse
import os
import sys

_ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_ap.add_argument("--threads", type=int, default=1)
_ap.add_argument("--repeats", type=int, default=3)
_ap.add_argument("--steps", type=int, default=10, help="training steps per timed run")
_ap.add_argument("--only", choices=["w3", "generate", "layer"], action="append")
ARGS = _ap.parse_args() if __name__ == "__main__" else _ap.parse_args([])
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as tnn  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402
import dalam.nn.functional as F  # noqa: E402
from dalam.models.char_rnn import CharRNN  # noqa: E402

torch.set_num_threads(ARGS.threads)
V, E, H, T, B = 65, 64, 256, 64, 32


class TorchCharLSTM(tnn.Module):
    def __init__(self):
        super().__init__()
        self.embed = tnn.Embedding(V, E)
        self.rnn = tnn.LSTM(E, H, batch_first=True)
        self.head = tnn.Linear(H, V)

    def forward(self, idx, state=None):
        out, state = self.rnn(self.embed(idx), state)
        return self.head(out), state


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def gemm_gflops(n=1024, repeats=5):
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    a @ a
    return 2 * n ** 3 / _best(lambda: a @ a, repeats) / 1e9


def _pair():
    dalam.manual_seed(0)
    m = CharRNN(V, E, H)
    tm = TorchCharLSTM()
    tm.load_state_dict({k: torch.tensor(v._data) for k, v in m.state_dict().items()})
    return m, tm


def w3_flops_per_token():
    """Multiply-adds x2 of forward + backward (backward = 2x forward)."""
    fwd = 2 * (4 * H * E + 4 * H * H + H * V)
    return 3 * fwd


def bench_w3(steps, repeats):
    g = np.random.default_rng(0)
    data = g.integers(0, V, (steps + 3, B, T + 1)).astype(np.int64)
    m, tm = _pair()
    opt = dalam.optim.Adam(m.parameters(), lr=2e-3)
    topt = torch.optim.Adam(tm.parameters(), lr=2e-3)
    xs = [(dalam.tensor(d[:, :-1]), dalam.tensor(d[:, 1:].reshape(-1))) for d in data]
    txs = [(torch.from_numpy(d[:, :-1]), torch.from_numpy(d[:, 1:].reshape(-1))) for d in data]

    def d_steps(n, off=0):
        for i in range(n):
            x, y = xs[off + i]
            logits, _ = m(x)
            loss = F.cross_entropy(logits.reshape(-1, V), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

    def t_steps(n, off=0):
        for i in range(n):
            x, y = txs[off + i]
            logits, _ = tm(x)
            loss = TF.cross_entropy(logits.reshape(-1, V), y)
            topt.zero_grad()
            loss.backward()
            topt.step()

    d_steps(3)
    t_steps(3)
    tok = steps * B * T
    td = _best(lambda: d_steps(steps, 3), repeats)
    tt = _best(lambda: t_steps(steps, 3), repeats)
    f = w3_flops_per_token()
    return dict(dalam=tok / td, torch=tok / tt, gflops=f * tok / td / 1e9,
                torch_gflops=f * tok / tt / 1e9, ms=1e3 * td / steps, torch_ms=1e3 * tt / steps)


def bench_generate(repeats, n=200):
    """One token at a time with the recurrent state carried (batch 1)."""
    m, tm = _pair()
    m.eval()
    tm.eval()
    ids = np.random.default_rng(1).integers(0, V, n)

    def ours():
        state = None
        with dalam.no_grad():
            for i in ids:
                logits, state = m(dalam.tensor(np.array([[i]])), state)

    def theirs():
        state = None
        with torch.no_grad():
            for i in ids:
                logits, state = tm(torch.tensor([[int(i)]]), state)

    ours()
    theirs()
    return dict(dalam=1e6 * _best(ours, repeats) / n, torch=1e6 * _best(theirs, repeats) / n)


def bench_layer(repeats, name="LSTM"):
    g = np.random.default_rng(2)
    x = g.standard_normal((T, B, E)).astype(np.float32)
    dalam.manual_seed(0)
    m = getattr(dalam.nn, name)(E, H)
    tm = getattr(tnn, name)(E, H)
    xd = dalam.tensor(x)
    xd.requires_grad_(True)
    xt = torch.tensor(x, requires_grad=True)

    def ours():
        o, _ = m(xd)
        o.sum().backward()

    def theirs():
        o, _ = tm(xt)
        o.sum().backward()

    ours()
    theirs()
    return dict(dalam=1e3 * _best(ours, repeats * 3), torch=1e3 * _best(theirs, repeats * 3))


def main():
    only = set(ARGS.only or ["w3", "generate", "layer"])
    print(f"threads {ARGS.threads}, best of {ARGS.repeats}; numpy {np.__version__}, torch {torch.__version__}")
    print(f"BLAS float32 GEMM 1024^3: {gemm_gflops():.1f} GFLOP/s")
    if "w3" in only:
        r = bench_w3(ARGS.steps, ARGS.repeats)
        print(f"W3 char-LSTM train: dalam {r['dalam']:.0f} tokens/s ({r['ms']:.1f} ms/step, "
              f"{r['gflops']:.1f} GFLOP/s), torch {r['torch']:.0f} tokens/s ({r['torch_ms']:.1f} ms/step, "
              f"{r['torch_gflops']:.1f} GFLOP/s), ratio {r['dalam'] / r['torch']:.2f}x")
    if "generate" in only:
        r = bench_generate(ARGS.repeats)
        print(f"LSTM generation (batch 1, one token per call): dalam {r['dalam']:.0f} us/token, "
              f"torch {r['torch']:.0f} us/token, speed ratio {r['torch'] / r['dalam']:.2f}x")
    if "layer" in only:
        for name in ["LSTM", "GRU", "RNN"]:
            r = bench_layer(ARGS.repeats, name)
            print(f"{name} layer fwd+bwd (T=64, B=32, 64->256): dalam {r['dalam']:.1f} ms, "
                  f"torch {r['torch']:.1f} ms, speed ratio {r['torch'] / r['dalam']:.2f}x")


if __name__ == "__main__":
    main()
