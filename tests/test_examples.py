"""The foundation examples and the demo run as scripts and print what they claim."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(script, *args, cwd=None, timeout=120):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script), *args], cwd=cwd or ROOT,
                       env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{script} failed:\n{r.stdout}\n{r.stderr}"
    return r.stdout


def test_perceptron_learns_and_or_but_not_xor():
    out = run("perceptron.py")
    assert re.search(r"^AND: converged after \d+ epochs.*4/4 correct", out, re.M)
    assert re.search(r"^OR: converged after \d+ epochs.*4/4 correct", out, re.M)
    m = re.search(r"^XOR: did NOT converge in 100 epochs.*: ([0-3])/4 correct", out, re.M)
    assert m, out


def test_xor_mlp_learns_xor():
    out = run("xor_mlp.py")
    m = re.search(r"XOR learned: (\d)/4 correct, final loss ([\d.]+)", out)
    assert m and m.group(1) == "4" and float(m.group(2)) < 0.05, out


def test_single_neuron_hand_gradient_equals_autograd():
    out = run("single_neuron.py")
    m = re.search(r"max \|hand - autograd\| = ([\d.e+-]+)\s+->\s+equal", out)
    assert m and float(m.group(1)) < 1e-12, out
    assert "training accuracy 100%" in out


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_demo_one_epoch_writes_its_outputs(tmp_path, model):
    out = run("demo.py", "--epochs", "1", "--model", model, "--verbose", "0", cwd=tmp_path)
    acc = float(re.search(r"test accuracy: ([\d.]+)% on 1000 test images", out).group(1))
    reloaded = float(re.search(r"checkpoint reloaded .*: test accuracy ([\d.]+)%", out).group(1))
    assert acc > 80.0 and reloaded == acc, out
    folder = tmp_path / "demo_output"  # the default output folder, relative to the working directory
    assert (folder / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "log.csv").read_text().splitlines()[0].startswith("epoch,loss,accuracy")
    assert (folder / "checkpoints" / "checkpoint.json").is_file()
