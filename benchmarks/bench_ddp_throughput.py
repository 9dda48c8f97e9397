"""Data-parallel throughput on this machine: 1 process x 1 thread, 2 processes x
1 thread (DistributedDataParallel over MPI) and 1 process x 2 threads, on W1
(MLP) and W2 (CNN).

    python benchmarks/bench_ddp_throughput.py               # W1 and W2, 3 interleaved repeats
    python benchmarks/bench_ddp_throughput.py --repeats 5 --json out.json

Two scalings: ``weak`` (every process trains the workload's batch of 128, so 2
processes train 256 samples per step) and ``strong`` (the global batch stays
128: 64 per process).  Speed-up = samples/s over the 1 x 1 run; efficiency =
speed-up / processes.  The configurations are run in turn, repeat after
repeat, and the figures are reported as min-max over the repeats (with the
median), because a shared machine is noisy.  Each run is a fresh job started
with the MPICH wheel's mpiexec (the same command ``dalam launch`` runs).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def worker(a):
    import dalam.distributed as dist
    import _ddp_workloads as W
    from dalam.distributed.process_group import launched_by_mpi
    procs = 1
    if launched_by_mpi():
        dist.init_process_group("mpi")
        procs = dist.get_world_size()
    model = W.build(a.workload)
    if procs > 1:
        from dalam.nn.parallel import DistributedDataParallel as DDP
        model = DDP(model)
    opt = W.optimizer(a.workload, model)
    data = W.batches(a.workload, a.batch, a.steps + a.warmup, seed=dist.get_rank() if procs > 1 else 0)
    for x, y in data[:a.warmup]:
        W.step(a.workload, model, opt, x, y)
    if procs > 1:
        dist.barrier()
    t = time.perf_counter()
    for x, y in data[a.warmup:]:
        W.step(a.workload, model, opt, x, y)
    if procs > 1:
        dist.barrier()
    dt = time.perf_counter() - t
    if procs == 1 or dist.get_rank() == 0:
        print("RESULT " + json.dumps({"units_per_s": procs * W.units(a.workload, a.batch) * a.steps / dt,
                                      "step_ms": 1e3 * dt / a.steps}), flush=True)


def run_config(workload, procs, threads, batch, steps):
    from dalam.distributed.launch import command
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    args = ["--worker", "--workload", workload, "--batch", str(batch), "--steps", str(steps)]
    if procs == 1:
        cmd = [sys.executable, __file__] + args
    else:
        cmd = command(procs, __file__, args)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if r.returncode != 0 or line is None:
        raise RuntimeError(f"{workload} {procs}x{threads} failed:\n{r.stdout}\n{r.stderr}")
    return json.loads(line[7:])


CONFIGS = [("1 proc x 1 thread", 1, 1), ("2 procs x 1 thread", 2, 1), ("1 proc x 2 threads", 1, 2)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workload", default="w1")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=0, help="timed steps per run (default: 40 for W1, 12 for W2)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workloads", default="w1,w2")
    ap.add_argument("--scalings", default="weak,strong")
    ap.add_argument("--json", help="also write the raw figures here")
    a = ap.parse_args()
    if a.worker:
        return worker(a)
    results = {}
    t0 = time.time()
    for rep in range(a.repeats):
        for wl in a.workloads.split(","):
            steps = a.steps or {"w1": 40, "w2": 12}.get(wl, 10)
            for scaling in a.scalings.split(","):
                for label, procs, threads in CONFIGS:
                    if scaling == "strong" and procs == 1 and threads == 1 and "weak" in a.scalings:
                        continue  # the same run as weak 1 x 1
                    batch = 128 if scaling == "weak" or procs == 1 else 128 // procs
                    r = run_config(wl, procs, threads, batch, steps)
                    results.setdefault((wl, scaling, label), []).append(r["units_per_s"])
    for wl in a.workloads.split(","):
        base = results[(wl, "weak" if "weak" in a.scalings else "strong", CONFIGS[0][0])]
        results.setdefault((wl, "strong", CONFIGS[0][0]), base)
    print(f"\nDDP throughput, samples/s (min-max over {a.repeats} repeats, median); machine shared; "
          f"{time.time() - t0:.0f} s wall\n")
    print(f"{'workload':8} {'scaling':7} {'configuration':20} {'samples/s':>22} {'speed-up':>14} "
          f"{'efficiency (per core)':>22}")
    order = [c[0] for c in CONFIGS]
    for (wl, scaling, label), vals in sorted(results.items(),
                                             key=lambda kv: (kv[0][0], kv[0][1], order.index(kv[0][2]))):
        base = results[(wl, scaling, CONFIGS[0][0])]
        cores = next(p * t for lab, p, t in CONFIGS if lab == label)
        ratios = [v / b for v, b in zip(vals, base)]  # paired: the runs of one repeat ran back to back
        med = statistics.median(vals)
        eff = [r / cores for r in ratios]
        print(f"{wl:8} {scaling:7} {label:20} {min(vals):7.0f}-{max(vals):<7.0f} ({med:5.0f}) "
              f"{min(ratios):5.2f}-{max(ratios):<5.2f}x {min(eff):10.0%}-{max(eff):<4.0%}")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps({" ".join(k): v for k, v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
