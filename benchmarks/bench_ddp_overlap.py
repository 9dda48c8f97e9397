"""Does DDP's gradient all-reduce overlap backward?  A per-bucket trace on 2
processes for W1, W2 and the W4 char-GPT.

    python benchmarks/bench_ddp_overlap.py     # writes benchmarks/results/ddp_overlap.json, docs/figures/ddp_overlap_trace.png

Per step and bucket DDP records when the bucket was ready (its last gradient
written), when its ``Iallreduce`` started and when it was seen complete, and
when backward ended (``DistributedDataParallel.enable_bucket_trace``).  After
each traced step the same buckets are all-reduced again *blocking*: that is
what the communication costs when nothing hides it.  Then
    exposed = the wait after backward ended (until every bucket is done),
    hidden  = 1 - exposed / blocking time   (clipped to 0..1).
The exposed wait also holds time spent waiting for the slower rank's compute,
so on a shared machine "hidden" is a lower bound.  Rows for both progress
modes: the progress thread (default) and progress only inside the hooks
(``DALAM_DDP_PROGRESS=hooks``).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
JSON = HERE / "results" / "ddp_overlap.json"
PNG = ROOT / "docs" / "figures" / "ddp_overlap_trace.png"


def worker(a):
    import dalam.distributed as dist
    import _ddp_workloads as W
    from dalam.distributed.collectives import wait
    from dalam.nn.parallel import DistributedDataParallel as DDP
    from mpi4py import MPI
    dist.init_process_group("mpi")
    rank = dist.get_rank()
    out = {}
    for wl in a.workloads.split(","):
        model = DDP(W.build(wl))
        opt = W.optimizer(wl, model)
        batch = W.DEFAULT_BATCH[wl]
        data = W.batches(wl, batch, a.steps + 2, seed=rank)
        trace = model.enable_bucket_trace()
        steps = []
        for i, (x, y) in enumerate(data):
            del trace[:]
            W.step(wl, model, opt, x, y)
            blocking = 0.0
            for b in model._buckets:  # the same messages, nothing to hide behind
                buf = b.buf.copy()
                model._comm.Barrier()
                t = time.perf_counter()
                wait(model._comm.Iallreduce(MPI.IN_PLACE, buf), "bench")
                blocking += time.perf_counter() - t
            if i >= 2:
                e0 = trace[0]
                steps.append({"forward_end": e0["forward_end"], "backward_end": e0["backward_end"],
                              "wait_end": e0["wait_end"], "blocking_s": blocking,
                              "buckets": [{k: e[k] for k in ("bytes", "ready", "start", "done")} for e in trace]})
        out[wl] = {"bucket_bytes": model.bucket_sizes, "steps": steps}
    if rank == 0:
        print("RESULT " + json.dumps(out), flush=True)
    dist.destroy_process_group()


def summarise(steps):
    rows = []
    for s in steps:
        t0, bend = s["forward_end"], s["backward_end"]
        exposed = s["wait_end"] - bend
        hidden = min(1.0, max(0.0, 1 - exposed / s["blocking_s"])) if s["blocking_s"] > 0 else 1.0
        first = min(b["start"] for b in s["buckets"])
        total = sum(b["bytes"] for b in s["buckets"])
        early = sum(b["bytes"] for b in s["buckets"] if b["done"] <= bend)
        rows.append({"backward_ms": 1e3 * (bend - t0), "first_start_ms": 1e3 * (first - t0),
                     "started_before_end": sum(b["start"] < bend for b in s["buckets"]),
                     "exposed_ms": 1e3 * exposed, "blocking_ms": 1e3 * s["blocking_s"], "hidden": hidden,
                     "done_before_end": early / total})
    return rows


def plot(results, path):
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    wls = list(results["thread"])
    fig = Figure(figsize=(10, 1.1 + 1.5 * len(wls)))
    FigureCanvasAgg(fig)
    for row, wl in enumerate(wls):
        ax = fig.add_subplot(len(wls), 1, row + 1)
        steps = results["thread"][wl]["steps"]
        s = sorted(steps, key=lambda s: s["wait_end"] - s["backward_end"])[len(steps) // 2]  # a median step
        t0 = s["forward_end"]
        ax.barh(0, 1e3 * (s["backward_end"] - t0), left=0, color="0.75", label="backward (main thread)")
        ax.barh(0, 1e3 * (s["wait_end"] - s["backward_end"]), left=1e3 * (s["backward_end"] - t0),
                color="tab:red", label="exposed wait")
        for k, b in enumerate(s["buckets"]):
            ax.barh(1 + k, 1e3 * (b["done"] - b["start"]), left=1e3 * (b["start"] - t0), color="tab:blue",
                    label="bucket all-reduce" if k == 0 else None)
            ax.plot([1e3 * (b["ready"] - t0)], [1 + k], "k|", ms=12)
            ax.text(1e3 * (b["done"] - t0), 1 + k, f" {b['bytes'] / 2**20:.2f} MiB", va="center", fontsize=7)
        ax.axvline(1e3 * (s["backward_end"] - t0), color="k", lw=0.8, ls="--")
        ax.set_yticks(range(1 + len(s["buckets"])))
        ax.set_yticklabels(["backward"] + [f"bucket {k}" for k in range(len(s["buckets"]))], fontsize=7)
        ax.set_title(f"{wl}: one step (median exposed wait), ms after forward ended", fontsize=9)
        ax.invert_yaxis()
        if row == 0:
            fig.legend(*ax.get_legend_handles_labels(), loc="upper center", ncol=3, fontsize=8)
    ax.set_xlabel("ms")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(str(path), dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workloads", default="w1,w2,gpt")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--json", default=str(JSON))
    ap.add_argument("--png", default=str(PNG))
    a = ap.parse_args()
    if a.worker:
        return worker(a)
    from dalam.distributed.launch import command
    t0 = time.time()
    results = {}
    for mode in ("thread", "hooks"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", DALAM_DDP_PROGRESS=mode)
        r = subprocess.run(command(2, __file__, ["--worker", "--workloads", a.workloads, "--steps", str(a.steps)]),
                           capture_output=True, text=True, env=env, timeout=1800)
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if r.returncode or line is None:
            raise RuntimeError(f"overlap benchmark failed:\n{r.stdout}\n{r.stderr}")
        results[mode] = json.loads(line[7:])
    pathlib.Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(a.json).write_text(json.dumps(results))
    plot(results, a.png)
    print(f"\nDDP overlap on 2 processes, {a.steps} traced steps each (min-max; median); machine shared; "
          f"{time.time() - t0:.0f} s wall\n")
    print(f"{'workload':8} {'progress':8} {'buckets':>7} {'backward ms':>20} {'1st start ms':>18} "
          f"{'started<end':>11} {'bytes done<end':>16} {'blocking ms':>20} {'exposed ms':>20} {'hidden':>14}")
    for mode, res in results.items():
        for wl, r in res.items():
            rows = summarise(r["steps"])

            def rng(key, fmt="{:.1f}", scale=1):
                v = [x[key] * scale for x in rows]
                return f"{fmt.format(min(v))}-{fmt.format(max(v))} ({fmt.format(statistics.median(v))})"
            n_b = len(r["bucket_bytes"])
            started = min(x["started_before_end"] for x in rows)
            print(f"{wl:8} {mode:8} {n_b:7} {rng('backward_ms'):>20} {rng('first_start_ms'):>18} "
                  f"{started:>5}/{n_b:<5} {rng('done_before_end', '{:.0f}', 100):>15}% "
                  f"{rng('blocking_ms', '{:.2f}'):>20} {rng('exposed_ms', '{:.2f}'):>20} "
                  f"{rng('hidden', '{:.0f}', 100):>13}%")
    print(f"wrote {a.json} and {a.png}")


if __name__ == "__main__":
    main()
