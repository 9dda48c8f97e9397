"""Every program in programs/: real PyTorch and ``dalam run`` print the same
lines, numbers equal to 1e-4 relative (losses after N steps included)."""
import subprocess
import sys

import pytest

from compat_harness.compare import differences
from compat_harness.suite import PROGRAMS, TorchRuns, env, make_workdir


@pytest.fixture(scope="module")
def torch_runs(tmp_path_factory):
    pytest.importorskip("torch")
    runs = TorchRuns(tmp_path_factory.mktemp("compat"))
    yield runs
    runs.close()


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_matches_pytorch(program, torch_runs, tmp_path):
    assert program.read_text().startswith("import torch"), "programs start with `import torch`"
    work = make_workdir(tmp_path / program.stem)
    r = subprocess.run([sys.executable, "-m", "dalam.cli", "run", str(program)], cwd=work, env=env(),
                       capture_output=True, text=True, timeout=300)
    rc, ref, err = torch_runs.result(program.stem)
    assert rc == 0, f"the program fails on PyTorch itself:\n{err}"
    assert r.returncode == 0, f"dalam run failed:\n{r.stderr[-3000:]}"
    assert "loss" in ref.lower(), "each program prints its losses"
    diffs = differences(ref, r.stdout)
    assert not diffs, "\n".join(diffs[:10]) + f"\n--- torch:\n{ref}\n--- dalam:\n{r.stdout}"
