"""``dalam launch``: run a script on N processes through ``mpiexec``.

A thin layer over MPICH's Hydra launcher (the ``mpiexec`` that the ``mpich``
wheel installs next to Python): it adds
- the right interpreter (this one) and unbuffered output;
- BLAS threads per rank: cores // N unless ``OPENBLAS_NUM_THREADS`` /
  ``OMP_NUM_THREADS`` are set (N ranks each using every core thrash);
- a clear report when a rank fails: Hydra says "BAD TERMINATION ... PID 1234";
  the ranks leave rank -> pid notes, so the report names the rank and the signal;
- ``max_restarts``: a failed job is started again (``DALAM_RESTART`` = 1, 2,
  ...); scripts that resume from their last complete checkpoint
  (``fit(..., resume=True)``, ``dalam train``) continue where it stopped.
Across machines pass a Hydra hostfile (``host:slots`` lines); every host needs
the same Python environment at the same path.
"""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

_BAD = re.compile(r"PID (\d+) RUNNING AT (\S+)")
_CODE = re.compile(r"EXIT CODE: (\d+)")
_SIGNAL = re.compile(r"\(signal (\d+)\)")
_ABORT = re.compile(r"rank (\d+) of (\d+) raised ([^\n]*?); stopping every rank")


def find_mpiexec():
    """The mpiexec of this environment (the MPICH wheel's), else one on PATH."""
    here = pathlib.Path(sys.executable).parent / "mpiexec"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    found = shutil.which("mpiexec")
    if found:
        return found
    raise FileNotFoundError("dalam launch: no mpiexec found next to this Python or on PATH; pip install "
                            "'dalam[distributed]' (the mpich wheel brings mpiexec)")


def command(nproc, target, args=(), module=False, hostfile=None, label=False, python=None):
    """The mpiexec command line that runs ``target`` (a script, or a module with ``module``)."""
    cmd = [find_mpiexec(), "-n", str(nproc)]
    if hostfile:
        if not os.path.isfile(hostfile):
            raise FileNotFoundError(f"dalam launch: hostfile {hostfile} does not exist")
        cmd += ["-f", str(hostfile)]
    if label:
        cmd += ["-prepend-rank"]
    cmd += [python or sys.executable, "-u"]
    cmd += ["-m", target] if module else [target]
    return cmd + list(args)


def rank_env(nproc, threads=None, base=None):
    env = dict(os.environ if base is None else base)
    if threads is None and not any(k in env for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")):
        threads = max(1, (os.cpu_count() or 1) // nproc)
    if threads is not None:
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(threads)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _pump(src, dst, seen):
    """Copy a child's stream to ours line by line, keeping the text for the report."""
    for raw in iter(src.readline, b""):
        seen.append(raw.decode(errors="replace"))
        try:
            dst.buffer.write(raw)
            dst.flush()
        except (ValueError, OSError, AttributeError):
            dst.write(raw.decode(errors="replace"))
    src.close()


def _ranks_by_pid(folder):
    out = {}
    for f in pathlib.Path(folder).glob("rank*.pid"):
        try:
            pid, host = f.read_text().split()
            out[int(pid)] = (int(f.stem[4:]), host)
        except (ValueError, OSError):
            continue
    return out


def explain_failure(text, ranks, rc):
    """One line saying which rank failed and how, from Hydra's output and the pid notes."""
    m = _ABORT.search(text)
    if m:
        return f"rank {m.group(1)} of {m.group(2)} raised {m.group(3)}; every rank was stopped"
    m = _BAD.search(text)
    if m:
        pid, host = int(m.group(1)), m.group(2)
        who = ranks.get(pid)
        name = f"rank {who[0]} (pid {pid} on {host})" if who else f"the process with pid {pid} on {host}"
        sig = _SIGNAL.search(text)
        code = _CODE.search(text)
        if sig:
            n = int(sig.group(1))
            try:
                signame = signal.Signals(n).name
            except ValueError:
                signame = f"signal {n}"
            how = f"was killed by signal {n} ({signame})"
        else:
            how = f"exited with status {code.group(1)}" if code else "ended abnormally"
        return f"{name} {how}; mpiexec stopped the other ranks"
    return f"mpiexec exited with status {rc}"


def run_once(cmd, env, out=None, err=None):
    """Run the job once; returns (exit status, a one-line explanation or None)."""
    out, err = out or sys.stdout, err or sys.stderr
    with tempfile.TemporaryDirectory(prefix="dalam-launch-") as notes:
        env = dict(env, DALAM_LAUNCH_DIR=notes)
        seen_out, seen_err = [], []
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        pumps = [threading.Thread(target=_pump, args=(proc.stdout, out, seen_out), daemon=True),
                 threading.Thread(target=_pump, args=(proc.stderr, err, seen_err), daemon=True)]
        for t in pumps:
            t.start()
        try:
            rc = proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            try:
                rc = proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            raise
        finally:
            for t in pumps:
                t.join(5)
        if rc == 0:
            return 0, None
        return rc, explain_failure("".join(seen_err) + "".join(seen_out), _ranks_by_pid(notes), rc)


def launch(nproc, target, args=(), module=False, hostfile=None, max_restarts=0, threads=None,
           label=False, out=None, err=None):
    """Run ``target`` on ``nproc`` ranks, restarting a failed job up to
    ``max_restarts`` times; returns the final exit status."""
    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"dalam launch: -n must be a positive number of processes, got {nproc!r}")
    if max_restarts < 0:
        raise ValueError(f"dalam launch: --max-restarts must be >= 0, got {max_restarts}")
    if not module and not os.path.isfile(target):
        raise FileNotFoundError(f"dalam launch: script {target} does not exist")
    err = err or sys.stderr
    cmd = command(nproc, target, args, module=module, hostfile=hostfile, label=label)
    env = rank_env(nproc, threads)
    for attempt in range(max_restarts + 1):
        env["DALAM_RESTART"] = str(attempt)
        t0 = time.monotonic()
        rc, why = run_once(cmd, env, out, err)
        if rc == 0:
            return 0
        took = time.monotonic() - t0
        if attempt < max_restarts:
            print(f"dalam launch: {why} (after {took:.1f} s); restarting the job ({attempt + 1} of "
                  f"{max_restarts}) from its last complete checkpoint", file=err, flush=True)
            continue
        print(f"dalam launch: {why} (after {took:.1f} s)"
              + (f"; gave up after {max_restarts} restart(s)" if max_restarts else ""), file=err, flush=True)
        return rc if rc else 1
    return 1


def restart_count():
    """How many times ``dalam launch --max-restarts`` has restarted this job (0 on the first run)."""
    return int(os.environ.get("DALAM_RESTART", "0") or 0)
