"""dalam.distributed: programs under `mpiexec -n 2` (the MPICH wheel's) and
`dalam launch`, plus the single-process parts (SyncBatchNorm maths, sampler,
launcher report, scaling model).  The multi-process programs live in
tests/distributed/; each run has a timeout, so a hang fails instead of blocking."""
import os
import pathlib
import json
import re
import subprocess
import sys
import time

import numpy as np
import pytest

import dalam
import dalam.nn as nn
from dalam.autograd import gradcheck

HERE = pathlib.Path(__file__).parent / "distributed"
ROOT = HERE.parent.parent
BIN = pathlib.Path(sys.executable).parent


def _env():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    for k in [k for k in env if k.startswith(("PMI_", "OMPI_", "HYDRA_"))]:
        del env[k]
    return env


def mpiexec(script, *args, n=2, timeout=120):
    return subprocess.run([str(BIN / "mpiexec"), "-n", str(n), sys.executable, str(HERE / script), *args],
                          capture_output=True, text=True, timeout=timeout, env=_env(), cwd=ROOT)


def launch(*args, timeout=120, cwd=None):
    return subprocess.run([sys.executable, "-m", "dalam.cli", "launch", *args], capture_output=True, text=True,
                          timeout=timeout, env=_env(), cwd=cwd or ROOT)


# ---------------------------------------------------------------- multi-process
def test_two_processes_train_exactly_like_one_with_the_whole_batch():
    r = mpiexec("equivalence.py")
    assert r.returncode == 0, r.stdout + r.stderr
    found = dict(re.findall(r"EQUIV (\w+) world=2 max_rel_diff=(\S+)", r.stdout))
    assert set(found) == {"mlp", "cnn_bn", "lstm"}, r.stdout
    for name, rel in found.items():
        assert float(rel) <= 1e-6, (name, rel)
    # the runs really trained (parameters moved), so equality is not trivial
    assert all(float(m) > 1e-2 for m in re.findall(r"moved=(\S+)", r.stdout)), r.stdout


def test_collectives_and_ddp_features():
    r = mpiexec("api.py")
    assert r.returncode == 0, r.stdout + r.stderr
    for check in ("collectives", "sampler", "no_sync", "buffers", "find_unused_parameters", "flat optimizer",
                  "buckets"):
        for rank in (0, 1):
            assert f"OK rank {rank} {check}" in r.stdout, (check, r.stdout + r.stderr)


@pytest.mark.parametrize("case, words", [
    ("shapes", ["the model differs between ranks", "'0.weight' is (8, 4) float32 on rank 0 but (9, 4)"]),
    ("sizes", ["the ranks do not agree", "rank 0: all_reduce of 10", "rank 1: all_reduce of 12"]),
    ("kinds", ["the ranks do not agree", "rank 1: broadcast"]),
    ("unused", ["received no gradient", "find_unused_parameters=True", "b.weight"]),
])
def test_wrong_use_is_a_clear_error_on_every_rank_not_a_hang(case, words):
    t = time.monotonic()
    r = mpiexec("bad_input.py", case, timeout=60)
    assert time.monotonic() - t < 60
    assert r.returncode == 0, r.stdout + r.stderr
    for rank in (0, 1):
        line = next((ln for ln in r.stdout.split("CAUGHT")[1:] if ln.startswith(f" rank {rank}:")), None)
        assert line is not None, r.stdout + r.stderr
        for w in words:
            assert w in line, (w, line)


def test_a_rank_that_never_joins_times_out_and_stops_the_job():
    t = time.monotonic()
    env = dict(_env(), DALAM_DIST_TIMEOUT="2")
    r = subprocess.run([str(BIN / "mpiexec"), "-n", "2", sys.executable, str(HERE / "bad_input.py"), "stuck"],
                       capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert r.returncode != 0 and time.monotonic() - t < 30
    assert "rank 0 timed out after 2 s in all_reduce" in r.stderr, r.stderr
    assert "rank 0 of 2 raised RuntimeError" in r.stderr


def test_init_process_group_without_a_launcher():
    code = ("import dalam.distributed as d\n"
            "try:\n    d.init_process_group('mpi')\nexcept RuntimeError as e:\n    print('ERR', e)\n"
            "d.init_process_group('mpi', world_size=1, rank=0)\n"
            "print('SOLO', d.get_rank(), d.get_world_size())\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_env())
    assert "not started by an MPI launcher" in r.stdout and "dalam launch -n 2" in r.stdout, r.stdout + r.stderr
    assert "SOLO 0 1" in r.stdout


def _weights(path):
    return {k: v.numpy() for k, v in dalam.load(path).items()}


def test_faults_kill_raise_and_restart_from_checkpoint(tmp_path):
    script = str(HERE / "fault_train.py")
    ok = launch("-n", "2", script, str(tmp_path / "a"), str(tmp_path / "a.st"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # SIGKILL of rank 1 mid-epoch (step 9 of 18): the job ends with the rank named, quickly
    t = time.monotonic()
    killed = launch("-n", "2", script, str(tmp_path / "b"), str(tmp_path / "b.st"), "--kill-at", "9")
    took = time.monotonic() - t
    assert killed.returncode != 0
    assert "rank 1 (pid" in killed.stderr and "killed by signal 9 (SIGKILL)" in killed.stderr, killed.stderr
    assert took < 30, took
    # a raising rank: every rank stops, the error names it
    t = time.monotonic()
    raised = launch("-n", "2", script, str(tmp_path / "d"), str(tmp_path / "d.st"), "--raise-at", "5")
    assert raised.returncode != 0 and time.monotonic() - t < 30
    assert "rank 1 of 2 raised ValueError: injected failure at step 5" in raised.stderr, raised.stderr
    # --max-restarts 1: restarted from the step-8 checkpoint, the same final weights as uninterrupted
    again = launch("-n", "2", "--max-restarts", "1", script, str(tmp_path / "c"), str(tmp_path / "c.st"),
                   "--kill-at", "9")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "restarting the job (1 of 1)" in again.stderr
    a, c = _weights(tmp_path / "a.st"), _weights(tmp_path / "c.st")
    assert a.keys() == c.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], c[k], err_msg=k)
    # the resumed job reports the same final epoch figures (reduced over ranks)
    assert re.search(r"FINAL \S+ \S+", ok.stdout).group(0) == re.search(r"FINAL \S+ \S+", again.stdout).group(0)


# ---------------------------------------------------------------- one process
def test_sync_batchnorm_alone_is_batchnorm_and_passes_gradcheck():
    from dalam.distributed.sync_batchnorm import SyncBatchNormFn
    dalam.manual_seed(0)
    x = dalam.randn(5, 3, 4, 2, dtype=dalam.float64, requires_grad=True)
    w = dalam.randn(3, dtype=dalam.float64, requires_grad=True)
    b = dalam.randn(3, dtype=dalam.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: SyncBatchNormFn.apply(x, w, b, None, None, None, 0.1, 1e-5), (x, w, b))
    sbn, bn = nn.SyncBatchNorm(3), nn.BatchNorm2d(3)
    xx = dalam.randn(4, 3, 5, 5)
    np.testing.assert_allclose(sbn(xx).detach().numpy(), bn(xx).detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sbn.running_var.numpy(), bn.running_var.numpy(), rtol=1e-6)


def test_convert_sync_batchnorm_keeps_parameters_and_state_dict_keys():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(nn.BatchNorm1d(4)))
    keys = list(model.state_dict())
    w = model[1].weight
    conv = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(conv[1], nn.SyncBatchNorm) and isinstance(conv[2][0], nn.SyncBatchNorm)
    assert conv[1].weight is w and list(conv.state_dict()) == keys


def test_distributed_sampler_matches_torch_without_shuffle():
    import torch.utils.data as tud
    from dalam.data import DistributedSampler
    for n, world, drop in ((10, 3, False), (10, 3, True), (7, 2, False), (2, 4, False)):
        for r in range(world):
            ours = list(DistributedSampler(range(n), num_replicas=world, rank=r, shuffle=False, drop_last=drop))
            theirs = list(tud.DistributedSampler(range(n), num_replicas=world, rank=r, shuffle=False,
                                                 drop_last=drop))
            assert ours == theirs, (n, world, r, drop)
    with pytest.raises(ValueError, match="invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="no process group"):
        DistributedSampler(range(4))


def test_launcher_command_and_failure_report(tmp_path):
    from dalam.distributed import launch as L
    cmd = L.command(3, "train.py", ["--epochs", "2"])
    assert cmd[0].endswith("mpiexec") and cmd[1:3] == ["-n", "3"] and cmd[-3:] == ["train.py", "--epochs", "2"]
    assert L.rank_env(2, base={})["OPENBLAS_NUM_THREADS"] == str(max(1, (os.cpu_count() or 1) // 2))
    assert L.rank_env(2, base={"OPENBLAS_NUM_THREADS": "3"})["OPENBLAS_NUM_THREADS"] == "3"
    hydra = ("=   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES\n=   PID 4242 RUNNING AT node7\n"
             "=   EXIT CODE: 9\nYOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed (signal 9)\n")
    assert L.explain_failure(hydra, {4242: (3, "node7")}, 9) == \
        "rank 3 (pid 4242 on node7) was killed by signal 9 (SIGKILL); mpiexec stopped the other ranks"
    assert "pid 4242 on node7" in L.explain_failure(hydra, {}, 9)
    r = launch("-n", "2", str(tmp_path / "missing.py"))
    assert r.returncode == 1 and "does not exist" in r.stderr


def test_dalam_train_nproc_2_then_eval(tmp_path):
    cfg = str(ROOT / "configs" / "mnist_subset_mlp.toml")
    r = subprocess.run([sys.executable, "-m", "dalam.cli", "train", cfg, "--nproc", "2", "--epochs", "1",
                        "--checkpoint-dir", str(tmp_path / "run")], capture_output=True, text=True, timeout=180,
                       env=_env(), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "on 2 processes" in r.stderr and r.stdout.count("done: 1 epoch(s)") == 1  # rank 0 reports
    val = float(re.search(r"val_accuracy (\S+);", r.stdout).group(1))
    ev = subprocess.run([sys.executable, "-m", "dalam.cli", "eval", str(tmp_path / "run")], capture_output=True,
                        text=True, timeout=120, env=_env(), cwd=tmp_path)
    assert ev.returncode == 0, ev.stderr
    # the checkpoint holds the plain model: dalam eval gives the test figures training reported once
    test = json.loads((tmp_path / "run" / "test.json").read_text())
    assert abs(float(re.search(r"accuracy (\S+)", ev.stdout).group(1)) - test["accuracy"]) < 1e-4, \
        (ev.stdout, r.stdout)
    assert val > 0.8 and test["accuracy"] > 0.8


def test_example_script_under_dalam_launch(tmp_path):
    r = launch("-n", "2", str(ROOT / "examples" / "ddp_mnist.py"), "--epochs", "1", "--train-size", "640",
               "--checkpoints", str(tmp_path / "ck"), timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    acc = re.findall(r"2 process\(es\): val_accuracy (\S+)", r.stdout)
    assert len(acc) == 1 and float(acc[0]) > 0.3, r.stdout  # rank 0 reports, the model learned
    assert (tmp_path / "ck" / "checkpoint.json").is_file()
