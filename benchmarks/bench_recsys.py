"""Recommender workloads, dalam vs PyTorch (CPU, float32), at 1 and 2 threads,
each in a fresh process (BLAS threads are fixed at start-up); best of several
repeats, since the machine is shared.

  mf_step        biased MF (943 users, 1,682 items, dim 64) training step, batch 1024,
                 MSE + per-row L2, Adam (dense gradients)
  mf_sparse      the same with Embedding(sparse=True) tables and SparseAdam
  neumf_step     NeuMF (mf_dim 32, MLP 64-128-64-32) step, batch 1024, BCE-with-logits, Adam
  rank_mf        full-ranking evaluation: scores of all 943 x 1,682 pairs by MF, training
                 items masked, rank of one held-out item per user
  rank_neumf     the same with NeuMF (1.6 M pairs through the network, batches of 256 users)

Also the peak memory of one SparseAdam step on a 1,000,000 x 64 table (batch of 1,024 rows),
against dense Adam on the same table (tracemalloc: NumPy allocations of the step itself;
the optimiser state exists before, as after a first step).

    .venv/bin/python benchmarks/bench_recsys.py            # table (+ benchmarks/results/recsys.json)
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
U, I, B = 943, 1682, 1024


def timeit(fn, repeats=5, number=5, warm=True):
    if warm:
        fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def dalam_workloads(np):
    import dalam
    from dalam import nn, optim
    from dalam.models import BiasedMF, NeuMF
    rng = np.random.default_rng(0)
    u, i = rng.integers(0, U, B), rng.integers(0, I, B)
    r = dalam.tensor(rng.integers(1, 6, B).astype(np.float32))
    y = dalam.tensor((rng.random(B) < 0.2).astype(np.float32))
    out = {}
    for name, sparse in (("mf_step", False), ("mf_sparse", True)):
        m = BiasedMF(U, I, 64, sparse=sparse)
        if sparse:
            tabs = [p for n, p in m.named_parameters() if n != "global_bias"]
            opts = [optim.SparseAdam(tabs, lr=1e-3), optim.Adam([m.global_bias], lr=1e-3)]
        else:
            opts = [optim.Adam(m.parameters(), lr=1e-3)]

        def step(m=m, opts=opts):
            loss = ((m(u, i) - r) ** 2).mean() + 0.05 * m.penalty(u, i) / B
            for o in opts:
                o.zero_grad()
            loss.backward()
            for o in opts:
                o.step()
        out[name] = timeit(step)
    nm = NeuMF(U, I, 32, (64, 128, 64, 32))
    opt = optim.Adam(nm.parameters(), lr=1e-3)
    lossf = nn.BCEWithLogitsLoss()

    def nstep():
        loss = lossf(nm(u, i), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["neumf_step"] = timeit(nstep)
    seen = rng.random((U, I)) < 0.06
    target = rng.integers(0, I, U)
    seen[np.arange(U), target] = False
    mf = BiasedMF(U, I, 64)
    users = np.arange(U)

    def rank(scores):
        s = np.where(seen, -np.inf, scores)
        return (s >= s[np.arange(U), target][:, None]).sum(1)
    out["rank_mf"] = timeit(lambda: rank(mf.score_all(users)), 3, 2)
    nm.eval()
    out["rank_neumf"] = timeit(lambda: rank(nm.score_all(users, batch=256)), 1, 1, warm=False)
    return out


def torch_workloads(np):
    import torch
    from torch import nn
    rng = np.random.default_rng(0)
    u, i = torch.tensor(rng.integers(0, U, B)), torch.tensor(rng.integers(0, I, B))
    r = torch.tensor(rng.integers(1, 6, B).astype(np.float32))
    y = torch.tensor((rng.random(B) < 0.2).astype(np.float32))

    class MF(nn.Module):
        def __init__(self, sparse):
            super().__init__()
            self.P, self.Q = nn.Embedding(U, 64, sparse=sparse), nn.Embedding(I, 64, sparse=sparse)
            self.bu, self.bi = nn.Embedding(U, 1, sparse=sparse), nn.Embedding(I, 1, sparse=sparse)
            self.mu = nn.Parameter(torch.tensor([3.5]))

        def forward(self, u, i):
            return (self.P(u) * self.Q(i)).sum(-1) + self.bu(u)[:, 0] + self.bi(i)[:, 0] + self.mu

        def penalty(self, u, i):
            return ((self.P(u) ** 2).sum() + (self.Q(i) ** 2).sum() + (self.bu(u) ** 2).sum()
                    + (self.bi(i) ** 2).sum())

    class NeuMF(nn.Module):
        def __init__(self, d=32, layers=(64, 128, 64, 32)):
            super().__init__()
            self.gu, self.gi = nn.Embedding(U, d), nn.Embedding(I, d)
            self.mu_, self.mi = nn.Embedding(U, layers[0] // 2), nn.Embedding(I, layers[0] // 2)
            mods = []
            for a, b in zip(layers[:-1], layers[1:]):
                mods += [nn.Linear(a, b), nn.ReLU()]
            self.mlp = nn.Sequential(*mods)
            self.out = nn.Linear(d + layers[-1], 1)

        def forward(self, u, i):
            h = torch.cat([self.gu(u) * self.gi(i), self.mlp(torch.cat([self.mu_(u), self.mi(i)], -1))], -1)
            return self.out(h)[:, 0]

    out = {}
    for name, sparse in (("mf_step", False), ("mf_sparse", True)):
        m = MF(sparse)
        if sparse:
            opts = [torch.optim.SparseAdam([m.P.weight, m.Q.weight, m.bu.weight, m.bi.weight], lr=1e-3),
                    torch.optim.Adam([m.mu], lr=1e-3)]
        else:
            opts = [torch.optim.Adam(m.parameters(), lr=1e-3)]

        def step(m=m, opts=opts):
            loss = ((m(u, i) - r) ** 2).mean() + 0.05 * m.penalty(u, i) / B
            for o in opts:
                o.zero_grad()
            loss.backward()
            for o in opts:
                o.step()
        out[name] = timeit(step)
    nm = NeuMF()
    opt = torch.optim.Adam(nm.parameters(), lr=1e-3)
    lossf = nn.BCEWithLogitsLoss()

    def nstep():
        loss = lossf(nm(u, i), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["neumf_step"] = timeit(nstep)
    seen = torch.tensor(rng.random((U, I)) < 0.06)
    target = torch.tensor(rng.integers(0, I, U))
    seen[torch.arange(U), target] = False
    mf = MF(False)

    def rank(scores):
        s = scores.masked_fill(seen, float("-inf"))
        return (s >= s[torch.arange(U), target][:, None]).sum(1)

    def mf_scores():
        with torch.no_grad():
            return (mf.P.weight @ mf.Q.weight.T + mf.bu.weight + mf.bi.weight[:, 0] + mf.mu)

    def neumf_scores():
        with torch.no_grad():
            rows = []
            items = torch.arange(I)
            for s in range(0, U, 256):
                us = torch.arange(s, min(s + 256, U))
                rows.append(nm(us.repeat_interleave(I), items.repeat(len(us))).reshape(len(us), I))
            return torch.cat(rows)
    out["rank_mf"] = timeit(lambda: rank(mf_scores()), 3, 2)
    out["rank_neumf"] = timeit(lambda: rank(neumf_scores()), 1, 1, warm=False)
    return out


def sparse_memory(np):
    """Peak NumPy allocation (MiB) of one optimiser step on a 1M x 64 table."""
    import tracemalloc
    import dalam
    from dalam import nn, optim
    res = {}
    ids = dalam.tensor(np.random.default_rng(0).integers(0, 1_000_000, B))
    for name, sparse in (("SparseAdam", True), ("Adam (dense)", False)):
        e = nn.Embedding(1_000_000, 64, sparse=sparse)
        opt = (optim.SparseAdam if sparse else optim.Adam)(e.parameters(), lr=1e-3)
        for k in range(2):  # the first step makes the state; measure the second
            opt.zero_grad()
            if k == 1:
                tracemalloc.start()
                tracemalloc.reset_peak()
            e(ids).pow(2).sum().backward()
            opt.step()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        res[name] = peak / 2 ** 20
        del e, opt
    return res


def worker(threads):
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    res = {"dalam": dalam_workloads(np), "torch": torch_workloads(np)}
    if threads == 1:
        res["memory_mib"] = sparse_memory(np)
    print(json.dumps(res))


def main():
    results = {}
    for threads in (1, 2):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads), PYTHONPATH=ROOT)
        p = subprocess.run([sys.executable, __file__, "--worker", str(threads)], env=env,
                           capture_output=True, text=True)
        if p.returncode:
            sys.exit(p.stderr)
        results[threads] = json.loads(p.stdout.strip().splitlines()[-1])
    print("| workload | threads | dalam ms | PyTorch ms | dalam / PyTorch |")
    print("|---|---|---|---|---|")
    for threads, r in results.items():
        for k, v in r["dalam"].items():
            t = r["torch"][k]
            print(f"| {k} | {threads} | {v * 1e3:.2f} | {t * 1e3:.2f} | {v / t:.2f} |")
    mem = results[1]["memory_mib"]
    print("\nPeak memory of one optimiser step, 1,000,000 x 64 float32 table (244 MiB), batch 1,024 "
          "rows (tracemalloc, state already allocated):")
    for k, v in mem.items():
        print(f"  {k}: {v:.2f} MiB")
    os.makedirs(os.path.join(ROOT, "benchmarks", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "benchmarks", "results", "recsys.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]))
    else:
        main()
