"""Run the benchmark workloads of benchmarks/ (dalam against PyTorch on the
CPU, float32, the same thread count) and print one ratio table.

    dalam bench                      # W1-W5, 3 repeats each
    dalam bench --only w2 --only w4 --threads 2 --repeats 5
    dalam bench --quick              # W1 or W3 with 2 steps: a smoke test

Each workload runs as its own process (``python benchmarks/bench_*.py``) so
the BLAS thread count is set before NumPy loads; the table collects every
line those scripts print that times dalam and torch.  ratio > 1 means dalam
is faster.  Needs PyTorch and the benchmarks/ folder of a source checkout."""
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys

from .main import CLIError

# workload -> candidates (script, extra arguments): the first whose script exists runs
WORKLOADS = {
    "w1": [("bench_mlp.py", ["--only", "w1", "--only", "fit"])],
    "w2": [("bench_cnn.py", ["--only", "w2"])],
    "w3": [("bench_rnn.py", ["--only", "w3"])],
    "w4": [("bench_gpt.py", ["--only", "w4"])],
    "w5": [("bench_mlp.py", ["--only", "w5"]), ("bench_cnn.py", ["--only", "infer"])],
}
# --quick: the first of these that exists, 2 steps, 1 repeat
QUICK = [("w1", ("bench_mlp.py", ["--only", "w1"])), ("w3", ("bench_rnn.py", ["--only", "w3"]))]
_NUM = r"([\d.]+(?:e[+-]?\d+)?)\s*([A-Za-z/%]+)"
_LINE = re.compile(r"dalam\s+" + _NUM + r".*?torch\b[^\d]{0,40}?" + _NUM)
_RATIO = re.compile(r"ratio\s+([\d.]+)\s*x")


def add_arguments(p):
    p.add_argument("--only", action="append", choices=sorted(WORKLOADS), help="workloads to run "
                   "(repeatable; default all whose script exists)")
    p.add_argument("--quick", action="store_true", help="one small workload, 2 steps, 1 repeat (smoke test)")
    p.add_argument("--threads", type=int, default=1, help="BLAS / torch threads (default 1)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats; the best is kept")
    p.add_argument("--steps", type=int, default=None, help="training steps per timed run")
    p.add_argument("--bench-dir", default=None, help="the benchmarks/ folder (default: beside the package)")
    p.add_argument("--timeout", type=float, default=900, help="seconds allowed per workload")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")


def bench_dir(given=None):
    d = pathlib.Path(given) if given else pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
    if not (d / "bench_cnn.py").is_file():
        raise CLIError(f"benchmarks not found in {d} (they ship with the source checkout); pass --bench-dir")
    return d


def parse_rows(workload, text):
    """Rows {workload, name, dalam, torch, unit, ratio} from a script's output."""
    rows = []
    for line in text.splitlines():
        m = _LINE.search(line)
        if not m:
            continue
        d, du, t, tu = float(m.group(1)), m.group(2), float(m.group(3)), m.group(4)
        r = _RATIO.search(line)
        if r:
            ratio = float(r.group(1))
        elif "/s" in du:  # a rate: higher is better
            ratio = d / t if t else float("nan")
        else:  # a time: lower is better
            ratio = t / d if d else float("nan")
        name = line.split(":")[0].strip() if ":" in line[:m.start()] else line[:m.start()].strip()
        rows.append({"workload": workload.upper(), "name": name, "dalam": d, "torch": t, "unit": du,
                     "ratio": ratio})
    return rows


def _supported(script):
    src = script.read_text(encoding="utf-8")
    return {f for f in ("--threads", "--repeats", "--steps") if f'"{f}"' in src or f"'{f}'" in src}


def find_script(d, workload):
    """(script path, extra arguments) of the first candidate that exists, or None."""
    for script, extra in WORKLOADS[workload]:
        if (d / script).is_file():
            return d / script, extra
    return None


def run_workload(d, workload, spec, threads, repeats, steps, timeout):
    path, extra = spec
    flags = _supported(path)
    cmd = [sys.executable, str(path)] + extra
    for f, v in (("--threads", threads), ("--repeats", repeats), ("--steps", steps)):
        if v is not None and f in flags:
            cmd += [f, str(v)]
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join([str(d.parent)] + [p for p in [env.get("PYTHONPATH")] if p])
    name = f"{workload.upper()} ({path.name})"
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=str(d.parent))
    except subprocess.TimeoutExpired:
        raise CLIError(f"{name} ran past --timeout {timeout:g} s") from None
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise CLIError(f"{name} failed: {last}")
    rows = parse_rows(workload, r.stdout)
    if not rows:
        raise CLIError(f"{name} printed no dalam/torch timing line")
    return rows


def format_table(rows, threads):
    head = f"{'workload':<9}{'measure':<46}{'dalam':>12}{'torch':>12}  {'unit':<11}{'ratio':>7}"
    out = [f"dalam vs PyTorch, CPU float32, {threads} thread(s); ratio > 1: dalam faster", head,
           "-" * len(head)]
    def num(v):
        return f"{v:>12,.0f}" if abs(v) >= 100 else f"{v:>12.3g}"
    for r in rows:
        out.append(f"{r['workload']:<9}{r['name'][:45]:<46}{num(r['dalam'])}{num(r['torch'])}  "
                   f"{r['unit']:<11}{r['ratio']:>6.2f}x")
    return "\n".join(out)


def run(args):
    if importlib.util.find_spec("torch") is None:
        raise CLIError("dalam bench compares with PyTorch, which is not installed: pip install torch")
    d = bench_dir(args.bench_dir)
    if args.quick and not args.only:
        w, (script, extra) = next(((w, c) for w, c in QUICK if (d / c[0]).is_file()), QUICK[-1])
        plan = [(w, (d / script, extra))]
    else:
        chosen = args.only or [w for w in WORKLOADS if find_script(d, w)]
        plan = []
        for w in dict.fromkeys(chosen):
            spec = find_script(d, w)
            if spec is None:
                raise CLIError(f"{w.upper()}: none of {[s for s, _ in WORKLOADS[w]]} is in {d}")
            plan.append((w, spec))
    repeats, steps = (1, 2) if args.quick else (args.repeats, args.steps)
    rows = []
    for w, spec in plan:
        print(f"running {w.upper()} ({spec[0].name})...", file=sys.stderr, flush=True)
        rows += run_workload(d, w, spec, args.threads, repeats, steps, args.timeout)
    print(json.dumps(rows) if args.json else format_table(rows, args.threads))
    return 0
