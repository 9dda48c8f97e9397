"""All-reduce time and bandwidth against message size, on 2 processes of this
machine (MPICH's shared-memory transport), and the latency/bandwidth fit the
scaling model uses.

    python benchmarks/bench_allreduce.py      # writes benchmarks/results/allreduce.json, docs/figures/allreduce_bandwidth.png

Each size (4 B to 64 MiB float32) is all-reduced ``--repeats`` times the way
DDP does it (``Iallreduce`` then dalam.distributed's wait); the figure per
size is the minimum (the least disturbed run on a shared machine) with the
median beside it.  The fit is the ring model for 2 processes,
t(n) = 2 alpha + n / beta (2(N-1) latency steps, 2(N-1)/N x n bytes per
process), solved for least *relative* error so small and large messages
count alike.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
JSON = HERE / "results" / "allreduce.json"
PNG = ROOT / "docs" / "figures" / "allreduce_bandwidth.png"


def worker(repeats):
    import dalam.distributed as dist
    from dalam.distributed.collectives import wait
    dist.init_process_group("mpi")
    comm = dist.get_comm()
    from mpi4py import MPI
    rows = []
    for k in range(0, 25, 2):  # 1 .. 16M float32 elements
        n = 1 << k
        a = np.ones(n, np.float32)
        reps = repeats if n < (1 << 20) else max(3, repeats // 4)
        times = []
        for i in range(reps + 2):
            comm.Barrier()
            t = time.perf_counter()
            wait(comm.Iallreduce(MPI.IN_PLACE, a), "bench")
            dt = time.perf_counter() - t
            if i >= 2:
                times.append(dt)
        worst = np.empty(len(times))
        comm.Allreduce(np.array(times), worst, op=MPI.MAX)  # a collective ends when its slowest rank does
        rows.append({"bytes": 4 * n, "min_s": float(worst.min()), "median_s": float(np.median(worst))})
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(rows), flush=True)
    dist.destroy_process_group()


def fit(rows, procs=2, key="min_s"):
    """alpha (s per latency step) and beta (bytes/s) of t = 2(N-1) alpha + 2(N-1)/N n / beta."""
    n = np.array([r["bytes"] for r in rows], float)
    t = np.array([r[key] for r in rows], float)
    steps, share = 2 * (procs - 1), 2 * (procs - 1) / procs
    A = np.stack([steps / t, share * n / t], axis=1)
    (alpha, inv_beta), *_ = np.linalg.lstsq(A, np.ones_like(t), rcond=None)
    return float(alpha), float(1 / inv_beta)


def plot(rows, alpha, beta, path):
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    n = np.array([r["bytes"] for r in rows], float)
    fig = Figure(figsize=(10, 3.8))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    model = 2 * alpha + n / beta
    for key, style, label in (("min_s", "o-", "measured (min)"), ("median_s", "s--", "measured (median)")):
        t = np.array([r[key] for r in rows])
        ax1.loglog(n, t * 1e6, style, ms=4, label=label)
        ax2.semilogx(n, n / t / 1e9, style, ms=4, label=label)
    ax1.loglog(n, model * 1e6, "k:", label=f"fit: 2 x {alpha * 1e6:.1f} us + n / {beta / 1e9:.2f} GB/s")
    ax2.semilogx(n, n / model / 1e9, "k:", label="fit")
    ax1.set_xlabel("message size (bytes)")
    ax1.set_ylabel("all-reduce time (us)")
    ax2.set_xlabel("message size (bytes)")
    ax2.set_ylabel("bandwidth n / t (GB/s)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle("All-reduce on 2 processes, MPICH shared memory, this 2-core machine (shared, noisy)")
    fig.tight_layout()
    fig.savefig(str(path), dpi=100)


def measure(repeats=20):
    from dalam.distributed.launch import command
    env = {"OPENBLAS_NUM_THREADS": "1"}
    import os
    r = subprocess.run(command(2, __file__, ["--worker", "--repeats", str(repeats)]), capture_output=True,
                       text=True, env=dict(os.environ, **env), timeout=900)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if r.returncode or line is None:
        raise RuntimeError(f"all-reduce benchmark failed:\n{r.stdout}\n{r.stderr}")
    rows = json.loads(line[7:])
    alpha, beta = fit(rows)
    return {"rows": rows, "alpha_s": alpha, "beta_Bps": beta, "procs": 2,
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json", default=str(JSON))
    ap.add_argument("--png", default=str(PNG))
    a = ap.parse_args()
    if a.worker:
        return worker(a.repeats)
    t0 = time.time()
    res = measure(a.repeats)
    pathlib.Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(a.json).write_text(json.dumps(res, indent=1))
    plot(res["rows"], res["alpha_s"], res["beta_Bps"], a.png)
    print(f"{'bytes':>10} {'min us':>10} {'median us':>10} {'GB/s (min)':>11}")
    for r in res["rows"]:
        print(f"{r['bytes']:>10} {r['min_s'] * 1e6:10.1f} {r['median_s'] * 1e6:10.1f} "
              f"{r['bytes'] / r['min_s'] / 1e9:11.3f}")
    print(f"fit: alpha = {res['alpha_s'] * 1e6:.1f} us per step, beta = {res['beta_Bps'] / 1e9:.2f} GB/s; "
          f"{time.time() - t0:.0f} s wall, machine shared; wrote {a.json} and {a.png}")


if __name__ == "__main__":
    main()
