"""A scaling model for data parallelism at sizes this machine cannot run:
step time and efficiency of DDP on 2 to 1024 workers, for W1, W2 and the W4
char-GPT, on 10 and 100 Gbit/s networks, with and without overlapping the
all-reduce with backward.

    python benchmarks/scaling_model.py      # table + docs/figures/scaling_model.png

Inputs, all measured on this machine (1 thread per worker):
- per workload: forward, backward and optimiser time per step, and when each
  DDP bucket's gradients are complete during backward (post-accumulate-grad
  hooks record it), with DDP's own bucket layout (``ddp.bucket_groups``);
- the all-reduce latency alpha, fitted from benchmarks/bench_allreduce.py
  (run first if its JSON is missing).
The network: bandwidth beta = the line rate (10 or 100 Gbit/s, optimistic: no
protocol overhead), latency per step alpha = the measured MPI software
latency + a link latency (10 us for 10 Gbit/s Ethernet, 1.5 us for a 100
Gbit/s RDMA fabric; assumptions, printed with the table).

Ring all-reduce of n bytes on N workers: 2(N-1) steps, each moving n/N bytes:
    t(N, n) = 2(N-1) alpha + 2(N-1)/N x n / beta.
Without overlap a step is forward + backward + sum over buckets of t + optimiser.
With overlap the buckets are reduced one after another on the link, each
starting when it is ready and the previous one is done; the step is
max(end of backward, end of the last bucket) + optimiser.
Weak scaling: every worker keeps the workload's batch (the global batch grows
with N); efficiency = single-worker step / N-worker step.  Strong scaling: the
global batch stays at 8 x the workload's batch, split over the workers (down
to one example each); compute per phase is modelled as a + b x batch, fitted
from steps at two batch sizes; efficiency = speed-up / N.
``--compute-speedup X`` divides the measured compute times by X (a quieter
machine, more threads, an accelerator) to see how faster compute moves the
point where communication takes over.
"""
import argparse
import json
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
PNG = ROOT / "docs" / "figures" / "scaling_model.png"
NETWORKS = {"10 Gbit/s": (10e9 / 8, 10e-6), "100 Gbit/s": (100e9 / 8, 1.5e-6)}  # bytes/s, link latency
WORKERS = [2 ** k for k in range(1, 11)]
LABELS = {"w1": "W1 MLP", "w2": "W2 CNN", "gpt": "W4 char-GPT"}


def measure_compute(name, steps=8, batch=None):
    """Median forward / backward / optimiser seconds per step, and each bucket's
    ready time as a fraction of backward (single process, 1 thread)."""
    import _ddp_workloads as W
    batch = batch or W.DEFAULT_BATCH[name]
    from dalam.distributed.ddp import bucket_groups
    model = W.build(name)
    opt = W.optimizer(name, model)
    params = [p for p in model.parameters() if p.requires_grad]
    groups = bucket_groups([(p._data.nbytes, p._data.dtype) for p in params])
    ready = {}
    for i, p in enumerate(params):
        p.register_post_accumulate_grad_hook(lambda t, i=i: ready.__setitem__(i, time.perf_counter()))
    rows = []
    for x, y in W.batches(name, batch, steps + 2):
        opt.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        loss = W.loss_of(name, model, x, y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        frac = [(max(ready[i] for i in g) - t1) / (t2 - t1) for g in groups]
        rows.append((t1 - t0, t2 - t1, t3 - t2, frac))
    rows = rows[2:]
    med = lambda k: float(np.median([r[k] for r in rows]))  # noqa: E731
    return {"forward_s": med(0), "backward_s": med(1), "optimizer_s": med(2),
            "bucket_bytes": [sum(params[i]._data.nbytes for i in g) for g in groups],
            "bucket_ready": np.median([r[3] for r in rows], axis=0).tolist(),
            "params": sum(p._data.size for p in params), "batch": batch}


def measure(name):
    """The full-batch measurement plus the per-phase a + b x batch fit (from batch and batch / 8)."""
    import _ddp_workloads as W
    big = measure_compute(name)
    small = measure_compute(name, batch=max(1, W.DEFAULT_BATCH[name] // 8))
    fit = {}
    for k in ("forward_s", "backward_s", "optimizer_s"):
        b = (big[k] - small[k]) / (big["batch"] - small["batch"])
        fit[k] = (max(0.0, big[k] - b * big["batch"]), max(0.0, b))
    big["per_batch_fit"] = fit
    return big


def at_batch(c, batch, speedup=1.0):
    """``c`` with its compute times for another per-worker batch (and a faster machine)."""
    out = dict(c)
    for k, (a, b) in c["per_batch_fit"].items():
        out[k] = (a + b * batch) / speedup
    return out


def ring(n_workers, nbytes, alpha, beta):
    if n_workers == 1:
        return 0.0
    return 2 * (n_workers - 1) * alpha + 2 * (n_workers - 1) / n_workers * nbytes / beta


def step_time(c, n_workers, alpha, beta, overlap):
    fwd, bwd, opt = c["forward_s"], c["backward_s"], c["optimizer_s"]
    comm = [ring(n_workers, b, alpha, beta) for b in c["bucket_bytes"]]
    if not overlap:
        return fwd + bwd + sum(comm) + opt
    end = 0.0
    for r, t in zip(c["bucket_ready"], comm):
        end = max(fwd + r * bwd, end) + t
    return max(fwd + bwd, end) + opt


def table(compute, alpha_sw, speedup=1.0):
    out = []
    for name, c0 in compute.items():
        c = dict(c0, **{k: c0[k] / speedup for k in ("forward_s", "backward_s", "optimizer_s")})
        single = c["forward_s"] + c["backward_s"] + c["optimizer_s"]
        global_batch = 8 * c["batch"]
        one = at_batch(c0, global_batch, speedup)
        single_strong = one["forward_s"] + one["backward_s"] + one["optimizer_s"]
        for net, (beta, link) in NETWORKS.items():
            alpha = alpha_sw + link
            for n in WORKERS:
                plain = step_time(c, n, alpha, beta, False)
                ov = step_time(c, n, alpha, beta, True)
                out.append({"scaling": "weak", "workload": name, "network": net, "workers": n,
                            "single_ms": 1e3 * single, "step_ms": 1e3 * plain, "step_overlap_ms": 1e3 * ov,
                            "efficiency": single / plain, "efficiency_overlap": single / ov})
                if n > global_batch:
                    continue
                cs = at_batch(c0, global_batch / n, speedup)
                plain = step_time(cs, n, alpha, beta, False)
                ov = step_time(cs, n, alpha, beta, True)
                out.append({"scaling": "strong", "workload": name, "network": net, "workers": n,
                            "global_batch": global_batch, "single_ms": 1e3 * single_strong,
                            "step_ms": 1e3 * plain, "step_overlap_ms": 1e3 * ov,
                            "efficiency": single_strong / plain / n, "efficiency_overlap": single_strong / ov / n})
    return out


def plot(rows, path, speedup=1.0):
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    names = list(dict.fromkeys(r["workload"] for r in rows))
    fig = Figure(figsize=(4.2 * len(names), 6.6))
    FigureCanvasAgg(fig)
    for k, (scaling, name) in enumerate((s, n) for s in ("weak", "strong") for n in names):
        ax = fig.add_subplot(2, len(names), k + 1)
        for net, color in zip(NETWORKS, ("tab:red", "tab:blue")):
            sel = [r for r in rows if r["workload"] == name and r["network"] == net and r["scaling"] == scaling]
            n = [r["workers"] for r in sel]
            ax.plot(n, [r["efficiency_overlap"] for r in sel], "o-", color=color, ms=3, label=f"{net}, overlap")
            ax.plot(n, [r["efficiency"] for r in sel], "s--", color=color, ms=3, label=f"{net}, no overlap")
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 1.05)
        ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
        ax.set_xlabel("workers")
        ax.set_ylabel(f"efficiency ({scaling} scaling)")
        gb = next((r.get("global_batch") for r in rows if r["workload"] == name and r["scaling"] == "strong"), 0)
        ax.set_title(LABELS.get(name, name) + (f", global batch {gb}" if scaling == "strong" else
                                               ", batch per worker fixed"), fontsize=9)
        ax.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Predicted DDP efficiency: ring all-reduce, compute measured on this machine (1 thread/worker)"
                 + (f" / {speedup:g}" if speedup != 1 else ""), fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(str(path), dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="w1,w2,gpt")
    ap.add_argument("--allreduce", default=str(HERE / "results" / "allreduce.json"),
                    help="bench_allreduce.py's JSON (measured now when missing)")
    ap.add_argument("--json", default=str(HERE / "results" / "scaling_model.json"))
    ap.add_argument("--png", default=str(PNG))
    ap.add_argument("--compute-speedup", type=float, default=1.0,
                    help="divide the measured compute times by this (faster machine or accelerator)")
    ap.add_argument("--compute-json", help="reuse the compute measurements of an earlier run's --json")
    a = ap.parse_args()
    t0 = time.time()
    ar_path = pathlib.Path(a.allreduce)
    if not ar_path.is_file():
        import bench_allreduce
        ar_path.parent.mkdir(parents=True, exist_ok=True)
        ar_path.write_text(json.dumps(bench_allreduce.measure()))
    ar = json.loads(ar_path.read_text())
    alpha_sw = ar["alpha_s"]
    if a.compute_json:
        compute = json.loads(pathlib.Path(a.compute_json).read_text())["compute"]
    else:
        compute = {w: measure(w) for w in a.workloads.split(",")}
    rows = table(compute, alpha_sw, a.compute_speedup)
    pathlib.Path(a.json).write_text(json.dumps({"alpha_sw_s": alpha_sw, "networks": NETWORKS, "compute": compute,
                                                "rows": rows}, indent=1))
    plot(rows, a.png, a.compute_speedup)
    print(f"inputs: MPI software latency alpha = {alpha_sw * 1e6:.1f} us (fit {ar.get('when', '')}); links: "
          + ", ".join(f"{k} = {b * 8 / 1e9:.0f} Gbit/s + {lat * 1e6:.1f} us" for k, (b, lat) in NETWORKS.items()))
    for name, c in compute.items():
        print(f"{name}: {c['params']:,} parameters, {len(c['bucket_bytes'])} bucket(s) "
              f"{[round(b / 2**20, 2) for b in c['bucket_bytes']]} MiB ready at "
              f"{[round(r, 2) for r in c['bucket_ready']]} of backward; forward {1e3 * c['forward_s']:.1f} ms, "
              f"backward {1e3 * c['backward_s']:.1f} ms, optimiser {1e3 * c['optimizer_s']:.1f} ms")
    if a.compute_speedup != 1:
        print(f"compute times divided by {a.compute_speedup:g}")
    print(f"\n{'scaling':7} {'workload':9} {'network':11} {'workers':>7} {'step ms':>9} {'overlap ms':>10} "
          f"{'efficiency':>10} {'overlap eff':>11}")
    show = {2, 8, 32, 128, 512, 1024}
    for r in rows:
        if r["workers"] in show:
            print(f"{r['scaling']:7} {r['workload']:9} {r['network']:11} {r['workers']:7} {r['step_ms']:9.1f} "
                  f"{r['step_overlap_ms']:10.1f} {r['efficiency']:10.0%} {r['efficiency_overlap']:11.0%}")
    print("\nworkers at which efficiency falls below 50% (no overlap / overlap; '-': not within the range):")
    for scaling in ("weak", "strong"):
        for name in compute:
            for net in NETWORKS:
                sel = [r for r in rows if r["workload"] == name and r["network"] == net and r["scaling"] == scaling]
                f = lambda key: next((str(r["workers"]) for r in sel if r[key] < 0.5), "-")  # noqa: E731
                print(f"  {scaling:6} {name:4} {net:11} {f('efficiency'):>6} / {f('efficiency_overlap')}"
                      f"   (up to {sel[-1]['workers']} workers)")
    print(f"\n{time.time() - t0:.0f} s wall (machine shared: compute times are slower than on a quiet one, "
          f"which flatters scaling); wrote {a.json} and {a.png}")


if __name__ == "__main__":
    main()
