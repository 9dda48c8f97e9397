"""Engine benchmark: dalam vs PyTorch (CPU) in one run, printing ratios.

Measures
1. per-op Python overhead on small tensors (``a + b`` on 10 elements; a 3-op
   expression forward, and forward+backward), with and without requires_grad;
2. large float32 matmul forward+backward GFLOP/s against raw ``numpy.matmul``;
3. ``import dalam`` minus ``import numpy`` in fresh processes.

Timings are the best of several repeats (the machine may be shared).
Run: ``.venv/bin/python benchmarks/bench_engine.py`` (``--quick`` for a smoke run).
"""
import argparse
import ctypes
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402


def blas_threads():
    """Threads numpy's OpenBLAS uses, asked of the bundled library itself."""
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    names = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
             "openblas_get_num_threads")
    if os.path.isdir(libdir):
        for f in sorted(os.listdir(libdir)):
            if "openblas" not in f:
                continue
            try:
                lib = ctypes.CDLL(os.path.join(libdir, f))
            except OSError:
                continue
            for name in names:
                if hasattr(lib, name):
                    return int(getattr(lib, name)())
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var):
            return int(os.environ[var])
    return os.cpu_count() or 1


def best_us(fn, number, repeat, clock=time.perf_counter):
    """Best time per call in microseconds over ``repeat`` runs of ``number`` calls."""
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        for _ in range(number):
            fn()
        best = min(best, (clock() - t0) / number)
    return best * 1e6


def small_op_cases(m, rg):
    a = m.randn(10, requires_grad=rg)
    b = m.randn(10, requires_grad=rg)

    def add():
        return a + b

    def expr3():
        return ((a * b).tanh() + a)

    def expr3_backward():
        y = ((a * b).tanh() + a).sum()
        y.backward()

    cases = {"a + b (10 elems)": add, "3-op expr fwd": expr3}
    if rg:
        cases["3-op expr + sum, fwd+bwd"] = expr3_backward
    return cases


def bench_small(quick, wall=False):
    """Small ops run on one thread: timed in that thread's CPU time by default,
    so that time the shared machine gives to other processes is not counted."""
    import dalam
    import torch
    clock = time.perf_counter if wall else time.thread_time
    number, repeat = (2000, 3) if quick else (20000, 9)
    rows = []
    for rg in (False, True):
        dc = small_op_cases(dalam, rg)
        tc = small_op_cases(torch, rg)
        for name in dc:
            d = t = float("inf")
            for _ in range(repeat):  # interleaved: a burst of load hits both alike
                d = min(d, best_us(dc[name], number, 1, clock))
                t = min(t, best_us(tc[name], number, 1, clock))
            rows.append((f"{name} [requires_grad={rg}]", d, t))
    print("\n1. Per-op overhead on small tensors (us per call, best of %d x %d, %s)"
          % (repeat, number, "wall clock" if wall else "thread CPU time"))
    print(f"{'case':48s} {'dalam':>9s} {'torch':>9s} {'dalam/torch':>12s}")
    for name, d, t in rows:
        print(f"{name:48s} {d:9.2f} {t:9.2f} {d / t:12.2f}")
    return rows


def bench_matmul(quick):
    import dalam
    import torch
    n = 512 if quick else 1024
    repeat = 3 if quick else 30
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(np.float32)
    B = rng.standard_normal((n, n)).astype(np.float32)
    G = rng.standard_normal((n, n)).astype(np.float32)

    def np_mm():
        np.matmul(A, B)

    def np_3mm():  # the same three GEMMs a forward+backward does, in raw numpy
        np.matmul(A, B)
        np.matmul(G, B.T)
        np.matmul(A.T, G)

    a = dalam.tensor(A, requires_grad=True)
    b = dalam.tensor(B, requires_grad=True)
    g = dalam.tensor(G)

    def dalam_fb():
        a.grad = b.grad = None
        (a @ b).backward(g)

    ta = torch.tensor(A, requires_grad=True)
    tb = torch.tensor(B, requires_grad=True)
    tg = torch.tensor(G)

    def torch_fb():
        ta.grad = tb.grad = None
        (ta @ tb).backward(tg)

    flop1 = 2.0 * n ** 3
    for f in (np_mm, np_3mm, dalam_fb, torch_fb):
        f()  # warm up
    cases = {"np1": np_mm, "np3": np_3mm, "dalam": dalam_fb, "torch": torch_fb}
    wall = dict.fromkeys(cases, float("inf"))
    cpu = dict.fromkeys(cases, float("inf"))
    for _ in range(repeat):  # interleaved rounds, best of each, in wall and in process CPU time
        for k, f in cases.items():
            w0, c0 = time.perf_counter(), time.process_time()
            f()
            wall[k] = min(wall[k], time.perf_counter() - w0)
            cpu[k] = min(cpu[k], time.process_time() - c0)
    flops = {"np1": flop1, "np3": 3 * flop1, "dalam": 3 * flop1, "torch": 3 * flop1}
    print(f"\n2. float32 matmul {n}x{n} @ {n}x{n}: forward+backward = 3 GEMMs "
          f"(best of {repeat} interleaved rounds)")
    print("   GFLOP/s per wall second, and per CPU second of the process (all threads): the CPU")
    print("   figure is steadier on a shared machine, where wall time includes waiting for a core")
    res = {}
    for k, label in (("np1", "numpy.matmul, one GEMM"), ("np3", "numpy.matmul, the same 3 GEMMs"),
                     ("dalam", "dalam forward+backward"), ("torch", "torch forward+backward")):
        gw, gc = flops[k] / wall[k] / 1e9, flops[k] / cpu[k] / 1e9
        res[k] = (gw, gc)
        extra = ""
        if k in ("dalam", "torch"):
            extra = (f"  = {100 * gw / res['np1'][0]:5.1f}% / {100 * gc / res['np1'][1]:5.1f}% of one "
                     f"numpy GEMM, {100 * gc / res['np3'][1]:5.1f}% (CPU) of numpy's 3 GEMMs")
        print(f"   {label:32s} {gw:7.1f} wall {gc:7.1f} CPU{extra}")
    return res


def bench_import(quick):
    n = 5 if quick else 15
    py = sys.executable
    env = dict(os.environ, PYTHONPATH=ROOT)
    # an installed package has its bytecode cached: allow writing it, and warm it once
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    def run(stmt):
        t0 = time.perf_counter()
        subprocess.run([py, "-c", stmt], check=True, env=env)
        return time.perf_counter() - t0

    run("import numpy")
    run("import dalam")
    t_np, t_d = [], []
    for _ in range(n):  # interleaved so that noise hits both alike
        t_np.append(run("import numpy"))
        t_d.append(run("import dalam"))
    b_np, b_d = min(t_np), min(t_d)
    # the same difference measured inside one fresh process (less noisy):
    # import numpy first, then time `import dalam` alone
    stmt = ("import time, numpy; t0 = time.perf_counter(); import dalam; "
            "print(time.perf_counter() - t0)")
    extra = min(float(subprocess.run([py, "-c", stmt], check=True, env=env, capture_output=True,
                                     text=True).stdout) for _ in range(n))
    print(f"\n3. Fresh-process import (best of {n}, includes interpreter start)")
    print(f"   python -c 'import numpy': {1e3 * b_np:6.1f} ms")
    print(f"   python -c 'import dalam': {1e3 * b_d:6.1f} ms")
    print(f"   dalam - numpy:            {1e3 * (b_d - b_np):6.1f} ms (goal <= 30 ms)")
    print(f"   `import dalam` after `import numpy`, timed in-process: {1e3 * extra:6.1f} ms")
    return b_np, b_d, extra


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (smoke test)")
    ap.add_argument("--wall", action="store_true", help="time small ops in wall-clock time")
    args = ap.parse_args()
    import torch
    nt = blas_threads()
    torch.set_num_threads(nt)
    print(f"numpy {np.__version__} (OpenBLAS threads: {nt}); torch {torch.__version__} "
          f"(set_num_threads({nt}) -> {torch.get_num_threads()}); CPUs: {os.cpu_count()}")
    bench_small(args.quick, args.wall)
    bench_matmul(args.quick)
    bench_import(args.quick)


if __name__ == "__main__":
    main()
