"""MNIST-1D (Greydanus 2020): logistic regression, MLP, CNN and GRU, compared
with the paper's test accuracies.

The models and training follow the paper's setup: Adam, learning rate 1e-2,
batch 100, 8,000 steps over the 4,000 training examples, no weight decay;
MLP 40-100-100-10 with a residual second layer, CNN of three strided Conv1d
(25 channels) + linear, bidirectional GRU with hidden size 6 read out from all
40 steps.  We report the test accuracy at the end of training.

    python examples/mnist1d.py                       # all four models, 2000 steps (~1.5 min)
    python examples/mnist1d.py --steps 8000          # the paper's length (docs/RESULTS.md)
    python examples/mnist1d.py --models mlp gru
"""
import argparse
import os

# One BLAS thread by default: a recurrent step's GEMMs are small, and on a busy
# machine OpenBLAS's spinning threads make them many times slower.  Override
# with OPENBLAS_NUM_THREADS=2 on an idle machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402
import dalam.nn as nn  # noqa: E402
import dalam.nn.functional as F  # noqa: E402
from dalam.datasets.mnist1d import make_dataset  # noqa: E402

PAPER = {"logistic": 32, "mlp": 68, "cnn": 94, "gru": 91}   # MNIST-1D test accuracy (%), the paper's table


class Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(40, 10)

    def forward(self, x):
        return self.linear(x)


class MLP(nn.Module):
    def __init__(self, hidden=100):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(40, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, 10)

    def forward(self, x):
        h = self.l1(x).relu()
        h = h + self.l2(h).relu()
        return self.l3(h)


class CNN(nn.Module):
    def __init__(self, ch=25):
        super().__init__()
        self.c1 = nn.Conv1d(1, ch, 5, stride=2, padding=1)
        self.c2 = nn.Conv1d(ch, ch, 3, stride=2, padding=1)
        self.c3 = nn.Conv1d(ch, ch, 3, stride=2, padding=1)
        self.linear = nn.Linear(ch * 5, 10)

    def forward(self, x):
        h = self.c1(x.reshape(x.shape[0], 1, -1)).relu()
        h = self.c2(h).relu()
        h = self.c3(h).relu()
        return self.linear(h.reshape(h.shape[0], -1))


class GRUNet(nn.Module):
    def __init__(self, hidden=6):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True, bidirectional=True)
        self.linear = nn.Linear(2 * hidden * 40, 10)

    def forward(self, x):
        out, _ = self.gru(x.reshape(x.shape[0], x.shape[1], 1))
        return self.linear(out.reshape(out.shape[0], -1))


MODELS = {"logistic": Logistic, "mlp": MLP, "cnn": CNN, "gru": GRUNet}


def accuracy(model, x, y):
    with dalam.no_grad():
        return 100.0 * float((model(x).detach().numpy().argmax(-1) == y.detach().numpy()).mean())


def train(name, data, steps, lr, batch, seed):
    dalam.manual_seed(seed)
    model = MODELS[name]()
    opt = dalam.optim.Adam(model.parameters(), lr=lr)
    x, y = dalam.tensor(data["x"]), dalam.tensor(data["y"])
    xt, yt = dalam.tensor(data["x_test"]), dalam.tensor(data["y_test"])
    n = len(data["y"])
    t0 = time.time()
    for step in range(steps + 1):
        i = (step * batch) % n
        loss = F.cross_entropy(model(x[i:i + batch]), y[i:i + batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 2000 == 0:
            print(f"  {name:8s} step {step:5d}  loss {loss.item():.3f}  test acc {accuracy(model, xt, yt):.1f}%")
    return accuracy(model, x, y), accuracy(model, xt, yt), time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=2000, help="the paper trains 8000")
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = ap.parse_args()
    data = make_dataset()
    print(f"MNIST-1D: train {data['x'].shape}, test {data['x_test'].shape}")
    rows = []
    for name in args.models:
        tr, te, dt = train(name, data, args.steps, args.lr, args.batch, args.seed)
        rows.append((name, tr, te, dt))
    print(f"\n| model | train acc | test acc (dalam) | test acc (paper) | time |")
    print("|---|---|---|---|---|")
    for name, tr, te, dt in rows:
        print(f"| {name} | {tr:.1f}% | {te:.1f}% | {PAPER[name]}% | {dt:.0f} s |")


if __name__ == "__main__":
    main()
